import Foundation
import GateLabSupport

/// The scripts `gatelab slurm` writes into `<output>/slurm/`: a job array whose task K runs
/// shard K/N of the grid (`array.sbatch`), a job that merges the shards into the report
/// (`merge.sbatch`), and `submit.sh`, which submits both, the merge with
/// `--dependency=afterok` on the array.
///
/// Every path in them is absolute (a cluster job starts in another directory, often on
/// another host), and the same settings give the same bytes.
public struct SlurmScripts: Equatable {
    /// The experiment's name (the jobs are `gatelab-<name>` and `gatelab-<name>-merge`).
    public var name: String
    /// The experiment file, absolute.
    public var file: String
    /// The output folder, absolute.
    public var outputDirectory: String
    /// The directory the jobs `cd` to (where `gatelab slurm` ran), absolute, so that relative
    /// paths inside the file (cell files) mean what they meant there.
    public var workingDirectory: String
    /// The `gatelab` executable the jobs run.
    public var gatelab: String
    /// N, the array's size.
    public var shards: Int
    /// Run the `--quick` grid.
    public var quick = false
    /// `--partition`, if given.
    public var partition: String?
    /// `--time` limit per task, if given.
    public var time: String?
    /// `--cpus-per-task` (also `OPENBLAS_NUM_THREADS`, `GATELAB_THREADS` and the task's
    /// `--jobs`: a task computes that many points at once).
    public var cpusPerTask = 1
    /// `--mem`, if given.
    public var memory: String?

    /// Creates the settings; see the properties.
    public init(name: String, file: String, outputDirectory: String, workingDirectory: String, gatelab: String, shards: Int) {
        self.name = name
        self.file = file
        self.outputDirectory = outputDirectory
        self.workingDirectory = workingDirectory
        self.gatelab = gatelab
        self.shards = shards
    }

    /// `<output>/slurm`.
    public var folder: String { outputDirectory + "/slurm" }
    /// `<output>/slurm/array.sbatch`.
    public var arrayPath: String { folder + "/array.sbatch" }
    /// `<output>/slurm/merge.sbatch`.
    public var mergePath: String { folder + "/merge.sbatch" }
    /// `<output>/slurm/submit.sh`.
    public var submitPath: String { folder + "/submit.sh" }
    /// `<output>/slurm/logs` (Slurm does not create the folder of `--output`).
    public var logsFolder: String { folder + "/logs" }

    /// Checks what goes into `#SBATCH` lines, which no shell quotes: the output folder and the
    /// settings must not contain blanks or quotes.
    /// - Throws: `ExperimentError.invalid` naming the value.
    public func validate() throws {
        func require(_ ok: Bool, _ message: String) throws { if !ok { throw ExperimentError.invalid(message) } }
        func plain(_ s: String) -> Bool { !s.isEmpty && s.allSatisfy { !$0.isWhitespace && !"'\"\\$`;&|<>()*?#".contains($0) } }
        try require(shards >= 1, "--shards must be at least 1, got \(shards)")
        try require(cpusPerTask >= 1, "--cpus-per-task must be at least 1, got \(cpusPerTask)")
        try require(plain(outputDirectory), "output folder '\(outputDirectory)': Slurm's #SBATCH --output cannot take blanks, quotes or shell characters; choose another --output")
        if let partition {
            try require(!partition.isEmpty && partition.allSatisfy { $0.isLetter || $0.isNumber || "-_.,".contains($0) },
                        "--partition '\(partition)': expected a partition name (letters, digits, - _ . ,)")
        }
        if let time {
            try require(time.range(of: #"^([0-9]+-)?[0-9]+(:[0-9]+){0,2}$"#, options: .regularExpression) != nil,
                        "--time '\(time)': expected Slurm's form, e.g. 02:00:00, 90, 1-12:00:00")
        }
        if let memory {
            try require(memory.range(of: #"^[0-9]+[KMGT]?$"#, options: .regularExpression) != nil,
                        "--mem '\(memory)': expected a size such as 4G or 500M")
        }
    }

    /// The `#SBATCH` lines shared by both jobs, then `jobName` and `log`.
    private func header(jobName: String, log: String, array: Bool) -> String {
        var lines = ["#!/bin/bash", "#SBATCH --job-name=\(jobName)"]
        if array { lines.append("#SBATCH --array=0-\(shards - 1)") }
        lines.append("#SBATCH --output=\(log)")
        if let partition { lines.append("#SBATCH --partition=\(partition)") }
        if let time { lines.append("#SBATCH --time=\(time)") }
        lines.append("#SBATCH --cpus-per-task=\(cpusPerTask)")
        if let memory { lines.append("#SBATCH --mem=\(memory)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The grid's command-line arguments after the verb: `FILE [--quick] --output DIR`.
    private var gridArguments: String {
        shellQuoted(file) + (quick ? " --quick" : "") + " --output " + shellQuoted(outputDirectory)
    }

    /// `gatelab merge FILE [--quick] --output DIR`, as a user types it.
    public var mergeCommand: String { shellQuoted(gatelab) + " merge " + gridArguments }

    /// `sbatch --array=K <output>/slurm/array.sbatch`, the resubmission of task K.
    public func resubmitCommand(task: String) -> String { "sbatch --array=\(task) \(shellQuoted(arrayPath))" }

    /// Lines on resubmitting a failed or preempted task (comments in the scripts, and printed).
    public var resubmission: [String] {
        ["A failed or preempted task K is resubmitted alone; its finished points are skipped:",
         "  \(resubmitCommand(task: "K"))",
         "The first merge job then never starts (afterok of the old array cannot be met): once the",
         "resubmitted task has finished, merge by hand,",
         "  \(mergeCommand)",
         "or submit the merge after it: sbatch --dependency=afterok:NEW_JOB_ID \(shellQuoted(mergePath))"]
    }

    /// `array.sbatch`.
    public var arrayScript: String {
        header(jobName: "gatelab-\(name)", log: logsFolder + "/%A_%a.out", array: true) + """
            # Task K of this array runs shard K/\(shards) of the grid of \(file):
            # the grid points whose index i in the file's grid order has i mod \(shards) = K.
            # Each point is written to its own file under \(outputDirectory)/results, atomically;
            # merge.sbatch writes the report when every task has succeeded.
            #
            \(resubmission.map { "# " + $0 }.joined(separator: "\n"))
            set -euo pipefail
            export OPENBLAS_NUM_THREADS=\(cpusPerTask) GATELAB_THREADS=\(cpusPerTask)
            cd \(shellQuoted(workingDirectory))
            exec \(shellQuoted(gatelab)) run \(gridArguments) --jobs \(cpusPerTask) --shard "$SLURM_ARRAY_TASK_ID/\(shards)"

            """
    }

    /// `merge.sbatch`.
    public var mergeScript: String {
        header(jobName: "gatelab-\(name)-merge", log: logsFolder + "/merge-%j.out", array: false) + """
            # Merges the \(shards) shards' results into the summaries, figures and report.md, computing nothing;
            # fails (exit 1, naming them) when points are missing, duplicated or stale.
            set -euo pipefail
            export OPENBLAS_NUM_THREADS=\(cpusPerTask) GATELAB_THREADS=\(cpusPerTask)
            cd \(shellQuoted(workingDirectory))
            exec \(shellQuoted(gatelab)) merge \(gridArguments)

            """
    }

    /// `submit.sh`.
    public var submitScript: String {
        """
        #!/bin/bash
        # Submits the job array of \(shards) shards, then the merge job, which starts once every task succeeded.
        #
        \(resubmission.map { "# " + $0 }.joined(separator: "\n"))
        set -euo pipefail
        ARRAY_JOB_ID=$(sbatch --parsable \(shellQuoted(arrayPath)))
        ARRAY_JOB_ID=${ARRAY_JOB_ID%%;*}
        MERGE_JOB_ID=$(sbatch --parsable --dependency=afterok:$ARRAY_JOB_ID \(shellQuoted(mergePath)))
        MERGE_JOB_ID=${MERGE_JOB_ID%%;*}
        echo "submitted array job $ARRAY_JOB_ID (\(shards) tasks) and merge job $MERGE_JOB_ID (afterok:$ARRAY_JOB_ID)"

        """
    }

    /// Writes the three scripts (executable) and creates the logs folder.
    public func write() throws {
        try validate()
        try Files.makeDirectory(logsFolder)
        for (text, path) in [(arrayScript, arrayPath), (mergeScript, mergePath), (submitScript, submitPath)] {
            try Files.write(text, to: path)
            chmod(path, 0o755)
        }
    }

    /// The job id in `sbatch --parsable`'s output (`123` or `123;cluster`), nil if none.
    public static func jobID(fromParsable output: String) -> String? {
        let first = output.split(whereSeparator: \.isNewline).first.map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let id = first.split(separator: ";", omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return !id.isEmpty && id.allSatisfy(\.isNumber) ? id : nil
    }
}

/// `s` as one shell word: unchanged when it has only safe characters, else single-quoted.
public func shellQuoted(_ s: String) -> String {
    if !s.isEmpty, s.allSatisfy({ $0.isLetter || $0.isNumber || "_./:=@%+,-".contains($0) }) { return s }
    return "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
