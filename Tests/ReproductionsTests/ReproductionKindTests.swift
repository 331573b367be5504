import GateLabExperiments
import Foundation
import Testing
@testable import GateLabReproductions

@Suite("The reproduction experiment kind")
struct ReproductionKindTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// Wilson intervals against values computed by hand from the closed form (and, at k = 0
    /// and k = n, the one-sided bounds n/(n + z²) and z²/(n + z²)).
    @Test func wilsonIntervals() {
        func close(_ a: ClosedRange<Double>, _ low: Double, _ high: Double) -> Bool {
            abs(a.lowerBound - low) < 5e-5 && abs(a.upperBound - high) < 5e-5
        }
        #expect(close(BinomialInterval.wilson(successes: 5, trials: 10), 0.2366, 0.7634))
        #expect(close(BinomialInterval.wilson(successes: 8, trials: 10), 0.4902, 0.9433))
        #expect(close(BinomialInterval.wilson(successes: 3, trials: 12), 0.0889, 0.5323))
        let z2 = 1.959963984540054 * 1.959963984540054
        let none = BinomialInterval.wilson(successes: 0, trials: 30)
        #expect(none.lowerBound == 0 && abs(none.upperBound - z2 / (30 + z2)) < 1e-12)
        let all = BinomialInterval.wilson(successes: 30, trials: 30)
        #expect(all.upperBound == 1 && abs(all.lowerBound - 30 / (30 + z2)) < 1e-12)
        #expect(BinomialInterval.wilson(successes: 0, trials: 0) == 0...1)
        // The verdict uses containment: 30/30 contains 100 %, 3/12 does not.
        #expect(!BinomialInterval.wilson(successes: 3, trials: 12).contains(1.0))
    }

    @Test func verdicts() {
        let paper = PaperResults.result(preset: "hochreiter1997-exp4", variant: "T=100")!
        #expect(ReproductionReport.verdict(paper: paper, meanSequences: 100_000, interval: 0.7...1) == "rate agrees; sequences within 2×")
        #expect(ReproductionReport.verdict(paper: paper, meanSequences: 660_765, interval: 0.7...1) == "rate agrees; sequences 8.9× the paper's")
        #expect(ReproductionReport.verdict(paper: nil, meanSequences: 1, interval: 0...1) == "no published figure here")
    }

    /// The committed experiment files load, and their quick grids are the rows marked.
    @Test func theExperimentFilesLoad() throws {
        let h = try ReproductionExperiment(contentsOf: Self.root.appendingPathComponent("Experiments/hochreiter1997.toml").path)
        // Exp. 1, 2a, 2b, 2c, 3a, 3b, 3c, 4 (T = 100, 500, 1000 and the full-gradient control),
        // 5, 6a, 6b (and the tanh-RNN controls of Exps. 4 and 6a).
        // The quick grid: Exp. 1's 150, 2a's 3 and 2b's 2, 2c-1's and 2c-2's 3 each, 2c-3's 2
        // (2c-4 … 2c-9 only in the full grid: a trial runs for hours), 2c-1-frozen's 3, 3a's 22
        // (T = 100: 10 per N; T = 1000: 2), 3b's 21 (T = 1000: 1), 3c's 20, Exp. 4 T = 100's 10
        // and its two controls' 3 each, Exp. 5's 10, 6a's 20 and its control's 3, 6b's 10,
        // T = 500's 3 and T = 1000's 1 at the preset's budget.
        // Exp. 2c under both readings of its criterion: every row with 20 trials.
        #expect(h.points.count == 150 + 2 * 18 + 2 * 180 + 30 + 30 + 20 + 30 + 10 + 10 + 10 + 20 + 10 + 20)
        #expect(h.quickPoints.count == 5 * 30 + 3 + 2 + 3 + 3 + 2 + 3 + 22 + 21 + 20 + 10 + 3 + 3 + 1 + 10 + 20 + 10 + 3 + 3)
        #expect(h.quickPoints.filter { $0.variant == "2c-1-frozen" }.map(\.seed) == [1, 2, 3])
        #expect(h.quickPoints.filter { $0.preset == "hochreiter1997-exp2c" && !$0.variant.hasSuffix("-frozen") }.count == 8)
        #expect(h.quickPoints.filter { $0.preset == "hochreiter1997-exp3b" || $0.preset == "hochreiter1997-exp3c" }.count == 41)
        #expect(h.quickPoints.filter { $0.preset == "hochreiter1997-exp2a" || $0.preset == "hochreiter1997-exp2b" }.count == 5)
        #expect(h.quickPoints.filter { $0.variant == "T=500" }.count == 3)
        #expect(h.quickPoints.allSatisfy { $0.budget == nil })
        #expect(h.quickPoints.filter { $0.network == "tanh-rnn" }.count == 6)
        #expect(h.quickPoints.filter { $0.gradient == .full }.count == 3)
        #expect(h.quickPoints.filter { $0.variant == "T=1000" }.map(\.seed) == [1])
        let g = try ReproductionExperiment(contentsOf: Self.root.appendingPathComponent("Experiments/gers2000.toml").path)
        #expect(g.points.count == 5 * 30)
        // Quick: seeds 1…n of every row (complete prefixes): 30, 30, 6 (state decay), 30, 10 (α decay).
        #expect(g.quickPoints.count == 30 + 30 + 6 + 30 + 10 && g.quickPoints.allSatisfy { $0.budget == nil })
        #expect(g.quickPoints.filter { $0.variant == "state-decay-0.9" }.map(\.seed) == Array(1...6))
        #expect(g.quickPoints.filter { $0.variant == "forget-gates-alpha-decay" }.map(\.seed) == Array(1...10))
    }

    /// The report's gradient profile reads `Cells/lstm1997.cell` of the experiment file's package,
    /// wherever `gatelab run` was started; the current folder only when the package has none.
    @Test func thePaperCellIsFoundBesideTheExperimentFile() throws {
        let package = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-paper-cell-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: package) }
        try FileManager.default.createDirectory(at: package.appendingPathComponent("Experiments"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: package.appendingPathComponent("Cells"), withIntermediateDirectories: true)
        let cell = package.appendingPathComponent("Cells/lstm1997.cell").path
        try "cell".write(toFile: cell, atomically: true, encoding: .utf8)
        let file = package.appendingPathComponent("Experiments/h.toml").path
        #expect(ReproductionKind.paperCellFile(experimentFile: file) == cell)
        // A file outside any package: the current folder's Cells/ (the package root in tests).
        let elsewhere = FileManager.default.currentDirectoryPath + "/Cells/lstm1997.cell"
        #expect(ReproductionKind.paperCellFile(experimentFile: "/nonexistent/x.toml") == elsewhere)
    }

    @Test func badFilesNameTheKey() {
        let bad = #expect(throws: ExperimentError.self) {
            try ReproductionExperiment(source: "name = \"x\"\nkind = \"reproduction\"\n[[grid]]\npreset = \"hochreiter1997-exp9\"\n", file: "t.toml")
        }
        #expect(bad?.description.hasPrefix("t.toml:4: grid[1].preset: unknown preset 'hochreiter1997-exp9'") == true, "\(String(describing: bad))")
    }

    /// A tiny grid through the one runner: two Exp. 1 trials of two sequences each, their
    /// records (TrialRecord, snake_case), the report with the paper's figure beside GateLab's,
    /// and a second run that reuses both.
    @Test func aTinyGridRunsThroughTheRunner() throws {
        let source = """
            name = "tiny-reproduction"
            kind = "reproduction"
            [[grid]]
            preset = "hochreiter1997-exp1"
            variant = "1-5"
            budget = 2
            seeds = 2
            """
        let e = try ReproductionExperiment(source: source, file: "tiny.toml")
        let dir = NSTemporaryDirectory() + "gatelab-reproduction-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RunOptions(version: "v")
        options.outputDirectory = dir
        options.progress = .silent
        let runner = ExperimentRunner(experiment: e, options: options)
        #expect(try runner.run().computed == 2)
        #expect(try runner.run().reused == 2)
        let lines = try String(contentsOfFile: dir + "/results/results.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 2)
        let record = try TrialRecord(jsonLine: String(lines[0]))
        #expect(record.id == "hochreiter1997-exp1_1-5_b2_seed1" && record.sequences == 2 && !record.solved && record.testCount == 256)
        for key in ["\"solved\":false", "\"sequences\":2", "\"wrong\":", "\"test_mse\":", "\"gatelab_version\":\"v\""] {
            #expect(lines[0].contains(key), "\(key)")
        }
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(report.contains("| 1-5 | 2 | 0/2 = 0 % [0 %, 66 %] | 100 % of 30 | – | – | – | 8\u{202F}440 (3\u{202F}800–24\u{202F}100) |"), "\(report)")
        #expect(report.contains("rate differs; no solved trial to compare sequences"))
    }
}
