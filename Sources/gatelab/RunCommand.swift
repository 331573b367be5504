import ArgumentParser
import Foundation
import Probe
import Training

/// `gatelab run`: runs an experiment file's grid (resumably), then writes its summaries,
/// figures and report.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment file (Experiments/*.toml): its grid, results, figures and report.",
        discussion: """
            The whole file is validated before anything runs (unknown key, wrong type, unknown \
            cell or initializer, empty grid: one line naming the file, line and key, exit 2). \
            Results go to Notes/<name>/ (or [output] dir; --quick: <dir>-quick): one JSON line \
            and one CSV of curves per grid point under results/, points.csv, summary.csv, \
            figures/*.svg (gnuplot) and report.md. Interrupted runs resume: the same command \
            skips finished points and gives the same bytes as an uninterrupted run.
            """)

    @Argument(help: "The experiment file (TOML).")
    var file: String

    @Flag(help: "Run the small grid of the file's [quick] table (default: 2 seeds, lengths ≤ 1000).")
    var quick = false

    @Option(help: "Output folder (default: the file's [output] dir, else Notes/<name>).")
    var output: String?

    @Flag(name: .customLong("dry-run"), help: "Validate the file and print the grid's size, without running.")
    var dryRun = false

    func run() throws {
        if let source = try? String(contentsOfFile: file, encoding: .utf8), TrainingExperiment.kind(of: source) == "train" {
            return try runTraining()
        }
        let experiment = try Experiment(contentsOf: file)
        var options = RunOptions(version: GateLabVersion.current)
        options.quick = quick
        options.outputDirectory = output
        let runner = ExperimentRunner(experiment: experiment, options: options)
        let points = experiment.points(quick: quick)
        if dryRun {
            let configurations = Set(points.map(\.configurationKey)).count
            print("\(experiment.name)\(quick ? " (quick)" : ""): \(plural(points.count, "grid point")) "
                  + "(\(plural(configurations, "configuration"))), output \(runner.directory)/")
            return
        }
        let outcome = try runner.run()
        for problem in outcome.figureProblems {
            FileHandle.standardError.write(Data("warning: figure not drawn: \(problem)\n".utf8))
        }
        print("\(experiment.name)\(quick ? " (quick)" : ""): \(plural(outcome.total, "grid point")) "
              + "(\(outcome.computed) computed, \(outcome.reused) reused); report: \(outcome.directory)/report.md")
    }

    /// An experiment of kind `train` (see `TrainingExperiment`): its grid of training runs,
    /// resumably, then its report.
    private func runTraining() throws {
        let experiment = try TrainingExperiment(contentsOf: file)
        let runner = TrainingGridRunner(experiment: experiment, quick: quick, directory: output)
        let points = quick ? experiment.quickPoints : experiment.points
        if dryRun {
            print("\(experiment.name)\(quick ? " (quick)" : ""): \(plural(points.count, "training run")), output \(runner.directory)/")
            return
        }
        let (records, computed) = try runner.run()
        print("\(experiment.name)\(quick ? " (quick)" : ""): \(plural(records.count, "training run")) "
              + "(\(computed) computed, \(records.count - computed) reused); report: \(runner.directory)/report.md")
    }
}
