import GateLabCells
import Foundation
import GateLabInterchange
import Testing

@Suite("gatelab verify-reference")
struct VerifyReferenceCommandTests {
    @Test func fixturesArePresent() {
        #expect(CommandLineTool.fixtures.count == 6)
    }

    @Test func everyFixtureAgreesAndEveryTensorIsPrinted() throws {
        let run = try CommandLineTool.run(["verify-reference"] + CommandLineTool.fixtures)
        #expect(run.status == 0, "\(run)")
        #expect(run.stderr.isEmpty)
        let rows = run.lines.dropFirst().dropLast().map { $0.split(separator: " ", omittingEmptySubsequences: true).map(String.init) }
        var total = 0
        for file in CommandLineTool.fixtures {
            // The keys every case holds, as the library compares them.
            let keys = try ReferenceCase(contentsOf: file).verify().map(\.key)
            total += keys.count
            let printed = rows.filter { $0.first == file }
            #expect(printed.map { $0[1] } == keys, "\(file): every tensor, in order")
            #expect(printed.allSatisfy { $0.last == "ok" })
        }
        #expect(rows.count == total)
        #expect(run.lines.first?.split(separator: " ", omittingEmptySubsequences: true) == ["file", "tensor", "elements", "error", "status"])
        #expect(run.lines.last?.hasPrefix("all \(total) tensors of 6 files within 1.00e-10") == true, "\(run)")
    }

    @Test func anImpossibleToleranceFailsWithExitCodeOne() throws {
        let run = try CommandLineTool.run(["verify-reference", "--tolerance", "1e-18"] + CommandLineTool.fixtures)
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.contains { $0.hasSuffix("FAIL") })
        #expect(run.lines.last?.hasPrefix("FAILED: ") == true)
    }

    /// rnn-small.json as a mutable JSON object.
    static func baseCase() throws -> [String: Any] {
        let path = CommandLineTool.fixtures.first { $0.hasSuffix("rnn-small.json") }!
        return try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path))) as! [String: Any]
    }

    static func text(_ object: [String: Any]) throws -> String {
        String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self)
    }

    /// A malformed case: its file text, and the key the message must name (nil: none).
    struct Malformed: Sendable, CustomTestStringConvertible {
        var name: String
        var key: String?
        var make: @Sendable () throws -> String
        var testDescription: String { name }
    }

    static let malformed: [Malformed] = [
        Malformed(name: "unreadable-json", key: nil) { #"{"cell": "rnn_tanh", "input_size": 3,"# },
        Malformed(name: "missing-key", key: "R") { var o = try baseCase(); o["R"] = nil; return try text(o) },
        Malformed(name: "ragged-array", key: "x") {
            var o = try baseCase()
            var x = o["x"] as! [[[Any]]]
            x[0][1].removeLast()
            o["x"] = x
            return try text(o)
        },
        Malformed(name: "string-for-number", key: "h0") {
            var o = try baseCase()
            var h0 = o["h0"] as! [[[Any]]]
            h0[0][0][0] = "NaN"
            o["h0"] = h0
            return try text(o)
        },
        Malformed(name: "overflowing-number", key: "loss") {
            // JSON has no NaN or Infinity literal; 1e999 is the way an infinity arrives.
            var o = try baseCase()
            o["loss"] = 12345.5
            return try text(o).replacingOccurrences(of: "12345.5", with: "1e999")
        },
        Malformed(name: "unknown-cell", key: "cell") { var o = try baseCase(); o["cell"] = "transformer"; return try text(o) },
        Malformed(name: "wrong-shape", key: "weight_hh_l0") {
            var o = try baseCase()
            o["weight_hh_l0"] = Array((o["weight_hh_l0"] as! [Any]).dropLast())
            return try text(o)
        },
        Malformed(name: "boolean-for-integer", key: "batch") { var o = try baseCase(); o["batch"] = true; return try text(o) },
    ]

    @Test(arguments: malformed)
    func aMalformedFileIsOneLineNamingFileAndKey(_ bad: Malformed) throws {
        let dir = try TemporaryDirectory()
        let path = try dir.write("\(bad.name).json", try bad.make())
        let run = try CommandLineTool.run(["verify-reference", path])
        expectOneLineError(run, mentions: [path] + (bad.key.map { ["key '\($0)'"] } ?? []))
    }

    @Test func aMalformedFileDoesNotStopTheOthers() throws {
        let dir = try TemporaryDirectory()
        var o = try Self.baseCase()
        o["R"] = nil
        let bad = try dir.write("missing-R.json", try Self.text(o))
        let good = CommandLineTool.fixtures[0]
        let run = try CommandLineTool.run(["verify-reference", bad, good])
        expectOneLineError(run, mentions: [bad, "key 'R'"])
        #expect(run.lines.contains { $0.hasPrefix(good) && $0.hasSuffix("ok") }, "the good file is still checked: \(run)")
        #expect(run.lines.last?.hasPrefix("ERROR: 1 file could not be read") == true)
    }

    @Test func aMissingFileIsOneLine() throws {
        expectOneLineError(try CommandLineTool.run(["verify-reference", "/nonexistent/case.json"]), mentions: ["/nonexistent/case.json"])
    }

    @Test func noFilesIsAUsageError() throws {
        expectOneLineError(try CommandLineTool.run(["verify-reference"]))
    }
}
