import GateLabCells
import Foundation
import GateLabSupport

// Resolving a cell by name *or path* lives here, not in `Cells`: a path means a cell file,
// and compiling one needs this module, which itself builds on `Cells`. The built-in table
// (`BuiltinCells` in `Cells`) knows nothing of files; this extension sees both, so the
// dependency runs one way (CellLanguage → Cells) and there is no cycle. Every caller that
// accepts a name or a path (the command line, experiment files, training) imports this module.

/// A name that is neither a built-in cell nor a cell file.
public struct UnknownCellError: Error, Equatable, CustomStringConvertible {
    /// The name given.
    public var name: String
    /// An error about `name`.
    public init(name: String) { self.name = name }
    /// ` (did you mean 'lstm'?)` when a built-in name or alias is close to `name`, else "".
    public var suggestion: String { BuiltinCells.suggestion(for: name) }
    /// The message with the suggestion after the name, as the command line prints it:
    /// `unknown cell 'lstmm' (did you mean 'lstm'?); valid cells: …`.
    public var message: String {
        "unknown cell '\(name)'\(suggestion); valid cells: \(BuiltinCells.names.joined(separator: ", ")), or the path of a .cell file"
    }
    /// The message without the suggestion (the settings tables quote `message`).
    public var description: String {
        "unknown cell '\(name)'; valid cells: \(BuiltinCells.names.joined(separator: ", ")), or the path of a .cell file"
    }
}

extension BuiltinCells {
    /// ` (did you mean 'lstm'?)` when a built-in cell's name or alias is an edit or two away
    /// from `name` (the cell language's suggestion rule); "" otherwise.
    public static func suggestion(for name: String) -> String {
        didYouMean(name.lowercased(), among: all.flatMap(\.names))
    }

    /// The cell `nameOrPath` names — a built-in cell, else a readable cell file (see
    /// `resolve(_:)`, which says why when neither works) — or nil.
    public static func named(_ nameOrPath: String) -> (any RecurrentCell)? {
        try? resolve(nameOrPath)
    }

    /// The cell `nameOrPath` names: a built-in cell (`lstm`, `gru`, …, aliases included)
    /// first, else the cell file at that path.
    /// - Throws: `CellFileError` when the file cannot be read or has a mistake (one line with
    ///   file, line and column); `UnknownCellError` when it is neither a built-in name nor an
    ///   existing file.
    public static func resolve(_ nameOrPath: String) throws -> any RecurrentCell {
        if let cell = builtin(nameOrPath) { return cell }
        guard FileManager.default.fileExists(atPath: nameOrPath) else {
            // A path-like name that does not exist is reported as a missing file.
            if nameOrPath.contains("/") || nameOrPath.hasSuffix(".cell") {
                throw CellFileError(file: nameOrPath, position: nil, kind: .unreadable, message: "no such cell file")
            }
            throw UnknownCellError(name: nameOrPath)
        }
        return try LanguageCell(contentsOfFile: nameOrPath)
    }
}

/// The names cells go by in ids, labels and reports: a cell file's declared name, never its
/// path (a path such as `../cells/x.cell` made ids that start with `..`, hidden from `ls` and
/// from Python's `glob("*")`).
public enum CellLabels {
    /// The label of one cell: a built-in cell's name as given (so the ids of built-in cells
    /// stay as they were); a cell file's declared name (`cell NAME`; the file's base name when
    /// it has no `cell` line) — with `-file` appended when that name is a built-in cell's, which
    /// a file's cell may never pass for. The name of a file that cannot be read is "cell".
    public static func label(_ nameOrPath: String) -> String {
        unique([nameOrPath])[nameOrPath]!
    }

    /// The labels of the cells `cells` (names or paths, in grid order; repeats allowed), each
    /// distinct cell's unique among them: built-in cells keep their names; a cell file takes
    /// its declared name (`NAME-file` when it is a built-in cell's name or alias) unless a file
    /// listed before it has it, and then the first free one of `NAME-2`, `NAME-3`, ….
    public static func unique(_ cells: [String]) -> [String: String] {
        var labels = [String: String]()
        var taken = Set(BuiltinCells.all.flatMap(\.names))
        for c in cells where labels[c] == nil && BuiltinCells.builtin(c) != nil {
            labels[c] = c
            taken.insert(c.lowercased())
        }
        for c in cells where labels[c] == nil {
            var declared = (try? LanguageCell(contentsOfFile: c))?.declaredName ?? "cell"
            if BuiltinCells.entry(declared) != nil { declared += "-file" }
            var label = declared, n = 1
            while taken.contains(label.lowercased()) {
                n += 1
                label = "\(declared)-\(n)"
            }
            labels[c] = label
            taken.insert(label.lowercased())
        }
        return labels
    }
}
