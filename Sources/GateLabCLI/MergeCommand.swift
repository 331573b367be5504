import ArgumentParser
import Foundation
import GateLabExperiments
import GateLabSupport

/// `gatelab merge`: writes the summaries, figures and report of a grid whose shards ran
/// separately (`gatelab run --shard K/N`, `gatelab slurm`), from their result files.
struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Merge the shards of a grid (gatelab run --shard K/N) into its summaries, figures and report.",
        discussion: """
            Reads the per-point result files in the experiment's output folder and writes what \
            'gatelab run FILE' writes at its end (results.jsonl, points.csv, summary.csv, \
            figures, report.md), byte for byte, computing nothing; merging again gives the same \
            bytes. Give the same FILE, --quick and --output as the shards. It refuses, naming \
            them, grid points that are missing, claimed by two files or by a file named for \
            another point (duplicated), written by another GateLab version (stale) or with \
            other parameters (foreign): exit 1, nothing written. --partial reports on the \
            usable points only and says at the top of the report which are missing. Files of no \
            grid point are named as warnings and left alone.
            """)

    @OptionGroup var experimentFile: ExperimentFileOptions
    var file: String { experimentFile.file }
    var quick: Bool { experimentFile.quick }
    var output: String? { experimentFile.output }

    @Flag(help: "Write the report from the finished points when some are missing (the report says so).")
    var partial = false

    func run() throws {
        let experiment = try experimentKinds.load(contentsOf: file)
        let name = experiment.name, noun = experiment.noun
        var options = RunOptions(version: GateLabVersion.current)
        options.quick = quick
        options.outputDirectory = output
        let outcome: MergeOutcome
        do {
            outcome = try experiment.merge(options, partial: partial)
        } catch ExperimentError.merge(let summary, let problems) {
            FileHandle.standardError.write(Data((["error: \(summary)"] + problems).joined(separator: "\n").utf8 + Data("\n".utf8)))
            throw ExitCode(ExitStatus.checkFailed)
        }
        var warnings = outcome.strays.isEmpty ? [] : ["warning: \(plural(outcome.strays.count, "file")) of no grid point left alone:"]
            + MergeProblem.list(outcome.strays)
        warnings += outcome.figureProblems.map { "warning: figure not drawn: \($0)" }
        if !outcome.missing.isEmpty {
            warnings.append("warning: partial report: \(outcome.missing.count) of \(plural(outcome.total, noun)) missing or unusable")
        }
        if !warnings.isEmpty { FileHandle.standardError.write(Data((warnings.joined(separator: "\n") + "\n").utf8)) }
        let partialNote = outcome.missing.isEmpty ? "" : " (partial: \(outcome.missing.count) missing)"
        print("\(name)\(quick ? " (quick)" : ""): merged \(outcome.merged) of \(plural(outcome.total, noun))\(partialNote); "
              + "report: \(outcome.directory)/report.md")
    }
}
