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
    /// Points computed by this run.
    public var computed: Int
    /// Points found finished and reused.
    public var reused: Int
    /// False when stopped by `RunOptions.stopAfter` (no summaries or report written).
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

    /// Runs the grid (skipping finished points), then writes the summaries and the report.
    public func run() throws -> RunOutcome {
        let points = experiment.points(quick: options.quick)
        let pointsDir = directory + "/results/points", curvesDir = directory + "/results/curves"
        try Files.makeDirectory(pointsDir)
        try Files.makeDirectory(curvesDir)
        Files.removeTemporaryFiles(in: pointsDir)
        Files.removeTemporaryFiles(in: curvesDir)

        var records = [ProbeRecord?](repeating: nil, count: points.count)
        for (i, p) in points.enumerated() {
            records[i] = try finishedRecord(p, pointsDir: pointsDir, curvesDir: curvesDir)
        }
        let reused = records.compactMap { $0 }.count
        let missing = points.indices.filter { records[$0] == nil }
        let progress = ProgressReporter(total: missing.count, totalWork: missing.reduce(0) { $0 + Self.work(points[$1].configuration) },
                                        style: options.progress, write: options.progressOutput ?? { FileHandle.standardError.write(Data($0.utf8)) })
        var computed = 0
        for i in missing {
            if let stop = options.stopAfter, computed >= stop {
                progress.close()
                return RunOutcome(directory: directory, total: points.count, computed: computed, reused: reused, complete: false, figureProblems: [])
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

        let all = records.map { $0! }
        try Files.write(all.map { $0.jsonLine + "\n" }.joined(), to: directory + "/results/results.jsonl")
        let tables = try ResultTables(records: all, points: points)
        try Files.write(tables.pointsCSV, to: directory + "/points.csv")
        try Files.write(tables.summaryCSV, to: directory + "/summary.csv")
        let problems = try ReportWriter(experiment: experiment, options: options, directory: directory, tables: tables).write()
        return RunOutcome(directory: directory, total: points.count, computed: computed, reused: reused, complete: true, figureProblems: problems)
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
