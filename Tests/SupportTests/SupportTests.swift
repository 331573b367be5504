import Foundation
import GateLabSupport
import Testing

/// The bottom layer: the one bounded reader, the one writer and its output-path rule, and the
/// one JSON form of records.
@Suite struct SupportTests {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "gatelab-files-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    struct Sample: Codable, Equatable {
        enum CodingKeys: String, CodingKey { case finalLoss = "final_loss", curve, missing }
        var finalLoss: Double
        var curve: [Double]
        var missing: Double?
    }

    @Test func theReaderIsBounded() throws {
        #expect(throws: FileError.self) { try Files.contents(of: "/dev/zero", limit: 1 << 20) }
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: FileError.self) { try Files.contents(of: dir) }
        try Files.write("12345", to: dir + "/five")
        #expect(throws: FileError.self) { try Files.contents(of: dir + "/five", limit: 4) }
        #expect(try Files.contents(of: dir + "/five", limit: 5) == Array("12345".utf8))
    }

    @Test func theOutputPathRule() throws {
        #expect(throws: FileError.self) { try Files.checkOutputPath("", what: "--output") }
        try Files.checkOutputPath("/tmp/x", what: "--output")          // the command line may write anywhere
        try Files.checkOutputPath("../x", what: "--output")
        for bad in ["/tmp/x", "../x", "a/../../x", ".."] {
            #expect(throws: FileError.self) { try Files.checkOutputPath(bad, what: "[output] dir", fromFile: true) }
        }
        try Files.checkOutputPath("Notes/x", what: "[output] dir", fromFile: true)
        #expect(throws: FileError.self) { try Files.write("x", to: "") }
    }

    /// Non-finite numbers are the strings -inf, inf and nan; keys are sorted; every double
    /// reads back bit for bit; nil is null.
    @Test func recordJSONIsSortedWithNonFiniteAsStringsAndReadsBackExactly() throws {
        let x = Sample(finalLoss: 0.1 + 0.2, curve: [-.infinity, .infinity, 1e-300, -0.04583333333333333, 5e-324], missing: nil)
        let line = try RecordJSON.line(x)
        #expect(line == #"{"curve":["-inf","inf",1e-300,-0.04583333333333333,5e-324],"final_loss":0.30000000000000004}"#)
        let back = try RecordJSON.decode(Sample.self, from: line)
        #expect(back == x)
        #expect(back.curve.map(\.bitPattern) == x.curve.map(\.bitPattern))
        let nan = try RecordJSON.decode(Sample.self, from: try RecordJSON.line(Sample(finalLoss: .nan, curve: [], missing: 1)))
        #expect(nan.finalLoss.isNaN && nan.missing == 1)
    }
}
