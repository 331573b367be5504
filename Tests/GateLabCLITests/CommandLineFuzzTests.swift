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

    /// Commands with the options whose values are generated (`#` a number, `@` a path).
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
    ]

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
        let count = min(FuzzMeasure.inputs(ci: 40), 5000)
        var outcomes = [Int32: Int]()
        var runs = 0
        let stop = FuzzMeasure.deadline()
        for k in 0..<count where stop.map({ Date() < $0 }) ?? true {
            runs += 1
            let template = Self.templates[k % Self.templates.count]
            let arguments = template.map { $0 == "#" ? rng.pick(Self.numbers) : $0 == "@" ? rng.pick(Self.paths) : $0 }
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
        }
        print("fuzz command line: \(runs) runs\(runs < count ? " (of \(count), stopped by GATELAB_FUZZ_SECONDS)" : ""), exit codes \(outcomes.sorted { $0.key < $1.key })")
        #expect(!(FileManager.default.fileExists(atPath: "/dev/full") && !FileManager.default.isWritableFile(atPath: "/dev/full")))
    }
}
