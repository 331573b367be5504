import Foundation
import Testing

@Suite("gatelab with cell files: show, gradcheck, and their errors")
struct LanguageCommandTests {
    @Test func showPrintsTheFilesEquationsFromTheGraph() throws {
        let run = try CommandLineTool.run(["show", "Cells/mgu.cell"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines == ["f = σ(W_f x + U_f h + b_f)", "hc = tanh(W_h x + U_h (f ⊙ h) + b_h)", "h' = (1 − f) ⊙ h + f ⊙ hc"])
        let latex = try CommandLineTool.run(["show", "Cells/lstm-depth-gated.cell", "--format", "latex"])
        #expect(latex.status == 0, "\(latex)")
        #expect(latex.lines.contains("c' = d \\odot c_{below}' + f \\odot c + i \\odot g"), "\(latex)")
        let explained = try CommandLineTool.run(["show", "Cells/indrnn.cell", "--explain"])
        #expect(explained.lines == ["h' = relu(W x + u ⊙ h + b)", "    each unit recurs only on itself"], "\(explained)")
    }

    @Test func theLSTMFilePrintsLikeTheBuiltInLSTM() throws {
        for format in ["text", "latex"] {
            let file = try CommandLineTool.run(["show", "Cells/lstm.cell", "--format", format])
            let builtin = try CommandLineTool.run(["show", "lstm", "--format", format])
            #expect(file.status == 0 && file.stdout == builtin.stdout, "\(file)\n\(builtin)")
        }
    }

    @Test func gradcheckPassesOnAFileAndOnTwoLayersOfTheDepthGatedLSTM() throws {
        let run = try CommandLineTool.run(["gradcheck", "--cell", "Cells/janet.cell"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.first?.hasPrefix("gradcheck Cells/janet.cell: I = 3, H = 4, B = 2, T = 20, L = 1") == true, "\(run)")
        #expect(run.lines.contains { $0.hasPrefix("passed: 7 tensor(s)") }, "6 parameters and h0: \(run)")
        let deep = try CommandLineTool.run(["gradcheck", "--cell", "Cells/lstm-depth-gated.cell", "--layers", "2"])
        #expect(deep.status == 0, "\(deep)")
        #expect(deep.lines.contains { $0.hasPrefix("w_ld.l1 ") } && deep.lines.contains { $0.hasPrefix("passed: 42 tensor(s)") }, "\(deep)")
    }

    @Test func aMistakeInAFileIsOneLineWithFileLineAndColumnAndExitCodeTwo() throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("typo.cell", "state h\nh' = tanh(W x + U hh)\n")
        for arguments in [["show", path], ["gradcheck", "--cell", path], ["show", path, "--format", "latex"]] {
            let run = try CommandLineTool.run(arguments)
            expectOneLineError(run, mentions: ["\(path):2:19: unknown name 'hh'", "did you mean 'h'?"])
            #expect(run.stderr.hasPrefix("error: \(path):2:19: "), "\(run)")
            #expect(!run.stderr.contains("--help"), "a file's mistake needs no usage hint: \(run)")
            #expect(run.stdout.isEmpty)
        }
        let cycle = try dir.write("cycle.cell", "state h\nh' = f * h\nf = sigmoid(W x + g)\ng = tanh(U f)\n")
        expectOneLineError(try CommandLineTool.run(["show", cycle]), mentions: ["\(cycle):3:1: cycle within a step: f → g → f"])
        let binary = dir.path("binary.cell")
        try Data([0x00, 0xFF, 0xFE, 0x41]).write(to: URL(fileURLWithPath: binary))
        expectOneLineError(try CommandLineTool.run(["gradcheck", "--cell", binary]), mentions: ["not UTF-8 text"])
    }

    @Test func unknownNamesAndMissingFilesAreOneLineErrors() throws {
        expectOneLineError(try CommandLineTool.run(["show", "mgu"]), mentions: ["unknown cell 'mgu'", "rnn", "lstm", "gru", ".cell file"])
        expectOneLineError(try CommandLineTool.run(["gradcheck", "--cell", "Cells/nosuch.cell"]), mentions: ["Cells/nosuch.cell: no such cell file"])
        expectOneLineError(try CommandLineTool.run(["show", "Cells"]), mentions: ["Cells: a directory, not a cell file"])
    }

    @Test func cellFilesSaveByTheirParameterNames() throws {
        let dir = try TemporaryDirectory()
        for ext in ["json", "npz", "safetensors"] {
            let path = dir.path("mgu.\(ext)")
            let run = try CommandLineTool.run(["weights", "init", "--cell", "Cells/mgu.cell", "--input", "2", "--hidden", "3", "--layers", "2", "--output", path])
            #expect(run.status == 0, "\(run)")
            let check = try CommandLineTool.run(["weights", "check", path])
            #expect(check.status == 0, "\(check)")
            #expect(check.stdout.contains("W_f_l0") && check.stdout.contains("U_h_l1") && check.stdout.contains("cell_sha256"), "\(check)")
        }
    }
}
