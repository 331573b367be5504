import Foundation
import Testing

@Suite("--execution reference runs the plain executor and prints the same results")
struct ExecutionOptionTests {
    /// The probe's table (4 significant decimals) is the same through either executor; the
    /// full-precision numbers agree to rounding (see ExecutorAgreementTests).
    @Test func probeTableIsTheSame() throws {
        let arguments = ["probe", "--cell", "gru", "--batch", "8", "--hidden", "8", "--steps", "40"]
        let fast = try CommandLineTool.run(arguments)
        let reference = try CommandLineTool.run(arguments + ["--execution", "reference"])
        #expect(fast.status == 0 && reference.status == 0, "\(fast)\n\(reference)")
        #expect(!fast.stdout.isEmpty && fast.stdout == reference.stdout)
    }

    @Test func gradcheckPassesThroughTheReference() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "lstm", "--layers", "2", "--steps", "6", "--execution", "reference"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("passed"))
    }

    @Test func trainingCurveIsTheSame() throws {
        let arguments = ["train", "--task", "adding", "--cell", "lstm", "--hidden", "8", "--length", "10", "--updates", "20",
                         "--batch", "4", "--eval-every", "10", "--eval-size", "8"]
        let fast = try CommandLineTool.run(arguments)
        let reference = try CommandLineTool.run(arguments + ["--execution", "reference"])
        #expect(fast.status == 0 && reference.status == 0, "\(fast)\n\(reference)")
        // Every line but the last (which gives the wall time).
        #expect(fast.lines.dropLast() == reference.lines.dropLast() && fast.lines.count > 2)
    }

    @Test func anUnknownExecutorIsABadArgument() throws {
        let run = try CommandLineTool.run(["probe", "--cell", "gru", "--steps", "5", "--execution", "slow"])
        #expect(run.status == 2, "\(run)")
    }
}
