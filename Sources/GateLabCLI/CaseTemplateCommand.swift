import ArgumentParser
import GateLabCells
import Foundation
import GateLabInterchange

/// `gatelab case-template CELL`: the inputs, initial states, weights (by the cell's parameter
/// names) and loss weights of a case that the user's own implementation completes, for
/// `gatelab verify-reference --cell CELL` (`CellCase`).
struct CaseTemplateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "case-template",
        abstract: "Write a case (inputs, initial states, weights, loss weights) for checking a cell against your own code.",
        discussion: """
            Writes x [T, B, I], R [T, B, H], each state's initial value <state>0 [L, B, H] and \
            every parameter by the cell's names (layer k > 0: NAME.lk), float64, seeded. Your \
            implementation computes L = Σ_t Σ R_t ⊙ h_t from them and adds h [T, B, H], \
            <state>_last [L, B, H], loss [1] and the gradients d_NAME, d_<state>0, d_x (any of \
            them); 'gatelab verify-reference --cell CELL FILE' then compares, array by array. \
            A Python snippet that does this with PyTorch is in Notes/cell-language.md.
            """)

    @Argument(help: "The cell: a built-in name or the path of a .cell file.")
    var cell: String

    @Option(help: "Time steps (T).") var steps = 10
    @Option(help: "Sequences per batch (B).") var batch = 2
    @Option(help: "Input features (I).") var input = 3
    @Option(help: "Units per layer (H).") var hidden = 4
    @Option(help: "Stacked layers (L).") var layers = 1
    @Option(help: "Seed of the weights, inputs, initial states and R (GSL's MT19937).") var seed: UInt64 = 1

    @Option(help: "The case file to write (.npz, or .json).")
    var output: String

    func validate() throws {
        try CellLookup.validate(cell)
        for (name, value) in [("--steps", steps), ("--batch", batch), ("--input", input), ("--hidden", hidden), ("--layers", layers)] {
            guard (1...100_000).contains(value) else { throw ValidationError("\(name) must be between 1 and 100000, got \(value)") }
        }
        guard Double(steps) * Double(batch) * Double(max(input, hidden)) * Double(layers) <= 1e8,
              Double(hidden) * Double(max(input, hidden)) * Double(layers) <= 1e8 else {
            throw ValidationError("sizes too large for a case file: keep steps × batch × max(input, hidden) × layers and hidden × max(input, hidden) × layers at most 1e8")
        }
        guard ArrayArchive.Format(path: output) == .npz || ArrayArchive.Format(path: output) == .json else {
            throw ValidationError("--output \(output): write a .npz (or .json) file")
        }
    }

    func run() throws {
        let archive = try CellCase.template(cell: try CellLookup.cell(cell), cellName: cell, inputSize: input, hiddenSize: hidden,
                                            layers: layers, steps: steps, batch: batch, seed: seed)
        try archive.write(to: output)
        print("wrote \(output): \(archive.arrays.count) arrays (x, R, \(archive.arrays.count - 2) initial states and parameters) for \(cell), "
              + "T = \(steps), B = \(batch), I = \(input), H = \(hidden), L = \(layers), seed \(seed)")
    }
}

extension VerifyReferenceCommand {
    /// `--cell CELL`: cases written by `case-template` and completed by the user's code.
    func runCellCases(_ name: String) throws {
        let cell = try CellLookup.cell(name)
        var rows = [["file", "array", "elements", "error", "status"]]
        var tensors = 0, failures = 0, unreadable = 0
        for file in files {
            let agreements: [ReferenceCase.Agreement]
            do {
                agreements = try CellCase.verify(try ArrayArchive.read(file), cell: cell, file: file)
            } catch {
                let text = describe(error)
                printError(error is CaseFileError ? text : "\(file): \(text)")
                unreadable += 1
                continue
            }
            for a in agreements {
                let ok = a.error <= tolerance
                tensors += 1
                if !ok { failures += 1 }
                rows.append([file, a.key, "\(a.count)", String(format: "%.2e", a.error), ok ? "ok" : "FAIL"])
            }
        }
        if rows.count > 1 { print(alignedTable(rows, rightAligned: [2, 3])) }
        let verdict = failures > 0 ? "FAILED: \(failures) of \(tensors) arrays over \(String(format: "%.2e", tolerance))"
            : "all \(tensors) arrays within \(String(format: "%.2e", tolerance))"
        print(verdict + (unreadable > 0 ? "; \(unreadable) file(s) could not be checked (errors on stderr)" : ""))
        if unreadable > 0 { throw ExitCode(ExitStatus.cannotRun) }
        if failures > 0 { throw ExitCode(ExitStatus.checkFailed) }
    }
}
