import Foundation
import Testing

/// What a new user hit: the run's summary after an input changed, a preset's record, progress
/// on a terminal only, per-point times of `--jobs` runs, and the README's and formats.md's
/// commands on a fresh clone.
@Suite("A new user's journeys")
struct NewUserTests {
    static let root = CommandLineTool.packageRoot

    /// The summary line counts the points computed again because their cell file changed.
    @Test func theSummarySaysHowManyWereRecomputedBecauseAnInputChanged() throws {
        let dir = try TemporaryDirectory()
        let mgu = try String(contentsOf: Self.root.appendingPathComponent("Cells/mgu.cell"), encoding: .utf8)
        _ = try dir.write("m.cell", mgu)
        let file = try dir.write("g.toml", "name = \"g\"\nkind = \"probe\"\n[defaults]\nsteps = 5\nhidden = 3\nseeds = 2\n[[grid]]\ncell = [\"rnn\", \"m.cell\"]\n[output]\nfigures = false\n")
        let first = try CommandLineTool.run(["run", file, "--output", dir.path("out"), "--jobs", "1"])
        #expect(first.status == 0 && first.lines.last?.hasPrefix("g: 4 grid points (4 computed, 0 reused)") == true, "\(first)")
        _ = try dir.write("m.cell", mgu + "# edited\n")
        let again = try CommandLineTool.run(["run", file, "--output", dir.path("out"), "--jobs", "1"])
        #expect(again.lines.last?.hasPrefix("g: 4 grid points (2 computed: 0 new, 2 input changed; 2 reused)") == true, "\(again)")
        #expect(again.stderr.contains("computed again: mgu_T5_H3_seed1: \(dir.path("m.cell")) changed since it was computed"), "\(again)")
    }

    /// A standalone preset trial's record has an id (as a grid names the trial) and a
    /// learning curve at a fixed spacing (budget / 100 sequences), like a grid's.
    @Test func aPresetRunHasAnIdAndALearningCurve() throws {
        let run = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--length", "30", "--budget", "500", "--seed", "2", "--json"])
        #expect(run.status == 0, "\(run)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(record["id"] as? String == "hochreiter1997-exp4_T100_b500_length30_seed2")
        #expect(record["record_format"] as? Int == 2)
        let curve = try #require(record["curve"] as? [[String: Any]])
        let sequences = curve.compactMap { $0["sequences"] as? Int }
        #expect(sequences.count == curve.count && !curve.isEmpty)
        #expect(sequences.dropLast().allSatisfy { $0 % 5 == 0 } && zip(sequences, sequences.dropFirst()).allSatisfy { $1 - $0 <= 5 }, "\(sequences)")
        #expect(sequences.last == record["sequences"] as? Int)
        #expect(curve.allSatisfy { ($0["count"] as? Int ?? 0) >= 1 && $0["training_mse"] is Double })
        // The same trial in a reproduction grid has the same id scheme (without the command line's extras).
        let plain = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--budget", "200", "--json"])
        #expect(plain.stdout.contains("\"id\":\"hochreiter1997-exp4_T100_b200_seed1\""), "\(plain)")
    }

    /// Progress lines are drawn on a terminal only (stderr a TTY, no --json): a pipe, a log or
    /// --json get none of it.
    @Test func progressIsShownOnATerminalOnly() throws {
        let piped = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--length", "30", "--budget", "300"])
        #expect(piped.status == 0 && !piped.stderr.contains("\u{1B}[K") && !piped.stdout.contains("\u{1B}[K"), "\(piped)")
        guard let binary = CommandLineTool.binary, FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { return }
        // `script` gives the command a terminal; its output is what the terminal showed.
        func onTerminal(_ arguments: String) throws -> String {
            let run = try CommandLineTool.runProcess(URL(fileURLWithPath: "/usr/bin/script"),
                                                     ["-qec", "\(binary.path) \(arguments)", "/dev/null"], in: Self.root)
            return run.stdout
        }
        let shown = try onTerminal("train --preset hochreiter1997-exp4 --length 30 --budget 300")
        #expect(shown.contains("\r\u{1B}[K") && shown.contains("sequences (budget)"), "\(shown)")
        #expect(shown.contains("not solved within 300 sequences") || shown.contains("solved after"))
        let json = try onTerminal("train --preset hochreiter1997-exp4 --length 30 --budget 300 --json")
        #expect(!json.contains("\u{1B}[K") && json.contains("\"curve\""), "\(json)")
        let probe = try onTerminal("probe --cell lstm --steps 50 --seeds 2")
        #expect(probe.contains("seeds") && probe.contains("\r\u{1B}[K"), "\(probe)")
    }

    /// With --jobs, each point's time is its own (the seconds its record keeps), not the gap
    /// between two completions.
    @Test func jobsShowEachPointsOwnTime() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.toml", """
            name = "t"
            kind = "train"
            [defaults]
            task = "adding"
            steps = [5, 8]
            hidden = 3
            batch = 4
            updates = 20
            eval_every = 10
            eval_size = 4
            profile_every = 0
            [[grid]]
            cell = ["rnn", "gru"]
            [output]
            figures = false
            """)
        let run = try CommandLineTool.run(["run", file, "--output", dir.path("out"), "--jobs", "2"])
        #expect(run.status == 0, "\(run)")
        let shown = Dictionary(uniqueKeysWithValues: run.errorLines.compactMap { line -> (String, String)? in
            let parts = line.split(separator: " ")
            guard parts.count >= 3, parts[0].hasPrefix("[") else { return nil }
            return (String(parts[1]), String(parts[2]))
        })
        #expect(shown.count == 4, "\(run)")
        for (id, seconds) in shown {
            let text = try String(contentsOfFile: dir.path("out/results/points/\(id).json"), encoding: .utf8)
            let record = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(seconds == String(format: "%.2f", record["seconds"] as? Double ?? -1), "\(id): \(run)")
        }
    }

    /// No --help text sends a user to a Swift file or names an issue.
    @Test func helpTextsNameNoSourceFileAndNoIssue() throws {
        let top = try CommandLineTool.run(["--help"])
        var texts = [top.stdout]
        let commands = ["demo", "cells", "show", "gradcheck", "verify-reference", "weights", "weights init", "weights check",
                        "weights convert", "bench", "probe", "run", "merge", "slurm", "train", "compare"]
        for c in commands { texts.append(try CommandLineTool.run(c.split(separator: " ").map(String.init) + ["--help"]).stdout) }
        for (c, text) in zip(["gatelab"] + commands, texts) {
            #expect(!text.isEmpty, "\(c) --help printed nothing")
            #expect(!text.contains(".swift"), "\(c) --help names a Swift file:\n\(text)")
            #expect(text.range(of: "issue", options: .caseInsensitive) == nil, "\(c) --help names an issue:\n\(text)")
            #expect(!text.contains("shared/") && !text.contains("/work/"), "\(c) --help names a path outside the repository")
        }
    }

    /// The commands of the README's and formats.md's shell blocks run on a fresh clone: the
    /// cheap ones are run (in a scratch folder beside the repository's files), the others'
    /// files must exist (or be made by an earlier command); the Python blocks' files must be
    /// committed. The README and Notes never point outside the repository.
    @Test func theDocumentsCommandsRunOnAFreshClone() throws {
        guard let binary = CommandLineTool.binary else { return }
        let scratch = try TemporaryDirectory()
        for folder in ["Cells", "Experiments", "Notes", "Tests", "Benchmarks"] {
            try FileManager.default.createSymbolicLink(atPath: scratch.path(folder), withDestinationPath: Self.root.appendingPathComponent(folder).path)
        }
        var made = Set<String>(), ran = 0
        for document in ["README.md", "Notes/formats.md"] {
            let text = try String(contentsOf: Self.root.appendingPathComponent(document), encoding: .utf8)
            #expect(!text.contains("shared/papers") && !text.contains("/work/"), "\(document) points outside the repository")
            var inBlock = false, language = ""
            for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
                if line.hasPrefix("```") { inBlock.toggle(); language = inBlock ? String(line.dropFirst(3)) : ""; continue }
                guard inBlock else { continue }
                if language == "python" {
                    for quoted in line.split(separator: "\"").enumerated().filter({ $0.offset % 2 == 1 }).map({ String($0.element) })
                    where quoted.hasPrefix("Notes/") && !quoted.contains("<") {
                        #expect(FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(quoted).path),
                                "\(document): the Python snippet reads \(quoted), which is not committed")
                    }
                    continue
                }
                var command = line.hasPrefix("$ ") ? String(line.dropFirst(2)) : line
                guard command.hasPrefix("gatelab ") else { continue }
                if let hash = command.range(of: "  #") ?? command.range(of: " # ") { command = String(command[..<hash.lowerBound]) }
                let words = command.split(separator: " ").map(String.init)
                let sub = words[1]
                // What the command writes (--output, --save, --checkpoint, convert's OUT) …
                for option in ["--output", "--save", "--checkpoint"] {
                    if let i = words.firstIndex(of: option), i + 1 < words.count { made.insert(words[i + 1]) }
                }
                if sub == "weights", words.count > 4, words[2] == "convert" { made.insert(words[4]) }
                // … and the files it reads, which must exist unless an earlier command made them.
                for w in words.dropFirst(2) where !w.hasPrefix("-") && !w.contains("*") && !w.contains("\"")
                    && (w.contains("/") || [".toml", ".cell", ".json", ".npz", ".safetensors"].contains(where: { w.hasSuffix($0) })) {
                    let exists = FileManager.default.fileExists(atPath: Self.root.appendingPathComponent(w).path)
                    #expect(exists || made.contains(w) || w == "typo.cell", "\(document): `\(command)` names \(w), which a fresh clone does not have")
                }
                var argv: [String]?
                switch sub {
                case "cells", "show", "weights", "verify-reference": argv = words.contains("typo.cell") ? nil : Array(words.dropFirst())
                case "run", "merge": argv = ["run", words[2], "--dry-run"] + (words.contains("--quick") ? ["--quick"] : [])
                default: argv = nil
                }
                guard let argv else { continue }
                let shell = ([binary.path] + argv).map { $0.contains("(") ? "'\($0)'" : $0 }.joined(separator: " ")
                let result = try CommandLineTool.runProcess(URL(fileURLWithPath: "/bin/sh"), ["-c", shell], in: scratch.url)
                #expect(result.status == 0, "\(document): `\(command)` failed on a fresh clone: \(result)")
                ran += 1
            }
        }
        #expect(ran >= 8, "the documents' cheap commands were run (\(ran))")
    }
}
