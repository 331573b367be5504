import GateLabCells
import Foundation
import GateLabGSL
import GateLabExperiments
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments

@Suite("Probe: seeds, records and summaries")
struct ProbeRecordTests {
    @Test func theSameSeedGivesTheSameBytesAndAnotherSeedDoesNot() throws {
        let c = try ProbeConfiguration(cell: "gru", steps: 60, hiddenSize: 8, seed: 4)
        let a = ProbeRecord(version: "t", configuration: c, result: try GradientProbe.run(c))
        let b = ProbeRecord(version: "t", configuration: c, result: try GradientProbe.run(c))
        #expect(a.jsonLine == b.jsonLine)
        var d = c
        d.seed = 5
        #expect(ProbeRecord(version: "t", configuration: d, result: try GradientProbe.run(d)).curves != a.curves)
    }

    /// The documented stream: weights, then x = scale·N(0, 1), then r = N(0, 1)/√H.
    @Test func theSeedStreamIsWeightsThenInputsThenReadout() throws {
        let c = try ProbeConfiguration(cell: "lstm", steps: 7, hiddenSize: 4, inputSize: 3, forgetBias: .chrono, inputScale: 0.5, seed: 12)
        let setup = try ProbeSetup(configuration: c)
        let rng = try RandomSource(seed: 12)
        var net = RecurrentNetwork(cell: LSTM(), inputSize: 3, hiddenSize: 4)
        try net.initialize(.init(forgetBias: .chrono(maxSteps: 7)), using: rng)
        #expect(setup.network.weights == net.weights)
        #expect(setup.inputs == rng.gaussianArray(count: 21).map { $0 * 0.5 })
        #expect(setup.readout == rng.gaussianArray(count: 4).map { $0 / 2 })
    }

    @Test(arguments: ["rnn", "lstm"])
    func aRecordReadsBackExactly(_ cell: String) throws {
        let c = try ProbeConfiguration(cell: cell, steps: 50, hiddenSize: 6, layers: 2, recurrentInit: .orthogonal(gain: 1.1),
                                       biasInit: .uniform(bound: 0.1), forgetBias: .constant(1), inputScale: 0.3, seed: 2,
                                       summary: SummarySettings(fitMaxDistance: 20, jacobianSamples: 2))
        let record = ProbeRecord(id: "x", experiment: "e", version: "9.9", configuration: c, result: try GradientProbe.run(c))
        let back = try ProbeRecord(jsonLine: record.jsonLine, context: "test")
        #expect(back.jsonLine == record.jsonLine)
        #expect(back.configuration == c)
        #expect(back.curves == record.curves)
        #expect(back.summary == record.summary)
        #expect(record.summary.decay?.lastDistance == 20 && record.summary.decay?.count == 21)
        // One JSON line, and Foundation reads it as an object with the documented keys.
        #expect(!record.jsonLine.contains("\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(record.jsonLine.utf8)) as? [String: Any])
        for key in ["gatelab_version", "rng", "cell", "steps", "seed", "decay_rate", "decay_rate_se", "drop_1e3", "drop_1e6",
                    "recurrent_weights", "jacobians", "curves"] {
            #expect(object[key] != nil, "missing \(key)")
        }
        #expect(object["rng"] as? String == "mt19937")
        #expect((object["curves"] as? [String: Any])?["log10_h_by_layer"] != nil)
    }

    @Test func curvesCSVHasOneRowPerDistance() throws {
        let c = try ProbeConfiguration(cell: "lstm", steps: 30, hiddenSize: 4, seed: 1)
        let record = ProbeRecord(id: "p", version: "t", configuration: c, result: try GradientProbe.run(c))
        let lines = record.curvesCSV.split(separator: "\n")
        #expect(lines.first == "id,distance,log10_h,log10_c,log10_x")
        #expect(lines.count == 31)
        let row = lines[5].split(separator: ",", omittingEmptySubsequences: false)
        #expect(row.count == 5 && row[0] == "p" && row[1] == "4")
        #expect(Double(String(row[2])) == record.curves.topH[4])
        #expect(Double(String(row[3])) == record.curves.topC![4])
        #expect(Double(String(row[4])) == record.curves.x[4])
    }

    @Test func fallDistancesAndSampleDistances() {
        #expect(ProbeSummary.dropDistance([0, -1, -2.9, -3, -7], decades: 3) == 3)
        #expect(ProbeSummary.dropDistance([0, -1, -2.9, -3, -7], decades: 6) == 4)
        #expect(ProbeSummary.dropDistance([0, -1, -2], decades: 3) == nil)
        #expect(ProbeSummary.dropDistance([-.infinity, -1], decades: 3) == nil)
        #expect(ProbeSummary.sampleDistances(steps: 1000, count: 3) == [0, 500, 999])
        #expect(ProbeSummary.sampleDistances(steps: 2, count: 5) == [0, 1])
        #expect(ProbeSummary.sampleDistances(steps: 1, count: 3) == [0])
        #expect(ProbeSummary.sampleDistances(steps: 100, count: 0) == [])
    }

    @Test func aggregatesAreStudentTIntervalsAndSayWhenAFallIsNotReached() throws {
        func summary(_ slope: Double, _ drop: Int?) -> ProbeSummary {
            ProbeSummary(decay: DecayFit(slope: slope, standardError: 0.01, intercept: 0, firstDistance: 0, lastDistance: 9, count: 10),
                         drop1e3: drop, drop1e6: nil, log10HFirstStep: slope * 9, log10XFirstStep: -1, log10XFirstOverLast: -0.5,
                         recurrentWeights: [], jacobians: [])
        }
        let a = try SeedAggregate([summary(-0.1, 5), summary(-0.2, 7), summary(-0.3, nil)])
        let rate = try #require(a["decay_rate"])
        let ci = try Statistics.meanConfidenceInterval([-0.1, -0.2, -0.3])
        #expect(rate.mean == ci.mean && rate.halfWidth == ci.halfWidth)
        #expect(abs(ci.halfWidth - 4.302652729749464 * 0.1 / 3.0.squareRoot()) < 1e-12, "t(0.975, 2) = 4.3027")
        let drop = try #require(a["drop_1e3"])
        #expect(drop.mean == nil && drop.defined == 2 && drop.min == 5 && drop.max == 7)
        #expect(drop.text == "not within T in 1 of 3 seeds (others 5–7)")
        #expect(a["drop_1e6"]?.text == "not within T (all 3 seeds)")
        let single = try SeedAggregate([summary(-0.25, 4)])
        #expect(single["decay_rate"]?.text == "-0.25")
    }

    @Test func badConfigurationsAreTypedOneLineErrors() {
        #expect(throws: ProbeError.invalidConfiguration("unknown cell 'lsmt'; valid cells: rnn, lstm, gru, gru_reset_before, or the path of a .cell file")) {
            try ProbeConfiguration(cell: "lsmt", steps: 10)
        }
        #expect(throws: ProbeError.self) { try ProbeConfiguration(cell: "rnn", steps: 0) }
        #expect(throws: ProbeError.self) { try ProbeConfiguration(cell: "lstm", steps: 2, forgetBias: .chrono) }
        #expect(throws: SettingProblem.self) { try ForgetBiasSetting(parsing: "lots") }
        #expect((try? ForgetBiasSetting(parsing: "1")) == .constant(1))
        #expect((try? ForgetBiasSetting(parsing: "Chrono")) == .chrono)
    }
}
