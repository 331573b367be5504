import Foundation

/// A JSON value of any shape: what the interchange files (reference cases, weights, bench
/// configurations) are read into before their keys are checked one by one (`JSONReader`), and
/// what weights files are built from before they are written.
///
/// Reading and writing go through Foundation's `JSONDecoder` and `JSONEncoder` (`Codable`),
/// the project's one serializer: on this Swift (6.3.1) both round-trip every float64 exactly,
/// so weights and reference numbers read back bit-identical. (`JSONSerialization` does not
/// round correctly on Linux; do not use it here.)
public enum JSONValue: Equatable, Sendable, Codable {
    case null
    case bool(Bool)
    case number(Double)
    case string(String)
    /// An array; arrays of arrays of numbers are the tensors (see `JSONReader.numbers`).
    case array([JSONValue])
    case object([String: JSONValue])

    /// Parses JSON text.
    /// - Throws: `JSONParseError` when the text is not JSON.
    public init(parsing text: String) throws {
        try self.init(data: Data(text.utf8))
    }

    /// Parses JSON bytes (UTF-8). An object that holds one key twice is refused: JSON leaves
    /// it undefined, and readers differ on which value wins (Python's `json` keeps the last).
    /// - Throws: `JSONParseError` when the bytes are not JSON, with `duplicateKey` set for a
    ///   key held twice by one object.
    public init(data: Data) throws {
        do { self = try JSONDecoder().decode(JSONValue.self, from: data) } catch let error as DecodingError {
            throw JSONParseError(message: Self.describe(error))
        }
        if let key = Self.firstDuplicateKey(data) {
            throw JSONParseError(message: "key '\(key)' appears more than once in one object", duplicateKey: key)
        }
    }

    /// The first key that one object of valid JSON text holds twice, or nil. A single pass over
    /// the bytes that tracks only objects, arrays and strings (the decoder has already checked
    /// the syntax); keys are compared as the decoder reads them, escapes resolved.
    static func firstDuplicateKey(_ data: Data) -> String? {
        // One entry per open object or array; the key sets of the open objects beside them
        // (mutated in place, so a wide object costs no copies).
        var isObject = [Bool](), expectingKey = [Bool](), keys = [Set<String>]()
        return data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> String? in
            var i = 0
            let n = bytes.count
            while i < n {
                switch bytes[i] {
                case UInt8(ascii: "\""):
                    let start = i + 1
                    var escaped = false
                    i += 1
                    while i < n, bytes[i] != UInt8(ascii: "\"") {
                        if bytes[i] == UInt8(ascii: "\\") { escaped = true; i += 1 }
                        i += 1
                    }
                    guard isObject.last == true, expectingKey.last == true else { break }
                    let raw = Data(bytes[start..<min(i, n)])
                    let key = escaped ? ((try? JSONDecoder().decode(String.self, from: Data("\"".utf8) + raw + Data("\"".utf8))) ?? String(decoding: raw, as: UTF8.self))
                                      : String(decoding: raw, as: UTF8.self)
                    guard keys[keys.count - 1].insert(key).inserted else { return key }
                    expectingKey[expectingKey.count - 1] = false
                case UInt8(ascii: "{"): isObject.append(true); expectingKey.append(true); keys.append([])
                case UInt8(ascii: "["): isObject.append(false); expectingKey.append(false)
                case UInt8(ascii: "}"), UInt8(ascii: "]"):
                    if isObject.popLast() == true { keys.removeLast() }
                    _ = expectingKey.popLast()
                case UInt8(ascii: ","):
                    if isObject.last == true { expectingKey[expectingKey.count - 1] = true }
                default: break
                }
                i += 1
            }
            return nil
        }
    }

    /// Decodes whichever kind of value is there. Numbers come first: they are most of every
    /// file, and trying them first costs no failed attempt per number.
    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null; return }
        var numberError: Error?
        do { self = .number(try c.decode(Double.self)); return } catch { numberError = error }
        if let s = try? c.decode(String.self) { self = .string(s); return }
        if let b = try? c.decode(Bool.self) { self = .bool(b); return }
        if let a = try? c.decode([JSONValue].self) { self = .array(a); return }
        if let o = try? c.decode([String: JSONValue].self) { self = .object(o); return }
        // Every other kind failed, so it is a number beyond float64's range, which the decoder
        // refuses (`1e999`, `1e-400`). Read it as Swift's correctly rounded `Double(String)`
        // does (±inf or ±0, which the readers then judge), from the text the decoder's error
        // quotes; if that text cannot be found, as not finite.
        let quoted = numberError.map { String(describing: $0) }?
            .split(separator: "\"", omittingEmptySubsequences: false).dropFirst().first
        self = .number(quoted.flatMap { Double(String($0)) } ?? .nan)
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .null: try c.encodeNil()
        case .bool(let b): try c.encode(b)
        case .number(let d): try c.encode(d)
        case .string(let s): try c.encode(s)
        case .array(let a): try c.encode(a)
        case .object(let o): try c.encode(o)
        }
    }

    /// The value as compact JSON text with sorted keys (so the same value always gives the
    /// same bytes), numbers in Swift's shortest round-trip form, ending in a newline.
    /// - Throws: `EncodingError` for a non-finite number (JSON has none).
    public func text() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }

    /// Converts Foundation's property-list values (`[String: Any]`, `[Any]`, `NSNumber`, …),
    /// e.g. to build test inputs.
    public init(any: Any) {
        switch any {
        case let d as [String: Any]: self = .object(d.mapValues { JSONValue(any: $0) })
        case let a as [Any]: self = .array(a.map { JSONValue(any: $0) })
        case let s as String: self = .string(s)
        case let n as NSNumber:   // JSON's true/false arrive as NSNumbers of C type `char`
            self = String(cString: n.objCType) == "c" ? .bool(n.boolValue) : .number(n.doubleValue)
        case let d as Double: self = .number(d)
        case let i as Int: self = .number(Double(i))
        default: self = .null
        }
    }

    /// One line on what the decoder found wrong (the decoder reports no position).
    private static func describe(_ error: DecodingError) -> String {
        switch error {
        case .dataCorrupted(let context), .typeMismatch(_, let context), .valueNotFound(_, let context), .keyNotFound(_, let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            var text = context.debugDescription
            if text.hasSuffix(".") { text.removeLast() }
            return (path.isEmpty ? "" : "at \(path): ") + text
        @unknown default:
            return "\(error)"
        }
    }
}

/// Why JSON text could not be parsed.
public struct JSONParseError: Error, CustomStringConvertible, Equatable {
    /// What was wrong, as the decoder says it.
    public var message: String
    /// The key, when an object holds one key twice.
    public var duplicateKey: String?

    /// An error saying `message`; `duplicateKey` for a key held twice.
    public init(message: String, duplicateKey: String? = nil) { self.message = message; self.duplicateKey = duplicateKey }
    public var description: String { message }
}
