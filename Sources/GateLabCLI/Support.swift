import ArgumentParser
import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
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
