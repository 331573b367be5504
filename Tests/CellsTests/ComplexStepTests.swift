@testable import Autodiff
import CellLanguage
@testable import Cells
import Foundation
import GradCheck
import GSLKit
import Testing
@testable import Verification

/// The shipped cell files, for the tests of this target.
enum CellFiles {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Cells")
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".cell") }.sorted()
    static func cell(_ name: String) throws -> any RecurrentCell { try LanguageCell(contentsOfFile: directory.appendingPathComponent(name).path) }
}

@Suite("Complex-step derivatives agree with the reverse pass to rounding")
struct ComplexStepTests {
    static let everyCell = BuiltinCells.names + CellFiles.names

    static func cell(_ name: String) throws -> any RecurrentCell {
        name.hasSuffix(".cell") ? try CellFiles.cell(name) : BuiltinCells.builtin(name)!
    }

    /// Every built-in cell and every file in Cells/, on one and two layers, T = 20 (small
    /// sizes, so that the whole set runs in seconds): every element passes the ulp rule and
    /// every tensor agrees to 1e-13 normwise.
    @Test(arguments: everyCell, [1, 2])
    func everyCellAgreesToRounding(_ name: String, layers: Int) throws {
        var check = SequenceGradientCheck(cell: try Self.cell(name))
        (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers) = (2, 3, 2, 20, layers)
        let report = try check.runComplexStep()
        #expect(report.passed, "\(name) L=\(layers)\n\(report.table())")
        #expect(report.worstRelative <= 1e-13, "\(name) L=\(layers): \(report.worstRelative)\n\(report.table())")
        let worstRatio = report.tensors.map(\.worstRatio).max() ?? 0
        print("complex-step \(name) L=\(layers): worst rel \(report.worstRelative), worst err/bound \(worstRatio)")
    }
}

@Suite("Complex-step forms of the elementwise primitives, and where they refuse")
struct ComplexStepPrimitiveTests {
    /// exp, log, √, square, ⊘, σ, tanh and relu in one cell: each complex forward is checked
    /// through the reverse pass of the same graph. (A `stop` would fail, rightly: the complex
    /// step, like central differences, sees through a stop-gradient.)
    @Test func everyElementwisePrimitive() throws {
        let source = """
            state h c
            a  = sigmoid(W_a x + U_a h + b_a)
            c' = c * a + exp(u_1 * h) / (2 + square(v_1 * c)) - log(1 + a) + sqrt(1.5 + tanh(W_c x))
            h' = tanh(c') * a + 0.1 * relu(W_r x + b_r)
            """
        var check = SequenceGradientCheck(cell: try LanguageCell(source: source, file: "all.cell"))
        check.steps = 12
        let report = try check.runComplexStep()
        #expect(report.passed && report.worstRelative <= 1e-13, "\(report.table())")
    }

    /// √ at 0 (relu's zeros) has no complex-step derivative: a one-line error naming the
    /// primitive, its equation and the time step.
    @Test func notAnalyticIsRefused() throws {
        let cell = try LanguageCell(source: "state h\nh' = tanh(W x + U h + b) * sqrt(relu(V x))\n", file: "na.cell")
        #expect {
            try SequenceGradientCheck(cell: cell).runComplexStep()
        } throws: { error in
            guard let e = error as? ComplexStepError else { return false }
            return e.op == "sqrt" && e.value == "h'" && e.step == 0 && !e.description.contains("\n")
        }
    }

    /// A loss that is not finite at the checked point: refused, naming where the NaN appears.
    @Test func nonFiniteLossIsRefused() throws {
        let cell = try LanguageCell(source: "state h\nh' = tanh(W x + U h + b) + log(b2 - 5)\n", file: "nf.cell")
        #expect {
            try SequenceGradientCheck(cell: cell).runComplexStep()
        } throws: { error in
            guard case let .nonFiniteLoss(_, place)? = error as? SequenceCheckError else { return false }
            return place?.contains("log") == true && place?.contains("time step 0") == true
        }
    }
}
