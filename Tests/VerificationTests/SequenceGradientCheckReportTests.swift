import GateLabCells
import Foundation
import GateLabGradCheck
import Testing
import GateLabVerification

@Suite("A sequence check's report carries what reruns it")
struct SequenceGradientCheckReportTests {
    func checked() throws -> (SequenceGradientCheck, GradientCheckReport) {
        var check = SequenceGradientCheck(cell: LSTM())
        (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers, check.seed) = (2, 3, 1, 4, 2, 11)
        check.options = GradientCheckOptions(mode: .directional(count: 2, seed: 11))
        return (check, try check.run())
    }

    @Test func itRoundTripsAndItsReportReadsAlone() throws {
        let (check, report) = try checked()
        let full = SequenceGradientCheckReport(check: check, report: report, version: "9.9.9")
        #expect(full.cell == "lstm" && full.inputSize == 2 && full.hiddenSize == 3 && full.batch == 1 && full.steps == 4)
        #expect(full.layers == 2 && full.seed == 11 && full.rng == "mt19937" && full.gatelabVersion == "9.9.9")
        let text = try full.json()
        #expect(try JSONDecoder().decode(SequenceGradientCheckReport.self, from: Data(text.utf8)) == full)
        // The report's keys sit beside the metadata: a reader of bare reports reads it too.
        #expect(try JSONDecoder().decode(GradientCheckReport.self, from: Data(text.utf8)) == report)
        #expect(text.contains("\"gatelab_version\" : \"9.9.9\"") && text.contains("\"hidden_size\" : 3"))
    }

    @Test func aBareReportIsNotMistakenForOneWithMetadata() throws {
        let (_, report) = try checked()
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode(SequenceGradientCheckReport.self, from: Data(report.json().utf8))
        }
    }
}
