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

    /// Throws for the first key of `t` (sorted) not in `allowed`.
    /// - Parameter suggest: ` (did you mean 'steps'?)` for an unknown key among the allowed
    ///   ones (the kinds pass CellLanguage's `didYouMean`; this module does not depend on it).
    public func checkKeys(_ t: TOMLTable, path: String, allowed: [String], suggest: (String, [String]) -> String = { _, _ in "" }) throws {
        for key in t.keys.sorted() where !allowed.contains(key) {
            let p = path.isEmpty ? key : "\(path).\(key)"
            throw error(p, "unknown key '\(key)'\(suggest(key, allowed)); valid keys here: \(allowed.joined(separator: ", "))")
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
