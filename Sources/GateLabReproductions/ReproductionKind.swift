import GateLabExperiments
import Foundation
import TOMLKit
import GateLabSupport

/// Experiments of kind `reproduction`: trials of the papers' own set-ups (`Presets`), one
/// `TrialRecord` per grid point, and a report that puts the papers' published numbers
/// (`PaperResults`) beside GateLab's. Format (keys every kind shares: see `Experiment`):
///
///     name = "hochreiter1997"
///     kind = "reproduction"
///     [defaults]
///     seeds = 10                         # seeds 1…10 (or a list); `seed` is another name
///     [[grid]]
///     preset = "hochreiter1997-exp4"     # a name of `Presets.names`
///     variant = ["T=100", "T=500"]       # its variants (default: the preset's default one)
///     quick_seeds = 3                    # this block's seeds in the --quick grid (0: not in it)
///     [quick]
///     budget = 200000                    # overrides the preset's budget (training sequences)
///
/// Axes: preset, variant, budget, seeds. A block's `quick_seeds` (not an axis) gives its seeds
/// 1…N in the quick grid, or leaves it out with 0 (long rows such as T = 1000), since `[quick]`
/// overrides every block alike.
public enum ReproductionKind: ExperimentKind {
    public static let name = "reproduction"
    public static let noun = "trial"

    static let keys = ["preset", "variant", "budget", "gradient", "network", "seeds"]
    static let aliases = ["seed": "seeds"]

    public static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                            reader r: TOMLReader) throws -> (full: [ReproductionPoint], quick: [ReproductionPoint]) {
        let defaults = try defaults.map { try axes($0, "defaults", r) } ?? [:]
        let quick = try quick.map { try axes($0, "quick", r) } ?? [:]
        var full = [ReproductionPoint](), fast = [ReproductionPoint]()
        for (table, path) in blocks {
            let merged = defaults.merging(try axes(table, path, r)) { $1 }
            full += try product(merged, path, r)
            var fastAxes = merged.merging(quick) { $1 }
            if let value = table["quick_seeds"] {
                let p = "\(path).quick_seeds"
                let n = try r.int(value, p)
                guard (0...100_000).contains(n) else { throw r.error(p, "must be between 0 and 100000, got \(n)") }
                if n == 0 { continue }
                fastAxes["seeds"] = (1...n).map { ($0, p) }
            }
            fast += try product(fastAxes, path, r)
        }
        var seen = Set<String>()
        return (full, fast.filter { seen.insert($0.id).inserted })
    }

    static func axes(_ t: TOMLTable, _ path: String, _ r: TOMLReader) throws -> [String: [(TOMLValueConvertible, String)]] {
        try r.axes(t, path, keys: keys, aliases: aliases, ignoring: path.hasPrefix("grid") ? ["quick_seeds"] : []) { key in
            "unknown key '\(key)'; valid keys here: \(keys.joined(separator: ", ")) (also seed = seeds)"
        }
    }

    static func product(_ axes: [String: [(TOMLValueConvertible, String)]], _ path: String, _ r: TOMLReader) throws -> [ReproductionPoint] {
        guard axes["preset"] != nil else { throw r.error(path, "missing 'preset' (one of \(Presets.names.joined(separator: ", ")))") }
        var points = [ReproductionPoint(preset: "", variant: "", seed: 1, budget: nil, gradient: nil, network: nil, origin: path)]
        for key in keys {
            guard let values = axes[key] else { continue }
            var next = [ReproductionPoint]()
            for point in points {
                for (v, p) in values {
                    var q = point
                    switch key {
                    case "preset":
                        q.preset = try r.string(v, p)
                        guard let preset = Presets.all.first(where: { $0.name == q.preset }) else {
                            throw r.error(p, "unknown preset '\(q.preset)'; valid presets: \(Presets.names.joined(separator: ", "))")
                        }
                        q.variant = preset.defaultVariant
                    case "variant": q.variant = try r.string(v, p)
                    case "budget":
                        let n = try r.int(v, p)
                        guard n >= 1 else { throw r.error(p, "must be at least 1, got \(n)") }
                        q.budget = n
                    case "gradient":
                        let name = try r.string(v, p)
                        guard let mode = ReferenceBPTT.Mode(rawValue: name) else {
                            throw r.error(p, "must be truncated or full, got '\(name)'")
                        }
                        q.gradient = mode == .truncated ? nil : mode
                    case "network":
                        let name = try r.string(v, p)
                        guard name == "lstm" || name == "tanh-rnn" else { throw r.error(p, "must be lstm or tanh-rnn, got '\(name)'") }
                        q.network = name == "lstm" ? nil : name
                    default:
                        let n = try r.int(v, p)
                        guard n >= 0, n <= Int(UInt32.max) else { throw r.error(p, "a seed must be between 0 and \(UInt32.max), got \(n)") }
                        q.seed = UInt64(n)
                    }
                    next.append(q)
                }
            }
            points = next
        }
        for point in points {
            do { _ = try Presets.parameters(point.preset, variant: point.variant) } catch { throw r.error(path, "\(error)") }
        }
        return points
    }

    public static func configurationKey(_ point: ReproductionPoint) -> String {
        var p = point
        p.seed = 0
        return p.id
    }

    /// Time steps of the budget (mean sequence length × budget): an upper bound, for the ETA.
    public static func work(_ point: ReproductionPoint) -> Double {
        guard let p = try? point.parameters() else { return 1 }
        let length: Double
        switch p.task {
        case .embeddedReber, .continualReber: length = 12
        case .distractor(let q, _): length = Double(q + 13)
        case .twoSequence(let T, _), .adding(let T), .multiplication(let T): length = 1.05 * Double(T)
        case .temporalOrder4, .temporalOrder8: length = 105
        }
        return length * Double(p.budget) * Double(p.architecture.weightCount)
    }

    public static func run(_ point: ReproductionPoint, experiment: String, version: String) throws -> TrialRecord {
        var trial = try Trial(preset: point.preset, variant: point.variant, seed: point.seed, parameters: try point.parameters())
        var record = trial.run()
        record.experiment = experiment
        record.id = point.id
        record.gatelabVersion = version
        return record
    }

    public static func mismatch(_ record: TrialRecord, _ point: ReproductionPoint) -> String? {
        guard record.preset == point.preset, record.variant == point.variant, record.seed == point.seed,
              let parameters = try? point.parameters(), record.parameters == parameters
        else { return "other settings than the grid's" }
        return record.id == point.id ? nil : "its settings are those of trial \(record.id)"
    }

    /// The tests the trial took: `name,sequences,wrong,test_count,test_mse`.
    public static func curvesCSV(_ record: TrialRecord) -> String {
        "name,sequences,wrong,test_count,test_mse\n" + record.milestones.map {
            [csvQuoted($0.name), "\($0.sequences)", "\($0.wrong)", "\($0.testCount)", csvNumber($0.testMSE)].joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }

    /// `Cells/lstm1997.cell` of the package the experiment file belongs to: beside the file's
    /// folder (`Experiments/x.toml` → `Cells/`), else under the current folder. The report's
    /// gradient profile reads it, so the report does not depend on where `gatelab run` starts.
    static func paperCellFile(experimentFile: String) -> String {
        let experiments = URL(fileURLWithPath: experimentFile).deletingLastPathComponent()
        let beside = experiments.deletingLastPathComponent().appendingPathComponent("Cells/lstm1997.cell").path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return FileManager.default.currentDirectoryPath + "/Cells/lstm1997.cell"
    }

    public static func writeReport(_ records: [TrialRecord], points: [ReproductionPoint], context: ReportContext) throws -> [String] {
        try Files.write(ReproductionReport.pointsCSV(records), to: context.directory + "/points.csv")
        var versions = [String]()
        for v in records.compactMap(\.gatelabVersion) where !versions.contains(v) { versions.append(v) }
        var figures = ReproductionReport.figures(records), profileProblems = [String]()
        var profile: GradientProfile?
        if context.figures, let solved = GradientProfile.solvedRecord(in: records) {
            let file = ReproductionKind.paperCellFile(experimentFile: context.file)
            do {
                profile = try GradientProfile.compute(solved: solved, cellSource: String(decoding: try Files.contents(of: file), as: UTF8.self))
                figures.append(profile!.figure)
            } catch {
                profileProblems.append("gradient profile not drawn (\(file)): \(error)")
            }
        }
        let (drawn, drawProblems) = context.figures ? context.figureWriter.draw(figures) : ([], [])
        let problems = profileProblems + drawProblems
        try Report.write(ReproductionReport.body(records, figures: drawn, profile: profile), versions: versions, figureProblems: problems, context: context)
        return problems
    }
}

/// One trial of a `reproduction` grid.
public struct ReproductionPoint: ExperimentPoint, Equatable {
    /// The preset's name.
    public var preset: String
    /// The variant's name.
    public var variant: String
    /// The trial's seed.
    public var seed: UInt64
    /// The budget replacing the preset's (training sequences; CERG: streams), or nil.
    public var budget: Int?
    /// The gradient replacing the preset's truncated one (`full`: the BPTT control), or nil.
    public var gradient: ReferenceBPTT.Mode?
    /// `tanh-rnn`: the tanh-RNN control (`PresetParameters.withTanhRNNControl`) instead of the
    /// LSTM, or nil.
    public var network: String?
    /// The `[[grid]]` block it comes from.
    public var origin: String

    /// A trial of `preset`'s `variant` (see the properties).
    public init(preset: String, variant: String, seed: UInt64, budget: Int?, gradient: ReferenceBPTT.Mode?, network: String?, origin: String) {
        (self.preset, self.variant, self.seed, self.budget, self.gradient, self.network, self.origin) = (preset, variant, seed, budget, gradient, network, origin)
    }

    /// `<preset>_<variant>[_b<budget>][_full]_seed<seed>`, the variant spelled with letters,
    /// digits and `-` only (`T=100,N=3` → `T100-N3`).
    public var id: String {
        var v = ""
        for ch in variant {
            if ch.isLetter || ch.isNumber || ch == "-" || ch == "." { v.append(ch) } else if ch == "," { v.append("-") }
        }
        return "\(preset)_\(v)" + (budget.map { "_b\($0)" } ?? "") + (gradient == .full ? "_full" : "") + (network.map { "_\($0)" } ?? "") + "_seed\(seed)"
    }

    /// The preset's parameters with this point's budget.
    public func parameters() throws -> PresetParameters {
        var p = try Presets.parameters(preset, variant: variant)
        if let budget { p.budget = budget }
        if let gradient { p.gradient = gradient }
        if network == "tanh-rnn" { p = p.withTanhRNNControl() }
        return p
    }
}

/// An experiment file of kind `reproduction`.
public typealias ReproductionExperiment = Experiment<ReproductionKind>

/// The tables of a `reproduction` report.
enum ReproductionReport {
    static func pointsCSV(_ records: [TrialRecord]) -> String {
        "id,preset,variant,seed,solved,sequences,training_steps,wrong,test_count,test_mse,cerg_outcome,mean_test_stream_length,budget,seconds\n"
            + records.map { r in
                [r.id, r.preset, csvQuoted(r.variant), "\(r.seed)", "\(r.solved)", "\(r.sequences)", "\(r.trainingSteps)", "\(r.wrong)",
                 "\(r.testCount)", csvNumber(r.testMSE), r.cergOutcome ?? "", csvNumber(r.meanTestStreamLength), "\(r.parameters.budget)",
                 String(format: "%.1f", r.seconds)].joined(separator: ",")
            }.joined(separator: "\n") + "\n"
    }

    /// A row of the report: the variant, and "full BPTT" for the full-gradient control.
    static func rowLabel(_ r: TrialRecord) -> String {
        if case .tanhRNN(let hidden) = r.parameters.network { return r.variant + " (tanh RNN, \(hidden) units, full BPTT)" }
        return r.variant + (r.parameters.gradient == .full ? " (full BPTT)" : "")
    }

    static func unique<T: Hashable>(_ xs: [T]) -> [T] { var s = Set<T>(); return xs.filter { s.insert($0).inserted } }

    static func count(_ x: Double) -> String {
        let n = Int(x.rounded())
        var digits = String(abs(n)), out = ""
        while digits.count > 3 { out = "\u{202F}" + digits.suffix(3) + out; digits = String(digits.dropLast(3)) }
        return (n < 0 ? "−" : "") + digits + out
    }

    static func percent(_ x: Double) -> String { String(format: "%.0f %%", 100 * x) }

    /// Mean, median, min and max of `xs` (not empty).
    static func spread(_ xs: [Double]) -> (mean: Double, median: Double, min: Double, max: Double) {
        let s = xs.sorted()
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        return (s.reduce(0, +) / Double(s.count), median, s.first!, s.last!)
    }

    /// The verdict of one row: sequence count within a factor of 2 of the paper's mean, and
    /// the paper's success rate inside GateLab's 95 % interval.
    static func verdict(paper: PaperResult?, meanSequences: Double?, interval: ClosedRange<Double>) -> String {
        guard let paper else { return "no published figure here" }
        var parts = [String]()
        if let rate = paper.successRate {
            parts.append(interval.contains(rate) ? "rate agrees" : "rate differs")
        }
        if let published = paper.meanSequences {
            if let mean = meanSequences {
                let ratio = mean / published
                parts.append(ratio >= 0.5 && ratio <= 2 ? "sequences within 2×" : String(format: "sequences %.2g× the paper's", ratio))
            } else {
                parts.append("no solved trial to compare sequences")
            }
        }
        return parts.joined(separator: "; ")
    }

    /// One figure per preset: the share of a row's trials that had met the stopping criterion
    /// after n training sequences (streams), a step line per row (its learning curve over trials),
    /// and the paper's mean sequence count as a dashed vertical line where it gives one.
    static func figures(_ records: [TrialRecord]) -> [Figure] {
        var out = [Figure]()
        for preset in unique(records.map(\.preset)) {
            let ofPreset = records.filter { $0.preset == preset }
            let labels = unique(ofPreset.map(rowLabel))
            guard ofPreset.contains(where: \.solved) else { continue }
            let last = Double(ofPreset.map(\.sequences).max() ?? 1)
            var series = [FigureSeries]()
            for label in labels {
                let rows = ofPreset.filter { rowLabel($0) == label }
                let times = rows.filter(\.solved).map { Double($0.sequences) }.sorted()
                var points: [(x: Double, y: Double, low: Double, high: Double)] = [(0, 0, .nan, .nan)]
                for (i, x) in times.enumerated() {
                    points.append((x, Double(i) / Double(rows.count), .nan, .nan))
                    points.append((x, Double(i + 1) / Double(rows.count), .nan, .nan))
                }
                points.append((last, Double(times.count) / Double(rows.count), .nan, .nan))
                series.append(FigureSeries(title: "\(label) (\(rows.count) trials)", points: points, band: false, colorKey: label))
                if let mean = PaperResults.result(preset: preset, variant: rows[0].variant)?.meanSequences, rows[0].parameters.gradient == .truncated {
                    series.append(FigureSeries(title: "\(label): paper's mean", points: [(mean, 0, .nan, .nan), (mean, 1, .nan, .nan)],
                                               band: false, colorKey: label, dashKey: "paper"))
                }
            }
            let unit = ofPreset[0].parameters.task == .continualReber ? "training streams" : "training sequences"
            out.append(Figure(file: "figures/solved-\(preset).svg",
                              caption: "\(preset): share of each row's trials that had met the stopping criterion after n \(unit) "
                                + "(a step per solved trial; unsolved trials stop at their budget), the paper's mean dashed where it gives one.",
                              title: "\(preset): trials solved", xLabel: unit, yLabel: "share of trials solved",
                              panels: [FigurePanel(title: preset, series: series)]))
        }
        return out
    }

    /// The section of the gradient profile (`GradientProfile`), when its figure was drawn.
    static func profileSection(_ profile: GradientProfile, figure: Figure) -> String {
        let T = profile.steps
        let far = min(10, T - 1)   // the distances from which on the curves are summarised by their range
        func describe(_ r: TrialRecord, _ c: [Double]) -> String {
            let tail = c[far...]
            return "the \(r.solved ? "solved" : "unsolved") net (\(count(Double(r.sequences))) sequences, \(r.wrong) of \(r.testCount) wrong"
                + (r.testMSE.map { String(format: ", test MSE %.3g", $0) } ?? "") + ") "
                + String(format: "has log10‖∂L/∂y_c(t)‖ = %.2f at k = 0, %.2f at k = %d, and between %.2f and %.2f at every k from %d to %d",
                         c[0], c[far / 2], far / 2, tail.min()!, tail.max()!, far, T - 1)
        }
        var md = "## Gradient profile of a solved and an unsolved network\n\n"
        md += "The probe (`gatelab probe`'s `GradientProbe`) on trained 1997 networks: the \(GradientProfile.preset) trial "
            + "\(profile.records[0].variant), seed \(profile.records[0].seed) (the solved LSTM trial of the grid with the fewest training steps, "
            + "so retraining it for this figure takes seconds; the stored record is checked against the retrained trial), and the same trial "
            + "stopped after \(count(Double(GradientProfile.unsolvedBudget))) training sequences. Their weights are carried into `Cells/lstm1997.cell` by "
            + "`Architecture.network(cell:weights:)`, and the probe runs one sequence of the task (T = \(T), seed \(GradientProfile.sequenceSeed)) "
            + "with the loss L = net_k(T), the output unit's net input at the last step (∂L/∂y_c(T) = the output unit's weights on the cells), "
            + "through the full gradient of the cell file, not the truncated one the trials learned with. "
        let described = zip(profile.records, profile.curves).map { describe($0, $1) }.joined(separator: "; ")
        md += described.prefix(1).uppercased() + described.dropFirst() + ".\n\n"
        md += Report.figure(figure)
        return md
    }

    static func body(_ records: [TrialRecord], figures: [Figure] = [], profile: GradientProfile? = nil) -> ReportBody {
        let seconds = records.reduce(0) { $0 + $1.seconds }
        let generated = "\(records.count) trials, " + String(format: "%.0f s", seconds) + " of training in all (sum of the trials' wall times)."
        var sections = [String]()
        for preset in unique(records.map(\.preset)) {
            let ofPreset = records.filter { $0.preset == preset }
            let cerg = ofPreset.first?.parameters.task == .continualReber
            var md = "## \(preset)\n\n"
            md += "Per variant (a row of the paper's table): trials, solved with its 95 % Wilson interval beside the paper's rate; "
                + "training \(cerg ? "streams" : "sequences") to success over the solved trials (mean, median, min–max) beside the paper's mean "
                + "(and range); the final test's wrong \(cerg ? "test streams (of 10, error before 100 000 symbols)" : "sequences (mean over solved trials, of the test's size)") "
                + "beside the paper's; the verdict (sequences within a factor of 2 of the paper's mean; the paper's rate inside the interval).\n\n"
            md += "| variant | trials | solved (95 % CI) | paper | \(cerg ? "streams" : "sequences"): mean | median | min–max | paper mean (range) | wrong | paper wrong |"
                + (cerg ? " perfect / good / rest | paper |" : "") + " verdict |\n"
            md += "|---|---|---|---|---|---|---|---|---|---|" + (cerg ? "---|---|" : "") + "---|\n"
            for label in unique(ofPreset.map(rowLabel)) {
                let rows = ofPreset.filter { rowLabel($0) == label }
                let variant = rows[0].variant
                let solved = rows.filter(\.solved)
                let interval = BinomialInterval.wilson(successes: solved.count, trials: rows.count)
                let paper = PaperResults.result(preset: preset, variant: variant)
                var line = "| \(label) | \(rows.count) | \(solved.count)/\(rows.count) = \(percent(Double(solved.count) / Double(rows.count))) "
                    + "[\(percent(interval.lowerBound)), \(percent(interval.upperBound))] | "
                line += paper?.successRate.map { "\(percent($0)) of \(paper!.trials)" } ?? "–"
                var meanSequences: Double?
                if solved.isEmpty {
                    line += " | – | – | – |"
                } else {
                    let s = spread(solved.map { Double($0.sequences) })
                    meanSequences = s.mean
                    line += " | \(count(s.mean)) | \(count(s.median)) | \(count(s.min))–\(count(s.max)) |"
                }
                if let mean = paper?.meanSequences {
                    line += " \(count(mean))" + (paper?.sequenceRange.map { " (\(count($0.lowerBound))–\(count($0.upperBound)))" } ?? "") + " |"
                } else {
                    line += " – |"
                }
                if solved.isEmpty {
                    line += " – |"
                } else {
                    let w = spread(solved.map { Double($0.wrong) })
                    line += String(format: " %.1f", w.mean) + " (\(Int(w.min))–\(Int(w.max))) of \(solved[0].testCount) |"
                }
                line += paper?.wrongOf2560.map { " \(formatNumber($0)) of 2560 |" } ?? " – |"
                if cerg {
                    let outcomes = ["perfect", "good", "rest"].map { o in rows.filter { $0.cergOutcome == o }.count }
                    line += " \(outcomes.map(String.init).joined(separator: " / ")) |"
                    if let paper, let p = paper.successRate, let g = paper.goodRate, let r = paper.restRate {
                        line += " \(percent(p)) / \(percent(g)) / \(percent(r)) |"
                    } else {
                        line += " – |"
                    }
                }
                line += " \(verdict(paper: paper, meanSequences: meanSequences, interval: interval)) |\n"
                md += line
            }
            let unsolved = ofPreset.filter { !$0.solved }
            if !unsolved.isEmpty {
                md += "\nUnsolved trials stopped at their budget: " + unique(unsolved.map(rowLabel)).map { v in
                    let rs = unsolved.filter { rowLabel($0) == v }
                    return "\(v): \(rs.count) (budget \(count(Double(rs[0].parameters.budget))))"
                }.joined(separator: "; ") + ".\n"
            }
            if let source = ofPreset.compactMap({ PaperResults.result(preset: preset, variant: $0.variant)?.source }).first {
                md += "\nPaper figures: \(source) (`Notes/papers`; `PaperResults` in `Sources/GateLabReproductions/PaperResults.swift`).\n"
            } else {
                md += "\nThe paper's results for this experiment are withheld from `Notes/papers`: GateLab's numbers only.\n"
            }
            for f in figures where f.file == "figures/solved-\(preset).svg" { md += "\n" + Report.figure(f) }
            sections.append(md)
        }
        if let profile, let figure = figures.first(where: { $0.file == profile.figure.file }) {
            sections.append(profileSection(profile, figure: figure))
        }
        return ReportBody(generated: generated, sections: sections, files: [
            "- `points.csv`: one row per trial (preset, variant, seed, solved, sequences, wrong, test MSE, CERG outcome, budget, wall time).",
            "- `results/curves/<id>.csv`: the tests each trial took (`name,sequences,wrong,test_count,test_mse`).",
        ], rerun: "Re-running the command regenerates this file bit for bit from the stored trials (a fresh run gives the same results, "
            + "in other wall times)")
    }
}

extension TrialRecord: ExperimentRecord {
    /// `seconds`.
    public var computeSeconds: Double? { seconds }
}
