import Foundation
import Testing

@Suite("gatelab train --preset")
struct PresetTrainingTests {
    /// One Exp. 1 trial of three sequences: the record's fields in snake_case, the same record
    /// through a checkpoint every sequence, and the errors of a wrong preset or option.
    @Test func oneTrialPrintsItsRecordAndCheckpoints() throws {
        let arguments = ["train", "--preset", "hochreiter1997-exp1:1-5", "--budget", "3", "--seed", "4", "--json"]
        let run = try CommandLineTool.run(arguments)
        #expect(run.status == 0, "\(run)")
        for key in ["\"solved\":false", "\"sequences\":3", "\"wrong\":", "\"test_mse\":", "\"variant\":\"1-5\"", "\"seed\":4"] {
            #expect(run.stdout.contains(key), "\(key): \(run)")
        }
        func withoutSeconds(_ s: String) -> String { s.replacingOccurrences(of: "\"seconds\":[0-9.e-]+", with: "", options: .regularExpression) }
        let path = NSTemporaryDirectory() + "gatelab-preset-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let saved = try CommandLineTool.run(arguments + ["--checkpoint", path, "--checkpoint-every", "1"])
        #expect(saved.status == 0 && FileManager.default.fileExists(atPath: path), "\(saved)")
        #expect(withoutSeconds(saved.stdout) == withoutSeconds(run.stdout))
        let resumed = try CommandLineTool.run(arguments + ["--checkpoint", path, "--resume"])
        #expect(withoutSeconds(resumed.stdout) == withoutSeconds(run.stdout), "\(resumed)")
        // The text form names the preset and ends with the verdict.
        let text = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--length", "30", "--budget", "2", "--lr", "0.25"])
        #expect(text.status == 0, "\(text)")
        #expect(text.lines.first?.hasPrefix("train hochreiter1997-exp4 T=100, length 30, seed 1: 2 blocks × 2 cells, 93 weights, truncated RTRL, α = 0.25") == true, "\(text)")
        #expect(text.lines.last?.hasPrefix("not solved within 2 sequences") == true, "\(text)")
    }

    @Test func badPresetOptionsAreRefused() throws {
        let unknown = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp9"])
        #expect(unknown.status == 2 && unknown.stderr.contains("unknown preset 'hochreiter1997-exp9'"), "\(unknown)")
        let variant = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--variant", "T=7"])
        #expect(variant.status == 2 && variant.stderr.contains("valid variants: T=100, T=500, T=1000"), "\(variant)")
        let both = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--cell", "lstm"])
        #expect(both.status == 2 && both.stderr.contains("leave out --task and --cell"), "\(both)")
        let length = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp6a", "--length", "50"])
        #expect(length.status == 2 && length.stderr.contains("has no length"), "\(length)")
        let neither = try CommandLineTool.run(["train", "--cell", "lstm"])
        #expect(neither.status == 2 && neither.stderr.contains("give --task, --cell and --length"), "\(neither)")
    }
}
