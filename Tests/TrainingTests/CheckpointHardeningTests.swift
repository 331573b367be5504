import GateLabExperiments
import Foundation
import Testing
@testable import GateLabTraining
import GateLabSupport

/// Issue #17, items 5 and 6: a checkpoint is checked in full before a run resumes from it.
/// Every damaged or edited variant below parses, yet must be refused with a reason and no trap
/// (before, a wrong-shaped moment indexed out of range in `Optimizer.update`).
@Suite struct CheckpointHardeningTests {
    func tiny(cell: String = "lstm") -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.task = "adding"; c.length = 6; c.cell = cell; c.hidden = 3; c.batch = 4; c.updates = 12
        c.evalEvery = 4; c.evalSize = 8; c.profileEvery = 0
        return c
    }

    /// A checkpoint after 5 updates of `c`, as a value and as its file's text.
    func checkpoint(_ c: TrainingConfiguration, path: String) throws -> TrainingCheckpoint {
        let t = try Trainer(c)
        try t.run(checkpoint: path, checkpointEvery: 100, stopAfter: 5)
        return try RecordJSON.decode(TrainingCheckpoint.self, from: try #require(Files.read(path)))
    }

    /// Writes `k` resealed (a valid checksum over edited content) and expects resuming to fail
    /// naming `words`.
    func expectRefused(_ k: TrainingCheckpoint, _ c: TrainingConfiguration, path: String, _ words: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        try Files.write(try k.text(), to: path)
        do {
            _ = try Trainer(resumingFrom: path, configuration: c)
            Issue.record("accepted a checkpoint that should be refused (\(words))", sourceLocation: sourceLocation)
        } catch let e as TrainingError {
            #expect("\(e)".contains(words), "\(e)", sourceLocation: sourceLocation)
        }
    }

    @Test func parseableButWrongCheckpointsAreRefused() throws {
        let c = tiny()
        let path = NSTemporaryDirectory() + "gatelab-ckpt-\(getpid())-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = try checkpoint(c, path: path)
        #expect(try Trainer(resumingFrom: path, configuration: c).record.updates == 5)

        var k = good; k.record.updates = 1_000_000_000_000; try expectRefused(k, c, path: path, "updates")
        k = good; k.record.updates = -5; try expectRefused(k, c, path: path, "updates")
        k = good; k.optimizer.kind = .sgd; try expectRefused(k, c, path: path, "optimizer")
        k = good; k.dataState = [UInt8](repeating: 0, count: good.dataState.count); try expectRefused(k, c, path: path, "all zero")
        k = good; k.parameters[0][0] = .infinity; try expectRefused(k, c, path: path, "not finite")
        k = good; k.parameters[0].removeLast(); try expectRefused(k, c, path: path, "shapes")
        k = good; k.record.trainLoss.removeLast(); try expectRefused(k, c, path: path, "curves")
        k = good; k.cell = "builtin:gru"; try expectRefused(k, c, path: path, "another cell")
        // Optimizer moments of the wrong shape (the old crash) and empty Adam moments.
        for edit in [#""first":[[0]]"#, #""first":[]"#, #""second":[]"#] {
            var text = try good.text()
            let key = edit.hasPrefix(#""first""#) ? #""first":"# : #""second":"#
            let start = try #require(text.range(of: key))
            // Replace the key's whole array value (balanced brackets).
            var depth = 0, end = start.upperBound
            for i in text[start.upperBound...].indices {
                if text[i] == "[" { depth += 1 } else if text[i] == "]" { depth -= 1; if depth == 0 { end = text.index(after: i); break } }
            }
            text.replaceSubrange(start.lowerBound..<end, with: edit)
            var edited = try RecordJSON.decode(TrainingCheckpoint.self, from: text)
            edited.checksum = nil
            try expectRefused(edited, c, path: path, "moments")
        }
    }

    @Test("A checkpoint is sealed as point files and trial checkpoints are (SealedLine); one written with its checksum as a key of its own still resumes")
    func sealedLikeEveryRecordAndOldFormStillResumes() throws {
        let c = tiny()
        let path = NSTemporaryDirectory() + "gatelab-ckpt-\(getpid())-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let good = try checkpoint(c, path: path)
        let text = try #require(Files.read(path))
        #expect(SealedLine.unseal(text.trimmingCharacters(in: .newlines)).intact == true, "the file is a sealed line")
        // The earlier form: the checksum of the line without it, stored under its own sorted key.
        var legacy = good
        legacy.checksum = nil
        legacy.checksum = Files.checksum(Array(try RecordJSON.line(legacy).utf8))
        let old = try RecordJSON.line(legacy)
        #expect(SealedLine.unseal(old).intact == nil, "the earlier form is not a sealed line")
        try Files.write(old, to: path)
        #expect(try Trainer(resumingFrom: path, configuration: c).record.updates == 5)
        // … and its damage is still caught.
        try Files.write(old.replacingOccurrences(of: #""updates":5"#, with: #""updates":4"#), to: path)
        #expect(throws: TrainingError.self) { _ = try Trainer(resumingFrom: path, configuration: c) }
    }

    @Test func damageIsDetectedByTheChecksum() throws {
        let c = tiny()
        let path = NSTemporaryDirectory() + "gatelab-ckpt-\(getpid())-\(UUID().uuidString).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        _ = try checkpoint(c, path: path)
        var text = try #require(Files.read(path))
        // One digit of a parameter changed: still parseable, still the right shapes.
        let start = try #require(text.range(of: #""parameters":[["#)).upperBound
        let at = try #require(text[start...].firstIndex { ("1"..."8").contains($0) })
        text.replaceSubrange(at...at, with: String(Character(UnicodeScalar(text[at].asciiValue! + 1))))
        try Files.write(text, to: path)
        #expect(throws: TrainingError.self) { try Trainer(resumingFrom: path, configuration: c) }
        do { _ = try Trainer(resumingFrom: path, configuration: c) } catch { #expect("\(error)".contains("checksum"), "\(error)") }
    }

    @Test func editingTheCellFileIsDetectedOnResume() throws {
        let dir = NSTemporaryDirectory() + "gatelab-cell-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let source = try String(contentsOf: packageRoot.appendingPathComponent("Cells/mgu.cell"), encoding: .utf8)
        let cellPath = dir + "/my.cell", path = dir + "/run.ckpt"
        try Files.write(source, to: cellPath)
        let c = tiny(cell: cellPath)
        _ = try checkpoint(c, path: path)
        #expect(try Trainer(resumingFrom: path, configuration: c).record.updates == 5)
        try Files.write(source + "\n# edited\n", to: cellPath)
        do {
            _ = try Trainer(resumingFrom: path, configuration: c)
            Issue.record("resumed after the cell file was edited")
        } catch { #expect("\(error)".contains("cell file was edited"), "\(error)") }
    }

    @Test func checkpointEveryZeroIsRefusedNotADivisionByZero() throws {
        let t = try Trainer(tiny())
        #expect(throws: TrainingError.self) { try t.run(checkpoint: NSTemporaryDirectory() + "unused.ckpt", checkpointEvery: 0) }
    }

    @Test func aNetworkTooLargeForTheBudgetIsRefusedBeforeAllocating() throws {
        var c = tiny()
        c.hidden = 100_000_000
        do { _ = try Trainer(c); Issue.record("accepted H = 1e8") } catch { #expect("\(error)".contains("memory budget"), "\(error)") }
    }

    /// Issue #17 item 11: ids map `+` to `-`, so forget biases 1e16 and 1e-16 shared one id
    /// (one run's files overwrote the other's) and 1e308 was labelled `fb1e-308`.
    @Test func distinctForgetBiasesGetDistinctIDs() {
        var a = tiny(), b = tiny(), c = tiny()
        a.forgetBias = 1e16; b.forgetBias = 1e-16; c.forgetBias = 1e308
        #expect(a.id != b.id)
        #expect(a.id.contains("fb1e16") && b.id.contains("fb1e-16") && c.id.contains("fb1e308"), "\(a.id) \(b.id) \(c.id)")
    }
}
