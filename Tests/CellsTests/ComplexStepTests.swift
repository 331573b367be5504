@testable import GateLabAutodiff
import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL
import Testing
@testable import GateLabVerification

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
        // Layer 0 of the depth-gated LSTM reads c_below' = 0: its depth gate multiplies zeros,
        // so its parameters have no effect there (Notes/cell-language.md, Cross-layer terms).
        let dead = name == "lstm-depth-gated.cell" ? ["W_xd", "w_cd", "w_ld", "b_d"].map { layers == 1 ? $0 : $0 + ".l0" } : []
        #expect(report.parameters.zeroGradient == dead && report.parameters.inputIndependent.isEmpty && report.kinks.lines.isEmpty,
                "\(name): \(report.table())")
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

@Suite("Kinks met and dead parameters are reported")
struct KinkAndParameterTests {
    /// relu of an argument that is exactly 0 at every step: the kink is named (equation,
    /// primitive, steps) by both methods, and W_k, whose gradient is then exactly 0, is
    /// reported as a zero-gradient parameter.
    @Test func exactKinkAndZeroGradient() throws {
        let source = """
            state h
            k  = relu(W_k x - W_k x)
            h' = tanh(W x + U h + b) + k
            """
        var check = SequenceGradientCheck(cell: try LanguageCell(source: source, file: "kink.cell"))
        check.steps = 5
        let report = try check.runComplexStep()
        #expect(report.passed, "\(report.table())")
        #expect(report.kinks.sites == [KinkReport.Site(equation: "k", primitive: "relu", steps: [0, 1, 2, 3, 4], elements: 52, exactly: true)],
                "\(report.kinks)")
        #expect(report.kinks.affected == 52 && report.kinks.checked == 52, "every checked element meets it: \(report.kinks)")
        #expect(report.kinks.lines.last == "  relu in k at time steps 0, 1, 2, 3, 4 (exactly at the kink)", "\(report.kinks.lines)")
        #expect(report.parameters.zeroGradient == ["W_k"] && report.parameters.inputIndependent.isEmpty, "\(report.parameters)")
        let central = try check.centralKinks()
        #expect(central.sites.map(\.equation) == ["k"] && central.sites[0].exactly, "\(central)")
    }

    /// A relu argument within the central-difference step of 0 (b_k[0] = 1e-5 and b_k[3] =
    /// 2e-4, within the re-test's step 7.4e-4) is reported for central differences, for the
    /// two elements whose perturbation moves it; the complex step (h = 1e-200) meets no kink.
    @Test func kinkWithinTheCentralStep() throws {
        let cell = try LanguageCell(source: "state h\nh' = tanh(W x + U h + b) + relu(b_k)\n", file: "near.cell")
        var network = RecurrentNetwork(cell: cell, inputSize: 3, hiddenSize: 4)
        try network.initialize(using: RandomSource(seed: 3))
        network.weights[0]["b_k"] = Tensor(rows: 1, cols: 4, scalars: [1e-5, 0.5, -0.5, 2e-4])
        var check = SequenceGradientCheck(cell: cell)
        check.weights = network
        check.steps = 6
        let central = try check.centralKinks()
        #expect(central.affected == 2 && central.sites.count == 1 && central.sites[0].equation == "h'" && !central.sites[0].exactly,
                "\(central)")
        #expect(central.sites.first?.steps == [0, 1, 2, 3, 4, 5])
        let complex = try check.runComplexStep()
        #expect(complex.passed && complex.kinks.sites.isEmpty, "\(complex.table())")
    }

    /// The wrong operand: `c' = tanh(W x + U c + b)` where `U h` was meant leaves h' = c' + b_h
    /// with a gradient of b_h that is Σ_t R_t whatever the input: reported. With the right
    /// operand it depends on the input: nothing reported.
    @Test func inputIndependentGradientHintsAtAWrongOperand() throws {
        let wrong = "state h c\nc' = tanh(W x + U c + b)\nh' = c' + b_h\n"
        let right = "state h c\nc' = tanh(W x + U h + b)\nh' = c' + b_h\n"
        let found = try SequenceGradientCheck(cell: try LanguageCell(source: wrong, file: "wrong.cell")).parameterSensitivity()
        #expect(found.inputIndependent == ["b_h"] && found.zeroGradient.isEmpty, "\(found)")
        #expect(found.lines.first?.hasPrefix("input-independent gradient: b_h ") == true)
        let fine = try SequenceGradientCheck(cell: try LanguageCell(source: right, file: "right.cell")).parameterSensitivity()
        #expect(fine.inputIndependent.isEmpty && fine.zeroGradient.isEmpty, "\(fine)")
    }
}
