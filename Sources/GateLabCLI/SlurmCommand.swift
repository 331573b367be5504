import ArgumentParser
import Foundation
import GateLabExperiments
import GateLabSupport

/// `gatelab slurm`: writes (and with `--submit`, submits) the Slurm job array that runs an
/// experiment's grid in shards, and the dependent job that merges them into the report.
struct SlurmCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slurm",
        abstract: "Write (and submit) a Slurm job array running an experiment's grid in shards, then a job merging them.",
        discussion: """
            Writes <output>/slurm/array.sbatch (task K of N runs 'gatelab run FILE --shard K/N': \
            the grid points i with i mod N = K), merge.sbatch ('gatelab merge FILE', the report) \
            and submit.sh (sbatch the array, then the merge with --dependency=afterok on it), with \
            absolute paths; logs go to <output>/slurm/logs/. Shards write one file per point into \
            the output folder, which must be on a filesystem every node sees. A failed or \
            preempted task K is resubmitted with 'sbatch --array=K <output>/slurm/array.sbatch' \
            (finished points are skipped); then run 'gatelab merge' yourself, since the first \
            merge job waits on the old array forever. Only sbatch is needed on the cluster.
            """)

    @OptionGroup var experimentFile: ExperimentFileOptions
    var file: String { experimentFile.file }
    var quick: Bool { experimentFile.quick }
    var output: String? { experimentFile.output }

    @Option(help: "Tasks in the job array (shards of the grid).")
    var shards = 4

    @Option(help: "Slurm partition (default: the cluster's).")
    var partition: String?

    @Option(help: ArgumentHelp("Time limit per task (Slurm's form, e.g. 02:00:00).", valueName: "HH:MM:SS"))
    var time: String?

    @Option(name: .customLong("cpus-per-task"), help: "CPUs per task (also OPENBLAS_NUM_THREADS and GATELAB_THREADS: with 1, GateLab uses no second thread).")
    var cpusPerTask = 1

    @Option(help: "Memory per task (Slurm's form, e.g. 4G).")
    var mem: String?

    @Option(help: ArgumentHelp("The gatelab executable the jobs run (default: this one, by absolute path).", valueName: "PATH"))
    var gatelab: String?

    @Flag(help: "Submit the jobs with sbatch (from PATH) after writing the scripts.")
    var submit = false

    func run() throws {
        let (name, directory, points) = try experimentFacts()
        var scripts = SlurmScripts(name: name, file: ReportCommand.absolute(file), outputDirectory: ReportCommand.absolute(directory),
                                   workingDirectory: ReportCommand.absolute(FileManager.default.currentDirectoryPath),
                                   gatelab: try executable(), shards: shards)
        scripts.quick = quick
        scripts.partition = partition
        scripts.time = time
        scripts.cpusPerTask = cpusPerTask
        scripts.memory = mem
        try scripts.validate()
        if shards > points {
            FileHandle.standardError.write(Data("warning: \(shards) shards for \(plural(points, "grid point")): \(shards - points) tasks will have nothing to do\n".utf8))
        }
        try scripts.write()
        guard submit else {
            print("""
                \(name)\(quick ? " (quick)" : ""): \(plural(points, "grid point")) in \(plural(shards, "shard")) (task K runs the points i with i mod \(shards) = K)
                wrote \(scripts.arrayPath)
                wrote \(scripts.mergePath)
                wrote \(scripts.submitPath)
                submit with: bash \(shellQuoted(scripts.submitPath))
                """)
            print(scripts.resubmission.joined(separator: "\n"))
            return
        }
        guard let sbatch = Files.executable(named: "sbatch") else {
            throw SubmitError(description: "--submit: sbatch not found on PATH (is this a Slurm login node?); the scripts are written, submit them with: bash \(shellQuoted(scripts.submitPath))")
        }
        let arrayJob = try self.sbatch(sbatch, ["--parsable", scripts.arrayPath])
        let mergeJob = try self.sbatch(sbatch, ["--parsable", "--dependency=afterok:\(arrayJob)", scripts.mergePath])
        print("submitted array job \(arrayJob) (\(plural(shards, "task"))) and merge job \(mergeJob) (afterok:\(arrayJob))")
        print(scripts.resubmission.joined(separator: "\n"))
    }

    /// The experiment's name, output folder and number of grid points (either kind).
    func experimentFacts() throws -> (String, String, Int) {
        let e = try experimentKinds.load(contentsOf: file)
        var options = RunOptions(version: GateLabVersion.current)
        options.quick = quick
        options.outputDirectory = output
        return (e.name, e.directory(options), e.pointCount(quick: quick))
    }

    /// `--gatelab` (absolute when it is a path), else this executable's absolute path.
    func executable() throws -> String {
        if let gatelab { return gatelab.contains("/") ? ReportCommand.absolute(gatelab) : gatelab }
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return ReportCommand.absolute(CommandLine.arguments[0])
    }

    /// Runs `sbatch arguments…` and returns the job id it printed.
    /// - Throws: `SubmitError` with sbatch's first error line when it fails.
    func sbatch(_ executable: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let stdout = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let command = "sbatch " + arguments.map(shellQuoted).joined(separator: " ")
        guard process.terminationStatus == 0 else {
            let first = stderr.split(whereSeparator: \.isNewline).first.map(String.init) ?? "no message"
            throw SubmitError(description: "\(command) failed (exit \(process.terminationStatus)): \(first)")
        }
        guard let id = SlurmScripts.jobID(fromParsable: stdout) else {
            throw SubmitError(description: "\(command) printed no job id: '\(stdout.trimmingCharacters(in: .whitespacesAndNewlines))'")
        }
        return id
    }
}

/// `sbatch` is missing or failed (exit code 2, one line).
struct SubmitError: Error, CustomStringConvertible {
    var description: String
}
