import Foundation
import Testing

@Suite("gatelab gradcheck")
struct GradcheckCommandTests {
    @Test func twoLayerLSTMPassesOverTwentySteps() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "lstm", "--layers", "2", "--steps", "20"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.first?.hasPrefix("gradcheck lstm: I = 3, H = 4, B = 2, T = 20, L = 2") == true)
        // 16 parameters per layer and h0, c0 per layer.
        #expect(run.lines.contains { $0.hasPrefix("passed: 36 tensor(s)") }, "\(run)")
        #expect(run.lines.contains { $0.hasPrefix("W_hf.l1 ") } && run.lines.contains { $0.hasPrefix("c0.l1 ") })
    }

    /// A NaN in a cell file's equation (sqrt of a negative value) is located to the file's
    /// line, the primitive and the time step — as `train` locates a diverged run's — not
    /// reported as a bare "the loss is nan".
    @Test func aNaNInACellFileIsLocatedToItsLinePrimitiveAndStep() throws {
        let folder = try TemporaryDirectory()
        let cell = try folder.write("badsqrt.cell", """
            cell badsqrt
            state h

            c  = tanh(W x + U h + b)
            h' = sqrt(c - 2)
            """)
        let run = try CommandLineTool.run(["gradcheck", "--cell", cell, "--steps", "6"])
        expectOneLineError(run, mentions: ["nan", "sqrt", "time step 0", "badsqrt.cell line 5", "h' = …"])
    }

    /// A failing check prints a short table per failing tensor (worst elements: index,
    /// analytic, numeric, relative error) and a short verdict, not one line per failure list.
    @Test func aFailureIsATablePerTensorAndAShortVerdict() throws {
        let plain = try CommandLineTool.run(["gradcheck", "--cell", "Cells/lstm-noaf.cell", "--layers", "2", "--no-retest",
                                             "--tolerance", "1e-12"])
        #expect(plain.status == 1, "\(plain)")
        let verdict = try #require(plain.lines.last)
        #expect(verdict.hasPrefix("FAILED: ") && verdict.count < 400, "\(plain)")
        let headings = plain.lines.filter { $0.contains("elements over tolerance") }
        #expect(headings.count >= 2, "\(plain)")
        #expect(plain.lines.contains { $0.hasPrefix("  index") && $0.contains("analytic") && $0.contains("numeric") && $0.contains("rel err") })
        // At most five element rows under each heading.
        for h in headings {
            let start = plain.lines.firstIndex(of: h)! + 2
            let rows = plain.lines[start...].prefix { $0.hasPrefix("  [") }
            #expect((1...5).contains(rows.count), "\(h): \(rows)")
        }
    }

    @Test(arguments: ["rnn", "gru", "gru_reset_before"])
    func everyOtherCellPasses(_ cell: String) throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", cell, "--steps", "8"])
        #expect(run.status == 0, "\(run)")
    }

    @Test func directionalModeWithRichardsonPasses() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "gru", "--mode", "directional", "--directions", "3", "--richardson"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.contains { $0.hasPrefix("passed: 3 direction(s)") && $0.contains("Richardson") }, "\(run)")
    }

    /// The plain central difference of one element, W_f.l1[3, 1], misses the tolerance (rel
    /// err 1.09e-6, its own rounding and truncation error); the Richardson re-test clears it.
    @Test func twoLayerLSTMWithoutOutputActivationPassesThanksToTheRetest() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "Cells/lstm-noaf.cell", "--layers", "2"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.contains("1 element(s) failed with central differences and were re-tested with Richardson "
                                   + "extrapolation: 1 cleared (W_f.l1: 1), 0 confirmed"), "\(run)")
        #expect(run.lines.last?.hasPrefix("passed: 34 tensor(s)") == true, "\(run)")

        let plain = try CommandLineTool.run(["gradcheck", "--cell", "Cells/lstm-noaf.cell", "--layers", "2", "--no-retest"])
        #expect(plain.status == 1, "\(plain)")
        #expect(plain.lines.last?.hasPrefix("FAILED: 1 of 34 tensor(s) (W_f.l1); ") == true, "\(plain)")
        #expect(plain.lines.contains { $0.hasPrefix("  [3, 1] ") }, "\(plain)")
        #expect(!plain.stdout.contains("re-tested"), "\(plain)")

        let json = try CommandLineTool.run(["gradcheck", "--cell", "Cells/lstm-noaf.cell", "--layers", "2", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let tensors = object?["tensors"] as? [[String: Any]] ?? []
        let retested = tensors.filter { ($0["retested_element_count"] as? Int ?? 0) > 0 }
        #expect(retested.map { $0["name"] as? String } == ["W_f.l1"] && retested.first?["cleared_element_count"] as? Int == 1,
                "\(json)")
    }

    @Test func jsonReportParses() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "rnn", "--steps", "4", "--json"])
        #expect(run.status == 0)
        let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
        #expect(object?["passed"] as? Bool == true)
        #expect((object?["tensors"] as? [Any])?.count == 5, "W_ih, W_hh, b_ih, b_hh, h0")
    }

    @Test func jsonReportNamesTheCellSizesSeedGeneratorAndVersion() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "gru", "--input", "2", "--hidden", "3", "--batch", "1",
                                           "--steps", "5", "--layers", "2", "--seed", "9", "--mode", "directional", "--directions", "3", "--json"])
        #expect(run.status == 0, "\(run)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["cell"] as? String == "gru" && object["input_size"] as? Int == 2 && object["hidden_size"] as? Int == 3)
        #expect(object["batch"] as? Int == 1 && object["steps"] as? Int == 5 && object["layers"] as? Int == 2)
        #expect(object["seed"] as? Int == 9 && object["rng"] as? String == "mt19937")
        let version = try CommandLineTool.run(["--version"])
        #expect(object["gatelab_version"] as? String == version.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let options = try #require(object["options"] as? [String: Any])
        #expect(options["mode"] as? String == "directional" && options["directions"] as? Int == 3, "\(options)")
        #expect((object["directions"] as? [Any])?.count == 3)
        // Every key, at every depth, is snake_case.
        func keys(_ x: Any) -> [String] {
            if let d = x as? [String: Any] { return Array(d.keys) + d.values.flatMap(keys) }
            if let a = x as? [Any] { return a.flatMap(keys) }
            return []
        }
        let camel = keys(object).filter { $0.contains { $0.isUppercase } }
        #expect(camel.isEmpty, "\(camel)")
    }

    @Test func aCheckThatFailsExitsWithOne() throws {
        // Tolerance 0 demands bit-exact agreement of analytic and numeric gradients: it fails.
        let run = try CommandLineTool.run(["gradcheck", "--cell", "lstm", "--steps", "3", "--tolerance", "0"])
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.last?.hasPrefix("FAILED: ") == true)
        #expect(run.stderr.isEmpty)
    }

    @Test(arguments: [
        ["--cell", "lstm", "--steps", "0"], ["--cell", "lstm", "--hidden", "0"], ["--cell", "lstm", "--batch", "-3"],
        ["--cell", "lstm", "--layers", "0"], ["--cell", "lstm", "--input", "many"], ["--cell", "lstm", "--tolerance", "nan"],
        ["--cell", "lstm", "--tolerance", "-1"], ["--cell", "lstm", "--directions", "4"],
        ["--cell", "lstm", "--mode", "directional", "--directions", "0"], ["--cell", "lstm", "--mode", "sideways"],
        ["--cell", "lstm", "--steps", "100000", "--batch", "100000", "--hidden", "100000", "--layers", "100000"],
        ["--steps", "3"], ["--cell", "lstm", "--bogus"],
    ])
    func badValuesAreOneLineErrorsWithExitCodeTwo(_ arguments: [String]) throws {
        let run = try CommandLineTool.run(["gradcheck"] + arguments)
        expectOneLineError(run)
        #expect(run.stdout.isEmpty)
    }

    @Test func unknownCellNamesTheValidOnes() throws {
        expectOneLineError(try CommandLineTool.run(["gradcheck", "--cell", "mlp"]), mentions: ["mlp", "rnn", "lstm", "gru", "gru_reset_before"])
    }
}
