import GateLabCells
import Foundation
import Testing

@Suite("gatelab: version, help, cells, show, demo")
struct ShowAndCellsTests {
    @Test func versionIsPrinted() throws {
        let run = try CommandLineTool.run(["--version"])
        #expect(run.status == 0)
        #expect(run.stdout == "0.3.0\n")
    }

    @Test func noSubcommandPrintsHelp() throws {
        let run = try CommandLineTool.run([])
        #expect(run.status == 0)
        for sub in ["demo", "cells", "show", "gradcheck", "verify-reference", "weights"] {
            #expect(run.stdout.contains(sub), "help lists \(sub)")
        }
    }

    @Test func unknownSubcommandIsOneLineError() throws {
        expectOneLineError(try CommandLineTool.run(["frobnicate"]))
    }

    @Test func cellsListsEveryBuiltinCellWithItsPaper() throws {
        let run = try CommandLineTool.run(["cells"])
        #expect(run.status == 0)
        #expect(run.lines.count == 5, "a header and 4 cells: \(run)")
        #expect(run.lines.first?.hasPrefix("cell") == true)
        for (row, entry) in zip(run.lines.dropFirst(), BuiltinCells.all) {
            #expect(row.hasPrefix(entry.cell.name + " "))
            #expect(row.contains(entry.summary) && row.contains(entry.paper))
        }
        #expect(run.lines.dropFirst().map { String($0.prefix { $0 != " " }) } == ["rnn", "lstm", "gru", "gru_reset_before"])
    }

    @Test func lstmInLatexHasTheFourGatesAndBothStates() throws {
        let run = try CommandLineTool.run(["show", "lstm", "--format", "latex"])
        #expect(run.status == 0)
        #expect(run.lines == [
            #"i = \sigma\left(W_{ii} x + b_{ii} + W_{hi} h + b_{hi}\right)"#,
            #"f = \sigma\left(W_{if} x + b_{if} + W_{hf} h + b_{hf}\right)"#,
            #"g = \tanh\left(W_{ig} x + b_{ig} + W_{hg} h + b_{hg}\right)"#,
            #"o = \sigma\left(W_{io} x + b_{io} + W_{ho} h + b_{ho}\right)"#,
            #"c' = f \odot c + i \odot g"#,
            #"h' = o \odot \tanh\left(c'\right)"#,
        ], "\(run)")
    }

    @Test func lstmInTextIsThePapersForm() throws {
        let run = try CommandLineTool.run(["show", "lstm"])
        #expect(run.status == 0)
        #expect(run.lines.contains("f = σ(W_if x + b_if + W_hf h + b_hf)"))
        #expect(run.lines.contains("c' = f ⊙ c + i ⊙ g"))
        #expect(run.lines.contains("h' = o ⊙ tanh(c')"))
    }

    @Test func theTwoGRUFormsDifferWhereTheResetGateActs() throws {
        let after = try CommandLineTool.run(["show", "gru"]), before = try CommandLineTool.run(["show", "gru_reset_before"])
        #expect(after.lines.contains("n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))"), "\(after)")
        #expect(before.lines.contains("n = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)"), "\(before)")
        #expect(after.lines.contains("h' = (1 − z) ⊙ n + z ⊙ h"))
    }

    @Test func explainFollowsEachEquationWithItsRole() throws {
        let run = try CommandLineTool.run(["show", "gru", "--explain"])
        #expect(run.status == 0)
        let explanations = GRU(form: .resetAfter).explanations
        let lines = run.lines
        #expect(lines.count == 8, "4 equations, each with one explanation line: \(run)")
        for k in stride(from: 0, to: lines.count - 1, by: 2) {
            let name = String(lines[k].prefix { $0 != " " })
            #expect(!lines[k].hasPrefix(" "))
            #expect(lines[k + 1] == "    " + (explanations[name] ?? "?"), "explanation of \(name)")
        }
    }

    @Test func dotFormatIsAGraphvizDigraph() throws {
        let run = try CommandLineTool.run(["show", "rnn", "--format", "dot"])
        #expect(run.status == 0)
        #expect(run.stdout.hasPrefix("digraph step {"))
        #expect(run.stdout.contains("label=\"W_hh\"") && run.stdout.contains("tanh"))
    }

    @Test func unknownCellNamesTheValidOnes() throws {
        let run = try CommandLineTool.run(["show", "transformer"])
        expectOneLineError(run, mentions: ["transformer"] + BuiltinCells.names)
        #expect(run.stdout.isEmpty)
    }

    @Test func aMistypedCellNameGetsASuggestion() throws {
        expectOneLineError(try CommandLineTool.run(["show", "lstmm"]), mentions: ["lstmm", "did you mean 'lstm'?"])
        expectOneLineError(try CommandLineTool.run(["weights", "init", "--cell", "gru_reset_befor", "--input", "3", "--hidden", "4",
                                                    "--output", "/nonexistent/w.json"]),
                           mentions: ["gru_reset_befor", "did you mean 'gru_reset_before'?"])
    }

    @Test(arguments: [["show"], ["show", "lstm", "--all"], ["show", "lstm", "--format", "dot", "--explain"],
                      ["show", "lstm", "--format", "html"], ["show", "--all", "--markdown", "--format", "text"]])
    func badShowArgumentsAreOneLineErrors(_ arguments: [String]) throws {
        expectOneLineError(try CommandLineTool.run(arguments))
    }

    @Test func demoPrintsEquationsATableAndAVerdict() throws {
        let run = try CommandLineTool.run(["demo"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("c' = f ⊙ c + i ⊙ g"))
        #expect(run.lines.contains { $0.hasPrefix("tensor") && $0.contains("worst rel err") })
        #expect(run.lines.contains { $0.hasPrefix("passed: 18 tensor(s)") })
        #expect(run.lines.last?.hasPrefix("verdict: PASS") == true, "\(run)")
    }
}
