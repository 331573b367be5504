import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabSupport
import GateLabTasks
import TOMLKit

/// Experiments of kind `train`: a grid of training runs (`Trainer`) and the report of their
/// results. Format (see `Experiment` for the keys every kind shares):
///
///     name = "forgetting"
///     kind = "train"
///     [defaults]              # any setting below, a value or a list (an axis of the grid)
///     hidden = 128
///     seeds = 3               # seeds 1…3; or a list, seeds = [1, 2, 3]
///     [[grid]]                # each block: the product of its lists, over the defaults
///     task = ["adding", "copy"]
///     cell = ["rnn", "gru"]
///     steps = [10, 25, 50]    # the task's length T
///     [quick]                 # overrides for `gatelab run --quick` (a slice that fits)
///
/// Settings: the rows of `TrainingSettings` (task, cell, steps, hidden, … schedule), each the
/// same as `gatelab train`'s option of the same meaning. `length` and `seed` (one seed or a list
/// of seeds) are accepted as other names of `steps` and `seeds`, the names of the options.
public enum TrainingKind: ExperimentKind {
    public static let name = "train"
    public static let noun = "training run"

    /// The settings' keys, in the order of the grid's axes (outermost first): `TrainingSettings`.
    static var keys: [String] { TrainingSettings.table.keys }

    public static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                            reader r: TOMLReader) throws -> (full: [TrainingPoint], quick: [TrainingPoint]) {
        let defaults = try defaults.map { try axes($0, "defaults", r) } ?? [:]
        let quick = try quick.map { try axes($0, "quick", r) } ?? [:]
        var full = [TrainingPoint](), fast = [TrainingPoint]()
        for (table, path) in blocks {
            let merged = defaults.merging(try axes(table, path, r)) { $1 }
            full += try product(merged, path, r)
            fast += try product(merged.merging(quick) { $1 }, path, r)
        }
        // Cell files by their declared names, unique across the file's grids (`CellLabels`).
        let labels = CellLabels.unique((full + fast).map(\.configuration.cell))
        full = full.map { $0.labelled(labels[$0.configuration.cell]!) }
        fast = fast.map { $0.labelled(labels[$0.configuration.cell]!) }
        // [quick] may map several blocks onto the same runs (e.g. one task for all): run each once.
        var seen = Set<String>()
        return (full, fast.filter { seen.insert($0.id).inserted })
    }

    /// A table's settings, each as a list of (value, key path).
    static func axes(_ t: TOMLTable, _ path: String, _ r: TOMLReader) throws -> [String: [(TOMLValueConvertible, String)]] {
        let table = TrainingSettings.table
        return try r.axes(t, path, keys: table.keys, aliases: table.aliases, unknown: table.unknownKey)
    }

    /// Every configuration of the product of `axes`' lists (`SettingsTable.product`), each checked.
    static func product(_ axes: [String: [(TOMLValueConvertible, String)]], _ path: String, _ r: TOMLReader) throws -> [TrainingPoint] {
        try TrainingSettings.table.product(axes, base: TrainingConfiguration(), path: path, reader: r).map { c in
            do { try c.validate() } catch { throw r.error(path, "\(error)") }
            return TrainingPoint(configuration: c, origin: path)
        }
    }

    /// Sets `key` in `c` from the file's value `v` at key path `p` (through its row of
    /// `TrainingSettings`).
    static func set(_ c: inout TrainingConfiguration, _ key: String, _ v: TOMLValueConvertible, _ p: String, _ r: TOMLReader) throws {
        do {
            try TrainingSettings.table.set(key, try SettingValue(toml: v), in: &c, context: SettingContext(path: { try r.cellPath($0, at: p) }))
        } catch let problem as SettingProblem {
            throw r.error(p, problem.message)
        }
    }

    public static func configurationKey(_ point: TrainingPoint) -> String {
        var c = point.configuration
        c.seed = 0
        return c.id(cellLabel: point.cellLabel)
    }

    /// Multiply-adds of the recurrent matrix products over the run's budget.
    public static func work(_ point: TrainingPoint) -> Double {
        let c = point.configuration
        let gates = (try? BuiltinCells.resolve(c.cell))?.gateCount ?? 1
        return Double(c.updates) * Double(c.length) * Double(c.hidden * c.hidden * gates * c.batch)
    }

    /// The cell file (a built-in cell reads none) and the task's data files.
    public static func inputFiles(_ point: TrainingPoint) throws -> [String] {
        let c = point.configuration
        return (BuiltinCells.builtin(c.cell) == nil ? [c.cell] : []) + (try Tasks.make(c.task, length: c.length).dataFiles)
    }

    public static func run(_ point: TrainingPoint, experiment: String, version: String) throws -> TrainingRecord {
        var record = try Trainer(point.configuration).run()
        record.id = point.id
        record.cellName = BuiltinCells.builtin(point.configuration.cell) == nil ? point.cellLabel : nil
        record.experiment = experiment
        record.gatelabVersion = version
        return record
    }

    public static func mismatch(_ record: TrainingRecord, _ point: TrainingPoint) -> String? {
        if record.configuration != point.configuration { return "other settings than the grid's" }
        if record.id != point.id { return "its settings are those of run \(record.id)" }
        return nil
    }

    public static func curvesCSV(_ record: TrainingRecord) -> String { record.curveCSV }

    /// `points.csv`, the figures and `report.md`.
    public static func writeReport(_ records: [TrainingRecord], points: [TrainingPoint], context: ReportContext) throws -> [String] {
        try Files.write(TrainingReport.pointsCSV(records), to: context.directory + "/points.csv")
        try Files.write(TrainingReport.profilesCSV(records), to: context.directory + "/profiles.csv")
        let (drawn, problems) = context.figures ? context.figureWriter.draw(TrainingReport.figures(records)) : ([], [])
        try Report.write(TrainingReport.body(records, figures: drawn), versions: TrainingReport.unique(records.compactMap(\.gatelabVersion)),
                         figureProblems: problems, context: context)
        return problems
    }
}

/// One training run of a grid.
public struct TrainingPoint: ExperimentPoint, Equatable {
    /// The run's settings.
    public var configuration: TrainingConfiguration
    /// The `[[grid]]` block it comes from.
    public var origin: String
    /// The cell's name in ids and reports (`CellLabels`: a cell file's declared name).
    public private(set) var cellLabel: String
    /// `configuration.id(cellLabel:)`.
    public private(set) var id: String

    /// A run of `configuration`, its cell named by `CellLabels.label`.
    public init(configuration: TrainingConfiguration, origin: String) {
        self.configuration = configuration
        self.origin = origin
        cellLabel = CellLabels.label(configuration.cell)
        id = configuration.id(cellLabel: cellLabel)
    }

    /// The same run with its cell named `label`.
    func labelled(_ label: String) -> TrainingPoint {
        var p = self
        p.cellLabel = label
        p.id = configuration.id(cellLabel: label)
        return p
    }
}

/// An experiment file of kind `train`.
public typealias TrainingExperiment = Experiment<TrainingKind>

extension TrainingRecord {
    /// The held-out curve: `update,loss,fraction_correct`.
    public var curveCSV: String {
        "update,loss,fraction_correct\n" + evaluations.map { "\($0.update),\($0.loss),\($0.fractionCorrect)" }.joined(separator: "\n") + "\n"
    }

    /// The cell's name: a cell file's declared name (`cellName`), else the built-in name.
    var cellLabel: String { cellName ?? configuration.cell }

    /// The cell and its forget bias, e.g. `lstm fb=1`.
    var variant: String {
        configuration.cell == "lstm" ? "lstm fb=\(configuration.forgetBias.map { TrainingConfiguration.number($0) } ?? "default")" : cellLabel
    }
}

/// Tables, figures and the Markdown report of a `train` grid.
enum TrainingReport {
    /// Every recorded gradient profile in long form, one row per run, update and distance:
    /// `id,update,distance,log10_gradient_h` (distance k = T − 1 − t from the last step).
    public static func profilesCSV(_ records: [TrainingRecord]) -> String {
        var lines = ["id,update,distance,log10_gradient_h"]
        for r in records {
            for p in r.profiles {
                let n = p.log10GradientH.count
                for k in 0..<n { lines.append("\(csvQuoted(r.id)),\(p.update),\(k),\(csvNumber(p.log10GradientH[n - 1 - k]))") }
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pointsCSV(_ records: [TrainingRecord]) -> String {
        "id,task,steps,cell,forget_bias,hidden,seed,updates,solved,solved_at,diverged,final_loss,final_fraction_correct,baseline,seconds\n"
            + records.map { r in
                let c = r.configuration
                return [r.id, c.task, "\(c.length)", c.cell, c.forgetBias.map { "\($0)" } ?? "", "\(c.hidden)", "\(c.seed)", "\(r.updates)",
                        "\(r.solved)", r.solvedAtUpdate.map(String.init) ?? "", "\(r.diverged)",
                        r.finalLoss.map { "\($0)" } ?? "", r.finalFractionCorrect.map { "\($0)" } ?? "", "\(r.baseline)",
                        String(format: "%.1f", r.seconds)].joined(separator: ",")
            }.joined(separator: "\n") + "\n"
    }

    /// Per task: the held-out loss against updates, one panel per length T, one line per
    /// cell — the median over seeds, with a band from the smallest to the largest — and the
    /// baseline in grey; then, per task and length, the gradient profiles recorded during
    /// training (`profile_every`): log10‖∂(Σ y)/∂h_t‖ against the distance from the last
    /// step, one panel per cell, one line per update (median and range over seeds). Every
    /// panel of a figure on the same axes (`FigureLayout`).
    static func figures(_ records: [TrainingRecord]) -> [Figure] {
        var out = [Figure]()
        for task in unique(records.map(\.configuration.task)) {
            let runs = records.filter { $0.configuration.task == task }
            let seeds = unique(runs.map(\.configuration.seed)).sorted()
            let seedText = seeds.count == 1 ? "seed \(seeds[0])" : "\(seeds.count) seeds"
            let lengths = unique(runs.map(\.configuration.length))
            let panels = lengths.map { length -> FigurePanel in
                let atT = runs.filter { $0.configuration.length == length }
                var series = unique(atT.map(\.variant)).map { v in
                    let first = atT.first { $0.variant == v }!
                    return curve(atT.filter { $0.variant == v }, title: v, colorKey: first.cellLabel, dashKey: v == first.cellLabel ? "" : v)
                }
                let updates = atT.flatMap { $0.evaluations.map { Double($0.update) } }
                series.append(FigureSeries(title: "baseline", points: [(updates.min() ?? 0, atT[0].baseline, .nan, .nan),
                                                                        (updates.max() ?? 0, atT[0].baseline, .nan, .nan)],
                                           band: false, colorKey: "baseline", dashKey: "baseline"))
                return FigurePanel(title: "T = \(length)", series: series)
            }
            out.append(Figure(file: "figures/curves-\(task).svg",
                              caption: "Held-out loss against updates, \(task), \(seedText): one panel per length T, one line per cell"
                                + (seeds.count > 1 ? " (the median over seeds, the band from the smallest to the largest; a run that stopped once "
                                    + "solved keeps its last value)" : "") + ", the baseline grey; every panel on the same axes.",
                              title: "held-out loss, \(task) (\(seedText)" + (seeds.count > 1 ? ": median and min-max" : "") + ")",
                              xLabel: "updates", yLabel: "held-out loss", panels: panels, logY: true))
            for length in lengths {
                let profiled = runs.filter { $0.configuration.length == length && !$0.profiles.isEmpty }
                guard !profiled.isEmpty else { continue }
                let panels = unique(profiled.map(\.variant)).map { v -> FigurePanel in
                    let rs = profiled.filter { $0.variant == v }
                    // At most about seven lines: every ⌈n/6⌉-th recorded update, and the last.
                    let recorded = unique(rs.flatMap { $0.profiles.map(\.update) }).sorted()
                    let every = (recorded.count + 5) / 6
                    let shown = recorded.count > 6 ? unique(stride(from: 0, to: recorded.count, by: every).map { recorded[$0] } + [recorded.last!]) : recorded
                    let series = shown.map { u -> FigureSeries in
                        let ps = rs.compactMap { $0.profiles.first { $0.update == u }?.log10GradientH }
                        let T = ps.map(\.count).min() ?? 0
                        let ks = (0..<T).map { Double($0) }
                        return FigureSeries.overSeeds(title: "update \(u)" + (seeds.count > 1 ? " (\(ps.count) of \(rs.count) runs)" : ""), xs: ks,
                                                      values: (0..<T).map { k in ps.map { $0[$0.count - 1 - k] } }, colorKey: "update \(u)")
                    }
                    return FigurePanel(title: v, series: series)
                }
                out.append(Figure(file: "figures/profiles-\(task)-T\(length).svg",
                                  caption: "Gradient profiles during training, \(task), T = \(length), \(seedText): log10‖∂(Σ y)/∂h_t‖ of the top layer "
                                      + "against the distance k = T − 1 − t from the last step, at the updates recorded (`profile_every`)"
                                      + (seeds.count > 1 ? ", the median over the runs still training at that update, the band their range" : "")
                                      + "; one panel per cell, every panel on the same axes.",
                                  title: "gradient profiles during training, \(task), T = \(length) (\(seedText))",
                                  xLabel: "distance k = T - 1 - t (steps back from the last)", yLabel: "log10 ||d(sum y)/dh_t||", panels: panels))
            }
        }
        return out
    }

    /// The held-out loss of `runs` (one cell's seeds) against updates: the median over seeds
    /// with a band from the smallest to the largest. A run that stopped early (solved, or
    /// diverged) keeps its last value at later updates, so a solved seed does not leave the
    /// median to the seeds still failing.
    static func curve(_ runs: [TrainingRecord], title: String, colorKey: String, dashKey: String) -> FigureSeries {
        let updates = unique(runs.flatMap { $0.evaluations.map(\.update) }).sorted()
        let values = updates.map { u in
            runs.compactMap { r -> Double? in (r.evaluations.last { $0.update <= u }?.loss).map { max($0, 1e-12) } }
        }
        var s = FigureSeries.overSeeds(title: title, xs: updates.map(Double.init), values: values, colorKey: colorKey, dashKey: dashKey)
        s.band = runs.count > 1
        return s
    }

    static func unique<T: Hashable>(_ xs: [T]) -> [T] { var s = Set<T>(); return xs.filter { s.insert($0).inserted } }

    /// A section per task (its table of solved runs and its figures), then the shared settings.
    static func body(_ records: [TrainingRecord], figures: [Figure]) -> ReportBody {
        let seconds = records.reduce(0) { $0 + $1.seconds }
        let generated = "\(records.count) runs, " + String(format: "%.0f s", seconds) + " of training in all (sum of the runs' wall times)."
        var sections = [String]()
        for task in unique(records.map(\.configuration.task)) {
            let runs = records.filter { $0.configuration.task == task }
            let lengths = unique(runs.map(\.configuration.length)).sorted()
            var md = "## \(task)\n\nCriterion: \(runs[0].criterion). Cells: solved runs / runs (median updates to solve; mean final held-out loss).\n\n"
            md += "| cell | " + lengths.map { "T = \($0)" }.joined(separator: " | ") + " |\n|---|" + lengths.map { _ in "---" }.joined(separator: "|") + "|\n"
            for v in unique(runs.map(\.variant)) {
                md += "| \(v) |"
                for t in lengths {
                    let rs = runs.filter { $0.variant == v && $0.configuration.length == t }
                    guard !rs.isEmpty else { md += " – |"; continue }
                    let solved = rs.compactMap(\.solvedAtUpdate).sorted()
                    let mean = rs.compactMap(\.finalLoss).reduce(0, +) / Double(max(rs.count, 1))
                    let diverged = rs.filter(\.diverged).count
                    md += " \(solved.count)/\(rs.count)" + (solved.isEmpty ? "" : " (\(solved[solved.count / 2]))")
                        + String(format: "; %.3g", mean) + (diverged > 0 ? "; \(diverged) diverged" : "") + " |"
                }
                md += "\n"
            }
            md += "| baseline |" + lengths.map { t in String(format: " %.3g |", runs.first { $0.configuration.length == t }!.baseline) }.joined() + "\n\n"
            md += "Baseline: \(runs[0].baselineDescription).\n\n"
            for f in figures where f.file == "figures/curves-\(task).svg" || f.file.hasPrefix("figures/profiles-\(task)-T") {
                md += Report.figure(f)
            }
            sections.append(md)
        }
        if let c = records.first?.configuration {
            sections.append("## Settings\n\nShared by the runs: hidden \(c.hidden), batch \(c.batch), \(c.optimizer.rawValue) lr \(c.learningRate), "
                + "clip \(c.clip.map { "\($0)" } ?? "none"), budget \(c.updates) updates, held-out set of \(c.evalSize) sequences evaluated every "
                + "\(c.evalEvery) updates (stop when solved).")
        }
        return ReportBody(generated: generated, sections: sections, files: [
            "- `points.csv`: one row per run (settings, seed, solved, updates, final held-out loss, wall time).",
        ], rerun: "Re-running the command regenerates this file bit for bit from the stored runs (a fresh run gives the same results, "
            + "in other wall times)")
    }
}
