import CellLanguage
import Cells
import Foundation

/// Options of one run of an experiment.
public struct RunOptions {
    /// Run the `--quick` grid (into `<dir>-quick` unless `outputDirectory` is given).
    public var quick = false
    /// Overrides the experiment's output folder.
    public var outputDirectory: String?
    /// The GateLab version recorded with every result (the command-line tool passes its
    /// `GateLabVersion.current`).
    public var version: String
    /// For tests: stop after computing this many points, as if the run had been killed.
    public var stopAfter: Int?
    /// Run only this shard of the grid (nil or N = 1: the whole grid). A shard of N > 1
    /// writes its points' files but no summaries or report: `ExperimentMerger` writes them
    /// once every shard has finished.
    public var shard: Shard?
    /// gnuplot's executable (a name searched on `PATH`, or a path).
    public var gnuplot = "gnuplot"
    /// How progress is shown.
    public var progress: ProgressReporter.Style = .automatic
    /// Where progress text goes (stderr when nil).
    public var progressOutput: ((String) -> Void)?

    /// Creates options recording `version`.
    public init(version: String) { self.version = version }
}

/// What a run did.
public struct RunOutcome {
    /// The output folder.
    public var directory: String
    /// Points in the grid.
    public var total: Int
    /// The shard run (nil: the whole grid).
    public var shard: Shard?
    /// Points of the shard (the grid's size for a whole run).
    public var shardTotal: Int
    /// Points computed by this run.
    public var computed: Int
    /// Points found finished and reused.
    public var reused: Int
    /// False when stopped by `RunOptions.stopAfter` (no summaries or report written). A
    /// shard of N > 1 is complete when its own points are; it writes no summaries or report.
    public var complete: Bool
    /// Why figures could not be drawn (empty when they were, or were not asked for).
    public var figureProblems: [String]
}

/// Runs an experiment's grid, resumably, then writes its summaries and report.
///
/// Layout of the output folder D (`Notes/<name>` by default):
/// - `D/results/points/<id>.json`: one JSON line per grid point (every parameter, seed,
///   generator, version, summaries and curves), written atomically; its presence marks the
///   point finished;
/// - `D/results/curves/<id>.csv`: the point's curves, `id,distance,log10_h,log10_c,log10_x`;
/// - `D/results/results.jsonl`: every point's line, in grid order;
/// - `D/points.csv`: one row per point (parameters and scalar summaries);
/// - `D/summary.csv`: per configuration and summary, mean, 95% CI half-width, min, max over
///   seeds (long format);
/// - `D/figures/*.svg`, `D/report.md` (see `ReportWriter`).
///
/// Restarting the same command after an interruption (Ctrl-C, kill -9, power loss) reuses
/// every finished point (written by the same GateLab version), recomputes the unfinished one (its temporary file is never read),
/// and gives the same bytes as an uninterrupted run: each point depends only on its own seed.
///
/// The shards of a Slurm job array (`RunOptions.shard`) run concurrently into one folder:
/// each writes only its own points, with temporary names unique to its process, and
/// `ExperimentMerger` then writes the summaries and report exactly as a whole run would.
public final class ExperimentRunner {
    /// The experiment.
    public let experiment: Experiment
    /// The options.
    public let options: RunOptions

    /// Creates a runner.
    public init(experiment: Experiment, options: RunOptions) {
        self.experiment = experiment
        self.options = options
    }

    /// The output folder.
    public var directory: String { options.outputDirectory ?? experiment.outputDirectory(quick: options.quick) }

    /// Runs the grid (skipping finished points), then writes the summaries and the report;
    /// with a shard of N > 1 (`RunOptions.shard`), runs only that shard's points and writes
    /// no summaries or report.
    public func run() throws -> RunOutcome {
        let points = experiment.points(quick: options.quick)
        let shard = options.shard.flatMap { $0.isWhole ? nil : $0 }
        let mine = shard?.indices(among: points.count) ?? Array(points.indices)
        let pointsDir = directory + "/results/points", curvesDir = directory + "/results/curves"
        try Files.makeDirectory(pointsDir)
        try Files.makeDirectory(curvesDir)
        // Only temporaries of this run's points, and only dead ones: other shards may be
        // writing into the same folders right now.
        Files.removeStaleTemporaryFiles(in: pointsDir, of: Set(mine.map { points[$0].id + ".json" }))
        Files.removeStaleTemporaryFiles(in: curvesDir, of: Set(mine.map { points[$0].id + ".csv" }))

        var records = [ProbeRecord?](repeating: nil, count: points.count)
        for i in mine {
            records[i] = try finishedRecord(points[i], pointsDir: pointsDir, curvesDir: curvesDir)
        }
        let reused = mine.filter { records[$0] != nil }.count
        let missing = mine.filter { records[$0] == nil }
        let progress = ProgressReporter(total: missing.count, totalWork: missing.reduce(0) { $0 + Self.work(points[$1].configuration) },
                                        style: options.progress, write: options.progressOutput ?? { FileHandle.standardError.write(Data($0.utf8)) })
        var computed = 0
        func outcome(complete: Bool, problems: [String] = []) -> RunOutcome {
            RunOutcome(directory: directory, total: points.count, shard: shard, shardTotal: mine.count, computed: computed,
                       reused: reused, complete: complete, figureProblems: problems)
        }
        for i in missing {
            if let stop = options.stopAfter, computed >= stop {
                progress.close()
                return outcome(complete: false)
            }
            let p = points[i]
            let start = DispatchTime.now().uptimeNanoseconds
            let result = try GradientProbe.run(p.configuration)
            let record = ProbeRecord(id: p.id, experiment: experiment.name, version: options.version, configuration: p.configuration, result: result)
            // Curves first, then the JSON line that marks the point finished.
            try Files.write(record.curvesCSV, to: "\(curvesDir)/\(p.id).csv")
            try Files.write(record.jsonLine + "\n", to: "\(pointsDir)/\(p.id).json")
            records[i] = record
            computed += 1
            progress.finished(p.id, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, work: Self.work(p.configuration))
        }
        progress.close()
        if shard != nil { return outcome(complete: true) }
        return outcome(complete: true, problems: try writeOutputs(records: records.map { $0! }, points: points))
    }

    /// Writes what a run writes at its end from the records of `points` (the same order):
    /// `results.jsonl`, `points.csv`, `summary.csv`, the figures and `report.md`.
    /// - Parameter notice: a paragraph placed at the top of the report (a partial merge says
    ///   there which points are missing).
    /// - Returns: why figures could not be drawn (empty when they were, or were not asked for).
    func writeOutputs(records: [ProbeRecord], points: [GridPoint], notice: String? = nil) throws -> [String] {
        try Files.write(records.map { $0.jsonLine + "\n" }.joined(), to: directory + "/results/results.jsonl")
        let tables = try ResultTables(records: records, points: points)
        try Files.write(tables.pointsCSV, to: directory + "/points.csv")
        try Files.write(tables.summaryCSV, to: directory + "/summary.csv")
        var writer = ReportWriter(experiment: experiment, options: options, directory: directory, tables: tables)
        writer.notice = notice
        return try writer.write()
    }

    /// The stored record of `point` if it is finished: its JSON file exists, parses, holds
    /// the same parameters, was written by this GateLab version, and reads back to the same
    /// line (so a file from an older format is not mixed in). A missing curves file is
    /// rewritten from the record.
    func finishedRecord(_ point: GridPoint, pointsDir: String, curvesDir: String) throws -> ProbeRecord? {
        let path = "\(pointsDir)/\(point.id).json"
        guard let text = Files.read(path) else { return nil }
        let line = text.trimmingCharacters(in: .newlines)
        guard let record = try? ProbeRecord(jsonLine: line, context: path), record.jsonLine == line,
              record.id == point.id, record.experiment == experiment.name, record.configuration == point.configuration,
              record.version == options.version else {
            // Not a result of this point by this version (damaged, foreign or stale): recompute it.
            return nil
        }
        let curves = "\(curvesDir)/\(point.id).csv"
        if Files.read(curves) != record.curvesCSV { try Files.write(record.curvesCSV, to: curves) }
        return record
    }

    /// Estimated cost of a point in multiply-adds: the unrolled passes, plus one one-step
    /// reverse pass per state component for each Jacobian sample.
    static func work(_ c: ProbeConfiguration) -> Double {
        let cell = BuiltinCells.named(c.cell)!
        let perStep = Double(cell.gateCount * c.hiddenSize * (c.hiddenSize + c.inputSize) * c.layers * c.batch)
        let jacobianSteps = Double(c.summary.jacobianSamples * cell.stateNames.count * c.hiddenSize * c.layers)
        return perStep * (Double(c.steps) + jacobianSteps)
    }
}
