@testable import GateLabExperiments
import Foundation
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import Testing
import GateLabSupport

/// Every record carries the content hash of each file it read (a cell file, a weights
/// file), and a finished point whose files changed since is computed again — exactly those.
@Suite("Probe grids recompute exactly the points whose input files changed")
struct ProbeInputHashTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// A folder with two cell files, a weights file and the experiment file that reads them.
    static func setUp() throws -> (dir: String, experiment: ProbeExperiment) {
        let dir = NSTemporaryDirectory() + "gatelab-inputs-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let mgu = try String(contentsOf: root.appendingPathComponent("Cells/mgu.cell"), encoding: .utf8)
        try mgu.write(toFile: dir + "/a.cell", atomically: true, encoding: .utf8)
        try mgu.replacingOccurrences(of: "cell mgu", with: "cell mgu2").write(toFile: dir + "/b.cell", atomically: true, encoding: .utf8)
        let weights = root.appendingPathComponent("Tests/CellsTests/Fixtures/models/gatelab-gru.json").path
        try FileManager.default.copyItem(atPath: weights, toPath: dir + "/w.json")
        let source = """
            name = "inputs"
            kind = "probe"
            [defaults]
            steps = 5
            [[grid]]
            cell = ["rnn", "a.cell", "b.cell"]
            hidden = 3
            [[grid]]
            weights = ["w.json"]
            """
        return (dir, try ProbeExperiment(source: source, file: dir + "/grid.toml"))
    }

    static func runner(_ e: ProbeExperiment, _ dir: String) -> ExperimentRunner<ProbeKind> {
        var options = RunOptions(version: "v")
        options.outputDirectory = dir + "/out"
        options.progress = .silent
        return ExperimentRunner(experiment: e, options: options)
    }

    @Test func editingACellOrWeightsFileRecomputesOnlyItsPoints() throws {
        let (dir, e) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let first = try Self.runner(e, dir).run()
        #expect(first.computed == 4 && first.inputChanged == 0)
        // Each record names its files with their SHA-256; a built-in cell's names none.
        let records = try e.points.map { p in
            try ProbeRecord(jsonLine: SealedLine.unseal(String(contentsOfFile: dir + "/out/results/points/\(p.id).json", encoding: .utf8)
                .trimmingCharacters(in: .newlines)).body, context: p.id)
        }
        #expect(records.map(\.recordFormat) == [2, 2, 2, 2])
        #expect(records[0].inputs == nil)
        let aHash = try ContentHash.ofFile(dir + "/a.cell")
        #expect(records[1].inputs == [dir + "/a.cell": aHash])
        #expect(aHash.hasPrefix("sha256:") && aHash.count == 71)
        #expect(records[3].inputs?.keys.sorted() == [dir + "/w.json"])

        let again = try Self.runner(e, dir).run()
        #expect(again.computed == 0 && again.reused == 4)

        // A comment added to a.cell: its point, and only it, is computed again, and said so.
        let a = try String(contentsOfFile: dir + "/a.cell", encoding: .utf8)
        try (a + "# edited\n").write(toFile: dir + "/a.cell", atomically: true, encoding: .utf8)
        let edited = try Self.runner(e, dir).run()
        #expect(edited.computed == 1 && edited.reused == 3 && edited.inputChanged == 1)
        #expect(edited.inputChanges == ["\(e.points[1].id): \(dir)/a.cell changed since it was computed"])

        // The weights file changed (a byte of whitespace): its point only.
        let w = try String(contentsOfFile: dir + "/w.json", encoding: .utf8)
        try (w + "\n").write(toFile: dir + "/w.json", atomically: true, encoding: .utf8)
        let weighted = try Self.runner(e, dir).run()
        #expect(weighted.computed == 1 && weighted.inputChanged == 1 && weighted.inputChanges.first?.hasPrefix(e.points[3].id) == true)
        #expect(try Self.runner(e, dir).run().computed == 0)

        // A merge refuses a point whose file changed after it was computed (stale).
        try (a + "# edited twice\n").write(toFile: dir + "/a.cell", atomically: true, encoding: .utf8)
        let inventory = Self.runner(e, dir).inventory()
        #expect(inventory.problems.map(\.kind) == [.stale] && inventory.problems.first?.id == e.points[1].id)
    }

    /// Records of format 1 (no `record_format`, no `inputs`): a point that reads a file is
    /// computed again (nothing says which file it was computed from); one that reads none is
    /// reused.
    @Test func olderRecordsWithoutHashesAreRecomputedOnlyWhereTheyReadAFile() throws {
        let (dir, e) = try Self.setUp()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        _ = try Self.runner(e, dir).run()
        for p in e.points.prefix(2) {
            let path = dir + "/out/results/points/\(p.id).json"
            var record = try ProbeRecord(jsonLine: SealedLine.unseal(String(contentsOfFile: path, encoding: .utf8)
                .trimmingCharacters(in: .newlines)).body, context: p.id)
            record.recordFormat = nil
            record.inputs = nil
            try (SealedLine.seal(record.jsonLine) + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        }
        let run = try Self.runner(e, dir).run()
        #expect(run.computed == 1 && run.reused == 3 && run.inputChanged == 1)
        #expect(run.inputChanges.first?.contains("record format 1") == true, "\(run.inputChanges)")
    }

    /// The committed example records (Notes/examples/, read by formats.md's pandas snippet)
    /// are records of the current format.
    @Test func theExampleRecordsAreOfTheCurrentFormat() throws {
        let text = try String(contentsOf: Self.root.appendingPathComponent("Notes/examples/probe-records.jsonl"), encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count == 6)
        for line in lines {
            let (body, intact) = SealedLine.unseal(line)
            #expect(intact == true)
            let record = try ProbeRecord(jsonLine: body, context: "example")
            #expect(record.recordFormat == RecordFormat.current && record.jsonLine == body)
        }
    }
}
