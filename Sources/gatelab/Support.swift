import ArgumentParser
import Autodiff
import CellLanguage
import Cells
import Foundation

/// Looks cells up by command-line name or cell-file path, with a message listing the valid ones.
enum CellLookup {
    /// The cell `nameOrPath` names: a built-in cell (aliases such as `rnn_tanh` included),
    /// else the cell file at that path (`BuiltinCells.resolve`).
    /// - Throws: `ValidationError` naming the valid cells for an unknown name;
    ///   `CellFileError` (`FILE:LINE:COL: …`) for a cell file that cannot be read or has a
    ///   mistake.
    static func cell(_ nameOrPath: String) throws -> any RecurrentCell {
        do { return try BuiltinCells.resolve(nameOrPath) } catch let e as UnknownCellError {
            throw ValidationError(e.message)
        }
    }

    /// Checks, while the arguments are validated, that `nameOrPath` is a built-in name or an
    /// existing file; the file itself is read by `cell(_:)` when the command runs, so that its
    /// mistakes are reported as `error: FILE:LINE:COL: …` without a usage hint.
    static func validate(_ nameOrPath: String) throws {
        if BuiltinCells.builtin(nameOrPath) != nil || FileManager.default.fileExists(atPath: nameOrPath) { return }
        _ = try cell(nameOrPath)   // throws the right message
    }

    /// The built-in cell `name` names, refusing cell files.
    /// - Parameter purpose: what needs a built-in cell, for the message.
    /// - Throws: `ValidationError` for anything else.
    static func builtinCell(_ name: String, for purpose: String) throws -> any RecurrentCell {
        guard let cell = BuiltinCells.builtin(name) else {
            throw ValidationError("\(purpose) needs a built-in cell (\(BuiltinCells.names.joined(separator: ", "))), not '\(name)'"
                                  + BuiltinCells.suggestion(for: name))
        }
        return cell
    }
}

/// One step of a cell recorded on a fresh graph as `Unrolled` records a layer — input `x`,
/// state leaves named by `stateNames`, parameters by their spec names — so the printed
/// equations are the ones the engine differentiates, not a stored string. The layer below's
/// new state is given as leaves named `h_below'`, `c_below'`, …: a cell that reads it (the
/// depth-gated LSTM) prints the equations of a layer above the first (layer 0 reads zeros
/// there); the other cells ignore those leaves and print exactly their layer 0.
struct StepGraph {
    /// The graph.
    let graph: Graph
    /// The new state, in the cell's `stateNames` order.
    let newState: [Value]
    /// The cell.
    let cell: any RecurrentCell

    /// Records one step of `cell` (sizes do not appear in the equations; small ones suffice).
    init(cell: any RecurrentCell, inputSize: Int = 2, hiddenSize: Int = 2) throws {
        let g = Graph()
        let x = g.input("x", rows: 1, cols: inputSize)
        let state = cell.stateNames.map { g.input($0, rows: 1, cols: hiddenSize) }
        let below = cell.stateNames.map { g.input($0 + "_below'", rows: 1, cols: hiddenSize) }
        let p = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: inputSize, hiddenSize: hiddenSize).map {
            ($0.name, g.parameter($0.name, rows: $0.rows, cols: $0.cols))
        })
        newState = cell.step(x: x, state: state, below: below, Parameters(p))
        try g.validate()
        graph = g
        self.cell = cell
    }

    /// The equations in `format` (text or LaTeX), each with the graph's own name of the value
    /// it defines (for looking up `explanations`; LaTeX rewrites `W_ii` as `W_{ii}`).
    func equations(_ format: EquationPrinter.Format) -> [(name: String, line: String)] {
        let names = EquationPrinter(graph: graph, format: .text).equations(for: newState).map(\.name)
        let printed = EquationPrinter(graph: graph, format: format).equations(for: newState)
        return zip(names, printed).map { ($0, $1.line) }
    }

    /// The whole printout in `format`; with `explain`, each equation is followed by one
    /// indented line with the cell's explanation of it (a `%` comment in LaTeX).
    func render(_ format: EquationPrinter.Format, explain: Bool = false) -> String {
        if format == .dot { return EquationPrinter(graph: graph, format: .dot).render(newState) }
        return equations(format).flatMap { name, line -> [String] in
            guard explain, let why = cell.explanations[name] else { return [line] }
            return [line, "    " + (format == .latex ? "% " : "") + why]
        }.joined(separator: "\n")
    }
}

/// An aligned plain-text table: columns separated by two spaces, numeric columns (given by
/// index) right-aligned, trailing blanks trimmed.
func alignedTable(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
    guard let first = rows.first else { return "" }
    let widths = first.indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
    return rows.map { row in
        row.indices.map { c in
            let pad = String(repeating: " ", count: widths[c] - row[c].count)
            return rightAligned.contains(c) ? pad + row[c] : row[c] + pad
        }.joined(separator: "  ").replacingOccurrences(of: "\\s+$", with: "", options: .regularExpression)
    }.joined(separator: "\n")
}

/// `x` in the short scientific form the reports use (`3.14e-15`).
func scientific(_ x: Double) -> String { String(format: "%.2e", x) }

/// `"1 file"`, `"3 files"`.
func plural(_ n: Int, _ noun: String) -> String { "\(n) \(noun)" + (n == 1 ? "" : "s") }

/// The options among `options` the user typed (`--hidden 4` or `--hidden=4`). Options with
/// defaults cannot tell a typed value from their default, so the command line itself is read.
func typedOptions(_ options: [String]) -> [String] {
    let typed = CommandLine.arguments.dropFirst()
    return options.filter { option in typed.contains { $0 == option || $0.hasPrefix(option + "=") } }
}

/// Warns (one line on stderr) for each of `options` the user typed although it has no effect
/// here — `because` says why (e.g. "--weights gives the sizes").
func warnIneffective(_ options: [String], because reason: String) {
    for option in typedOptions(options) { warn("\(option) has no effect: \(reason)") }
}

/// Refuses the options among `options` the user typed although they would have no effect
/// `reason` ("with --case: the file gives …"): an option silently ignored looks like one
/// that was used.
func refuseIneffective(_ options: [String], _ reason: String) throws {
    let typed = typedOptions(options)
    guard typed.isEmpty else {
        throw ValidationError("\(typed.joined(separator: ", ")) \(typed.count == 1 ? "has" : "have") no effect \(reason); drop \(typed.count == 1 ? "it" : "them")")
    }
}
