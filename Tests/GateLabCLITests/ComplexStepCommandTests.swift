import Foundation
import GateLabInterchange
import Testing

@Suite("gatelab gradcheck --method complex-step")
struct ComplexStepCommandTests {
    @Test func lstmPassesWithEveryTensorWithinItsBound() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "lstm", "--method", "complex-step"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.first?.contains("complex step; loss L(θ) = ") == true, "\(run)")
        #expect(run.lines.last?.hasPrefix("passed: 18 tensor(s), worst relative disagreement ") == true, "\(run)")
        #expect(run.lines.last?.contains("256 u · max over the tensor of Σ|terms|") == true, "the rule is stated: \(run)")
    }

    @Test func bothRunsCentralDifferencesThenTheComplexStep() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "gru", "--method", "both", "--mode", "directional", "--directions", "3"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.filter { $0.hasPrefix("passed: 3 direction(s)") }.count == 2, "\(run)")
        #expect(run.lines.contains { $0.contains("central differences; loss") } && run.lines.contains { $0.contains("complex step; loss") }, "\(run)")

        let json = try CommandLineTool.run(["gradcheck", "--cell", "gru", "--method", "both", "--steps", "4", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        #expect(object?["method"] as? String == "both", "\(json)")
        #expect((object?["complex_step"] as? [String: Any])?["passed"] as? Bool == true, "\(json)")
        #expect((object?["central"] as? [String: Any])?["passed"] as? Bool == true, "\(json)")
    }

    /// Hostile input: each a one-line error naming what is wrong, exit code 2.
    @Test func hostileInputIsOneLineError() throws {
        let dir = try TemporaryDirectory()
        let notAnalytic = try dir.write("na.cell", "state h\nh' = tanh(W x + U h + b) * sqrt(relu(V x))\n")
        let notFinite = try dir.write("nf.cell", "state h\nh' = tanh(W x + U h + b) + log(b2 - 5)\n")
        let cases: [([String], [String])] = [
            (["--cell", notAnalytic], ["sqrt", "time step 0", "not analytic"]),
            (["--cell", notFinite], ["loss is not finite", "log", "time step 0"]),
            (["--cell", "lstm", "--mode", "directional", "--directions", "0"], ["--directions", "got 0"]),
            (["--cell", "lstm", "--mode", "directional", "--directions", "100000000"], ["too much work"]),
            (["--cell", "lstm", "--precision", "f32"], ["float64 only"]),
            (["--cell", "lstm", "--tolerance", "1e-3"], ["--tolerance"]),
        ]
        for (arguments, mentions) in cases {
            let run = try CommandLineTool.run(["gradcheck", "--method", "complex-step"] + arguments)
            #expect(run.status == 2, "\(arguments): \(run)")
            let lines = run.stderr.split(separator: "\n")
            #expect(lines.count == 1 && lines[0].hasPrefix("error: "), "\(arguments): \(run)")
            for m in mentions { #expect(run.stderr.contains(m), "\(arguments) should mention \(m): \(run)") }
        }
    }
}

@Suite("gatelab gradcheck reports kinks and dead parameters")
struct GradcheckDiagnosticsCommandTests {
    /// Central differences (the default method) too: the wrong operand's hint, after the table.
    @Test func centralDifferencesReportAnInputIndependentGradient() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("wrong.cell", "state h c\nc' = tanh(W x + U c + b)\nh' = c' + b_h\n")
        let run = try CommandLineTool.run(["gradcheck", "--cell", file, "--steps", "6"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.last?.hasPrefix("input-independent gradient: b_h ") == true, "\(run)")
        let complex = try CommandLineTool.run(["gradcheck", "--cell", file, "--steps", "6", "--method", "complex-step"])
        #expect(complex.lines.contains { $0.hasPrefix("input-independent gradient: b_h ") }, "\(complex)")
    }

    /// `--json` of the default method carries the same findings as its text (they were printed
    /// only under the table): a dead parameter, a relu met at its kink, none for a sound cell.
    @Test func centralJSONCarriesTheKinksAndDeadParameters() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("dead.cell", "state h\nh' = tanh(W_x x + U_h h + 0 * (U_z h)) + 0 * relu(V_v x)\n")
        let run = try CommandLineTool.run(["gradcheck", "--cell", file, "--steps", "5", "--json"])
        #expect(run.status == 0, "\(run)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let parameters = try #require(object["parameters"] as? [String: Any], "\(run.stdout.prefix(400))")
        #expect(parameters["zero_gradient"] as? [String] == ["V_v", "U_z"] && parameters["input_independent"] as? [String] == [])
        #expect((object["kinks"] as? [String: Any])?["checked"] as? Int == 4 * 3 * 2 + 4 * 4 * 2 + 2 * 4)   // W_x, V_v, U_h, U_z, h0
        let sound = try CommandLineTool.run(["gradcheck", "--cell", "gru", "--steps", "5", "--json"])
        let clean = try #require(try JSONSerialization.jsonObject(with: Data(sound.stdout.utf8)) as? [String: Any])
        #expect((clean["parameters"] as? [String: Any])?["zero_gradient"] as? [String] == [])
        #expect((clean["kinks"] as? [String: Any])?["sites"] as? [Any] != nil)
    }
}

@Suite("gatelab equiv")
struct EquivCommandTests {
    @Test func npIsThePeepholeLSTMWithoutPeepholes() throws {
        let run = try CommandLineTool.run(["equiv", "Cells/lstm-peephole.cell", "Cells/lstm-np.cell", "--set", "p_i=0", "p_f=0", "p_o=0"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.last?.hasPrefix("equivalent: Cells/lstm-peephole.cell with p_f = 0, p_i = 0, p_o = 0 is Cells/lstm-np.cell (15 quantities") == true, "\(run)")
    }

    @Test func aBrokenReductionPrintsTheTableAndExitsOne() throws {
        let run = try CommandLineTool.run(["equiv", "Cells/lstm-peephole.cell", "Cells/lstm-np.cell", "--set", "p_i=0.5", "p_f=0", "p_o=0"])
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.contains { $0.hasPrefix("∂L/∂W_i ") && $0.hasSuffix("FAIL") }, "\(run)")
        #expect(run.lines.last?.hasPrefix("NOT equivalent: ") == true, "\(run)")
    }

    @Test func hostileArgumentsAreOneLineErrors() throws {
        let base = ["equiv", "Cells/lstm-peephole.cell", "Cells/lstm-np.cell"]
        let cases: [([String], String)] = [
            (["--set", "p_q=0", "p_f=0", "p_o=0"], "has no parameter p_q"),
            (["--set", "p_i=zero", "p_f=0", "p_o=0"], "one finite number"),
            (["--set", "p_i", "p_f=0", "p_o=0"], "expected NAME=VALUE"),
            (["--set", "p_i=0", "p_f=0"], "p_o has no counterpart"),
            (["--set", "p_i=0", "p_i=1", "p_f=0", "p_o=0"], "p_i is given twice"),
        ]
        for (arguments, message) in cases {
            let run = try CommandLineTool.run(base + arguments)
            #expect(run.status == 2 && run.stderr.contains(message) && run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run)")
        }
    }
}

@Suite("gatelab case-template and verify-reference --cell")
struct CellCaseCommandTests {
    static let fixture = "Tests/CellsTests/Fixtures/cell-case/lstm-peephole-pytorch.npz"

    /// The committed case: made by case-template and completed once by an independently
    /// written PyTorch peephole LSTM (the script beside it), two layers.
    @Test func theCommittedPyTorchCasePasses() throws {
        let run = try CommandLineTool.run(["verify-reference", "--cell", "Cells/lstm-peephole.cell", Self.fixture])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.last == "all 37 arrays within 1.00e-10", "\(run)")
        #expect(run.lines.contains { $0.contains(" d_p_o.l1 ") && $0.hasSuffix("ok") }, "\(run)")
    }

    /// The template is the first half of the fixture: the same command writes the same
    /// inputs, states and weights (so the loop is reproducible from the documented command).
    @Test func theTemplateIsReproducibleAndHoldsNoResults() throws {
        let dir = try TemporaryDirectory()
        let path = dir.path("case.npz")
        let run = try CommandLineTool.run(["case-template", "Cells/lstm-peephole.cell", "--steps", "8", "--batch", "3", "--layers", "2",
                                           "--seed", "7", "--output", path])
        #expect(run.status == 0 && run.stdout.hasPrefix("wrote \(path): 34 arrays"), "\(run)")
        let template = try ArrayArchive.read(path), fixture = try ArrayArchive.read(CommandLineTool.packageRoot.appendingPathComponent(Self.fixture).path)
        #expect(template.arrays.count == 34)
        for a in template.arrays { #expect(fixture[a.name] == a, "\(a.name) differs from the fixture's") }
        let bare = try CommandLineTool.run(["verify-reference", "--cell", "Cells/lstm-peephole.cell", path])
        #expect(bare.status == 2 && bare.stderr.contains("holds no results to compare") && bare.stderr.split(separator: "\n").count == 1, "\(bare)")
    }

    /// The same case against a file edited to a wrong operand fails, array by array.
    @Test func aWrongOperandFailsAgainstTheUsersCode() throws {
        let dir = try TemporaryDirectory()
        let text = try String(contentsOf: CommandLineTool.packageRoot.appendingPathComponent("Cells/lstm-peephole.cell"), encoding: .utf8)
        let edited = try dir.write("edited.cell", text.replacingOccurrences(of: "R_f y + p_f", with: "R_f c + p_f"))
        let run = try CommandLineTool.run(["verify-reference", "--cell", edited, Self.fixture])
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.contains { $0.contains(" d_R_f ") && $0.hasSuffix("FAIL") } && run.lines.last?.hasPrefix("FAILED: ") == true, "\(run)")
    }

    @Test func hostileArgumentsAreOneLineErrors() throws {
        let dir = try TemporaryDirectory()
        let cases: [([String], String)] = [
            (["verify-reference", "--cell", "Cells/lstm-np.cell", Self.fixture], "not an array of a case"),
            (["case-template", "lstm", "--output", dir.path("case.txt")], "write a .npz"),
            (["case-template", "lstm", "--steps", "0", "--output", dir.path("case.npz")], "--steps must be between"),
            (["verify-reference", "--cell", "lstm", "--precision", "f32", Self.fixture], "float64"),
        ]
        for (arguments, message) in cases {
            let run = try CommandLineTool.run(arguments)
            #expect(run.status == 2 && run.stderr.contains(message) && run.stderr.split(separator: "\n").count == 1, "\(arguments): \(run)")
        }
    }
}
