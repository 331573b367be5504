import Foundation
import TOMLKit

/// An experiment file (`Experiments/*.toml`) of kind `Kind`, read and validated completely
/// before anything runs.
///
/// ```toml
/// name = "vanishing-gradients"   # required: names the output folder Notes/<name>/
/// kind = "probe"                 # required: "probe" or "train" (see ExperimentKinds)
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
                do { try Files.checkOutputPath(outputDirectory!, what: "output.dir", fromFile: true) } catch let e as ExperimentError {
                    throw r.error("output.dir", e.description.replacingOccurrences(of: "output.dir ", with: ""))
                }
            }
            if let f = t["figures"] { figures = try r.bool(f, "output.figures") }
        }
        let defaults = try table["defaults"].map { try r.table($0, "defaults") }
        let quick = try table["quick"].map { try r.table($0, "quick") }
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
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentError.file(file: path, line: nil, keyPath: nil, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExperimentError.file(file: path, line: nil, keyPath: nil, message: "not UTF-8 text")
        }
        return text
    }

    static func table(_ source: String, reader r: TOMLReader) throws -> TOMLTable {
        try refuseHeadersTOMLKitAbortsOn(source, reader: r)
        do { return try TOMLTable(string: source) } catch let e as TOMLParseError {
            throw ExperimentError.file(file: r.file, line: e.source.begin.line, keyPath: nil, message: "not valid TOML: \(e.description)")
        }
    }

    /// toml++ (under TOMLKit) aborts the process, by a failed assertion in `parse_key`, on a
    /// table header whose key starts with a character no key can start with — `[=`,
    /// `[[[grid]]]`, `[[=`, `[[]]` (marzer/tomlplusplus#301; found by FuzzTests). Such a line
    /// is refused here with the file's line, before toml++ sees it. (A line of a multi-line
    /// array that starts with such a bracket, e.g. `[{`, is refused too; write that array on
    /// its key's line.)
    static func refuseHeadersTOMLKitAbortsOn(_ source: String, reader r: TOMLReader) throws {
        for (index, line) in source.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let text = line.drop { $0 == " " || $0 == "\t" }
            guard text.hasPrefix("[") else { continue }
            let rest = text.dropFirst(text.hasPrefix("[[") ? 2 : 1).drop { $0 == " " || $0 == "\t" }
            let ok = rest.first.map { $0.isASCII && ($0.isLetter || $0.isNumber || "_-\"'".contains($0)) } ?? false
            if !ok {
                throw ExperimentError.file(file: r.file, line: index + 1, keyPath: nil,
                                           message: "not valid TOML: a table header needs a table name, as in [output] or [[grid]]")
            }
        }
    }
}
