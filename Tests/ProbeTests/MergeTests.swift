@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import GateLabSupport

@Suite("Sharded runs merged: the same bytes as one run, and every fault named")
struct MergeTests {
    static let experimentText = """
        name = "merge-test"
        kind = "probe"
        [defaults]
        hidden = 5
        steps = [30, 60]
        seeds = 2
        [[grid]]
        cell = ["rnn", "gru"]
        [[grid]]
        cell = "lstm"
        forget_bias = 1
        """

    /// The experiment (12 points), written into `dir`.
    func experiment(in dir: String) throws -> ProbeExperiment {
        let file = dir + "/merge-test.toml"
        try Self.experimentText.write(toFile: file, atomically: true, encoding: .utf8)
        return try ProbeExperiment(contentsOf: file)
    }

    func options(_ out: String, shard: Shard? = nil, version: String = "test-version") -> RunOptions {
        var o = RunOptions(version: version)
        o.outputDirectory = out
        o.progress = .silent
        o.shard = shard
        return o
    }

    /// Runs every shard of N into `out`, in the order `order` (default 0 … N − 1).
    func runShards(_ e: ProbeExperiment, _ out: String, count n: Int, order: [Int]? = nil) throws {
        for k in order ?? Array(0..<n) {
            let shard = try Shard(index: k, count: n)
            let hadReport = FileManager.default.fileExists(atPath: out + "/report.md")
            let outcome = try ExperimentRunner(experiment: e, options: options(out, shard: shard)).run()
            #expect(outcome.complete && outcome.shard == (n == 1 ? nil : shard))
            if n > 1 && !hadReport { #expect(!FileManager.default.fileExists(atPath: out + "/report.md"), "a shard wrote the report") }
        }
    }

    /// A whole run's files, made at `out` and moved aside to `reference` (so that both were
    /// written with the same `--output`, which the report names).
    func reference(_ e: ProbeExperiment, _ out: String, _ reference: String) throws -> [String: Data] {
        let whole = try ExperimentRunner(experiment: e, options: options(out)).run()
        #expect(whole.complete && whole.computed == e.points.count)
        let files = snapshot(out)
        try FileManager.default.moveItem(atPath: out, toPath: reference)
        return files
    }

    @Test func mergedShardsAreTheBytesOfOneRunAndMergingAgainChangesNothing() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        #expect(e.points.count == 12)
        let out = scratch.path + "/out"
        let expected = try reference(e, out, scratch.path + "/reference")
        for n in [3, 5] {
            try runShards(e, out, count: n, order: Array((0..<n).reversed()))
            let merged = try ExperimentMerger(experiment: e, options: options(out)).merge()
            #expect(merged.merged == 12 && merged.total == 12 && merged.missing.isEmpty && merged.strays.isEmpty)
            expectSameFiles(snapshot(out), expected, "\(n) shards merged vs one run")
            _ = try ExperimentMerger(experiment: e, options: options(out)).merge()
            expectSameFiles(snapshot(out), expected, "merged twice")
            try FileManager.default.removeItem(atPath: out)
        }
        // A shard 0/1 is the whole grid, with its report.
        let whole = try ExperimentRunner(experiment: e, options: options(out, shard: try Shard(index: 0, count: 1))).run()
        #expect(whole.shard == nil && whole.computed == 12)
        expectSameFiles(snapshot(out), expected, "shard 0/1 vs one run")
    }

    @Test func missingDuplicatedStaleAndForeignPointsAreNamedAndNothingIsWritten() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        let out = scratch.path + "/out", points = out + "/results/points"
        try runShards(e, out, count: 2)
        let ids = e.points.map(\.id)
        func path(_ id: String) -> String { "\(points)/\(id).json" }
        func text(_ id: String) throws -> String { try String(contentsOfFile: path(id), encoding: .utf8) }
        // A point's line with `from` replaced and its checksum renewed: what another version or
        // experiment would have written (an edit that keeps the old checksum is damage).
        func edited(_ id: String, _ from: String, _ to: String) throws -> String {
            let body = SealedLine.unseal(try text(id).trimmingCharacters(in: .newlines)).body
            #expect(body.contains(from))
            return SealedLine.seal(body.replacingOccurrences(of: from, with: to)) + "\n"
        }
        // missing: point 0; duplicated: point 1 also copied under a stray name; misnamed: point
        // 2's file holds point 3 (so 3 is duplicated and 2 missing); stale: point 4 by another
        // version; foreign: point 5 from another experiment, point 6 with another seed.
        try FileManager.default.removeItem(atPath: path(ids[0]))
        try FileManager.default.copyItem(atPath: path(ids[1]), toPath: points + "/copy-of-one.json")
        try FileManager.default.removeItem(atPath: path(ids[2]))
        try FileManager.default.copyItem(atPath: path(ids[3]), toPath: path(ids[2]))
        try edited(ids[4], "\"gatelab_version\":\"test-version\"", "\"gatelab_version\":\"0.0.1\"")
            .write(toFile: path(ids[4]), atomically: true, encoding: .utf8)
        try edited(ids[5], "\"experiment\":\"merge-test\"", "\"experiment\":\"other\"")
            .write(toFile: path(ids[5]), atomically: true, encoding: .utf8)
        try edited(ids[6], "\"seed\":1", "\"seed\":7")
            .write(toFile: path(ids[6]), atomically: true, encoding: .utf8)
        try "{not json".write(toFile: path(ids[7]), atomically: true, encoding: .utf8)
        // A stray: a record of no grid point, in a file named for none.
        try edited(ids[8], "\"id\":\"\(ids[8])\"", "\"id\":\"gone_T9_H5_seed1\"")
            .write(toFile: points + "/gone_T9_H5_seed1.json", atomically: true, encoding: .utf8)

        let merger = ExperimentMerger(experiment: e, options: options(out))
        let error = try #require(throws: ExperimentError.self) { try merger.merge() }
        #expect(error.description.hasPrefix("merge-test: cannot merge: 2 missing, 2 duplicated, 1 stale, 2 foreign, 1 damaged (of 12 grid points)"),
                "\(error.description)")
        let lines = Set(error.lines)
        #expect(lines.contains("  missing: \(ids[0])"))
        #expect(lines.contains("  missing: \(ids[2])"))
        #expect(lines.contains("  duplicated: \(ids[1]) (copy-of-one.json, \(ids[1]).json: 2 files claim this point)"), "\(lines)")
        #expect(lines.contains("  duplicated: \(ids[3]) (\(ids[2]).json, \(ids[3]).json: 2 files claim this point)"), "\(lines)")
        #expect(lines.contains("  stale: \(ids[4]) (\(ids[4]).json: written by GateLab 0.0.1; this is GateLab test-version)"), "\(lines)")
        #expect(lines.contains("  foreign: \(ids[5]) (\(ids[5]).json: of experiment 'other', not 'merge-test')"), "\(lines)")
        #expect(lines.contains { $0.hasPrefix("  foreign: \(ids[6]) (\(ids[6]).json: other parameters") }, "\(lines)")
        #expect(lines.contains("  damaged: \(ids[7]) (\(ids[7]).json: not a result record)"), "\(lines)")
        #expect(error.lines.count == 8)
        for name in ["report.md", "points.csv", "summary.csv", "results/results.jsonl"] {
            #expect(!FileManager.default.fileExists(atPath: out + "/" + name), "\(name) written by a refused merge")
        }
        #expect(merger.inventory().strays.map(\.line) == ["  stray: gone_T9_H5_seed1 (gone_T9_H5_seed1.json: not a point of this grid)"])

        // Re-running the grid recomputes what is missing, stale, foreign, damaged or misnamed;
        // a copy under another name stays for a person to clear up.
        _ = try ExperimentRunner(experiment: e, options: options(out)).run()
        let still = try #require(throws: ExperimentError.self) { try merger.merge() }
        #expect(still.description.contains("cannot merge: 1 duplicated (of 12 grid points)"), "\(still.description)")
        try FileManager.default.removeItem(atPath: points + "/copy-of-one.json")
        let done = try merger.merge()
        #expect(done.merged == 12 && done.strays.count == 1)
    }

    @Test func longListsAreCappedAndAPartialReportSaysWhatIsMissing() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        let out = scratch.path + "/out"
        try runShards(e, out, count: 1)
        let problems = (0..<25).map { MergeProblem(kind: .missing, id: "p\($0)", files: [], detail: nil) }
        let list = MergeProblem.list(problems)
        #expect(list.count == 21 && list.last == "  … and 5 more missing" && list[0] == "  missing: p0")

        // Shard 1 of 3 never ran.
        try FileManager.default.removeItem(atPath: out)
        try runShards(e, out, count: 3, order: [0, 2])
        let missing = try Shard(index: 1, count: 3).indices(among: 12).map { e.points[$0].id }
        let merger = ExperimentMerger(experiment: e, options: options(out))
        let error = try #require(throws: ExperimentError.self) { try merger.merge() }
        #expect(error.lines == missing.map { "  missing: \($0)" })
        let partial = try merger.merge(partial: true)
        #expect(partial.merged == 8 && partial.missing == missing)
        let report = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        let lines = report.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines[0] == "# merge-test" && lines[1].isEmpty)
        #expect(lines[2].hasPrefix("> **Incomplete grid:** this report covers 8 of 12 grid points; 4 are missing or unusable: "
                                   + missing.joined(separator: ", ")), "\(lines[2])")
        #expect(report.contains("with GateLab test-version: 8 grid points"))
        #expect(try String(contentsOfFile: out + "/results/results.jsonl", encoding: .utf8).split(separator: "\n").count == 8)
        // Once the last shard has run, the full merge replaces the partial report.
        try runShards(e, out, count: 3, order: [1])
        _ = try merger.merge()
        #expect(!(try String(contentsOfFile: out + "/report.md", encoding: .utf8)).contains("Incomplete grid"))
        // Nothing at all to report on is refused even with --partial.
        let empty = scratch.path + "/empty"
        #expect(throws: ExperimentError.self) { try ExperimentMerger(experiment: e, options: options(empty)).merge(partial: true) }
    }

    @Test func theReportNamesTheSameCommandFromAbsoluteAndRelativePaths() throws {
        let cwd = FileManager.default.currentDirectoryPath
        #expect(ReportCommand.run(file: cwd + "/Experiments/x.toml", quick: false, output: cwd + "/Notes/x", defaultOutput: "Notes/x")
                == "gatelab run Experiments/x.toml")
        #expect(ReportCommand.run(file: "Experiments/x.toml", quick: true, output: "Notes/x-quick", defaultOutput: "Notes/x-quick")
                == "gatelab run Experiments/x.toml --quick")
        #expect(ReportCommand.run(file: "x.toml", quick: false, output: "out", defaultOutput: "Notes/x") == "gatelab run x.toml --output out")
        #expect(ReportCommand.run(file: "/elsewhere/x.toml", quick: false, output: nil, defaultOutput: "Notes/x") == "gatelab run /elsewhere/x.toml")
        #expect(ReportCommand.merge(file: "./a/../x.toml", quick: false, output: cwd + "//out/", defaultOutput: "Notes/x")
                == "gatelab merge ./a/../x.toml --output out")
        #expect(ReportCommand.absolute("/a/./b/../c//d/") == "/a/c/d")
    }
}
