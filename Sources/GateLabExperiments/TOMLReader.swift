import Foundation
import GateLabSupport
import TOMLKit

/// Typed reads of TOML values, each failure an `ExperimentError.file` at the value's key path.
public struct TOMLReader {
    public let file: String
    let locator: TOMLLocator

    /// A reader of `file`, whose text is `source` (for line numbers).
    public init(file: String, source: String) {
        self.file = file
        locator = TOMLLocator(source: source)
    }

    /// The error `message` at the key `path` (with its line when found).
    public func error(_ path: String, _ message: String) -> ExperimentError {
        .file(file: file, line: locator.line(of: path), keyPath: path, message: message)
    }

    /// A path given in the file (a cell file, a saved network), as seen from the working
    /// directory: relative paths are relative to the experiment file's directory
    /// (`Experiments/x.toml` and `../Cells/mgu.cell` give `Cells/mgu.cell`).
    public func path(_ given: String) -> String {
        if given.hasPrefix("/") { return given }
        let directory = (file as NSString).deletingLastPathComponent
        var parts = [String]()
        for part in (directory.isEmpty ? given : directory + "/" + given).split(separator: "/").map(String.init) {
            if part == "." { continue }
            if part == "..", let last = parts.last, last != ".." { parts.removeLast(); continue }
            parts.append(part)
        }
        return (file.hasPrefix("/") ? "/" : "") + parts.joined(separator: "/")
    }

    /// The cell-file path `given` in the file names, relative to the working directory, or an
    /// error at `keyPath` when there is no such file beside the experiment file — with a hint
    /// when `given` exists relative to the working directory (paths were read that way before).
    public func cellPath(_ given: String, at keyPath: String) throws -> String {
        let resolved = path(given)
        if FileManager.default.fileExists(atPath: resolved) || resolved == given { return resolved }
        if FileManager.default.fileExists(atPath: given) {
            let hint = (file as NSString).deletingLastPathComponent.split(separator: "/").map { _ in ".." }.joined(separator: "/")
            throw error(keyPath, "no such cell file '\(resolved)': paths in an experiment file are relative to the file"
                        + (hint.isEmpty || given.hasPrefix("/") ? "" : " (write '\(hint)/\(given)' for the file '\(given)' of the working directory)"))
        }
        return resolved
    }

    /// A table's settings as grid axes, each a list of (value, key path), for the kinds whose
    /// every key is an axis (train, reproduction). A list is an axis; `seeds = N` is the seeds
    /// 1…N; anything else is one value.
    /// - Parameters:
    ///   - t: the `[defaults]`, `[[grid]]` or `[quick]` table.
    ///   - path: its key path (`grid[2]`), for messages.
    ///   - keys: the kind's keys.
    ///   - aliases: other accepted names, each mapped to its key of `keys`.
    ///   - ignoring: keys read elsewhere (not axes).
    ///   - unknown: the message for an unknown key (its "did you mean" and valid keys).
    public func axes(_ t: TOMLTable, _ path: String, keys: [String], aliases: [String: String] = [:],
                     ignoring: Set<String> = [], unknown: (String) -> String) throws -> [String: [(TOMLValueConvertible, String)]] {
        var out = [String: [(TOMLValueConvertible, String)]]()
        for key in t.keys.sorted() where !ignoring.contains(key) {
            let p = "\(path).\(key)"
            guard let name = keys.contains(key) ? key : aliases[key] else { throw error(p, unknown(key)) }
            guard out[name] == nil else { throw error(p, "'\(key)' and another name of '\(name)' are both given") }
            let v = t[key]!
            var values: [(TOMLValueConvertible, String)]
            if v.type == .array, let a = v.array {
                values = a.enumerated().map { ($1, "\(p)[\($0 + 1)]") }
            } else if name == "seeds", key == "seeds", v.type == .int, let n = v.int {
                // seeds = N: the seeds 1…N.
                guard (1...100_000).contains(n) else { throw error(p, "must be between 1 and 100000, got \(n)") }
                values = (1...n).map { ($0, p) }
            } else {
                values = [(v, p)]
            }
            guard !values.isEmpty else { throw error(p, "empty list: the grid would have no points") }
            // A value listed twice would be a point listed twice.
            var seen = [SettingValue]()
            for (value, place) in values {
                guard let v = try? SettingValue(toml: value) else { continue }
                if seen.contains(v) { throw error(place, "\(v.text) is listed twice") }
                seen.append(v)
            }
            out[name] = values
        }
        return out
    }

    /// The most grid points one `[[grid]]` block may expand to (the shipped experiments have
    /// at most 270 in all; each point is validated, about 0.2 ms in a debug build). A block's size is the
    /// product of its lists' lengths, worked out before expanding: steps 1…1000 × hidden
    /// 1…1000 × 1000 seeds took 8.8 GB in `--dry-run` before this bound.
    public static let largestGrid = 10_000

    /// Throws, naming the size, when a block whose axes have `lengths` values each would
    /// expand to more than `largestGrid` points.
    public func checkGridSize(_ lengths: [Int], _ path: String) throws {
        var total = 1
        for n in lengths {
            let (p, overflow) = total.multipliedReportingOverflow(by: max(n, 1))
            guard !overflow, p <= Self.largestGrid else {
                let size = lengths.filter { $0 > 1 }.map(String.init).joined(separator: " × ")
                throw error(path, "the grid has \(size) = \(String(format: "%.0f", lengths.reduce(1.0) { $0 * Double(max($1, 1)) })) points, "
                            + "more than the \(Self.largestGrid) a block may have; split it into several files")
            }
            total = p
        }
    }

    /// Throws for the first key of `t` (sorted) not in `allowed`, with ` (did you mean
    /// 'steps'?)` when one of them is close (`didYouMean`).
    public func checkKeys(_ t: TOMLTable, path: String, allowed: [String]) throws {
        for key in t.keys.sorted() where !allowed.contains(key) {
            let p = path.isEmpty ? key : "\(path).\(key)"
            throw error(p, "unknown key '\(key)'\(didYouMean(key, among: allowed)); valid keys here: \(allowed.joined(separator: ", "))")
        }
    }

    /// A table, else an error at `path`.
    public func table(_ v: TOMLValueConvertible, _ path: String) throws -> TOMLTable {
        guard v.type == .table, let t = v.table else { throw error(path, "expected a table, got \(article(v.type))") }
        return t
    }

    /// A string, else an error at `path`.
    public func string(_ v: TOMLValueConvertible, _ path: String) throws -> String {
        guard v.type == .string, let s = v.string else { throw error(path, "expected a string, got \(article(v.type))") }
        return s
    }

    /// An integer, else an error at `path`.
    public func int(_ v: TOMLValueConvertible, _ path: String) throws -> Int {
        guard v.type == .int, let n = v.int else { throw error(path, "expected an integer, got \(article(v.type))") }
        return n
    }

    /// A number (an integer is accepted), else an error at `path`.
    public func number(_ v: TOMLValueConvertible, _ path: String) throws -> Double {
        if v.type == .int, let n = v.int { return Double(n) }
        guard v.type == .double, let x = v.double else { throw error(path, "expected a number, got \(article(v.type))") }
        return x
    }

    /// A boolean, else an error at `path`.
    public func bool(_ v: TOMLValueConvertible, _ path: String) throws -> Bool {
        guard v.type == .bool, let b = v.bool else { throw error(path, "expected true or false, got \(article(v.type))") }
        return b
    }
}

/// "an integer", "a string", … for messages.
public func article(_ type: TOMLType) -> String {
    let name = type.description
    return ("aeiou".contains(name.first ?? "x") ? "an " : "a ") + name
}
