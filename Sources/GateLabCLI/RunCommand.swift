import ArgumentParser
import GateLabExperiments
import Foundation
import GateLabSupport

/// `gatelab run`: runs an experiment file's grid (resumably), then writes its summaries,
/// figures and report; or, with `--shard K/N` (or inside a Slurm job array), one shard of the
/// grid, whose report `gatelab merge` writes.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run an experiment file (Experiments/*.toml): its grid, results, figures and report.",
        discussion: """
            The whole file is validated before anything runs (unknown key, wrong type, unknown \
            cell or initializer, empty grid: one line naming the file, line and key, exit 2). \
            Results go to Notes/<name>/ (or [output] dir; --quick: <dir>-quick): one JSON line \
            and one CSV of curves per grid point under results/, points.csv, summary.csv, \
            figures/*.svg and *.png (gnuplot) and report.md (formats: Notes/formats.md). Interrupted runs resume: the same command \
            skips finished points and gives the same bytes as an uninterrupted run.

            Jobs: --jobs N computes N grid points at once, each job a gatelab process of its \
            own (default: the CPUs this process may use, so one inside a one-CPU Slurm task); \
            every point is computed single-threaded (GATELAB_THREADS=1), so the files are the \
            same bytes for any N and any machine.

            Sharding (clusters): --shard K/N runs only the grid points whose index i in the \
            file's grid order has i mod N = K (interleaved, so every shard gets a mix of short \
            and long runs), writes their result files and no report; shards may run at once \
            into one folder. When every shard has finished, 'gatelab merge FILE' writes the \
            report, identical to a one-process run. Inside a Slurm job array, without --shard, \
            K = SLURM_ARRAY_TASK_ID − SLURM_ARRAY_TASK_MIN and N = SLURM_ARRAY_TASK_COUNT. \
            --shard 0/1 is the whole grid. See 'gatelab slurm'.
            """)

    @OptionGroup var experimentFile: ExperimentFileOptions
    var file: String { experimentFile.file }
    var quick: Bool { experimentFile.quick }
    var output: String? { experimentFile.output }

    @Option(help: ArgumentHelp("Run only the grid points i with i mod N = K, and no report (default: from the Slurm job array's environment, else the whole grid).",
                               valueName: "K/N"))
    var shard: String?

    @Flag(name: .customLong("dry-run"), help: "Validate the file and print the grid's size, without running.")
    var dryRun = false

    @Option(help: ArgumentHelp("Grid points computed at once, each job a single-threaded process of its own (default: the CPUs this process may use). The files are the same bytes for any N.",
                               valueName: "N"))
    var jobs: Int?

    @Option(help: .hidden)   // a job of a --jobs run: these grid indices only, no report, no output
    var points: String?

    /// `--jobs`, else the CPUs this process may run on (its affinity mask, which a Slurm task's
    /// `--cpus-per-task` narrows).
    var jobCount: Int { jobs ?? AvailableCPUs.count }

    func validate() throws {
        if let jobs, jobs < 1 { throw ValidationError("--jobs must be at least 1, got \(jobs)") }
        if dryRun { try refuseIneffective(["--jobs"], "with --dry-run (nothing is computed)") }
        if let points, points.split(separator: ",").contains(where: { Int($0) == nil }) {
            throw ValidationError("--points: expected grid indices separated by commas")
        }
    }

    func run() throws {
        // Every point single-threaded, in this process as in its jobs: the engine's split over
        // two threads can change the last bits of a training run (summation order), and a
        // grid's files must not depend on --jobs, on the machine's CPUs or on a Slurm task's.
        setenv("GATELAB_THREADS", "1", 1)
        let only = points.map { $0.split(separator: ",").compactMap { Int($0) } }
        let shard = only == nil ? try resolveShard() : nil
        let experiment = try experimentKinds.load(contentsOf: file)
        var options = RunOptions(version: GateLabVersion.current)
        options.quick = quick
        options.outputDirectory = output
        options.shard = shard
        options.only = only
        let directory = experiment.directory(options)
        options.jobs = only == nil ? jobCount : 1
        options.jobCommand = { [file, quick] indices in
            [Self.executablePath, "run", file, "--output", directory, "--jobs", "1", "--points", indices.map(String.init).joined(separator: ",")]
                + (quick ? ["--quick"] : [])
        }
        if only != nil {
            options.progress = .silent
            _ = try experiment.run(options)
            return
        }
        let count = experiment.pointCount(quick: quick)
        let noun = experiment.noun
        if dryRun {
            let configurations = experiment.configurationCount(quick: quick)
            print("\(experiment.name)\(quick ? " (quick)" : ""): \(plural(count, noun)) "
                  + "(\(plural(configurations, "configuration"))), output \(directory)/"
                  + (shard.map { ", shard \($0): \($0.indices(among: count).count) of them" } ?? ""))
            return
        }
        let outcome = try experiment.run(options)
        for problem in outcome.figureProblems {
            FileHandle.standardError.write(Data("warning: figure not drawn: \(problem)\n".utf8))
        }
        for change in outcome.inputChanges {
            FileHandle.standardError.write(Data("computed again: \(change)\n".utf8))
        }
        if let s = outcome.shard {
            print(shardLine(experiment.name, s, count: outcome.shardTotal, noun: noun, counts: Self.computedCounts(outcome), total: outcome.total))
            return
        }
        print("\(experiment.name)\(quick ? " (quick)" : ""): \(plural(outcome.total, noun)) "
              + "(\(Self.computedCounts(outcome))); report: \(outcome.directory)/report.md")
    }

    /// `--shard`, else the Slurm job array's task (said on stderr), else nil; N = 1 is nil.
    /// - Throws: `ExperimentError.shard` for a bad `--shard` or inconsistent Slurm variables.
    func resolveShard() throws -> Shard? {
        if let shard { return try Shard(parsing: shard).nonTrivial }
        let environment = ProcessInfo.processInfo.environment
        guard let s = try Shard.fromEnvironment(environment) else { return nil }
        let names = ["SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_COUNT"]
        let values = names.compactMap { n in environment[n].map { "\(n)=\($0)" } }.joined(separator: ", ")
        FileHandle.standardError.write(Data("gatelab run: shard \(s) from the Slurm job array (\(values))\n".utf8))
        return s.nonTrivial
    }

    /// `NAME shard K/N: P grid points (C computed, R reused) of TOTAL; merge with: gatelab merge FILE`.
    func shardLine(_ name: String, _ s: Shard, count: Int, noun: String, counts: String, total: Int) -> String {
        var merge = "gatelab merge \(shellQuoted(file))" + (quick ? " --quick" : "")
        if let output { merge += " --output \(shellQuoted(output))" }
        return "\(name) shard \(s): \(plural(count, noun)) (\(counts)) of \(total); merge with: \(merge)"
    }

    /// `3 computed, 7 reused`, or, when points were computed again because a file they read
    /// changed, `3 computed: 2 new, 1 input changed; 7 reused`.
    static func computedCounts(_ o: RunOutcome) -> String {
        guard o.inputChanged > 0 else { return "\(o.computed) computed, \(o.reused) reused" }
        return "\(o.computed) computed: \(max(0, o.computed - o.inputChanged)) new, \(o.inputChanged) input changed; \(o.reused) reused"
    }
}

extension RunCommand {
    /// This executable, by absolute path (the jobs of `--jobs` run it again).
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }
}

extension Shard {
    /// Nil for the whole grid (N = 1), which runs as an unsharded run (with its report).
    var nonTrivial: Shard? { isWhole ? nil : self }
}
