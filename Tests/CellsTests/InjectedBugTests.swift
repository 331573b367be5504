@testable import GateLabAutodiff
import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL
import Testing
@testable import GateLabVerification

/// The injected bug of the sensitivity measurement: an LSTM (PyTorch's equations, as
/// Cells/lstm.cell) whose every tanh has the derivative tanh′·(1 + ε) and the exact forward
/// value. Built in the test only, from the language's own pieces: t + ε·(t − stop(t)) with
/// t = tanh(a) is t in the forward pass (t − stop(t) is exactly 0) and has the derivative
/// (1 + ε)·tanh′ in the reverse pass. Nothing in the product knows about it.
enum InjectedBug {
    static func lstm(epsilon: Double) throws -> LanguageCell {
        func tanh(_ a: String) -> String { "(tanh(\(a)) + \(epsilon) * (tanh(\(a)) - stop(tanh(\(a)))))" }
        let source = """
            state h c
            i  = sigmoid(W_ii x + b_ii + W_hi h + b_hi)
            f  = sigmoid(W_if x + b_if + W_hf h + b_hf)
            g  = \(tanh("W_ig x + b_ig + W_hg h + b_hg"))
            o  = sigmoid(W_io x + b_io + W_ho h + b_ho)
            c' = f * c + i * g
            h' = o * \(tanh("c'"))
            """
        return try LanguageCell(source: source, file: "lstm-tanh-bug.cell")
    }

    /// The four checks of the measurement: central differences (the default options: tolerance
    /// 1e-6, Richardson re-test of failures) and the complex step, each full and with 8
    /// directions; LSTM, I = 3, H = 4, B = 2, T = 20, seed 1 (gradcheck's defaults).
    enum Method: String, CaseIterable {
        case centralFull = "central, full", centralDirectional = "central, 8 directions"
        case complexFull = "complex step, full", complexDirectional = "complex step, 8 directions"
    }

    /// Whether `method` catches the bug of size ε (its check fails), and the check's time.
    static func caught(_ method: Method, epsilon: Double) throws -> (caught: Bool, seconds: Double) {
        var check = SequenceGradientCheck(cell: try lstm(epsilon: epsilon))
        check.steps = 20
        if method == .centralDirectional || method == .complexDirectional { check.options.mode = .directional(count: 8, seed: 1) }
        let start = DispatchTime.now().uptimeNanoseconds
        let passed = method == .centralFull || method == .centralDirectional ? try check.run().passed : try check.runComplexStep().passed
        return (!passed, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
}

@Suite("The injected bug tanh′·(1 + ε) in an LSTM over 20 steps")
struct InjectedBugTests {
    /// ε = 0 is the LSTM itself: every method passes (a check that failed here would catch
    /// nothing below).
    @Test(arguments: InjectedBug.Method.allCases)
    func withoutTheBugEveryMethodPasses(_ method: InjectedBug.Method) throws {
        #expect(try !InjectedBug.caught(method, epsilon: 0).caught, "\(method.rawValue)")
    }

    @Test func complexStepFullCatchesOneInATrillion() throws {
        #expect(try InjectedBug.caught(.complexFull, epsilon: 1e-12).caught)
    }

    @Test func complexStepDirectionalCatchesTenInATrillion() throws {
        #expect(try InjectedBug.caught(.complexDirectional, epsilon: 1e-11).caught)
    }

    /// Central differences cannot see 1e-9 (their own error is ~1e-8 relative).
    @Test func centralDifferencesMissOneInABillion() throws {
        #expect(try !InjectedBug.caught(.centralFull, epsilon: 1e-9).caught)
    }

    /// The measurement written in Notes/gradient-verification.md: for each method the
    /// smallest ε of 1e-1 … 1e-15 from which on every larger ε is caught, and the time of the
    /// passing check (ε = 0). Runs with GATELAB_MEASURE_SENSITIVITY=1 (a minute or so in a debug build).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GATELAB_MEASURE_SENSITIVITY"] == "1"))
    func measureTheSmallestEpsilonCaught() throws {
        for method in InjectedBug.Method.allCases {
            var smallest: Double?
            for k in 1...15 {
                let epsilon = Foundation.pow(10, -Double(k))
                guard try InjectedBug.caught(method, epsilon: epsilon).caught else { break }
                smallest = epsilon
            }
            // The time of a passing check (ε = 0, what a user waits for), median of 5.
            let time = try (0..<5).map { _ in try InjectedBug.caught(method, epsilon: 0).seconds }.sorted()[2]
            print("sensitivity: \(method.rawValue): smallest ε caught \(smallest.map { "\($0)" } ?? "none"), time of the passing check \(String(format: "%.3f", time)) s")
        }
    }
}
