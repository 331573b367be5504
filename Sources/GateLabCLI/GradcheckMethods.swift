import ArgumentParser
import GateLabExperiments
import Foundation
import GateLabGradCheck
import GateLabVerification

/// How `gatelab gradcheck` computes its numeric derivatives.
enum GradcheckMethod: String, ExpressibleByArgument, CaseIterable {
    /// Central differences, with Richardson re-tests of failures (the default: its reports and
    /// numbers are those of every earlier version).
    case central
    /// Complex-step derivatives, Im L(θ + ih·v)/h, exact to rounding.
    case complexStep = "complex-step"
    /// Central differences, then the complex step.
    case both
}

extension GradcheckCommand {
    /// The rules of --method (called from `validate()`).
    func validateMethod() throws {
        guard method != .central else { return }
        if precision.precision == .f32 {
            throw ValidationError("--method \(method.rawValue) runs in float64 only (the complex step needs float64's range for h = 1e-200); drop --precision f32")
        }
        if method == .complexStep, tolerance != nil {
            throw ValidationError("--tolerance applies to central differences; the complex-step rule is fixed (256 units of rounding times the condition of the sums): drop --tolerance or use --method both")
        }
    }

    /// --method complex-step or both: the reports, the kinks and parameters found, exit 1 when
    /// a check fails.
    func runComplexStep(_ check: SequenceGradientCheck, input: Int, hidden: Int, layers: Int) throws {
        if method == .complexStep, richardson || !retest {
            warnIneffective(["--richardson", "--no-retest"], because: "the complex step takes no difference")
        }
        let central = method == .both ? try check.run() : nil
        let complex = try check.runComplexStep()
        let passed = complex.passed && (central?.passed ?? true)
        if json {
            let record = ComplexStepGradcheckJSON(check: check, central: central.map {
                SequenceGradientCheckReport(check: check, report: $0, version: GateLabVersion.current)
            }, complexStep: complex)
            print(try GradientCheckReport.json(record))
        } else {
            let header = "gradcheck \(weights ?? check.cell.name): I = \(input), H = \(hidden), B = \(batch), T = \(steps), L = \(layers), "
                + "seed \(seed), \(mode.rawValue) mode"
            if let central {
                print(header + ", central differences; loss L(θ) = \(central.loss)")
                print("")
                print(central.table())
                print("")
            }
            print(header + ", complex step; loss L(θ) = \(complex.loss)")
            print("")
            print(complex.table())
        }
        if !passed { throw ExitCode(ExitStatus.checkFailed) }
    }

    /// After a central-difference table: the relu kinks within the step, and the parameters
    /// whose gradient is zero or input-independent (nothing when there are none).
    func printDiagnostics(of check: SequenceGradientCheck) {
        do {
            for line in try check.centralKinks().lines + check.parameterSensitivity().lines { print(line) }
        } catch {
            warn("the kink and parameter diagnostics could not run: \(describe(error))")
        }
    }
}

/// `gatelab gradcheck --method complex-step|both --json`: the complex-step report (and the
/// central one) with everything needed to rerun them.
struct ComplexStepGradcheckJSON: Encodable {
    enum CodingKeys: String, CodingKey {
        case cell, inputSize = "input_size", hiddenSize = "hidden_size", batch, steps, layers, seed, rng
        case gatelabVersion = "gatelab_version", method, central, complexStep = "complex_step"
    }
    var cell: String, inputSize: Int, hiddenSize: Int, batch: Int, steps: Int, layers: Int, seed: UInt64
    var rng = SequenceGradientCheck.generator, gatelabVersion = GateLabVersion.current
    var method: String
    var central: SequenceGradientCheckReport?
    var complexStep: ComplexStepReport

    init(check: SequenceGradientCheck, central: SequenceGradientCheckReport?, complexStep: ComplexStepReport) {
        cell = check.cell.name
        (inputSize, hiddenSize, batch, steps, layers, seed) = (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers, check.seed)
        method = central == nil ? "complex-step" : "both"
        self.central = central
        self.complexStep = complexStep
    }
}
