import Foundation
import Testing

/// The second hostile sweep's classes that live on the command line: two outputs on one
/// path, FIFOs given as inputs, options and keys that would have no effect, and `compare`
/// holding to what it says it compares. The promises are in Notes/reliability.md.
@Suite("Hardening: output collisions, non-regular inputs, ineffective options, compare")
struct OutputCollisionAndInputTypeTests {
    static let train = ["train", "--task", "adding", "--cell", "lstm", "--hidden", "4", "--length", "6", "--updates", "4",
                        "--batch", "4", "--eval-every", "2", "--eval-size", "8", "--profile-every", "0"]
    static let trainFile = """
        name = "t"
        kind = "train"
        [[grid]]
        task = "adding"
        cell = "gru"
        length = 6
        hidden = 4
        batch = 4
        updates = 2
        eval_every = 2
        eval_size = 4
        profile_every = 0
        seeds = [1, 2]
        """

    /// A FIFO in `dir`, with a writer that opens it after `seconds` and closes it: a reader
    /// that blocks on the FIFO (the bug) is released then, so a regression fails the test
    /// instead of hanging the suite.
    func fifo(_ dir: TemporaryDirectory, _ name: String, releasedAfter seconds: UInt32 = 20) throws -> String {
        let path = dir.path(name)
        try #require(mkfifo(path, 0o644) == 0)
        Thread.detachNewThread {
            sleep(seconds)
            let fd = open(path, O_WRONLY | O_NONBLOCK)
            if fd >= 0 { close(fd) }
        }
        return path
    }

    @Test func twoOutputsOnOneFileAreRefusedBeforeAnyWork() throws {
        let dir = try TemporaryDirectory()
        let x = dir.path("x.json"), model = dir.path("m.npz")
        for (arguments, words) in [
            (["--save", model, "--output", model], ["--save and --output"]),
            (["--checkpoint", x, "--output", x], ["--checkpoint and --output"]),
            (["--save", model, "--checkpoint", dir.path("./m.npz")], ["--save and --checkpoint", "one file"]),
        ] {
            expectOneLineError(try CommandLineTool.run(Self.train + arguments), mentions: words + ["name the same file"])
            #expect(!FileManager.default.fileExists(atPath: x) && !FileManager.default.fileExists(atPath: model))
        }
        // Through a link: an existing checkpoint and a link to it given as --output. The
        // checkpoint must come out unchanged.
        let checkpoint = try dir.write("c.json", "keep me\n")
        try FileManager.default.createSymbolicLink(atPath: dir.path("link.json"), withDestinationPath: checkpoint)
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", checkpoint, "--output", dir.path("link.json")]),
                           mentions: ["name the same file"])
        #expect(try String(contentsOfFile: checkpoint, encoding: .utf8) == "keep me\n")
        // A hard link is one file too.
        try #require(link(checkpoint, dir.path("hard.json")) == 0)
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", checkpoint, "--output", dir.path("hard.json")]),
                           mentions: ["name the same file"])
        // A preset's two outputs too.
        expectOneLineError(try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--checkpoint", x, "--output", x]),
                           mentions: ["--checkpoint and --output", "name the same file"])
        // Devices are written through and may be shared.
        let ok = try CommandLineTool.run(Self.train + ["--output", "/dev/null", "--save", dir.path("ok.npz"), "--json"])
        #expect(ok.status == 0, "\(ok)")
    }

    @Test func aFIFOGivenAsAnInputIsRefusedAtOnce() throws {
        let dir = try TemporaryDirectory()
        let start = Date()
        expectOneLineError(try CommandLineTool.run(["run", try fifo(dir, "e.toml")]), mentions: ["FIFO"])
        expectOneLineError(try CommandLineTool.run(["show", try fifo(dir, "c.cell")]), mentions: ["FIFO"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint", try fifo(dir, "k.json"), "--resume"]), mentions: ["FIFO"])
        expectOneLineError(try CommandLineTool.run(["verify-reference", try fifo(dir, "r.json")]), mentions: ["FIFO"])
        expectOneLineError(try CommandLineTool.run(["compare", try fifo(dir, "a.jsonl"), try fifo(dir, "b.jsonl")]), mentions: ["FIFO"])
        #expect(Date().timeIntervalSince(start) < 15, "a FIFO blocked a reader until its writer came")
    }

    @Test func optionsAndKeysWithoutEffectAreRefused() throws {
        expectOneLineError(try CommandLineTool.run(Self.train + ["--network", "tanh-rnn"]), mentions: ["--network", "without --preset"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--gradient", "full"]), mentions: ["--gradient", "without --preset"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--weight-update", "sequence-end"]), mentions: ["--weight-update"])
        expectOneLineError(try CommandLineTool.run(Self.train + ["--checkpoint-every", "2"]), mentions: ["--checkpoint-every", "without --checkpoint"])
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.toml", Self.trainFile + "\nclip = -1\n")
        expectOneLineError(try CommandLineTool.run(["run", file, "--output", dir.path("out")]), mentions: ["t.toml:14", "clip", "≥ 0"])
    }

    @Test func compareIgnoresOnlyWallTimeAndTheSealAndRefusesWhatItCannotTrust() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.toml", Self.trainFile)
        for out in ["a", "b"] {
            let run = try CommandLineTool.run(["run", file, "--output", dir.path(out), "--jobs", "1"])
            #expect(run.status == 0, "\(run)")
        }
        // Two runs of one grid: the same numbers in other wall times (so other seals).
        let same = try CommandLineTool.run(["compare", dir.path("a"), dir.path("b")])
        #expect(same.status == 0, "\(same)")
        #expect(same.stdout.contains("every field but checksum and seconds"), "\(same)")

        // A record file holding one id twice.
        let jsonl = try String(contentsOfFile: dir.path("a/results/results.jsonl"), encoding: .utf8)
        let first = String(jsonl.split(separator: "\n")[0])
        let twice = try dir.write("twice.jsonl", first + "\n" + first + "\n")
        expectOneLineError(try CommandLineTool.run(["compare", twice, dir.path("a/results/results.jsonl")]),
                           mentions: ["twice.jsonl:2", "second record with id"])

        // Invalid UTF-8 in a string: not equal to anything, an error naming the line.
        var bytes = Array((first + "\n").utf8)
        let at = try #require(bytes.firstIndex(of: UInt8(ascii: "u")))   // inside "update" or another key
        bytes[at] = 0xFF
        let bad = dir.path("bad.jsonl")
        try Data(bytes).write(to: URL(fileURLWithPath: bad))
        expectOneLineError(try CommandLineTool.run(["compare", bad, twice]), mentions: ["bad.jsonl:1", "not UTF-8"])

        // A point file whose value was edited: its seal no longer matches.
        let points = dir.path("b/results/points")
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: points).first { $0.hasSuffix(".json") })
        let text = try String(contentsOfFile: points + "/" + name, encoding: .utf8)
        try text.replacingOccurrences(of: "\"parameter_count\":", with: "\"parameter_count\":1").write(toFile: points + "/" + name, atomically: true, encoding: .utf8)
        expectOneLineError(try CommandLineTool.run(["compare", dir.path("a"), dir.path("b")]), mentions: [name, "checksum does not match"])
    }

    @Test func aPointFileStrippedOfItsSealIsNotReused() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.toml", Self.trainFile)
        let out = dir.path("out")
        #expect(try CommandLineTool.run(["run", file, "--output", out, "--jobs", "1"]).status == 0)
        let points = out + "/results/points"
        let name = try #require(try FileManager.default.contentsOfDirectory(atPath: points).sorted().first { $0.hasSuffix(".json") })
        let text = try String(contentsOfFile: points + "/" + name, encoding: .utf8)
        let range = try #require(text.range(of: #","checksum":""#))
        let stripped = String(text[..<range.lowerBound]) + "}\n"
        try stripped.write(toFile: points + "/" + name, atomically: true, encoding: .utf8)
        let run = try CommandLineTool.run(["run", file, "--output", out, "--jobs", "1"])
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("no checksum"), "\(run)")
        // merge refuses it as damaged (exit 1: the grid is not complete), writing nothing.
        let merge = try CommandLineTool.run(["merge", file, "--output", out])
        #expect(merge.status == 1, "\(merge)")
        #expect(merge.stderr.contains("1 damaged"), "\(merge)")
    }

    @Test func sizesFromOptionsAndFilesAreBoundedUnderOneBudget() throws {
        // A preset's length: 10^11 trapped in the random source, 10^9 allocated 16 GB.
        for length in ["100000000000", "1000000000", "9223372036854775807"] {
            expectOneLineError(try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--length", length]), mentions: ["at most 10000000"])
        }
        // A .cell file's parameters under the same budget in probe and weights init as in train.
        let dir = try TemporaryDirectory()
        let cell = try dir.write("wide.cell", """
            cell wide
            state h
            a = tanh(W_a x + U_a h + b_a)
            b = tanh(W_b x + U_b h + b_b)
            h' = a * b
            """)
        let huge = ["--input", "3", "--hidden", "20000"]
        expectOneLineError(try CommandLineTool.run(["weights", "init", "--cell", cell, "--output", dir.path("w.npz")] + huge),
                           mentions: ["wide.cell", "memory budget of 1024 MB"])
        #expect(!FileManager.default.fileExists(atPath: dir.path("w.npz")))
        expectOneLineError(try CommandLineTool.run(["probe", "--cell", cell, "--steps", "2"] + huge), mentions: ["memory budget of 1024 MB"])
        expectOneLineError(try CommandLineTool.run(Self.train.map { $0 == "lstm" ? cell : $0 } + ["--hidden", "20000"]),
                           mentions: ["memory budget"])

        // `weights check` on a file whose metadata holds a 1 MB key prints a bounded table.
        let model = dir.path("m.safetensors")
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "2", "--hidden", "3", "--output", model]).status == 0)
        var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: model)))
        let headerLength = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        var header = String(decoding: bytes[8..<(8 + headerLength)], as: UTF8.self)
        let longKey = String(repeating: "k", count: 1 << 20)
        let keys = (0..<3).map { "\"\(longKey)\($0)\":\"v\"," }.joined()
        try #require(header.contains(#""__metadata__":{"#))
        // An edit on purpose: the content checksum goes with it (else the file is refused as edited).
        let checksum = try #require(header.range(of: #""checksum":"fnv1a64:[0-9a-f]{16}","#, options: .regularExpression))
        header.removeSubrange(checksum)
        header = header.replacingOccurrences(of: #""__metadata__":{"#, with: #""__metadata__":{"# + keys)
        while (8 + header.utf8.count) % 8 != 0 { header += " " }
        let count = UInt64(header.utf8.count)
        bytes = (0..<8).map { UInt8((count >> (8 * UInt64($0))) & 0xFF) } + Array(header.utf8) + bytes[(8 + headerLength)...]
        try Data(bytes).write(to: URL(fileURLWithPath: model))
        let check = try CommandLineTool.run(["weights", "check", model])
        #expect(check.status == 0, "\(check.stderr.prefix(300))")
        #expect(check.stdout.utf8.count < 10_000, "weights check printed \(check.stdout.utf8.count) bytes")
    }

    @Test func resumeMessagesNameTheRealCause() throws {
        let dir = try TemporaryDirectory()
        let preset = ["train", "--preset", "hochreiter1997-exp4", "--checkpoint", dir.path("trial.json"), "--checkpoint-every", "2"]
        let first = try CommandLineTool.run(preset + ["--budget", "4"])
        #expect(first.status == 0 || first.status == 1, "\(first)")
        // The same trial resumed with another budget: the budget is named, not "another trial".
        expectOneLineError(try CommandLineTool.run(preset + ["--budget", "6", "--resume"]),
                           mentions: ["is this trial", "budget: the checkpoint has 4, this command 6"])
        // A cell training's checkpoint given to a preset's resume: said to be one, not "no checksum".
        let task = dir.path("task.json")
        #expect(try CommandLineTool.run(Self.train + ["--checkpoint", task]).status == 0)
        expectOneLineError(try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--checkpoint", task, "--resume"]),
                           mentions: ["checkpoint of a cell's training"])
    }
}
