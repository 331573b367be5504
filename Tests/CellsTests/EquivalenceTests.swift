import GateLabAutodiff
import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import Testing
@testable import GateLabVerification

/// The reductions the shipped variants' papers state, checked with `CellEquivalence`
/// (`gatelab equiv`): outputs, final states and every shared gradient to 1e-12.
@Suite("Stated reductions of the shipped variants hold")
struct EquivalenceTests {
    static func file(_ name: String) throws -> any RecurrentCell { try CellFiles.cell(name) }

    /// Greff et al.'s NP: the vanilla (peephole) LSTM with its peepholes at 0.
    @Test(arguments: [1, 2])
    func peepholeLSTMWithoutPeepholesIsNP(_ layers: Int) throws {
        var check = CellEquivalence(child: try Self.file("lstm-peephole.cell"), parent: try Self.file("lstm-np.cell"),
                                    fixed: ["p_i": 0, "p_f": 0, "p_o": 0], rename: [:])
        check.layers = layers
        let report = try check.run()
        #expect(report.passed && report.rows.count == 3 + 12 * layers, "\(report.table())")
    }

    /// FGR: the vanilla LSTM plus the gates' previous activations fed to every gate; with those
    /// nine recurrences at 0 it is the vanilla LSTM.
    @Test func fullGateRecurrenceWithoutItIsThePeepholeLSTM() throws {
        let recurrences = ["R_ii", "R_fi", "R_oi", "R_if", "R_ff", "R_of", "R_io", "R_fo", "R_oo"]
        let check = CellEquivalence(child: try Self.file("lstm-fgr.cell"), parent: try Self.file("lstm-peephole.cell"),
                                    fixed: Dictionary(uniqueKeysWithValues: recurrences.map { ($0, 0.0) }), rename: [:])
        let report = try check.run()
        #expect(report.passed, "\(report.table())")
    }

    /// The depth-gated LSTM on one layer (c_below' = 0) is the peephole LSTM, whatever its
    /// depth gate's parameters: renamed from Yao et al.'s notation to Greff et al.'s.
    @Test(arguments: [0.0, 0.7])
    func depthGatedLSTMOnOneLayerIsThePeepholeLSTM(_ depthGate: Double) throws {
        let rename = ["W_xi": "W_i", "W_hi": "R_i", "w_ci": "p_i", "W_xf": "W_f", "W_hf": "R_f", "w_cf": "p_f",
                      "W_xc": "W_z", "W_hc": "R_z", "b_c": "b_z", "W_xo": "W_o", "W_ho": "R_o", "w_co": "p_o"]
        let check = CellEquivalence(child: try Self.file("lstm-depth-gated.cell"), parent: try Self.file("lstm-peephole.cell"),
                                    fixed: ["W_xd": depthGate, "w_cd": depthGate, "w_ld": depthGate, "b_d": depthGate], rename: rename)
        let report = try check.run()
        #expect(report.passed, "\(report.table())")
    }

    /// PyTorch's LSTM (two biases per gate) with its recurrent biases at 0 is NP.
    @Test func pytorchLSTMWithoutRecurrentBiasesIsNP() throws {
        var rename = [String: String]()
        for (g, n) in [("i", "i"), ("f", "f"), ("g", "z"), ("o", "o")] {
            rename["W_i\(g)"] = "W_\(n)"; rename["W_h\(g)"] = "R_\(n)"; rename["b_i\(g)"] = "b_\(n)"
        }
        let check = CellEquivalence(child: try Self.file("lstm.cell"), parent: try Self.file("lstm-np.cell"),
                                    fixed: ["b_hi": 0, "b_hf": 0, "b_hg": 0, "b_ho": 0], rename: rename)
        #expect(try check.run().passed)
    }

    /// The files written as the built-in cells are the built-in cells.
    @Test(arguments: [("lstm.cell", "lstm"), ("gru.cell", "gru"), ("gru-reset-before.cell", "gru_reset_before")])
    func filesEqualTheirBuiltinCells(_ file: String, _ builtin: String) throws {
        let report = try CellEquivalence(child: try Self.file(file), parent: BuiltinCells.builtin(builtin)!, fixed: [:], rename: [:]).run()
        #expect(report.passed, "\(report.table())")
    }

    /// A file edited to a wrong operand (the forget gate reads R_f c instead of R_f y) breaks
    /// the reduction, and the table says where: the outputs, both final states and every
    /// gradient, with the forget gate's R_f among them.
    @Test func aWrongOperandFailsWithTheTable() throws {
        let text = try String(contentsOf: CellFiles.directory.appendingPathComponent("lstm-peephole.cell"), encoding: .utf8)
        let edited = text.replacingOccurrences(of: "f  = sigmoid(W_f x + R_f y + p_f ⊙ c + b_f)", with: "f  = sigmoid(W_f x + R_f c + p_f ⊙ c + b_f)")
        #expect(edited != text)
        let check = CellEquivalence(child: try LanguageCell(source: edited, file: "edited.cell"), parent: try Self.file("lstm-np.cell"),
                                    fixed: ["p_i": 0, "p_f": 0, "p_o": 0], rename: [:])
        let report = try check.run()
        #expect(!report.passed)
        let table = report.table()
        #expect(table.contains("outputs h_t, every step") && table.contains("FAIL"), "\(table)")
        #expect(report.rows.first { $0.quantity == "∂L/∂R_f" }?.passed == false, "\(table)")
        #expect(table.split(separator: "\n").last.map { $0.hasPrefix("NOT equivalent: ") && $0.contains(" with p_f = 0, p_i = 0, p_o = 0 is ") } == true, "\(table)")
    }

    /// Arguments that do not fit the cells: one line naming the parameter.
    @Test func argumentsThatDoNotFitAreRefused() throws {
        let peephole = try Self.file("lstm-peephole.cell"), np = try Self.file("lstm-np.cell")
        let cases: [([String: Double], [String: String], String)] = [
            (["p_q": 0], [:], "has no parameter p_q"),
            (["p_i": 0, "p_f": 0], [:], "parameter p_o has no counterpart in "),
            (["p_i": 0, "p_f": 0, "p_o": .nan], [:], "--set p_o: the value must be a finite number"),
            (["p_i": 0, "p_f": 0, "p_o": 0], ["W_z": "W_q"], "lstm-np.cell has no parameter W_q"),
            (["p_i": 0, "p_f": 0, "p_o": 0], ["W_z": "W_i"], "both stand for "),
        ]
        for (fixed, rename, message) in cases {
            #expect {
                try CellEquivalence(child: peephole, parent: np, fixed: fixed, rename: rename).run()
            } throws: { error in
                "\(error)".contains(message) && !"\(error)".contains("\n")
            }
        }
    }
}
