import Foundation
import Testing
@testable import Experiments

/// The pieces of the experiment pipeline that no kind owns: record JSON and figure panels.
@Suite struct ExperimentsTests {
    struct Sample: Codable, Equatable {
        enum CodingKeys: String, CodingKey { case finalLoss = "final_loss", curve, missing }
        var finalLoss: Double
        var curve: [Double]
        var missing: Double?
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

    /// Panels hold at most eight lines, keep a colour's (a cell's) lines together, follow the
    /// groups (families) in order, and number the parts of a group that needs several.
    @Test func panelsKeepACellsLinesTogetherAndHoldAtMostEight() {
        func s(_ cell: String, _ setting: String) -> FigureSeries {
            FigureSeries(title: "\(cell) \(setting)", points: [], colorKey: cell, dashKey: setting)
        }
        // Interleaved as a grid lists them: every cell at one setting, then at the next.
        let lstms = ["lstm", "lstm-nig", "lstm-nfg", "lstm-cifg"]
        var series = lstms.map { s($0, "") } + lstms.map { s($0, "fb 1") } + lstms.map { s($0, "chrono") }
        series += [s("gru", ""), s("gru_reset_before", "")]
        let panels = Figure.panels(series, groupedBy: { String($0.colorKey.prefix { $0 != "-" && $0 != "_" }) })
        #expect(panels.map(\.title) == ["lstm (1/2)", "lstm (2/2)", "gru"])
        #expect(panels.map(\.series.count) == [6, 6, 2])
        #expect(panels[0].series.map(\.colorKey) == ["lstm", "lstm", "lstm", "lstm-nig", "lstm-nig", "lstm-nig"])
        #expect(panels.allSatisfy { $0.series.count <= 8 })
        #expect(panels.flatMap(\.series).count == series.count)
    }
}
