import Foundation
@testable import GateLabGradCheck
import Testing

/// Reports as `gatelab gradcheck --json` wrote them in GateLab 0.2.0 (camelCase keys, the
/// options' enums in Codable's nested form), copied from its output (`--cell rnn --steps 2
/// --hidden 1 --input 1 --batch 1`, the full one cut to its first tensor).
enum OldReports {
    static let full = #"{"directions":[],"floor":0.0001,"loss":0.4481426133792942,"options":{"mode":{"full":{}},"relativeFloor":0.0001,"retestFailures":true,"richardson":false,"step":{"automatic":{}},"tolerance":1e-06},"passed":true,"tensors":[{"clearedElementCount":0,"cols":1,"failingElementCount":0,"name":"W_ih","passed":true,"retestedElementCount":0,"rows":1,"worstAbsolute":{"absoluteError":5.78004311080349e-12,"analytic":-0.5258373724209344,"col":0,"numeric":-0.5258373724267145,"relativeError":1.0992073621790833e-11,"retested":false,"row":0},"worstRelative":{"absoluteError":5.78004311080349e-12,"analytic":-0.5258373724209344,"col":0,"numeric":-0.5258373724267145,"relativeError":1.0992073621790833e-11,"retested":false,"row":0}}]}"#
    static let directional = #"{"directions":[{"absoluteError":1.4396372982616867e-11,"analytic":-0.25602724938836946,"index":0,"numeric":-0.25602724940276583,"passed":true,"relativeError":5.622984669092549e-11,"retested":false,"step":6.0554544523933395e-06},{"absoluteError":2.339239912885205e-13,"analytic":0.38876822295831726,"index":1,"numeric":0.38876822295808333,"passed":true,"relativeError":6.017055342344717e-13,"retested":false,"step":6.0554544523933395e-06}],"floor":0.0001,"loss":0.4481426133792942,"options":{"mode":{"directional":{"count":2,"seed":1}},"relativeFloor":0.0001,"retestFailures":true,"richardson":false,"step":{"automatic":{}},"tolerance":1e-06},"passed":true,"tensors":[]}"#
}

@Suite("Gradient-check reports: snake_case and a readable mode, and the old form still reads")
struct ReportFormatTests {
    @Test func aFullReportOf020Decodes() throws {
        let report = try JSONDecoder().decode(GradientCheckReport.self, from: Data(OldReports.full.utf8))
        #expect(report.options == GradientCheckOptions(mode: .full, step: .automatic, richardson: false, retestFailures: true))
        #expect(report.passed && report.loss == 0.4481426133792942 && report.tensors.map(\.name) == ["W_ih"])
        let w = try #require(report.tensors.first)
        #expect(w.worstRelative.relativeError == 1.0992073621790833e-11 && w.worstAbsolute.absoluteError == 5.78004311080349e-12)
        #expect(w.failingElementCount == 0 && w.retestedElementCount == 0 && w.clearedElementCount == 0)
    }

    @Test func aDirectionalReportOf020Decodes() throws {
        let report = try JSONDecoder().decode(GradientCheckReport.self, from: Data(OldReports.directional.utf8))
        #expect(report.options.mode == .directional(count: 2, seed: 1))
        #expect(report.directions.map(\.index) == [0, 1] && report.directions[1].relativeError == 6.017055342344717e-13)
        #expect(report.directions[0].step == 6.0554544523933395e-06)
    }

    /// The options as JSON, read back into Foundation objects to look at the keys.
    func encoded(_ options: GradientCheckOptions) throws -> [String: Any] {
        let report = GradientCheckReport(options: options, loss: 1, floor: 1e-4, tensors: [], directions: [], passed: true)
        let object = try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as! [String: Any]
        #expect(try JSONDecoder().decode(GradientCheckReport.self, from: Data(report.json().utf8)) == report)
        return object["options"] as! [String: Any]
    }

    @Test func theModeAndStepAreWrittenFlatAndReadBack() throws {
        let full = try encoded(GradientCheckOptions())
        #expect(full["mode"] as? String == "full" && full["directions"] == nil && full["step"] as? String == "automatic")
        #expect(Set(full.keys) == ["mode", "step", "richardson", "retest_failures", "tolerance", "relative_floor"])
        let directional = try encoded(GradientCheckOptions(mode: .directional(count: 7, seed: 3), step: .fixed(1e-5)))
        #expect(directional["mode"] as? String == "directional" && directional["directions"] as? Int == 7)
        #expect(directional["direction_seed"] as? Int == 3 && directional["step"] as? Double == 1e-5)
    }

    @Test func aFixedStepOf020Decodes() throws {
        let text = #"{"mode":{"full":{}},"relativeFloor":0.0001,"richardson":true,"step":{"fixed":{"_0":1e-05}},"tolerance":1e-06}"#
        let options = try JSONDecoder().decode(GradientCheckOptions.self, from: Data(text.utf8))
        #expect(options == GradientCheckOptions(mode: .full, step: .fixed(1e-5), richardson: true, retestFailures: false))
    }
}
