import Foundation

/// The one JSON form of every record GateLab writes: Foundation's `JSONEncoder` with sorted
/// keys (so the same record is always the same bytes) and no extra whitespace, keys in
/// snake_case (each record type spells its `CodingKeys`), and the non-finite numbers as the
/// strings `"-inf"`, `"inf"` and `"nan"` (JSON has no literal for them; a log10 norm of an
/// exactly zero gradient is −∞). `JSONDecoder` reads every double back bit for bit.
public enum RecordJSON {
    /// `value` as one JSON line (no trailing newline).
    public static func line<T: Encodable>(_ value: T, pretty: Bool = false) throws -> String {
        let e = JSONEncoder()
        e.outputFormatting = pretty ? [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes] : [.sortedKeys, .withoutEscapingSlashes]
        e.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try e.encode(value), as: UTF8.self)
    }

    /// Reads a value written by `line(_:)`.
    public static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        let d = JSONDecoder()
        d.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try d.decode(type, from: Data(text.utf8))
    }
}

/// A point file's line (`results/points/<id>.json`): the record's JSON line with
/// `"checksum":"fnv1a64:…"` added as its last key, `Files.checksum` of the line without it.
/// A value edited inside a point file still decodes and may still re-encode to the same
/// bytes; the checksum is what tells a run or a merge that the file is not what GateLab
/// wrote. Records written before the checksum existed have none, and still read.
public enum SealedLine {
    static let key = #","checksum":"fnv1a64:"#

    /// `line` (a JSON object on one line) with its checksum.
    public static func seal(_ line: String) -> String {
        guard line.hasSuffix("}") else { return line }
        return String(line.dropLast()) + #","checksum":""# + Files.checksum(Array(line.utf8)) + #""}"#
    }

    /// The line without its checksum, and whether the checksum matches it (nil: the line has
    /// none — an older record).
    public static func unseal(_ line: String) -> (body: String, intact: Bool?) {
        // `,"checksum":"fnv1a64:` and 16 hex digits, then `"}`.
        guard line.hasSuffix("\"}"), let range = line.range(of: key, options: .backwards),
              line.distance(from: range.upperBound, to: line.endIndex) == 18 else { return (line, nil) }
        let body = String(line[..<range.lowerBound]) + "}"
        let stored = "fnv1a64:" + line[range.upperBound...].dropLast(2)
        return (body, Files.checksum(Array(body.utf8)) == stored)
    }
}

/// A number for people and file names: integers without a decimal point (`1`, `10000`),
/// everything else in Swift's shortest round-tripping form (`0.9`, `1e-05`).
public func formatNumber(_ x: Double) -> String {
    if x == x.rounded(), Swift.abs(x) < 1e15 { return String(Int(x)) }
    return x.description
}

/// A number as it appears in a point's id (a file name): `formatNumber`'s form with `e+`
/// written `e` (`1e16`), since ids map `+` to `-` and 1e16 and 1e-16 (or 1e308 and 1e-308)
/// got one id, so one point's file overwrote the other's.
public func idNumber(_ x: Double) -> String {
    formatNumber(x).replacingOccurrences(of: "e+", with: "e")
}

/// A number in a CSV cell: shortest round-trip form, `-inf`/`inf` for infinities, empty for nil or NaN.
public func csvNumber(_ x: Double?) -> String {
    guard let x, !x.isNaN else { return "" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return x.description
}

/// `s`, quoted (RFC 4180) when it holds a comma, a quote or a line break.
public func csvQuoted(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) else { return s }
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
}

/// `text` as (part of) a point's id, which is also a file name: letters, digits, `-`, `_` and
/// `.` kept, anything else `-`; and never a name that starts with a dot or contains `..` (such
/// a name is hidden from `ls` and Python's `glob("*")`, or reads as a parent folder): runs of
/// dots become one, leading dots are dropped.
public func fileSafeID(_ text: String) -> String {
    var s = String(text.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
    while s.contains("..") { s = s.replacingOccurrences(of: "..", with: ".") }
    while s.hasPrefix(".") { s.removeFirst() }
    return s.isEmpty ? "-" : s
}
