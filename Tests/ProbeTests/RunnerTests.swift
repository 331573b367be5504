@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import GateLabSupport

/// A fresh folder under the system's temporary directory, removed on deinit.
final class ScratchDirectory {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "gatelab-probe-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// Every regular file under `root` (relative path → bytes), hidden files included.
func snapshot(_ root: String) -> [String: Data] {
    var out = [String: Data]()
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: root) else { return out }
    for case let rel as String in walker {
        var isDir: ObjCBool = false
        if fm.fileExists(atPath: root + "/" + rel, isDirectory: &isDir), !isDir.boolValue {
            out[rel] = fm.contents(atPath: root + "/" + rel)
        }
    }
    return out
}

/// The fields of one CSV line (RFC 4180 quoting).
func csvFields(_ line: Substring) -> [String] {
    var fields = [String](), field = "", quoted = false
    var chars = line.makeIterator()
    while let ch = chars.next() {
        if quoted {
            if ch == "\"" {
                if let next = chars.next() {
                    if next == "\"" { field.append("\"") } else { quoted = false; if next == "," { fields.append(field); field = "" } else { field.append(next) } }
                } else { quoted = false }
            } else { field.append(ch) }
        } else if ch == "\"" { quoted = true }
        else if ch == "," { fields.append(field); field = "" }
        else { field.append(ch) }
    }
    fields.append(field)
    return fields
}

/// Compares two snapshots file by file, naming the first differences.
func expectSameFiles(_ a: [String: Data], _ b: [String: Data], _ context: String) {
    #expect(Set(a.keys) == Set(b.keys), "\(context): files differ: \(Set(a.keys).symmetricDifference(Set(b.keys)).sorted())")
    let differing = a.keys.filter { b[$0] != nil && a[$0] != b[$0] }.sorted()
    #expect(differing.isEmpty, "\(context): contents differ: \(differing.prefix(5))")
}

@Suite("Experiment runner: resumable, identical, reported")
struct RunnerTests {
    static let experimentText = """
        name = "resume-test"
        kind = "probe"
        description = "A small grid for the runner's tests."
        [defaults]
        hidden = 6
        steps = [40, 250]
        seeds = 3
        [[grid]]
        cell = "rnn"
        recurrent_init = ["pytorch-default", "orthogonal(0.9)"]
        [[grid]]
        cell = "lstm"
        forget_bias = [1, "chrono"]
        """

    func experiment(in dir: String) throws -> ProbeExperiment {
        let file = dir + "/resume-test.toml"
        try Self.experimentText.write(toFile: file, atomically: true, encoding: .utf8)
        return try ProbeExperiment(contentsOf: file)
    }

    func options(_ out: String, stopAfter: Int? = nil, gnuplot: String = "gnuplot") -> RunOptions {
        var o = RunOptions(version: "test-version")
        o.outputDirectory = out
        o.stopAfter = stopAfter
        o.progress = .silent
        o.gnuplot = gnuplot
        return o
    }

    @Test func anInterruptedRunResumesToTheSameBytesAsAnUninterruptedOne() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        let total = e.points.count
        #expect(total == 4 * 2 * 3)

        let reference = scratch.path + "/out"
        let whole = try ExperimentRunner(experiment: e, options: options(reference)).run()
        #expect(whole.complete && whole.computed == total && whole.reused == 0)
        let expected = snapshot(reference)
        try FileManager.default.moveItem(atPath: reference, toPath: scratch.path + "/reference")

        // Stop after 5 points, twice (as if killed), leaving debris of an unfinished point:
        // a temporary file and a truncated result file, neither of which may be read.
        let first = try ExperimentRunner(experiment: e, options: options(reference, stopAfter: 5)).run()
        #expect(!first.complete && first.computed == 5)
        #expect(!FileManager.default.fileExists(atPath: reference + "/report.md"))
        let pointsDir = reference + "/results/points"
        let sixth = e.points[5].id, seventh = e.points[6].id
        let full7 = try String(contentsOfFile: scratch.path + "/reference/results/points/\(seventh).json", encoding: .utf8)
        try String(full7.prefix(200)).write(toFile: "\(pointsDir)/.\(sixth).json.tmp", atomically: false, encoding: .utf8)
        try String(full7.prefix(300)).write(toFile: "\(pointsDir)/\(seventh).json", atomically: false, encoding: .utf8)
        let second = try ExperimentRunner(experiment: e, options: options(reference, stopAfter: 4)).run()
        #expect(second.reused == 5 && second.computed == 4)
        let last = try ExperimentRunner(experiment: e, options: options(reference)).run()
        #expect(last.complete && last.reused == 9 && last.computed == total - 9)

        expectSameFiles(snapshot(reference), expected, "resumed vs uninterrupted")
        let lines = try String(contentsOfFile: reference + "/results/results.jsonl", encoding: .utf8).split(separator: "\n")
        #expect(lines.count == total)
        #expect(Set(lines.map { try! ProbeRecord(jsonLine: String($0), context: "t").id }) == Set(e.points.map(\.id)))

        // A run of a finished grid computes nothing and changes nothing.
        let again = try ExperimentRunner(experiment: e, options: options(reference)).run()
        #expect(again.computed == 0 && again.reused == total)
        expectSameFiles(snapshot(reference), expected, "re-run of a finished grid")
    }

    /// The comparison figures: every configuration on one shared axis (one panel), a
    /// distinct colour per cell and a line style per setting, a band over seeds around the
    /// median, the y axis from the data (not rounded out to a far tick), no empty panel.
    @Test func comparisonFiguresPutEveryCellOnOneAxisWithTheMedianAndABand() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        let out = scratch.path + "/out"
        _ = try ExperimentRunner(experiment: e, options: options(out, gnuplot: "/nonexistent/gnuplot")).run()
        let records = try String(contentsOfFile: out + "/results/results.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try ProbeRecord(jsonLine: String($0), context: "test") }
        let tables = try ResultTables(records: records, points: e.points)
        let context = ReportContext(name: "t", description: nil, file: "t.toml", figures: true, directory: out, quick: false,
                                    version: "v", command: "c", notice: nil, figureWriter: FigureWriter(directory: out))
        let figures = ReportWriter(context: context, tables: tables).figures()
        #expect(figures.map(\.file) == ["figures/grad-h-T40.svg", "figures/grad-h-T250.svg", "figures/grad-h-near-T250.svg", "figures/grad-c-T250.svg"])
        for f in figures {
            let layout = f.layout
            #expect(layout.panels.count == 1 && !layout.panels[0].series.isEmpty, "\(f.file)")
            let series = layout.panels[0].series
            #expect(series.count == (f.file.hasPrefix("figures/grad-c") ? 2 : 4), "\(f.file)")
            #expect(series.allSatisfy { $0.band })
            // One colour per cell, different cells different colours; one style per setting.
            let cells = Set(series.map(\.colorKey))
            #expect(cells == (f.file.hasPrefix("figures/grad-c") ? ["lstm"] : ["rnn", "lstm"]))
            let colorOf = Dictionary(zip(series.map(\.colorKey), layout.colors[0]), uniquingKeysWith: { a, b in a == b ? a : "mixed" })
            #expect(Set(colorOf.values).count == cells.count && !colorOf.values.contains("mixed"))
            #expect(Set(layout.dashes[0]).count == series.count, "\(f.file): \(layout.dashes)")
            // The y axis spans the data, padded by at most 5% of the span: log10 of a gradient
            // reaching back is never above its value at k = 0, so the top stays near 0.
            let values = series.flatMap { $0.points.flatMap { [$0.y, $0.low, $0.high] } }.filter(\.isFinite)
            let (low, high) = (values.min()!, values.max()!)
            let y = try #require(layout.yRange)
            #expect(y.lowerBound <= low && y.upperBound >= high)
            #expect(y.lowerBound >= low - 0.05 * (high - low) && y.upperBound <= high + 0.05 * (high - low), "\(f.file): \(y) for \(low)…\(high)")
        }
        // The line is the median over seeds, the band their range.
        let rnn = try #require(tables.groups.first { $0.label == "rnn" && $0.configuration.steps == 40 })
        let line = try #require(figures[0].panels[0].series.first { $0.title == "rnn" })
        let atK = rnn.records.map { $0.curves.topH[7] }.sorted()
        #expect(line.points[7].x == 7 && line.points[7].y == atK[1] && line.points[7].low == atK[0] && line.points[7].high == atK[2])
    }

    @Test func theReportHasTheSummaryTableFiguresAndTidyTables() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        let out = scratch.path + "/out"
        try "The chrono LSTM keeps its gradient.\n".write(toFile: out + "-interp.md", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.moveItem(atPath: out + "-interp.md", toPath: out + "/interpretation.md")
        let outcome = try ExperimentRunner(experiment: e, options: options(out)).run()
        let report = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(report.contains("| configuration | T | seeds | decay rate of ‖∂L/∂h_t‖ (log10/step) | decay rate of ‖∂L/∂c_t‖ |"))
        // The rnn rows have no cell-state columns.
        #expect(report.contains("| rnn | 40 | 3 | ") && report.split(separator: "\n").first { $0.hasPrefix("| rnn | 40 |") }!
            .split(separator: "|")[4].trimmingCharacters(in: .whitespaces) == "—")
        #expect(report.contains("| lstm, forget bias chrono | 250 | 3 | "))
        #expect(report.contains("The chrono LSTM keeps its gradient."))
        if Files.executable(named: "gnuplot") != nil {
            #expect(outcome.figureProblems.isEmpty, "\(outcome.figureProblems)")
            for name in ["grad-h-T40.svg", "grad-h-T250.svg", "grad-h-near-T250.svg", "grad-c-T250.svg"] {
                #expect(report.contains("(figures/\(name))"))
                let svg = try String(contentsOfFile: out + "/figures/" + name, encoding: .utf8)
                #expect(svg.contains("<svg") && svg.contains("lstm, forget bias chrono"))
                #expect(svg.contains("rnn, orthogonal(0.9)") == !name.hasPrefix("grad-c"))
            }
        } else {
            #expect(report.contains("Figure not drawn"))
        }
        // points.csv: a header and one row per point, every row as wide as the header.
        let points = try String(contentsOfFile: out + "/points.csv", encoding: .utf8).split(separator: "\n")
        #expect(points.count == e.points.count + 1)
        let header = csvFields(points[0])
        #expect(header.contains("decay_rate") && header.contains("seed") && header.contains("sigma_max_W_hf") && header.contains("sigma_max_W_hh"))
        #expect(points.allSatisfy { csvFields($0).count == header.count })
        #expect(csvFields(points.last!)[header.firstIndex(of: "label")!] == "lstm, forget bias chrono")
        // summary.csv: the decay-rate mean of a configuration is the mean of its points' rates.
        let summary = try String(contentsOfFile: out + "/summary.csv", encoding: .utf8).split(separator: "\n")
        let sHeader = csvFields(summary[0])
        let row = try #require(summary.first { $0.contains("rnn_T250_H6_rec-orthogonal0.9,") && $0.contains(",decay_rate,") })
        let fields = csvFields(row)
        #expect(fields.count == sHeader.count)
        let mean = try #require(Double(fields[sHeader.firstIndex(of: "mean")!]))
        let rates = try e.points.filter { $0.id.hasPrefix("rnn_T250_H6_rec-orthogonal0.9_") }.map {
            try #require(try ProbeRecord(jsonLine: String(contentsOfFile: out + "/results/points/\($0.id).json", encoding: .utf8)
                .trimmingCharacters(in: .newlines), context: "t").summary.decay?.slope)
        }
        #expect(rates.count == 3 && abs(mean - rates.reduce(0, +) / 3) < 1e-15)
    }

    @Test func withoutGnuplotTheResultsAndReportAreStillWritten() throws {
        let scratch = try ScratchDirectory()
        let e = try experiment(in: scratch.path)
        let out = scratch.path + "/out"
        let outcome = try ExperimentRunner(experiment: e, options: options(out, gnuplot: "/nonexistent/gnuplot")).run()
        #expect(outcome.complete)
        #expect(outcome.figureProblems.count == 1 && outcome.figureProblems[0].contains("gnuplot not found"))
        let report = try String(contentsOfFile: out + "/report.md", encoding: .utf8)
        #expect(report.contains("> **Figure not drawn:** /nonexistent/gnuplot: gnuplot not found"))
        #expect(FileManager.default.fileExists(atPath: out + "/summary.csv"))
    }

    @Test func progressLinesCountPointsAndGiveAnETA() throws {
        var text = ""
        let p = ProgressReporter(total: 3, totalWork: 30, style: .lines) { text += $0 }
        p.finished("a", seconds: 1, work: 10)
        p.finished("b", seconds: 1, work: 10)
        p.finished("c", seconds: 1, work: 10)
        p.close()
        #expect(text == "[1/3] a 1.00 s, ETA 2 s\n[2/3] b 1.00 s, ETA 1 s\n[3/3] c 1.00 s\n")
        var bar = ""
        let b = ProgressReporter(total: 2, totalWork: 4, style: .bar) { bar += $0 }
        b.finished("a", seconds: 3, work: 1)
        // One point measured: the other is taken to cost as much (not 3× by its estimated work).
        #expect(bar.hasSuffix("[#######-----------------------] 1/2 points, ETA 3 s  a"))
        #expect(ProgressReporter.duration(125) == "2 min 05 s")
    }

    /// The ETA fits t = a + b·w to the measured points: a small first point, whose time is
    /// mostly per-point overhead, no longer predicts minutes for a grid of seconds (the first
    /// ETA of a 2.5 s grid said "8 min 01 s"); with several jobs the time left is shared.
    @Test func etaComesFromMeasuredTimesNotFromTheFirstPointsRatePerWork() {
        // 10 points: times 0.1 + 0.001·w, works 1 … 10 (55 in all).
        let p = ProgressReporter(total: 10, totalWork: 55, style: .silent)
        p.finished("1", seconds: 0.101, work: 1)
        #expect(abs(p.eta - 9 * 0.101) < 1e-9, "\(p.eta)")   // the old estimator: 54 × 0.101 = 5.5 s
        p.finished("2", seconds: 0.102, work: 2)
        // Exact fit: a = 0.1, b = 0.001; left: 8 points of work 52.
        #expect(abs(p.eta - (8 * 0.1 + 0.001 * 52)) < 1e-9, "\(p.eta)")
        let two = ProgressReporter(total: 10, totalWork: 55, style: .silent, parallelism: 2)
        two.finished("1", seconds: 0.101, work: 1)
        two.finished("2", seconds: 0.102, work: 2)
        #expect(abs(two.eta - (8 * 0.1 + 0.001 * 52) / 2) < 1e-9)
        // A fit that would give a negative cost per point falls back to time ∝ work.
        let q = ProgressReporter(total: 3, totalWork: 30, style: .silent)
        q.finished("a", seconds: 0.5, work: 5)
        q.finished("b", seconds: 2, work: 15)
        #expect(q.eta > 0 && q.eta.isFinite)
    }
}
