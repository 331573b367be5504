import Foundation
import FuzzSupport
import Testing

/// Command-line values, generated: every option that takes a number or a path gets extreme
/// values (Int's edges, negative, zero, huge, not a number, empty). Each run must end with
/// exit 0, 1 or 2 (2 with one `error:` line) within its time bound, never by a signal
/// (issue #17). `make fuzz` runs more with GATELAB_FUZZ_INPUTS.
@Suite("Command-line values, fuzzed (issue #17)")
struct CommandLineFuzzTests {
    static let numbers = ["-1", "0", "1", "2", "3", "9223372036854775807", "-9223372036854775808", "9223372036854775808", "100000000",
                          "1000000000000", "1e155", "1e308", "1e-16", "1e16", "nan", "inf", "-inf", "", "abc", "0x10", "2.5"]
    static let paths = ["", "/", ".", "/dev/full", "/dev/null", "/nonexistent/dir/x", "../../x", "/proc/self/mem"]

    /// Commands with the options whose values are generated (`#` a number, `@` a path, `$` a
    /// budget, `%` a preset, `~` a variant, `&` an output path).
    static let templates: [[String]] = [
        ["weights", "init", "--cell", "lstm", "--input", "#", "--hidden", "#", "--layers", "#", "--output", "/dev/null"],
        ["weights", "check", "@"],
        // The budget of updates stays small: a long budget is a legitimate long run, not a hang.
        ["train", "--task", "adding", "--cell", "lstm", "--length", "#", "--hidden", "#", "--updates", "3", "--batch", "#",
         "--eval-every", "#", "--eval-size", "#", "--lr", "#", "--profile-every", "0"],
        ["train", "--task", "copy", "--cell", "gru", "--length", "#", "--hidden", "2", "--updates", "2", "--batch", "2",
         "--eval-size", "2", "--forget-bias", "#", "--clip", "#", "--profile-every", "#"],
        ["bench", "--long-steps", "#", "--hidden", "#", "--memory-budget", "#"],
        ["gradcheck", "--cell", "lstm", "--hidden", "#", "--steps", "#", "--layers", "#", "--batch", "#"],
        ["probe", "--cell", "lstm", "--steps", "#", "--hidden", "#", "--seeds", "#", "--input-scale", "#"],
        ["probe", "--case", "@"],
        ["run", "Experiments/quickstart.toml", "--dry-run", "--output", "@"],
        ["merge", "Experiments/quickstart.toml", "--output", "@"],
        // The papers' presets with hostile options (`%` a preset, `~` a variant); the budget
        // small, or a trial is a legitimate long run.
        ["train", "--preset", "%", "--length", "#", "--budget", "$", "--seed", "#"],
        ["train", "--preset", "%", "--variant", "~", "--budget", "2", "--lr", "#", "--length", "#"],
        ["train", "--preset", "%", "--budget", "1", "--gradient", "full", "--network", "tanh-rnn", "--length", "#"],
        // Pairs (and triples) of outputs of one command (`&` an output in a scratch folder with
        // a file, a symbolic and a hard link to it, a folder, a missing folder).
        ["train", "--task", "adding", "--cell", "gru", "--length", "4", "--hidden", "2", "--updates", "2", "--batch", "2",
         "--eval-size", "2", "--profile-every", "0", "--save", "&", "--output", "&"],
        ["train", "--task", "adding", "--cell", "gru", "--length", "4", "--hidden", "2", "--updates", "2", "--batch", "2",
         "--eval-size", "2", "--profile-every", "0", "--save", "&", "--checkpoint", "&", "--output", "&"],
        ["weights", "init", "--cell", "gru", "--input", "2", "--hidden", "2", "--output", "&"],
        ["train", "--preset", "hochreiter1997-exp4", "--budget", "1", "--checkpoint", "&", "--output", "&"],
    ]

    static let presets = ["hochreiter1997-exp1", "hochreiter1997-exp2c", "hochreiter1997-exp3a", "hochreiter1997-exp4",
                          "hochreiter1997-exp5", "hochreiter1997-exp6a", "hochreiter1997-exp6b", "gers2000-cerg", "nope", "", "hochreiter1997-exp4:T=1000000"]
    /// Budgets that are refused or tiny (a large one is a legitimate long run, not a hang).
    static let budgets = ["-1", "0", "1", "2", "", "abc", "1e155", "9223372036854775808", "-9223372036854775808", "nan"]
    static let variants = ["T=100", "T=1000000000", "1-5", "forget-gates", "", "x", "T=-1", "T=0"]

    /// The scratch folder of the output-path pairs: `a.npz` (a file), `link.npz` (a symbolic
    /// link to it), `hard.npz` (a hard link to it), `folder/`, `dangling.npz` (a link to
    /// nothing); the paths given are these, other spellings of them, new names, a missing
    /// folder's file and devices.
    static func outputScratch() throws -> (folder: String, paths: [String]) {
        let folder = NSTemporaryDirectory() + "gatelab-fuzz-outputs-\(getpid())"
        try? FileManager.default.removeItem(atPath: folder)
        try FileManager.default.createDirectory(atPath: folder + "/folder", withIntermediateDirectories: true)
        try Data("not a model".utf8).write(to: URL(fileURLWithPath: folder + "/a.npz"))
        try FileManager.default.createSymbolicLink(atPath: folder + "/link.npz", withDestinationPath: folder + "/a.npz")
        try FileManager.default.linkItem(atPath: folder + "/a.npz", toPath: folder + "/hard.npz")
        try FileManager.default.createSymbolicLink(atPath: folder + "/dangling.npz", withDestinationPath: folder + "/none/x")
        let names = ["a.npz", "./a.npz", "link.npz", "hard.npz", "folder", "folder/../a.npz", "dangling.npz", "new.npz", "new.json",
                     "new.safetensors", "missing/x.npz", "run.ckpt"]
        return (folder, names.map { folder + "/" + $0 } + ["/dev/null", "/dev/full", ""])
    }

    /// Runs `arguments` with a wall-clock bound; nil when it had to be killed.
    static func run(_ arguments: [String], seconds: Double) throws -> ToolRun? {
        let binary = try #require(CommandLineTool.binary)
        let dir = try TemporaryDirectory()
        let out = dir.path("out"), err = dir.path("err")
        FileManager.default.createFile(atPath: out, contents: nil)
        FileManager.default.createFile(atPath: err, contents: nil)
        let p = Process()
        p.executableURL = binary
        p.arguments = arguments
        p.currentDirectoryURL = CommandLineTool.packageRoot
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: err))
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(20_000) }
        if p.isRunning { p.terminate(); p.waitUntilExit(); return nil }
        p.waitUntilExit()
        return ToolRun(status: p.terminationReason == .uncaughtSignal ? 128 + p.terminationStatus : p.terminationStatus,
                       stdout: (try? String(contentsOfFile: out, encoding: .utf8)) ?? "",
                       stderr: (try? String(contentsOfFile: err, encoding: .utf8)) ?? "")
    }

    @Test func extremeValuesEndCleanly() throws {
        var rng = SplitMix64(state: 41)
        let outputs = try Self.outputScratch()
        defer { try? FileManager.default.removeItem(atPath: outputs.folder) }
        let count = min(FuzzMeasure.inputs(ci: 40), 5000)
        var outcomes = [Int32: Int]()
        var runs = 0
        let stop = FuzzMeasure.deadline()
        for k in 0..<count where stop.map({ Date() < $0 }) ?? true {
            runs += 1
            let template = Self.templates[k % Self.templates.count]
            // A fresh scratch folder: an earlier run's atomic write may have parted a hard link.
            if template.contains("&") { _ = try Self.outputScratch() }
            let arguments = template.map { (slot: String) -> String in
                switch slot {
                case "#": return rng.pick(Self.numbers)
                case "@": return rng.pick(Self.paths)
                case "%": return rng.pick(Self.presets)
                case "~": return rng.pick(Self.variants)
                case "$": return rng.pick(Self.budgets)
                case "&": return rng.pick(outputs.paths)
                default: return slot
                }
            }
            // A valid small run finishes in seconds; anything slower is a missing bound.
            guard let run = try Self.run(arguments, seconds: 60) else {
                Issue.record("hang: gatelab \(arguments.joined(separator: " "))")
                continue
            }
            outcomes[run.status, default: 0] += 1
            #expect([0, 1, 2].contains(run.status), "gatelab \(arguments.joined(separator: " ")): \(run)")
            #expect(!run.stderr.contains("Fatal error"), "gatelab \(arguments.joined(separator: " ")): \(run)")
            if run.status == 2 {
                #expect(run.errorLines.last?.hasPrefix("error: ") == true, "gatelab \(arguments.joined(separator: " ")): \(run)")
            }
            // Two outputs that are one file (the same path, another spelling, a symbolic or a
            // hard link) are refused before any work, whatever the others are.
            let given = zip(template, arguments).filter { $0.0 == "&" }.map(\.1)
            let files = given.map { path -> String? in
                guard !path.isEmpty, !path.hasPrefix("/dev/") else { return nil }
                let name = (path as NSString).lastPathComponent
                return ["a.npz", "link.npz", "hard.npz"].contains(name) ? "a.npz" : (path as NSString).standardizingPath
            }.compactMap { $0 }
            if Set(files).count < files.count {
                #expect(run.status == 2, "gatelab \(arguments.joined(separator: " ")): \(run)")
            }
        }
        print("fuzz command line: \(runs) runs\(runs < count ? " (of \(count), stopped by GATELAB_FUZZ_SECONDS)" : ""), exit codes \(outcomes.sorted { $0.key < $1.key })")
        #expect(!(FileManager.default.fileExists(atPath: "/dev/full") && !FileManager.default.isWritableFile(atPath: "/dev/full")))
    }
}
