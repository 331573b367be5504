import Foundation
import Testing

/// Runs `gatelab arguments…` in `directory` with `environment` added to (or, for `PATH`,
/// replacing) this process's environment, without any SLURM_* variable of its own.
private func gatelab(_ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> ToolRun {
    guard let binary = CommandLineTool.binary else {
        Issue.record("gatelab binary not found")
        throw CancellationError()
    }
    return try run(binary.path, arguments, in: directory, environment: environment)
}

/// Runs `executable arguments…` in `directory`; stdout and stderr through files.
private func run(_ executable: String, _ arguments: [String], in directory: String, environment: [String: String] = [:]) throws -> ToolRun {
    var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("SLURM_") }
    env.merge(environment) { $1 }
    return try CommandLineTool.runProcess(URL(fileURLWithPath: executable), arguments, in: URL(fileURLWithPath: directory), environment: env)
}

/// Every regular file under `root` (relative path → bytes), except those under `except`.
private func files(_ root: String, except: String? = nil) -> [String: Data] {
    var out = [String: Data]()
    let fm = FileManager.default
    for case let rel as String in fm.enumerator(atPath: root) ?? FileManager.DirectoryEnumerator() {
        if let except, rel.hasPrefix(except) { continue }
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: root + "/" + rel, isDirectory: &isDirectory), !isDirectory.boolValue {
            out[rel] = fm.contents(atPath: root + "/" + rel)
        }
    }
    return out
}

/// A fake `sbatch` in its own folder: appends its arguments to `calls`, prints job ids 101
/// and `102;cluster` (as `--parsable` does on a federation), or fails when told to.
private func fakeSbatch(in dir: TemporaryDirectory, failing: Bool = false) throws -> String {
    let bin = dir.path("bin")
    try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
    let script = failing ? "#!/bin/sh\necho 'sbatch: error: invalid partition specified: nope' >&2\nexit 1\n" : """
        #!/bin/sh
        echo "$*" >> \(dir.path("calls"))
        n=$(wc -l < \(dir.path("calls")))
        if [ "$n" -eq 1 ]; then echo 101; else echo "10$n;cluster"; fi

        """
    try script.write(toFile: bin + "/sbatch", atomically: true, encoding: .utf8)
    chmod(bin + "/sbatch", 0o755)
    return bin
}

@Suite("gatelab run --shard, gatelab merge and gatelab slurm, as a user runs them")
struct SlurmCommandTests {
    static let grid = """
        name = "cli-shards"
        kind = "probe"
        [defaults]
        hidden = 4
        steps = [20, 50]
        seeds = 2
        [[grid]]
        cell = ["rnn", "lstm"]
        """

    /// A folder holding `cli-shards.toml`, its path resolved (as the tool sees its working directory).
    func workspace() throws -> (TemporaryDirectory, String) {
        let dir = try TemporaryDirectory()
        _ = try dir.write("cli-shards.toml", Self.grid)
        return (dir, dir.url.resolvingSymlinksInPath().path)
    }

    @Test func theGeneratedScriptsRunTheShardsAndTheMergeIntoTheBytesOfALocalRun() throws {
        let (dir, root) = try workspace()
        let local = try gatelab(["run", "cli-shards.toml"], in: root)
        #expect(local.status == 0, "\(local)")
        let expected = files(root + "/Notes/cli-shards")
        #expect(expected.keys.contains("report.md") && expected.count > 8)
        try FileManager.default.moveItem(atPath: root + "/Notes/cli-shards", toPath: dir.path("reference"))

        let slurm = try gatelab(["slurm", "cli-shards.toml", "--shards", "3", "--partition", "debug", "--time", "00:05:00",
                                 "--cpus-per-task", "2", "--mem", "1G"], in: root)
        #expect(slurm.status == 0, "\(slurm)")
        let folder = root + "/Notes/cli-shards/slurm"
        #expect(slurm.lines.contains("wrote \(folder)/array.sbatch") && slurm.lines.contains("submit with: bash \(folder)/submit.sh"), "\(slurm)")
        #expect(slurm.stdout.contains("sbatch --array=K \(folder)/array.sbatch"), "the resubmission is explained: \(slurm)")
        let array = try String(contentsOfFile: folder + "/array.sbatch", encoding: .utf8)
        let lines = array.split(separator: "\n").map(String.init)
        for line in ["#SBATCH --job-name=gatelab-cli-shards", "#SBATCH --array=0-2", "#SBATCH --output=\(folder)/logs/%A_%a.out",
                     "#SBATCH --partition=debug", "#SBATCH --time=00:05:00", "#SBATCH --cpus-per-task=2", "#SBATCH --mem=1G",
                     "set -euo pipefail", "export OPENBLAS_NUM_THREADS=2 GATELAB_THREADS=2", "cd \(root)"] {
            #expect(lines.contains(line), "array.sbatch lacks '\(line)':\n\(array)")
        }
        #expect(lines[0] == "#!/bin/bash")
        let exec = try #require(lines.last { $0.hasPrefix("exec ") })
        #expect(exec.hasSuffix(" run \(root)/cli-shards.toml --output \(root)/Notes/cli-shards --jobs 2 --shard \"$SLURM_ARRAY_TASK_ID/3\""), "\(exec)")
        let gatelabPath = String(exec.dropFirst(5).prefix { $0 != " " })
        #expect(gatelabPath.hasPrefix("/") && FileManager.default.isExecutableFile(atPath: gatelabPath))
        let merge = try String(contentsOfFile: folder + "/merge.sbatch", encoding: .utf8)
        #expect(!merge.contains("--array") && merge.contains("#SBATCH --output=\(folder)/logs/merge-%j.out"))
        #expect(merge.contains("\nexec \(gatelabPath) merge \(root)/cli-shards.toml --output \(root)/Notes/cli-shards\n"), "\(merge)")
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: folder + "/logs", isDirectory: &isDirectory) && isDirectory.boolValue)
        let submit = try String(contentsOfFile: folder + "/submit.sh", encoding: .utf8)
        #expect(submit.contains("ARRAY_JOB_ID=$(sbatch --parsable \(folder)/array.sbatch)"))
        #expect(submit.contains("sbatch --parsable --dependency=afterok:$ARRAY_JOB_ID \(folder)/merge.sbatch"))
        #expect(FileManager.default.isExecutableFile(atPath: folder + "/submit.sh"))
        // The same arguments write the same bytes.
        let before = files(folder)
        #expect(try gatelab(["slurm", "cli-shards.toml", "--shards", "3", "--partition", "debug", "--time", "00:05:00",
                             "--cpus-per-task", "2", "--mem", "1G"], in: root).status == 0)
        #expect(files(folder) == before)

        // What Slurm would do: each task with its SLURM_ARRAY_TASK_ID (started from elsewhere),
        // then the merge job.
        for k in [1, 0, 2] {
            let task = try run("/bin/bash", [folder + "/array.sbatch"], in: "/", environment: ["SLURM_ARRAY_TASK_ID": "\(k)"])
            #expect(task.status == 0 && task.lines.last?.hasPrefix("cli-shards shard \(k)/3: ") == true, "\(task)")
        }
        #expect(!FileManager.default.fileExists(atPath: root + "/Notes/cli-shards/report.md"))
        let merged = try run("/bin/bash", [folder + "/merge.sbatch"], in: "/")
        #expect(merged.status == 0 && merged.stdout == "cli-shards: merged 8 of 8 grid points; report: \(root)/Notes/cli-shards/report.md\n", "\(merged)")
        let got = files(root + "/Notes/cli-shards", except: "slurm/")
        #expect(Set(got.keys) == Set(expected.keys))
        #expect(got.keys.filter { got[$0] != expected[$0] }.sorted() == [], "merged Slurm shards differ from the local run")
    }

    @Test func submitRunsSbatchTwiceTheMergeDependingOnTheArray() throws {
        let (dir, root) = try workspace()
        let bin = try fakeSbatch(in: dir)
        let path = bin + ":/usr/bin:/bin"
        let r = try gatelab(["slurm", "cli-shards.toml", "--shards", "2", "--output", "out", "--submit"], in: root, environment: ["PATH": path])
        #expect(r.status == 0, "\(r)")
        #expect(r.lines.first == "submitted array job 101 (2 tasks) and merge job 102 (afterok:101)", "\(r)")
        let calls = try String(contentsOfFile: dir.path("calls"), encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(calls == ["--parsable \(root)/out/slurm/array.sbatch", "--parsable --dependency=afterok:101 \(root)/out/slurm/merge.sbatch"])
        // submit.sh does the same.
        try FileManager.default.removeItem(atPath: dir.path("calls"))
        let script = try run("/bin/bash", [root + "/out/slurm/submit.sh"], in: "/", environment: ["PATH": path])
        #expect(script.status == 0 && script.stdout == "submitted array job 101 (2 tasks) and merge job 102 (afterok:101)\n", "\(script)")

        // No sbatch, or a failing one: one line, exit 2.
        expectOneLineError(try gatelab(["slurm", "cli-shards.toml", "--submit"], in: root, environment: ["PATH": dir.path("nowhere")]),
                           mentions: ["sbatch not found on PATH"])
        let failing = try TemporaryDirectory()
        let badBin = try fakeSbatch(in: failing, failing: true)
        expectOneLineError(try gatelab(["slurm", "cli-shards.toml", "--submit"], in: root, environment: ["PATH": badBin + ":/usr/bin:/bin"]),
                           mentions: ["invalid partition specified"])
    }

    @Test func shardsFromTheEnvironmentThenMergeNamesWhatIsMissing() throws {
        let (dir, root) = try workspace()
        defer { withExtendedLifetime(dir) {} }
        let first = try gatelab(["run", "cli-shards.toml", "--output", "out"], in: root,
                                environment: ["SLURM_ARRAY_TASK_ID": "5", "SLURM_ARRAY_TASK_MIN": "4", "SLURM_ARRAY_TASK_COUNT": "3"])
        #expect(first.status == 0, "\(first)")
        #expect(first.stdout == "cli-shards shard 1/3: 3 grid points (3 computed, 0 reused) of 8; merge with: gatelab merge cli-shards.toml --output out\n", "\(first)")
        #expect(first.stderr.contains("shard 1/3 from the Slurm job array (SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_MIN=4, SLURM_ARRAY_TASK_COUNT=3)"))

        let refused = try gatelab(["merge", "cli-shards.toml", "--output", "out"], in: root)
        #expect(refused.status == 1, "\(refused)")
        #expect(refused.errorLines.first == "error: cli-shards: cannot merge: 5 missing (of 8 grid points); nothing written (finish or resubmit the shards, or merge with --partial)")
        #expect(refused.errorLines.count == 6 && refused.errorLines.dropFirst().allSatisfy { $0.hasPrefix("  missing: ") })
        #expect(!FileManager.default.fileExists(atPath: root + "/out/report.md"))

        let partial = try gatelab(["merge", "cli-shards.toml", "--output", "out", "--partial"], in: root)
        #expect(partial.status == 0 && partial.stdout == "cli-shards: merged 3 of 8 grid points (partial: 5 missing); report: out/report.md\n", "\(partial)")
        #expect(try String(contentsOfFile: root + "/out/report.md", encoding: .utf8).contains("> **Incomplete grid:** this report covers 3 of 8 grid points"))

        for k in [0, 2] {
            #expect(try gatelab(["run", "cli-shards.toml", "--output", "out", "--shard", "\(k)/3"], in: root).status == 0)
        }
        let done = try gatelab(["merge", "cli-shards.toml", "--output", "out"], in: root)
        #expect(done.status == 0 && done.stdout == "cli-shards: merged 8 of 8 grid points; report: out/report.md\n" && done.stderr.isEmpty, "\(done)")
        // --shard 0/1, or an array of one task, is the whole grid with its report.
        let whole = try gatelab(["run", "cli-shards.toml", "--output", "out", "--shard", "0/1"], in: root)
        #expect(whole.stdout == "cli-shards: 8 grid points (0 computed, 8 reused); report: out/report.md\n", "\(whole)")
    }

    @Test(arguments: [
        (["run", "cli-shards.toml", "--shard", "4/4"], [:], "--shard '4/4'"),
        (["run", "cli-shards.toml", "--shard", "x"], [:], "--shard 'x'"),
        (["run", "cli-shards.toml", "--shard", "0/0"], [:], "at least 1"),
        (["run", "cli-shards.toml", "--shard=-1/2"], [:], "--shard '-1/2'"),
        (["run", "cli-shards.toml"], ["SLURM_ARRAY_TASK_ID": "3"], "SLURM_ARRAY_TASK_COUNT"),
        (["run", "cli-shards.toml"], ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"], "is not a shard of"),
        (["merge", "/nonexistent.toml"], [:], "/nonexistent.toml: no such file"),
        (["slurm", "cli-shards.toml", "--shards", "0"], [:], "--shards must be at least 1"),
        (["slurm", "cli-shards.toml", "--cpus-per-task", "0"], [:], "--cpus-per-task"),
        (["slurm", "cli-shards.toml", "--time", "2h"], [:], "--time '2h'"),
        (["slurm", "cli-shards.toml", "--mem", "lots"], [:], "--mem 'lots'"),
        (["slurm", "cli-shards.toml", "--partition", "a b"], [:], "--partition 'a b'"),
        (["slurm", "cli-shards.toml", "--output", "with space"], [:], "blanks"),
    ] as [([String], [String: String], String)])
    func badInputIsOneLineAndExitTwo(_ arguments: [String], _ environment: [String: String], _ message: String) throws {
        let (dir, root) = try workspace()
        expectOneLineError(try gatelab(arguments, in: root, environment: environment), mentions: [message])
        #expect(!FileManager.default.fileExists(atPath: root + "/Notes"), "nothing is written")
        withExtendedLifetime(dir) {}
    }
}
