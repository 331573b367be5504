import ArgumentParser
import GateLabCells
import GateLabGradCheck
import GateLabVerification

/// `gatelab demo`: the project's main job in a few seconds — a cell's step printed from its
/// graph, then a gradient check of that cell unrolled over a short sequence.
struct DemoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "demo",
        abstract: "Print one LSTM step's equations and gradient-check a short LSTM sequence.")

    func run() throws {
        let cell = LSTM()
        let steps = 5
        print("GateLab \(GateLabVersion.current): recurrent cells written as their papers' equations, gradient-checked.")
        print("")
        print("One LSTM step, recorded as a graph and printed back from the graph:")
        print("")
        print(try StepGraph(cell: cell).render(.text).split(separator: "\n").map { "    " + $0 }.joined(separator: "\n"))
        print("")

        var check = SequenceGradientCheck(cell: cell)
        check.steps = steps
        print("Gradient check: the LSTM unrolled over T = \(check.steps) steps (I = \(check.inputSize), H = \(check.hiddenSize), "
              + "B = \(check.batch), seed \(check.seed)),")
        print("loss L = Σ_t Σ R_t ⊙ h_t; every weight and the initial states h0, c0, element by element, against central differences:")
        print("")
        let report = try check.run()
        print(report.table())
        print("")
        let worst = report.tensors.map(\.worstRelative.relativeError).max() ?? 0
        if report.passed {
            print("verdict: PASS — backpropagation through \(steps) LSTM steps matches central differences in all "
                  + "\(report.tensors.count) tensors (worst relative error \(scientific(worst)), tolerance \(scientific(report.options.tolerance))).")
        } else {
            let failed = report.tensors.filter { !$0.passed }.map(\.name)
            print("verdict: FAIL — analytic and numeric gradients disagree in \(failed.count) of \(report.tensors.count) tensors: "
                  + failed.joined(separator: ", ") + ".")
            throw ExitCode(ExitStatus.checkFailed)
        }
    }
}
