@testable import GateLabExperiments
import Foundation
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import Testing
import GateLabSupport

/// Ids and labels come from a cell file's declared name (`cell NAME`), unique when two files
/// declare one name, never from its path: a cell given as `../x/y.cell` made ids such as
/// `..-x-y.cell_T5_H3_seed1`, hidden from `ls` and from Python's `glob("*")`.
@Suite("Probe ids and labels name cell files by their declared names")
struct ProbeCellNameIDTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test func idsAndLabelsComeFromTheDeclaredNameNeverThePath() throws {
        let dir = NSTemporaryDirectory() + "gatelab-names-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        for folder in ["exp", "x", "z"] { try FileManager.default.createDirectory(atPath: "\(dir)/\(folder)", withIntermediateDirectories: true) }
        let mgu = try String(contentsOf: Self.root.appendingPathComponent("Cells/mgu.cell"), encoding: .utf8)
        try mgu.replacingOccurrences(of: "cell mgu", with: "cell yy").write(toFile: dir + "/x/y.cell", atomically: true, encoding: .utf8)
        try mgu.replacingOccurrences(of: "cell mgu", with: "cell yy").write(toFile: dir + "/z/y.cell", atomically: true, encoding: .utf8)
        try mgu.replacingOccurrences(of: "cell mgu", with: "cell gru").write(toFile: dir + "/x/g.cell", atomically: true, encoding: .utf8)
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(dir + "/exp")
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let source = """
            name = "names"
            kind = "probe"
            [defaults]
            steps = 5
            hidden = 3
            [[grid]]
            cell = ["gru", "../x/y.cell", "../z/y.cell", "../x/g.cell"]
            """
        let e = try ProbeExperiment(source: source, file: "grid.toml")
        #expect(e.points.map(\.id) == ["gru_T5_H3_seed1", "yy_T5_H3_seed1", "yy-2_T5_H3_seed1", "gru-file_T5_H3_seed1"])
        #expect(e.points[1].configuration.cell == "../x/y.cell", "the configuration keeps the path the file gave")
        for p in e.points { #expect(!p.id.hasPrefix(".") && !p.id.contains("..")) }

        var options = RunOptions(version: "v")
        options.outputDirectory = "out"
        options.progress = .silent
        _ = try ExperimentRunner(experiment: e, options: options).run()
        let names = try FileManager.default.contentsOfDirectory(atPath: "out/results/points").sorted()
        #expect(names == ["gru-file_T5_H3_seed1.json", "gru_T5_H3_seed1.json", "yy-2_T5_H3_seed1.json", "yy_T5_H3_seed1.json"])
        // The labels of points.csv and the report are the names too.
        let csv = try String(contentsOfFile: "out/points.csv", encoding: .utf8)
        #expect(csv.contains(",yy,") && csv.contains(",yy-2,") && csv.contains(",gru-file,"), "\(csv)")
        let record = try ProbeRecord(jsonLine: SealedLine.unseal(String(contentsOfFile: "out/results/points/yy-2_T5_H3_seed1.json", encoding: .utf8)
            .trimmingCharacters(in: .newlines)).body, context: "t")
        #expect(record.cellName == "yy-2" && record.configuration.cell == "../z/y.cell")
    }

    @Test func fileSafeIDsNeverHideOrClimb() {
        #expect(fileSafeID("..-x-y.cell_T5") == "-x-y.cell_T5")
        #expect(fileSafeID(".hidden") == "hidden")
        #expect(fileSafeID("a..b") == "a.b")
        #expect(fileSafeID("lstm_T100_H32_seed1") == "lstm_T100_H32_seed1")
    }
}
