import Foundation
import Testing

/// `--precision f32` on `probe`, `gradcheck` and `verify-reference`.
@Suite("gatelab --precision f32: probe, gradcheck, verify-reference")
struct Float32CommandTests {
    static let errorsFile = CommandLineTool.packageRoot.appendingPathComponent("Tests/CellsTests/Fixtures/float32-errors.json").path

    /// Every reference case in float32 is within 10 × PyTorch's float32 error on it; each
    /// case's error and bound are printed, the Keras case's bound says where it comes from.
    @Test func everyReferenceCaseIsWithinTenTimesPyTorchsFloat32Error() throws {
        let run = try CommandLineTool.run(["verify-reference", "--precision", "f32", "--float32-errors", Self.errorsFile] + CommandLineTool.fixtures)
        #expect(run.status == 0, "\(run)")
        let errors = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: Self.errorsFile))) as! [String: Any]
        let cases = errors["cases"] as! [String: [String: Any]]
        for file in CommandLineTool.fixtures {
            let name = (file as NSString).lastPathComponent
            let row = try #require(run.lines.first { $0.hasPrefix(file + " ") && ($0.contains(" ok ") || $0.contains(" FAIL ")) }, "no case line for \(name)")
            let cells = row.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let error = try #require(Double(cells[1])), bound = try #require(Double(cells[2]))
            #expect(cells[3] == "ok")
            #expect(error > 0, "float32 must differ from float64 somewhere: \(row)")
            #expect(error <= bound)
            let borrowed = name == "gru-reset-before-small.json" ? "gru-small.json" : name
            let worst = try #require(cases[borrowed]?["worst"] as? Double)
            #expect(abs(bound - 10 * worst) <= 0.01 * bound, "\(row)")
            if name == "gru-reset-before-small.json" { #expect(row.contains("on gru-small.json (a Keras case")) }
        }
        #expect(run.lines.last == "all 6 cases within 10 × PyTorch's float32 error", "\(run)")
    }

    /// With bounds a thousand times tighter than PyTorch's own errors, every case fails.
    @Test func tooTightBoundsFail() throws {
        let dir = NSTemporaryDirectory() + "gatelab-f32err-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let text = try String(contentsOfFile: Self.errorsFile, encoding: .utf8)
        var object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as! [String: Any]
        var cases = object["cases"] as! [String: [String: Any]]
        for (k, v) in cases { var c = v; c["worst"] = (v["worst"] as! Double) / 1000; cases[k] = c }
        object["cases"] = cases
        let tight = dir + "/float32-errors.json"
        try JSONSerialization.data(withJSONObject: object).write(to: URL(fileURLWithPath: tight))
        let run = try CommandLineTool.run(["verify-reference", "--precision", "f32", "--float32-errors", tight] + CommandLineTool.fixtures)
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.last == "FAILED: 6 of 6 cases over 10 × PyTorch's float32 error", "\(run)")
    }

    /// Without a bounds file the run stops with a one-line error and exit code 2.
    @Test func aMissingBoundsFileIsAnError() throws {
        let run = try CommandLineTool.run(["verify-reference", "--precision", "f32", "--float32-errors", "/nonexistent/e.json", CommandLineTool.fixtures[0]])
        #expect(run.status == 2, "\(run)")
        #expect(run.errorLines.count == 1 && run.stderr.contains("/nonexistent/e.json"), "\(run)")
    }

    static let cellFiles: [String] = {
        let dir = CommandLineTool.packageRoot.appendingPathComponent("Cells")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []).filter { $0.hasSuffix(".cell") }.sorted().map { "Cells/" + $0 }
    }()

    /// The float32 program's gradients agree with the float64 program's within the float32
    /// tolerance (1e-4) on every built-in cell and every cell file, and the output says what
    /// it compares.
    @Test(arguments: ["rnn", "lstm", "gru", "gru_reset_before"] + cellFiles)
    func gradcheckInFloat32AgreesWithFloat64(_ cell: String) throws {
        let run = try CommandLineTool.run(["gradcheck", "--precision", "f32", "--cell", cell, "--layers", "2"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("against the float64 program's analytic gradients") && run.stdout.contains("not finite differences"))
        let last = try #require(run.lines.last)
        #expect(last.hasPrefix("passed: worst "), "\(run)")
        let worst = try #require(Double(last.split(separator: " ")[2].trimmingCharacters(in: .punctuationCharacters)))
        #expect(worst > 0 && worst <= 1e-4, "\(last)")
    }

    @Test func gradcheckInFloat32CanFail() throws {
        let run = try CommandLineTool.run(["gradcheck", "--precision", "f32", "--cell", "lstm", "--tolerance", "1e-12"])
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.last?.hasPrefix("FAILED: worst ") == true)
        let bad = try CommandLineTool.run(["gradcheck", "--precision", "f32", "--cell", "lstm", "--richardson"])
        #expect(bad.status == 2 && bad.errorLines.count == 1, "\(bad)")
    }

    /// `probe --precision f32`: the record says f32 and carries the underflow distances; the
    /// table lists them.
    @Test func probeInFloat32ReportsWhereTheGradientUnderflows() throws {
        let json = try CommandLineTool.run(["probe", "--cell", "rnn", "--steps", "300", "--recurrent-init", "orthogonal(0.5)", "--jacobian-samples", "0", "--precision", "f32", "--json"])
        #expect(json.status == 0, "\(json)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as! [String: Any]
        let run = (object["runs"] as! [[String: Any]])[0]
        #expect(run["precision"] as? String == "f32")
        let zero = try #require(run["f32_zero_distance"] as? Int)
        #expect(zero > 0 && zero < 300)
        let table = try CommandLineTool.run(["probe", "--cell", "rnn", "--steps", "300", "--recurrent-init", "orthogonal(0.5)", "--jacobian-samples", "0", "--precision", "f32"])
        #expect(table.status == 0, "\(table)")
        #expect(table.stdout.contains("float32, as the ordinary reverse pass carries it"))
        #expect(table.lines.last?.split(separator: " ", omittingEmptySubsequences: true).last == "\(zero)", "\(table)")
        let f64 = try CommandLineTool.run(["probe", "--cell", "rnn", "--steps", "300", "--recurrent-init", "orthogonal(0.5)", "--jacobian-samples", "0", "--json"])
        #expect(!f64.stdout.contains("precision") && !f64.stdout.contains("f32_"))
    }
}
