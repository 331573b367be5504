import Foundation
import Testing
import GateLabSupport

/// Issue #17: on any input, a one-line error and exit 2 (or the documented behaviour), no
/// crash, nothing replaced, truncated or mixed. One test per reproduction of the issue; the
/// rules themselves are in Notes/reliability.md.
@Suite("Hardening: output paths, bounded reading, refusals (issue #17)")
struct HardeningTests {
    static let weights = ["weights", "init", "--cell", "lstm", "--input", "3", "--hidden", "4", "--output"]
    static let train = ["train", "--task", "adding", "--cell", "lstm", "--hidden", "4", "--length", "6", "--updates", "4",
                        "--batch", "4", "--eval-every", "2", "--eval-size", "8", "--profile-every", "0"]

    func fileType(_ path: String) -> mode_t {
        var info = stat()
        return lstat(path, &info) == 0 ? info.st_mode & S_IFMT : 0
    }

    /// Item 1: a device node is written through, never replaced by a regular file; a write
    /// that fails (`/dev/full`'s ENOSPC) is an error, not "wrote". The nodes are made in a
    /// scratch folder (root only), so a regression cannot replace the real /dev/full.
    @Test func aDeviceIsWrittenThroughNeverReplaced() throws {
        let dir = try TemporaryDirectory()
        let full = dir.path("full"), null = dir.path("null")
        // Linux encodes small device numbers as major << 8 | minor (makedev is a C macro).
        guard mknod(full, S_IFCHR | 0o666, dev_t(1 << 8 | 7)) == 0, mknod(null, S_IFCHR | 0o666, dev_t(1 << 8 | 3)) == 0 else {
            return   // not root: the real /dev/full below still checks the error
        }
        expectOneLineError(try CommandLineTool.run(Self.weights + [full]), mentions: ["No space left"])
        #expect(fileType(full) == S_IFCHR)
        let ok = try CommandLineTool.run(Self.weights + [null])
        #expect(ok.status == 0, "\(ok)")
        #expect(fileType(null) == S_IFCHR)
        expectOneLineError(try CommandLineTool.run(Self.train + ["--output", full]))
        #expect(fileType(full) == S_IFCHR)
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", full]))
        #expect(fileType(full) == S_IFCHR)
    }

    @Test func devFullIsAnError() throws {
        expectOneLineError(try CommandLineTool.run(Self.weights + ["/dev/full"]), mentions: ["No space left"])
        #expect(fileType("/dev/full") == S_IFCHR)
    }

    /// Item 1: a symbolic link given as output stays a link; its target is written.
    @Test func aSymlinkKeepsBeingALinkAndItsTargetIsWritten() throws {
        let dir = try TemporaryDirectory()
        let target = try dir.write("target.json", "old\n"), link = dir.path("link.json")
        try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
        let run = try CommandLineTool.run(Self.weights + [link])
        #expect(run.status == 0, "\(run)")
        #expect(fileType(link) == S_IFLNK)
        #expect(try String(contentsOfFile: target, encoding: .utf8).contains("weight_ih_l0"))
        // A folder is refused.
        expectOneLineError(try CommandLineTool.run(Self.weights + [dir.url.path]), mentions: ["folder"])
    }

    /// Item 2: an empty output path is refused by every command that takes one; a file's
    /// `[output] dir` may not be absolute or climb out with `..`.
    @Test func emptyAndEscapingOutputPathsAreRefused() throws {
        expectOneLineError(try CommandLineTool.run(Self.weights + [""]), mentions: ["empty"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--output", ""]), mentions: ["empty"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", ""]), mentions: ["empty"])
        for command in ["run", "merge", "slurm"] {
            expectOneLineError(try CommandLineTool.run([command, "Experiments/quickstart.toml", "--output", ""]), mentions: ["empty"])
        }
        let dir = try TemporaryDirectory()
        for bad in ["../../x", "/tmp/x", "a/../../b"] {
            let file = try dir.write("e.toml", """
                name = "escape"
                kind = "probe"
                [defaults]
                hidden = 4
                steps = [10]
                seeds = 1
                [[grid]]
                cell = "rnn"
                [output]
                dir = "\(bad)"
                """)
            expectOneLineError(try CommandLineTool.run(["run", file, "--dry-run"]), mentions: ["output.dir"])
        }
    }

    /// Item 3: sizes in a header allocate nothing before the arrays are checked; a bad file
    /// does not stop the next one from being checked.
    @Test func headerSizesAreCheckedAgainstTheArraysFirst() throws {
        let dir = try TemporaryDirectory()
        let good = try #require(CommandLineTool.fixtures.first { $0.hasSuffix("lstm-small.json") })
        let text = try String(contentsOfFile: good, encoding: .utf8)
        for (key, value) in [("hidden_size", "100000000"), ("num_layers", "100000000"), ("hidden_size", "30000"), ("input_size", "99999999")] {
            let edited = text.replacingOccurrences(of: #"("\#(key)": ?)[0-9]+"#, with: "$1\(value)", options: .regularExpression)
            #expect(edited != text)
            let bad = try dir.write("bad.json", edited)
            for command in [["weights", "check", bad], ["probe", "--case", bad]] {
                let run = try CommandLineTool.run(command)
                #expect(run.status == 2, "\(command): \(run)")
                #expect(!run.stderr.contains("Fatal error"), "\(run)")
            }
            let both = try CommandLineTool.run(["verify-reference", bad, good])
            #expect(both.status == 2, "\(both)")
            #expect(both.stdout.contains("lstm-small") || both.stderr.contains("lstm-small"), "the next file is checked too: \(both)")
        }
    }

    /// Item 11: a negative value is the option's value, refused by the option's own check
    /// naming it ("Missing value for '--hidden'" before); options that would be ignored are
    /// refused naming them; an error names its path once.
    @Test func negativeValuesIgnoredOptionsAndPathsInMessages() throws {
        for (args, words) in [(["probe", "--cell", "rnn", "--steps", "10", "--hidden", "-1"], ["--hidden", "-1"]),
                              (["probe", "--cell", "rnn", "--steps", "-5"], ["--steps", "-5"]),
                              (Self.train + ["--hidden", "-1"], ["--hidden: must be a positive integer, got -1"]),
                              (Self.train + ["--layers", "-3"], ["--layers: must be a positive integer, got -3"]),
                              (["gradcheck", "--cell", "rnn", "--steps", "-2"], ["--steps", "-2"])] {
            let run = try CommandLineTool.run(args)
            expectOneLineError(run, mentions: words)
            #expect(!run.stderr.contains("Missing value"), "\(run)")
        }
        // A negative forget bias is a value like any other.
        let negative = try CommandLineTool.run(["probe", "--cell", "lstm", "--steps", "3", "--hidden", "2", "--forget-bias", "-1", "--json"])
        #expect(negative.status == 0 && negative.stdout.contains(#""forget_bias":"-1""#), "\(negative)")

        let reference = CommandLineTool.packageRoot.appendingPathComponent("Tests/CellsTests/Fixtures/reference/gru-small.json").path
        for (args, words) in [(["probe", "--case", reference, "--hidden", "4"], ["--hidden has no effect with --case"]),
                              (["probe", "--case", reference, "--seeds", "3", "--batch=2"], ["--batch, --seeds have no effect with --case"]),
                              (["probe", "--cell", "rnn", "--steps", "3", "--task-inputs"], ["--task-inputs applies only with --weights"]),
                              (Self.train + ["--budget", "5"], ["--budget has no effect without --preset"]),
                              (["train", "--preset", "hochreiter1997-exp1", "--hidden", "5"], ["--hidden has no effect with --preset"]),
                              (["bench", "--hidden", "4"], ["--hidden has no effect without --long-steps"]),
                              (["bench", "--long-steps", "10", "--repetitions", "3"], ["--repetitions has no effect with --long-steps"]),
                              (["run", "Experiments/quickstart.toml", "--dry-run", "--jobs", "2"], ["--jobs has no effect with --dry-run"])] {
            expectOneLineError(try CommandLineTool.run(args), mentions: words)
        }

        let dir = try TemporaryDirectory()
        let folder = dir.path("folder")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        for args in [Self.weights + [folder], Self.train + ["--output", folder], Self.train + ["--checkpoint", folder],
                     Self.train + ["--save", folder + "/x/a.npz"]] {
            let run = try CommandLineTool.run(args)
            expectOneLineError(run)
            let path = args.last!
            #expect(run.stderr.components(separatedBy: path).count == 2, "the path once: \(run.stderr)")
        }
    }

    /// A file output whose folder is missing (or is not a folder) is refused before any work,
    /// by the check the write itself would make (`Files.checkOutputFile`): before, `train --save
    /// out/missing/x.npz` trained to the end and only then failed to write.
    @Test func aFileOutputInAMissingFolderIsRefusedBeforeTraining() throws {
        let dir = try TemporaryDirectory()
        let missing = dir.path("missing/deeper")
        try Data("x".utf8).write(to: URL(fileURLWithPath: dir.path("plain")))
        for args in [Self.train + ["--save", missing + "/a.npz"], Self.train + ["--output", missing + "/r.json"],
                     Self.train + ["--checkpoint", missing + "/c.ckpt"], Self.weights + [missing + "/w.json"],
                     ["train", "--preset", "hochreiter1997-exp4", "--checkpoint", missing + "/p.ckpt"]] {
            let run = try CommandLineTool.run(args)
            // "does not exist" is the check's wording; a write after training would say it
            // cannot create a temporary file.
            expectOneLineError(run, mentions: ["does not exist"])
            #expect(run.stdout.isEmpty, "nothing computed: \(run)")
        }
        expectOneLineError(try CommandLineTool.run(Self.train + ["--save", dir.path("plain") + "/a.npz"]), mentions: ["is not a folder"])
        #expect(!FileManager.default.fileExists(atPath: dir.path("missing")))
    }

    /// `/dev/stdout` into a pipe (as the test runs it) is a link to `/proc/self/fd/1 ->
    /// pipe:[…]`, which realpath cannot resolve: it is written through, as the output rule
    /// says, not refused as a dangling link (it was, before the check above shared the rule).
    @Test func devStdoutIntoAPipeIsWrittenThrough() throws {
        let run = try CommandLineTool.run(Self.weights + ["/dev/stdout"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("\"weight_ih_l0\""), "\(run)")
        var info = stat()
        #expect(lstat("/dev/stdout", &info) == 0 && (info.st_mode & S_IFMT) == S_IFLNK, "/dev/stdout is still a link")
    }

    /// Item 4 and item 11 (resume).
    @Test func checkpointEveryZeroAndAMissingCheckpointAreRefused() throws {
        let dir = try TemporaryDirectory()
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", dir.path("c.ckpt"), "--checkpoint-every", "0"]),
                           mentions: ["--checkpoint-every"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", dir.path("missing.ckpt"), "--resume"]),
                           mentions: ["no checkpoint"])
    }

    /// Item 7: a network that cannot fit is refused with its size, before allocating.
    @Test func aHugeNetworkIsRefusedWithItsSize() throws {
        var args = Self.train
        args[args.firstIndex(of: "--hidden")! + 1] = "100000000"
        expectOneLineError(try CommandLineTool.run(args), mentions: ["memory budget"])
    }
}

/// Item 7 and item 10: every request's size is worked out before allocating or expanding.
@Suite("Hardening: bounded work (issue #17)")
struct BoundedWorkTests {
    @Test func benchAndGradcheckRefuseWhatCannotFit() throws {
        for args in [["bench", "--long-steps", "1000000000000"], ["bench", "--long-steps", "9223372036854775807"],
                     ["bench", "--long-steps", "10", "--hidden", "9223372036854775807"],
                     ["bench", "--long-steps", "10", "--memory-budget", "9223372036854775807"],
                     ["bench", "--repetitions", "1000000000"],
                     ["gradcheck", "--cell", "lstm", "--layers", "100000"]] {
            expectOneLineError(try CommandLineTool.run(args))
        }
    }

    @Test func aHugeGridIsRefusedBeforeItIsExpanded() throws {
        let dir = try TemporaryDirectory()
        let list = (1...1000).map(String.init).joined(separator: ", ")
        for kind in ["probe", "train"] {
            let extra = kind == "train" ? "task = \"adding\"\nupdates = 1\n" : ""
            let file = try dir.write("big-\(kind).toml", """
                name = "big"
                kind = "\(kind)"
                [defaults]
                \(extra)steps = [\(list)]
                hidden = [\(list)]
                seeds = 1000
                [[grid]]
                cell = "rnn"
                """)
            let run = try CommandLineTool.run(["run", file, "--dry-run"])
            expectOneLineError(run, mentions: ["1000 × 1000 × 1000", "points"])
        }
    }
}

/// Item 10: a bench child does not outlive its parent.
@Suite("Hardening: bench children (issue #17)")
struct BenchChildTests {
    @Test func anOrphanedChildExits() throws {
        let binary = try #require(CommandLineTool.binary)
        let dir = try TemporaryDirectory()
        let pidFile = dir.path("child.pid")
        // The shell starts the child in the background and exits after 0.5 s: the child is
        // re-parented mid-run (10000 repetitions would take minutes) and must stop.
        let script = "\"$0\" bench --child --only probe-lstm-h32-t1000 --repetitions 10000 >/dev/null 2>&1 & echo $! > \"$1\"; sleep 0.5"
        let run = try CommandLineTool.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", script, binary.path, pidFile],
                                                 in: CommandLineTool.packageRoot)
        #expect(run.status == 0, "\(run)")
        let pid = try #require(pid_t(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        var alive = true
        for _ in 0..<40 where alive {   // up to 4 s
            usleep(100_000)
            alive = kill(pid, 0) == 0
        }
        if alive { kill(pid, SIGKILL) }
        #expect(!alive, "the orphaned bench child \(pid) kept running")
    }
}

/// Item 8: two runs into one results folder both compute every point and draw every figure.
/// The two runs are made to overlap where they collided, on every attempt rather than when the
/// machine's timing happens to allow it: a stand-in `gnuplot` (first on PATH) draws with the
/// real one, and the first run to draw a figure returns only after the other run has drawn
/// the same figure. With one temporary name shared by the runs (the bug), exactly one of the
/// two renames finds the file, so the other run fails every time.
@Suite("Hardening: concurrent runs (issue #17)")
struct ConcurrentRunTests {
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/gnuplot"))) func twoRunsIntoOneFolderDrawEveryFigure() throws {
        let binary = try #require(CommandLineTool.binary)
        let dir = try TemporaryDirectory()
        let file = try dir.write("tiny.toml", """
            name = "tiny"
            kind = "probe"
            [defaults]
            hidden = 4
            steps = [10, 20]
            seeds = 2
            [[grid]]
            cell = ["rnn", "lstm"]
            """)
        let bin = dir.path("bin"), barrier = dir.path("barrier")
        try FileManager.default.createDirectory(atPath: bin, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: barrier, withIntermediateDirectories: true)
        // $3 is the figure's script (results/plots/NAME.gp): the same for both runs.
        let gnuplot = try dir.write("bin/gnuplot", """
            #!/bin/sh
            key=$(basename "$3")
            if mkdir "$BARRIER/$key.first" 2>/dev/null; then role=first; else role=second; fi
            /usr/bin/gnuplot "$@"; status=$?
            if [ $role = first ]; then
              n=0
              while [ ! -e "$BARRIER/$key.second" ] && [ $n -lt 1200 ]; do sleep 0.05; n=$((n+1)); done
              [ -e "$BARRIER/$key.second" ] || touch "$BARRIER/$key.timeout"
            else
              touch "$BARRIER/$key.second"
            fi
            exit $status

            """)
        chmod(gnuplot, 0o755)
        let out = dir.path("out")
        let script = "export PATH=\"$3:$PATH\" BARRIER=\"$4\"; \"$0\" run \"$1\" --output \"$2\" --jobs 1 > \"$2.a\" 2>&1 & "
            + "\"$0\" run \"$1\" --output \"$2\" --jobs 1 > \"$2.b\" 2>&1; wait"
        let run = try CommandLineTool.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", script, binary.path, file, out, bin, barrier],
                                                 in: CommandLineTool.packageRoot)
        #expect(run.status == 0, "\(run)")
        for log in ["a", "b"] {
            let text = try String(contentsOfFile: out + "." + log, encoding: .utf8)
            #expect(text.contains("report:") && !text.contains("not drawn") && !text.contains("gnuplot failed"), "\(text)")
        }
        // Every figure was drawn by both runs at once (none waited in vain).
        let marks = try FileManager.default.contentsOfDirectory(atPath: barrier)
        #expect(!marks.isEmpty && marks.filter { $0.hasSuffix(".first") }.count == marks.filter { $0.hasSuffix(".second") }.count, "\(marks.sorted())")
        #expect(!marks.contains { $0.hasSuffix(".timeout") }, "\(marks.sorted())")
    }
}

/// Found by CommandLineFuzzTests: a task length of Int.max overflowed in CopyMemory.steps, and
/// --eval-size Int.max overflowed in the held-out batch count.
@Suite("Hardening: training sizes (issue #17)")
struct TrainingSizeTests {
    @Test func extremeLengthsAndSizesAreRefused() throws {
        let base = ["train", "--task", "copy", "--cell", "gru", "--hidden", "2", "--updates", "2"]
        for extra in [["--length", "9223372036854775807"], ["--length", "5", "--eval-size", "9223372036854775807"],
                      ["--length", "5", "--batch", "9223372036854775807"]] {
            expectOneLineError(try CommandLineTool.run(base + extra))
        }
    }
}
