import Foundation
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

    /// Throws for the first key of `t` (sorted) not in `allowed`.
    public func checkKeys(_ t: TOMLTable, path: String, allowed: [String]) throws {
        for key in t.keys.sorted() where !allowed.contains(key) {
            let p = path.isEmpty ? key : "\(path).\(key)"
            throw error(p, "unknown key '\(key)'; valid keys here: \(allowed.joined(separator: ", "))")
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
