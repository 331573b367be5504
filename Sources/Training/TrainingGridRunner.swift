import Foundation
import Probe

/// Runs a `train` experiment's grid resumably and writes its report.
///
/// Output folder D: `D/results/<id>.json` (one record per run, written atomically; its
/// presence with the same configuration and GateLab version marks the run finished, so an
/// interrupted grid resumes where it stopped), `D/results/<id>.csv` (held-out curve),
/// `D/points.csv`, `D/figures/*.svg` (gnuplot, when installed), `D/report.md`.
///
/// With a `shard` K/N of N > 1 it runs only the grid's runs i with i mod N = K (the shards
/// of a Slurm job array, concurrently into one folder) and writes no report;
/// `merge(partial:)` then writes it exactly as a whole run would.
public struct TrainingGridRunner {
    /// The experiment.
    public var experiment: TrainingExperiment
    /// Run the `[quick]` slice.
    public var quick: Bool
    /// The output folder.
    public var directory: String
    /// The folder given explicitly (nil: the default), for the command the report names.
    public var outputDirectory: String?
    /// The GateLab version recorded with every record; only records of this version are reused.
    public var version: String
    /// Run only this shard of the grid (nil or N = 1: the whole grid).
    public var shard: Shard?

    /// Creates a runner writing to `directory` (default `Notes/<name>`, `-quick` appended for
    /// the slice).
    /// - Parameter version: the GateLab version recorded with (and required of) every record
    ///   (the command-line tool passes its own).
    public init(experiment: TrainingExperiment, quick: Bool, directory: String? = nil, version: String = "", shard: Shard? = nil) {
        self.experiment = experiment
        self.quick = quick
        self.directory = directory ?? Self.defaultDirectory(experiment, quick: quick)
        outputDirectory = directory
        self.version = version
        self.shard = shard
    }

    /// `Notes/<name>`, with `-quick` for the slice.
    static func defaultDirectory(_ e: TrainingExperiment, quick: Bool) -> String { "Notes/\(e.name)" + (quick ? "-quick" : "") }

    /// The grid, in its stable order.
    public var points: [TrainingConfiguration] { quick ? experiment.quickPoints : experiment.points }

    /// Runs every unfinished point (of the shard), then, for a whole grid, writes
    /// `points.csv`, figures and `report.md`.
    /// - Returns: the records in grid order (of the shard's runs only, for a shard of N > 1)
    ///   and the number computed by this call.
    @discardableResult
    public func run() throws -> (records: [TrainingRecord], computed: Int) {
        let points = self.points
        let sharded = shard.flatMap { $0.isWhole ? nil : $0 }
        let mine = sharded.map { $0.indices(among: points.count).map { points[$0] } } ?? points
        let results = directory + "/results"
        try Files.makeDirectory(results)
        // Only this run's temporaries, and only dead ones: other shards write here too.
        Files.removeStaleTemporaryFiles(in: results, of: Set(mine.flatMap { [$0.id + ".json", $0.id + ".csv"] }))
        var records = [TrainingRecord](), computed = 0
        let pending = mine.filter { finished($0, results) == nil }
        let progress = ProgressReporter(total: pending.count, totalWork: Double(pending.reduce(0) { $0 + Self.work($1) }), style: .lines)
        for c in mine {
            if let r = finished(c, results) { records.append(r); continue }
            var record = try Trainer(c).run()
            record.gatelabVersion = version
            try Files.write(record.curveCSV, to: "\(results)/\(c.id).csv")
            try Files.write(try record.json() + "\n", to: "\(results)/\(c.id).json")
            records.append(record)
            computed += 1
            progress.finished(c.id, seconds: record.seconds, work: Double(Self.work(c)))
        }
        progress.close()
        if sharded == nil { try writeReport(records) }
        return (records, computed)
    }

    /// Writes `points.csv`, the figures and `report.md` from `records` (grid order).
    /// - Parameter notice: a paragraph under the report's title (a partial merge names the
    ///   missing runs there).
    func writeReport(_ records: [TrainingRecord], notice: String? = nil) throws {
        try Files.write(TrainingReport.pointsCSV(records), to: directory + "/points.csv")
        let figures = TrainingReport.figures(records, directory: directory)
        let command = ReportCommand.run(file: experiment.file, quick: quick, output: outputDirectory,
                                        defaultOutput: Self.defaultDirectory(experiment, quick: quick))
        try Files.write(TrainingReport.markdown(experiment: experiment, quick: quick, records: records, figures: figures,
                                                command: command, notice: notice), to: directory + "/report.md")
    }

    /// The stored record of `c`, if finished with the same configuration by this version.
    func finished(_ c: TrainingConfiguration, _ results: String) -> TrainingRecord? {
        guard case .valid(_, let r) = stored("\(results)/\(c.id).json", grid: [c.id: c]), r.id == c.id else { return nil }
        return r
    }

    /// What the record file at `path` holds, judged against the grid's configurations by id.
    func stored(_ path: String, grid: [String: TrainingConfiguration]) -> StoredPoint<TrainingRecord> {
        guard let d = FileManager.default.contents(atPath: path) else { return .damaged(reason: "unreadable") }
        guard let r = try? TrainingRecord(json: String(decoding: d, as: UTF8.self)) else { return .damaged(reason: "not a training record") }
        if let c = grid[r.id], r.configuration != c { return .foreign(id: r.id, reason: "other settings than the grid's") }
        if r.configuration.id != r.id { return .foreign(id: r.id, reason: "its settings are those of run \(r.configuration.id)") }
        guard r.gatelabVersion == version else {
            return .stale(id: r.id, reason: "written by " + (r.gatelabVersion.map { "GateLab \($0)" } ?? "a GateLab that did not record its version")
                          + "; this is GateLab \(version)")
        }
        return .valid(id: r.id, record: r)
    }

    static func work(_ c: TrainingConfiguration) -> Int { c.updates * c.length * c.hidden * c.hidden * (c.cell == "lstm" ? 4 : c.cell == "rnn" ? 1 : 3) }
}

extension TrainingRecord {
    /// The held-out curve: `update,loss,fraction_correct`.
    public var curveCSV: String {
        "update,loss,fraction_correct\n" + evaluations.map { "\($0.update),\($0.loss),\($0.fractionCorrect)" }.joined(separator: "\n") + "\n"
    }

    /// The cell and its forget bias, e.g. `lstm fb=1`.
    var variant: String {
        configuration.cell == "lstm" ? "lstm fb=\(configuration.forgetBias.map { TrainingConfiguration.number($0) } ?? "default")" : configuration.cell
    }
}

/// Tables, figures and the Markdown report of a `train` grid.
enum TrainingReport {
    static func pointsCSV(_ records: [TrainingRecord]) -> String {
        "id,task,length,cell,forget_bias,hidden,seed,updates,solved,solved_at,diverged,final_loss,final_fraction_correct,baseline,seconds\n"
            + records.map { r in
                let c = r.configuration
                return [r.id, c.task, "\(c.length)", c.cell, c.forgetBias.map { "\($0)" } ?? "", "\(c.hidden)", "\(c.seed)", "\(r.updates)",
                        "\(r.solved)", r.solvedAtUpdate.map(String.init) ?? "", "\(r.diverged)",
                        r.finalLoss.map { "\($0)" } ?? "", r.finalFractionCorrect.map { "\($0)" } ?? "", "\(r.baseline)",
                        String(format: "%.1f", r.seconds)].joined(separator: ",")
            }.joined(separator: "\n") + "\n"
    }

    /// One SVG per task: held-out loss against updates, one line per (cell, length) of the
    /// first seed, the baseline dashed. Returns the figure files (relative), or nothing when
    /// gnuplot is missing.
    static func figures(_ records: [TrainingRecord], directory: String) -> [String: String] {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot") else { return [:] }
        try? FileManager.default.createDirectory(atPath: directory + "/figures", withIntermediateDirectories: true)
        var out = [String: String]()
        for task in unique(records.map(\.configuration.task)) {
            let firstSeed = records.filter { $0.configuration.task == task }.map(\.configuration.seed).min()!
            let runs = records.filter { $0.configuration.task == task && $0.configuration.seed == firstSeed }
            let name = "figures/curves-\(task).svg"
            var script = "set terminal svg size 900,560 dynamic font 'sans,11'\nset output '\(directory)/\(name)'\n"
            script += "set title 'held-out loss, \(task) (seed \(firstSeed))' noenhanced\nset xlabel 'updates'\nset ylabel 'held-out loss'\nset logscale y\nset key outside right noenhanced\n"
            var plots = [String]()
            for r in runs {
                plots.append("'-' using 1:2 with lines title '\(r.variant) T=\(r.configuration.length)'")
            }
            let baselines = unique(runs.map { "\($0.configuration.length)" })
            for (i, r) in runs.enumerated() where baselines.contains("\(r.configuration.length)") && runs.firstIndex(where: { $0.configuration.length == r.configuration.length }) == i {
                plots.append("\(r.baseline) with lines dashtype 2 lc rgb 'gray' title 'baseline T=\(r.configuration.length)'")
            }
            script += "plot " + plots.joined(separator: ", ") + "\n"
            for r in runs {
                script += r.evaluations.map { "\($0.update) \(max($0.loss, 1e-12))" }.joined(separator: "\n") + "\ne\n"
            }
            let p = Process()
            p.executableURL = URL(fileURLWithPath: "/usr/bin/gnuplot")
            let pipe = Pipe()
            p.standardInput = pipe
            p.standardError = FileHandle.nullDevice
            do {
                try p.run()
                pipe.fileHandleForWriting.write(Data(script.utf8))
                try pipe.fileHandleForWriting.close()
                p.waitUntilExit()
                if p.terminationStatus == 0 { out[task] = name }
            } catch { continue }
        }
        return out
    }

    static func unique<T: Hashable>(_ xs: [T]) -> [T] { var s = Set<T>(); return xs.filter { s.insert($0).inserted } }

    static func markdown(experiment: TrainingExperiment, quick: Bool, records: [TrainingRecord], figures: [String: String],
                         command: String, notice: String? = nil) -> String {
        var md = "# \(experiment.name)\(quick ? " (quick slice)" : "")\n\n"
        if let notice { md += notice + "\n\n" }
        if let d = experiment.description { md += d + "\n\n" }
        let seconds = records.reduce(0) { $0 + $1.seconds }
        let versions = unique(records.compactMap(\.gatelabVersion))
        md += "Generated by `\(command)`" + (versions.isEmpty ? "" : " with GateLab " + versions.joined(separator: ", "))
            + ": \(records.count) runs, "
            + String(format: "%.0f s", seconds) + " of training in all (sum of the runs' wall times).\n\n"
        for task in unique(records.map(\.configuration.task)) {
            let runs = records.filter { $0.configuration.task == task }
            let lengths = unique(runs.map(\.configuration.length)).sorted()
            md += "## \(task)\n\nCriterion: \(runs[0].criterion). Cells: solved runs / runs (median updates to solve; mean final held-out loss).\n\n"
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
            if let f = figures[task] { md += "![held-out loss, \(task)](\(f))\n\n" }
        }
        let c = records.first?.configuration
        if let c {
            md += "Settings shared by the runs: hidden \(c.hidden), batch \(c.batch), \(c.optimizer.rawValue) lr \(c.learningRate), clip \(c.clip.map { "\($0)" } ?? "none"), "
                + "budget \(c.updates) updates, held-out set of \(c.evalSize) sequences evaluated every \(c.evalEvery) updates (stop when solved).\n"
        }
        return md
    }
}
