@testable import GateLabExperiments
import Foundation
import Testing
import TOMLKit
import GateLabSupport

/// The runner's input hashes, for any kind: a toy kind whose points each read data files.
@Suite struct InputFilesTests {
    /// A point that "reads" the files it names and records their total size.
    struct Point: ExperimentPoint { var id: String; var files: [String]; var origin: String }
    struct Record: ExperimentRecord, Equatable {
        var id: String, experiment: String, gatelabVersion: String?
        var bytes: Int
        var recordFormat: Int?
        var inputs: [String: String]?
        enum CodingKeys: String, CodingKey { case id, experiment, gatelabVersion = "gatelab_version", bytes, recordFormat = "record_format", inputs }
    }
    enum Toy: ExperimentKind {
        static let name = "toy", noun = "point"
        static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                         reader: TOMLReader) throws -> (full: [Point], quick: [Point]) {
            let points = try blocks.map { b in
                Point(id: try reader.string(b.table["id"]!, "id"),
                      files: try b.table["files"]!.array!.map { reader.path(try reader.string($0, "files")) }, origin: b.path)
            }
            return (points, points)
        }
        static func configurationKey(_ point: Point) -> String { point.id }
        static func work(_ point: Point) -> Double { 1 }
        static func inputFiles(_ point: Point) throws -> [String] { point.files }
        static func run(_ point: Point, experiment: String, version: String) throws -> Record {
            Record(id: point.id, experiment: experiment, gatelabVersion: version,
                   bytes: try point.files.reduce(0) { $0 + (try Files.contents(of: $1).count) })
        }
        static func mismatch(_ record: Record, _ point: Point) -> String? { nil }
        static func curvesCSV(_ record: Record) -> String { "bytes\n\(record.bytes)\n" }
        static func writeReport(_ records: [Record], points: [Point], context: ReportContext) throws -> [String] { [] }
    }

    @Test func editingADataFileRecomputesExactlyThePointsThatReadIt() throws {
        let dir = NSTemporaryDirectory() + "gatelab-toy-inputs-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for name in ["shared.dat", "one.dat", "two.dat"] { try "data \(name)\n".write(toFile: "\(dir)/\(name)", atomically: true, encoding: .utf8) }
        let source = """
            name = "toy"
            kind = "toy"
            [[grid]]
            id = "a"
            files = ["shared.dat", "one.dat"]
            [[grid]]
            id = "b"
            files = ["shared.dat", "two.dat"]
            [[grid]]
            id = "c"
            files = ["two.dat"]
            [[grid]]
            id = "d"
            files = []
            """
        let e = try Experiment<Toy>(source: source, file: dir + "/toy.toml")
        var options = RunOptions(version: "v")
        options.outputDirectory = dir + "/out"
        options.progress = .silent
        func run() throws -> RunOutcome { try ExperimentRunner(experiment: e, options: options).run() }
        #expect(try run().computed == 4)
        #expect(try run().computed == 0)
        try "changed\n".write(toFile: dir + "/one.dat", atomically: true, encoding: .utf8)
        let one = try run()
        #expect(one.computed == 1 && one.inputChanged == 1 && one.inputChanges == ["a: \(dir)/one.dat changed since it was computed"])
        try "changed\n".write(toFile: dir + "/two.dat", atomically: true, encoding: .utf8)
        let two = try run()
        #expect(two.computed == 2 && two.reused == 2 && two.inputChanges.map { String($0.prefix(1)) } == ["b", "c"])
        try "changed\n".write(toFile: dir + "/shared.dat", atomically: true, encoding: .utf8)
        #expect(try run().inputChanges.map { String($0.prefix(1)) } == ["a", "b"])
        // The same bytes again: nothing to do.
        #expect(try run().computed == 0)
    }

    /// `ContentHash` is SHA-256 as `sha256sum` prints it.
    @Test func contentHashIsSHA256() {
        #expect(ContentHash.sha256Hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(ContentHash.sha256Hex([UInt8]()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(ContentHash.sha256Hex(Array(String(repeating: "a", count: 1000).utf8)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }
}

/// `RunProgress`: one line on a terminal, from measured progress; nothing when disabled.
@Suite struct RunProgressTests {
    @Test func theLineGivesTheMeasuredETAAndClosesCleanly() {
        var text = "", now = 100.0
        let p = RunProgress(total: 1000, unit: "updates", enabled: true, ticking: false, write: { text += $0 }, clock: { now })
        #expect(text == "\r\u{1B}[K0/1000 updates (0 %), 0 s")
        now = 110
        p.update(250, detail: "held-out loss 0.1")
        // 250 in 10 s: 750 left take 30 s.
        #expect(text.hasSuffix("\r\u{1B}[K250/1000 updates (25 %), 10 s, ETA 30 s  held-out loss 0.1"), "\(text)")
        now = 110.05
        p.update(260)   // redrawn at most five times a second
        #expect(!text.contains("260/1000"))
        var printed = ""
        p.interrupt { printed = "update 260" }
        #expect(printed == "update 260" && text.contains("\r\u{1B}[K\r\u{1B}[K260/1000"), "\(text)")
        p.close()
        #expect(text.hasSuffix("\r\u{1B}[K"))
        let before = text
        p.update(500)
        #expect(text == before, "nothing is drawn after close")

        var silent = ""
        let off = RunProgress(total: 10, unit: "seeds", enabled: false, write: { silent += $0 })
        off.update(5)
        off.close()
        #expect(silent.isEmpty)
        #expect(!RunProgress.enabled(json: true))
    }
}

/// A `--quick` report's description is the quick grid's: `[quick] description`, else the
/// file's introduced as the full experiment's.
@Suite struct QuickDescriptionTests {
    @Test func theQuickReportDescribesTheQuickGrid() throws {
        let base = """
            name = "toy"
            kind = "toy"
            description = "Lengths 100, 1000 and 10000, 5 seeds."
            [[grid]]
            id = "a"
            files = []
            """
        let dir = NSTemporaryDirectory() + "gatelab-quick-description-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RunOptions(version: "v")
        options.quick = true
        options.outputDirectory = dir
        let plain = try Experiment<InputFilesTests.Toy>(source: base, file: "toy.toml")
        let introduced = try #require(ExperimentRunner(experiment: plain, options: options).reportDescription)
        #expect(introduced.hasPrefix("This is the `--quick` slice (1 of the full grid's 1 points") && introduced.hasSuffix("The full experiment: Lengths 100, 1000 and 10000, 5 seeds."))
        let own = try Experiment<InputFilesTests.Toy>(source: base + "\n[quick]\ndescription = \"Length 100, 2 seeds.\"\n", file: "toy.toml")
        #expect(own.quickDescription == "Length 100, 2 seeds.")
        #expect(ExperimentRunner(experiment: own, options: options).reportDescription == "Length 100, 2 seeds.")
        options.quick = false
        #expect(ExperimentRunner(experiment: own, options: options).reportDescription == "Lengths 100, 1000 and 10000, 5 seeds.")
    }
}
