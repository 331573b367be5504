import Foundation
import GateLabSupport
import TOMLKit

/// An experiment file (`Experiments/*.toml`) of kind `Kind`, read and validated completely
/// before anything runs.
///
/// ```toml
/// name = "vanishing-gradients"   # required: names the output folder Notes/<name>/
/// kind = "probe"                 # required: "probe", "train", "reproduction" or "study" (see ExperimentKinds)
/// description = "…"              # optional, quoted in the report
///
/// [defaults]                     # optional: values for every [[grid]] block
/// steps = [100, 1000, 10000]     # every key takes one value or a list (a grid axis)
/// seeds = 5                      # seeds 1…5; or a list, seeds = [1, 2, 3]
///
/// [[grid]]                       # one Cartesian product; the experiment is the union of blocks
/// cell = "rnn"
///
/// [quick]                        # optional: what `--quick` overrides (same keys)
/// steps = [100]
/// description = "…"              # optional: the quick report's description (else the
///                                # full one, introduced as the full experiment's)
///
/// [output]                       # optional
/// dir = "Notes/vanishing-gradients"   # default Notes/<name> (Notes/<name>-quick with --quick)
/// figures = true                 # draw figures with gnuplot (default true)
/// ```
///
/// The keys of `[defaults]`, `[[grid]]` and `[quick]` are the kind's (`Kind.grid`); the
/// length and the seeds are `steps` and `seeds` in every kind. Every error names the file,
/// the line and the key.
public struct Experiment<Kind: ExperimentKind> {
    /// The definition file.
    public var file: String
    /// `name`.
    public var name: String
    /// `kind`.
    public var kind: String
    /// `description`, if given.
    public var description: String?
    /// `[quick] description`, if given: what a `--quick` report says instead of
    /// `description` (which describes the full grid's lengths and seeds).
    public var quickDescription: String?
    /// `[output] dir`, if given.
    public var outputDirectory: String?
    /// `[output] figures` (default true).
    public var figures: Bool
    /// The full grid, in file order.
    public var points: [Kind.Point]
    /// The grid `--quick` runs.
    public var quickPoints: [Kind.Point]

    /// The grid for `quick`.
    public func points(quick: Bool) -> [Kind.Point] { quick ? quickPoints : points }

    /// The output folder: `[output] dir`, else `Notes/<name>`; with `quick`, `-quick` is appended.
    public func outputDirectory(quick: Bool) -> String {
        (outputDirectory ?? "Notes/\(name)") + (quick ? "-quick" : "")
    }

    /// Reads and validates `path`.
    /// - Throws: `ExperimentError.file` (file, line when known, key path, message).
    public init(contentsOf path: String) throws {
        try self.init(source: try ExperimentHeader.source(of: path), file: path)
    }

    /// Validates TOML `source` (named `file` in messages).
    /// - Throws: `ExperimentError.file` for a syntax error, an unknown key, a wrong type, a
    ///   value the kind refuses, an empty grid, or a grid point listed twice.
    public init(source: String, file: String) throws {
        let r = TOMLReader(file: file, source: source)
        let table = try ExperimentHeader.table(source, reader: r)
        defer { ExperimentHeader.release(table) }
        try r.checkKeys(table, path: "", allowed: ["name", "kind", "description", "defaults", "grid", "quick", "output"])
        guard let nameValue = table["name"] else { throw r.error("name", "missing: give the experiment a name, e.g. name = \"my-experiment\"") }
        name = try r.string(nameValue, "name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
            throw r.error("name", "'\(name)' is not a usable folder name (letters, digits, '-', '_', '.')")
        }
        guard let kindValue = table["kind"] else { throw r.error("kind", "missing: this file must say kind = \"\(Kind.name)\"") }
        kind = try r.string(kindValue, "kind")
        guard kind == Kind.name else { throw r.error("kind", "unknown kind '\(kind)' here; expected kind = \"\(Kind.name)\"") }
        description = try table["description"].map { try r.string($0, "description") }

        outputDirectory = nil
        figures = true
        if let o = table["output"] {
            let t = try r.table(o, "output")
            try r.checkKeys(t, path: "output", allowed: ["dir", "figures"])
            if let d = t["dir"] {
                outputDirectory = try r.string(d, "output.dir")
                guard !outputDirectory!.isEmpty else { throw r.error("output.dir", "empty folder name") }
                do { try Files.checkOutputPath(outputDirectory!, what: "output.dir", fromFile: true) } catch let e as FileError {
                    throw r.error("output.dir", e.description.replacingOccurrences(of: "output.dir ", with: ""))
                }
            }
            if let f = t["figures"] { figures = try r.bool(f, "output.figures") }
        }
        let defaults = try table["defaults"].map { try r.table($0, "defaults") }
        let quick = try table["quick"].map { try r.table($0, "quick") }
        // `description` in [quick] is the quick report's, not a grid key: taken out before the kind reads the table.
        quickDescription = try quick?["description"].map { try r.string($0, "quick.description") }
        if quickDescription != nil { quick?.remove(at: "description") }
        guard let gridValue = table["grid"] else { throw r.error("grid", "no [[grid]] block: the grid is empty") }
        guard let blocks = gridValue.array, gridValue.type == .array else {
            throw r.error("grid", "expected [[grid]] blocks (an array of tables), got \(article(gridValue.type))")
        }
        guard !blocks.isEmpty else { throw r.error("grid", "no [[grid]] block: the grid is empty") }
        let tables = try blocks.enumerated().map { (table: try r.table($1, "grid[\($0 + 1)]"), path: "grid[\($0 + 1)]") }
        let (full, fast) = try Kind.grid(defaults: defaults, blocks: tables, quick: quick, reader: r)
        for (list, label) in [(full, ""), (fast, " (with --quick)")] {
            var seen = [String: String]()
            for p in list {
                // Every kind's ids are file names: never hidden, never a climb out of the folder.
                guard !p.id.isEmpty, !p.id.hasPrefix("."), !p.id.contains(".."), !p.id.contains("/") else {
                    throw r.error(p.origin, "grid point id '\(p.id)' is not a usable file name (empty, starts with '.', or contains '..' or '/')")
                }
                if let other = seen[p.id] {
                    throw r.error(p.origin, "grid point \(p.id) is also produced by \(other)\(label); each point must be listed once")
                }
                seen[p.id] = p.origin
            }
        }
        self.file = file
        points = full
        quickPoints = fast
    }
}

extension Experiment: AnyExperiment {
    public var noun: String { Kind.noun }
    public func pointCount(quick: Bool) -> Int { points(quick: quick).count }
    public func configurationCount(quick: Bool) -> Int { Set(points(quick: quick).map(Kind.configurationKey)).count }
    public func directory(_ options: RunOptions) -> String { ExperimentRunner(experiment: self, options: options).directory }
    public func run(_ options: RunOptions) throws -> RunOutcome { try ExperimentRunner(experiment: self, options: options).run() }
    public func merge(_ options: RunOptions, partial: Bool) throws -> MergeOutcome {
        try ExperimentRunner(experiment: self, options: options).merge(partial: partial)
    }
}

/// Reading an experiment file's text and top-level table, for every kind.
enum ExperimentHeader {
    static func source(of path: String) throws -> String {
        let data: [UInt8]
        do { data = try InputFile.bytes(path) } catch let e as InputFileError {
            throw ExperimentError.file(file: path, line: nil, keyPath: nil, message: e.reason)
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ExperimentError.file(file: path, line: nil, keyPath: nil, message: "not UTF-8 text")
        }
        return text
    }

    static func table(_ source: String, reader r: TOMLReader) throws -> TOMLTable {
        try refuseWhatTOMLKitAbortsOn(source, reader: r)
        do { return try TOMLTable(string: source) } catch let e as TOMLParseError {
            throw ExperimentError.file(file: r.file, line: e.source.begin.line, keyPath: nil, message: "not valid TOML: \(e.description)")
        }
    }

    /// Frees what toml++ parsed for `table`, once every value has been read out of it (the
    /// grid's points are Swift values; nothing keeps a TOML value). TOMLKit 0.6.0's TOMLTable
    /// never deletes its C++ table: each experiment file read kept its whole parsed tree, about
    /// 11 KB for the quickstart file — 1.2 GB after 20 minutes of fuzzing (found by FuzzTests'
    /// memory bound). Clearing it frees every node; the empty root (a few dozen bytes) stays.
    static func release(_ table: TOMLTable) { table.clear() }

    /// toml++ (under TOMLKit) refuses malformed TOML with an error, except for inputs that
    /// reach one of its internal assertions: a debug build aborts there, and a release build
    /// (where the assertion is an optimizer assumption) has undefined behaviour. Found by
    /// FuzzTests, each reached from exactly one call site in toml.hpp:
    /// - `parse_key` on a table header whose name starts with a character no key can start
    ///   with: `[=`, `[[[grid]]]`, `[[=`, `[[]]`, `[ [x]]` (marzer/tomlplusplus#301);
    /// - `parse_value` (`!is_value_terminator(*cp)`) in an array, whose loop skips spaces,
    ///   line breaks and comments and handles `,` and `]` but hands anything else to
    ///   `parse_value` unchecked: a `}` (`x = [1, }`) or a Unicode line separator (U+0085,
    ///   U+2028, U+2029) where a value should be. (A key's value is checked by toml++ itself.)
    /// This pass reads the text as toml++ does at the level of strings, comments and brackets,
    /// and refuses those inputs with the file's line. Each is invalid TOML wherever it appears
    /// (a `}` directly inside an array, a line separator outside a string or comment), so
    /// nothing valid is refused.
    static func refuseWhatTOMLKitAbortsOn(_ source: String, reader r: TOMLReader) throws {
        func refuse(_ line: Int, _ message: String) -> ExperimentError {
            .file(file: r.file, line: line, keyPath: nil, message: "not valid TOML: " + message)
        }
        let text = Array(source.unicodeScalars)
        var i = 0, line = 1
        var open = [(bracket: Unicode.Scalar, line: Int)]()   // unclosed `[` of arrays and `{` of inline tables
        var atLineStart = true                                // only spaces and tabs since the line began
        func at(_ k: Int) -> Unicode.Scalar? { k < text.count ? text[k] : nil }
        /// Skips a string opened at `i` by `quote` (one, or three for a multi-line string).
        func skipString(_ quote: Unicode.Scalar) {
            let multiLine = at(i + 1) == quote && at(i + 2) == quote
            i += multiLine ? 3 : 1
            while i < text.count {
                let c = text[i]
                if c == "\\" && quote == "\"" {   // an escape in a basic string (a line-ending one included)
                    if at(i + 1) == "\n" { line += 1 }
                    i += 2; continue
                }
                if c == "\n" { if !multiLine { return }; line += 1 }
                if c == quote {
                    if !multiLine { i += 1; return }
                    if at(i + 1) == quote && at(i + 2) == quote {
                        i += 3
                        var extra = 0   // up to two quotes may end the content just before the delimiter
                        while extra < 2 && at(i) == quote { i += 1; extra += 1 }
                        return
                    }
                }
                i += 1
            }
        }
        while i < text.count {
            let c = text[i]
            switch c {
            case "\n":
                line += 1; atLineStart = true; i += 1; continue
            case " ", "\t", "\r", "\u{FEFF}":
                i += 1; continue
            case "#":
                while i < text.count && text[i] != "\n" { i += 1 }
                continue
            case "\"", "'":
                skipString(c)
            case "[" where open.isEmpty && atLineStart:
                // A table header: its name must start as a key does. The rest of the line is
                // the header's (toml++ refuses anything after it but a comment).
                var k = i + (at(i + 1) == "[" ? 2 : 1)
                while at(k) == " " || at(k) == "\t" { k += 1 }
                let first = at(k)
                guard let first, first.isASCII, first.properties.isAlphabetic || ("0"..."9").contains(first) || "_-\"'".unicodeScalars.contains(first) else {
                    throw refuse(line, "a table header needs a table name, as in [output] or [[grid]]")
                }
                while i < text.count && text[i] != "\n" { i += 1 }
            case "[", "{":
                open.append((c, line)); i += 1
            case "]":
                if open.last?.bracket == "[" { open.removeLast() }
                i += 1
            case "}":
                if let array = open.last, array.bracket == "[" {
                    throw refuse(line, "a '}' inside the array opened on line \(array.line), where a value, ',' or ']' should be")
                }
                if !open.isEmpty { open.removeLast() }
                i += 1
            case "\u{85}", "\u{2028}", "\u{2029}":
                throw refuse(line, "a Unicode line separator (U+\(String(format: "%04X", c.value))) outside a string; TOML's line breaks are LF and CRLF")
            default:
                i += 1
            }
            atLineStart = false
        }
    }
}
