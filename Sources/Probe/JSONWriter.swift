import Cells
import Foundation
import Interchange

/// JSON written with keys in a fixed order and every number in Swift's shortest
/// round-tripping form, so the same result always gives the same bytes (Foundation's
/// `JSONSerialization` neither keeps key order nor prints doubles reproducibly on Linux).
/// Non-finite numbers become `null` (for log norms: −∞, a gradient that is exactly zero).
public indirect enum OrderedJSON: Equatable {
    /// `null`.
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A number (non-finite: `null`).
    case number(Double)
    /// An integer, printed without a decimal point.
    case integer(Int)
    /// A string, escaped.
    case string(String)
    /// An array.
    case array([OrderedJSON])
    /// An object, keys in the given order.
    case object([(String, OrderedJSON)])

    /// The value on one line, no spaces.
    public var text: String {
        var out = ""
        write(into: &out)
        return out
    }

    /// An optional number (nil: `null`).
    public static func number(_ x: Double?) -> OrderedJSON { x.map { .number($0) } ?? .null }
    /// An optional integer (nil: `null`).
    public static func integer(_ x: Int?) -> OrderedJSON { x.map { .integer($0) } ?? .null }
    /// An array of numbers.
    public static func numbers(_ xs: [Double]) -> OrderedJSON { .array(xs.map { .number($0) }) }

    private func write(into out: inout String) {
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .number(let x): out += x.isFinite ? x.description : "null"
        case .integer(let i): out += String(i)
        case .string(let s): out += Self.quoted(s)
        case .array(let a):
            out += "["
            for (i, v) in a.enumerated() { if i > 0 { out += "," }; v.write(into: &out) }
            out += "]"
        case .object(let o):
            out += "{"
            for (i, (k, v)) in o.enumerated() { if i > 0 { out += "," }; out += Self.quoted(k) + ":"; v.write(into: &out) }
            out += "}"
        }
    }

    /// `s` as a JSON string literal.
    static func quoted(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20: out += String(format: "\\u%04x", u.value)
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    public static func == (a: OrderedJSON, b: OrderedJSON) -> Bool { a.text == b.text }
}

/// A number for people and file names: integers without a decimal point (`1`, `10000`),
/// everything else in Swift's shortest round-tripping form (`0.9`, `1e-05`).
public func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int(x)) }
    return x.description
}

/// Typed access to a parsed JSON object (`Cells.JSONValue`), for reading stored results.
struct JSONFields {
    let dict: [String: JSONValue]
    let context: String

    init(_ value: JSONValue?, context: String) throws {
        guard case .object(let d)? = value else { throw ProbeError.invalidConfiguration("\(context): expected a JSON object") }
        dict = d
        self.context = context
    }

    func number(_ key: String) throws -> Double? {
        switch dict[key] {
        case .number(let x)?: return x
        case .null?, nil: return nil
        default: throw ProbeError.invalidConfiguration("\(context): '\(key)' is not a number")
        }
    }

    func string(_ key: String) throws -> String {
        guard case .string(let s)? = dict[key] else { throw ProbeError.invalidConfiguration("\(context): '\(key)' is not a string") }
        return s
    }

    func array(_ key: String) throws -> [JSONValue] {
        guard case .array(let a)? = dict[key] else { throw ProbeError.invalidConfiguration("\(context): '\(key)' is not an array") }
        return a
    }

    /// An array of numbers where `null` stands for −∞ (log10 of an exactly zero norm).
    func logCurve(_ key: String) throws -> [Double] {
        try Self.logCurve(try array(key), context: "\(context).\(key)")
    }

    /// The numbers of `values`, `null` read as −∞.
    static func logCurve(_ values: [JSONValue], context: String) throws -> [Double] {
        try values.map {
            switch $0 {
            case .number(let x): return x
            case .null: return -.infinity
            default: throw ProbeError.invalidConfiguration("\(context): expected numbers")
            }
        }
    }

    /// The arrays of numbers in `key` (an array of arrays), `null` read as −∞.
    func logCurves(_ key: String) throws -> [[Double]] {
        try array(key).map {
            guard case .array(let a) = $0 else { throw ProbeError.invalidConfiguration("\(context).\(key): expected arrays") }
            return try Self.logCurve(a, context: "\(context).\(key)")
        }
    }

    func object(_ key: String) throws -> JSONFields { try JSONFields(dict[key], context: "\(context).\(key)") }
}
