import ArgumentParser
import GateLabExperiments
import Foundation
import GateLabInterchange
import GateLabSupport

/// `gatelab compare A B`: two results folders (or two record files) number by number.
struct CompareCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "compare",
        abstract: "Compare two results folders (or two record files) number by number and name the largest differences.",
        discussion: """
            A and B are experiment output folders (their results/points/*.json are compared, \
            point by point), or two files of JSON records (a point's .json, results.jsonl, \
            the output of probe/train --json). Numbers are compared as |a − b| (the strings \
            "-inf", "inf", "nan" as those numbers; equal non-finite values agree); other values \
            must be equal. Every field of every record is compared except two: 'seconds' \
            (wall time) and 'checksum' (a point file's seal, which covers the wall time too). \
            A point file whose seal does not match its content, and two records with one id \
            in one file, are errors (exit 2) naming the file and line. Exit code 0 when every \
            difference is within --tolerance, 1 otherwise.
            """)

    @Argument(help: "The first results folder or record file.")
    var a: String

    @Argument(help: "The second results folder or record file.")
    var b: String

    @Option(help: "Largest accepted absolute difference (default 0: bit for bit).")
    var tolerance = 0.0

    @Option(help: "How many of the largest differences to list.")
    var top = 10

    func validate() throws {
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)") }
        guard top >= 0 else { throw ValidationError("--top must be ≥ 0, got \(top)") }
    }

    /// One difference: where, both values, |a − b| (∞ for a mismatch that is not numeric).
    struct Difference { var place: String, a: String, b: String, size: Double }

    func run() throws {
        let left = try Self.records(a), right = try Self.records(b)
        var differences = [Difference](), compared = 0
        for name in Set(left.keys).union(right.keys).sorted() {
            switch (left[name], right[name]) {
            case let (x?, y?): Self.walk(x, y, name, &differences, &compared)
            case (_?, nil): differences.append(Difference(place: name, a: "present", b: "missing", size: .infinity))
            default: differences.append(Difference(place: name, a: "missing", b: "present", size: .infinity))
            }
        }
        let worst = differences.sorted { $0.size > $1.size }
        let failing = worst.filter { !($0.size <= tolerance) }
        print("compare \(a) \(b): \(left.count) and \(right.count) record(s), \(compared) numbers compared (every field but "
              + Self.ignoredKeys.sorted().joined(separator: " and ") + "); "
              + "\(failing.count) difference(s) above \(formatNumber(tolerance))"
              + (worst.first.map { ", largest \($0.size.isFinite ? String(format: "%.3g", $0.size) : "a mismatch") at \($0.place)" } ?? ""))
        if !worst.isEmpty && top > 0 {
            print("")
            print(alignedTable([["where", "a", "b", "|a − b|"]] + worst.prefix(top).map {
                [$0.place, $0.a, $0.b, $0.size.isFinite ? String(format: "%.3g", $0.size) : "—"]
            }))
        }
        if !failing.isEmpty { throw ExitCode(ExitStatus.checkFailed) }
    }

    /// The keys never compared, at any depth: wall time, and the seal that covers it.
    static let ignoredKeys: Set<String> = ["seconds", "checksum"]

    /// The records of a folder (results/points/*.json, by file name) or of a file (by line
    /// number, or by `id` when every record has one). Files are read with GateLab's bounded
    /// reader; a point file's seal must match its content.
    /// - Throws: `WeightsError` naming the file (and line): unreadable, not UTF-8, not JSON,
    ///   a broken seal, or an id that two records share.
    static func records(_ path: String) throws -> [String: JSONValue] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw WeightsError("\(path): no such file or folder")
        }
        var out = [String: JSONValue]()
        if isDirectory.boolValue {
            let points = (path as NSString).appendingPathComponent("results/points")
            guard let names = try? FileManager.default.contentsOfDirectory(atPath: points) else {
                throw WeightsError("\(path): no results/points folder (is it an experiment's output folder?)")
            }
            for name in names.sorted() where name.hasSuffix(".json") && !name.hasPrefix(".") {
                let file = (points as NSString).appendingPathComponent(name)
                let lines = try textLines(file)
                guard lines.count == 1 else { throw WeightsError("\(file): a point file holds one record, this one \(lines.count)") }
                out[String(name.dropLast(5))] = try record(lines[0].text, file: file, line: lines[0].number)
            }
            return out
        }
        var firstLine = [String: Int]()
        for (number, text) in try textLines(path) {
            let value = try record(text, file: path, line: number)
            if case .object(let o) = value, case .string(let id)? = o["id"], !id.isEmpty {
                if let first = firstLine[id] {
                    throw WeightsError("\(path):\(number): a second record with id '\(id)' (the first is on line \(first)); a record file holds each point once")
                }
                firstLine[id] = number
                out[id] = value
            } else {
                out["record \(number)"] = value
            }
        }
        return out
    }

    /// The non-blank lines of a file, numbered from 1, read with the bounded reader and
    /// required to be UTF-8 (invalid bytes would otherwise be decoded as U+FFFD, and two
    /// different strings would compare equal).
    static func textLines(_ file: String) throws -> [(number: Int, text: String)] {
        let bytes: [UInt8]
        do { bytes = try Files.contents(of: file) } catch { throw WeightsError("\(file): \(FileError.reason(error))") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            let bad = firstInvalidUTF8Line(bytes)
            throw WeightsError("\(file):\(bad): not UTF-8 text")
        }
        return text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
            .filter { !$0.element.trimmingCharacters(in: .whitespaces).isEmpty }
            .map { (number: $0.offset + 1, text: String($0.element)) }
    }

    /// The 1-based line of the first byte sequence that is not UTF-8.
    static func firstInvalidUTF8Line(_ bytes: [UInt8]) -> Int {
        var line = 1, start = 0
        for (i, b) in bytes.enumerated() where b == UInt8(ascii: "\n") {
            if String(validating: bytes[start..<i], as: UTF8.self) == nil { return line }
            line += 1
            start = i + 1
        }
        return line
    }

    /// One record line: JSON, and when it carries a seal, a seal that matches.
    static func record(_ text: String, file: String, line: Int) throws -> JSONValue {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if case (_, false?) = SealedLine.unseal(trimmed) {
            throw WeightsError("\(file):\(line): its checksum does not match its content (edited by hand, or damaged)")
        }
        do { return try JSONValue(data: Data(trimmed.utf8)) } catch { throw WeightsError("\(file):\(line): not JSON (\(error))") }
    }

    static func number(_ v: JSONValue) -> Double? {
        switch v {
        case .number(let d): return d
        case .string("inf"): return .infinity
        case .string("-inf"): return -.infinity
        case .string("nan"): return .nan
        default: return nil
        }
    }

    static func walk(_ x: JSONValue, _ y: JSONValue, _ place: String, _ out: inout [Difference], _ compared: inout Int) {
        if let p = number(x), let q = number(y) {
            compared += 1
            if p == q || (p.isNaN && q.isNaN) { return }
            out.append(Difference(place: place, a: "\(p)", b: "\(q)", size: p.isFinite && q.isFinite ? abs(p - q) : .infinity))
            return
        }
        switch (x, y) {
        case let (.object(o), .object(p)):
            for key in Set(o.keys).union(p.keys).sorted() where !ignoredKeys.contains(key) {
                switch (o[key], p[key]) {
                case let (u?, v?): walk(u, v, place + "." + key, &out, &compared)
                case (_?, nil): out.append(Difference(place: place + "." + key, a: "present", b: "missing", size: .infinity))
                default: out.append(Difference(place: place + "." + key, a: "missing", b: "present", size: .infinity))
                }
            }
        case let (.array(u), .array(v)):
            guard u.count == v.count else {
                out.append(Difference(place: place, a: "\(u.count) items", b: "\(v.count) items", size: .infinity))
                return
            }
            for i in u.indices { walk(u[i], v[i], place + "[\(i)]", &out, &compared) }
        default:
            if x != y { out.append(Difference(place: place, a: short(x), b: short(y), size: .infinity)) }
        }
    }

    static func short(_ v: JSONValue) -> String {
        let text = (try? v.text().trimmingCharacters(in: .newlines)) ?? "?"
        return text.count > 40 ? String(text.prefix(37)) + "…" : text
    }
}
