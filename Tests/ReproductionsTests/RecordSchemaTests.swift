import GateLabExperiments
import Foundation
import GateLabGSL
import Testing
@testable import GateLabReproductions

/// Every key (at every depth) of a JSON text, found by scanning for `"…":`.
private func keys(of json: String) -> [String] {
    var found: [String] = [], i = json.startIndex, inString = false, start = i
    while i < json.endIndex {
        let ch = json[i]
        if ch == "\\" && inString { i = json.index(i, offsetBy: 2); continue }
        if ch == "\"" {
            if inString {
                let next = json.index(after: i)
                if next < json.endIndex && json[next] == ":" { found.append(String(json[json.index(after: start)..<i])) }
            } else {
                start = i
            }
            inString.toggle()
        }
        i = json.index(after: i)
    }
    return found
}

private func isSnakeCase(_ key: String) -> Bool {
    !key.isEmpty && key.first!.isLowercase && key.allSatisfy { ($0.isLowercase && $0.isASCII) || $0.isNumber || $0 == "_" }
}

@Suite("Trial records: snake_case keys at every depth, old records still readable, Exp. 1's data pairs")
struct RecordSchemaTests {
    @Test("Every key of every preset's record is snake_case, and the record reads back equal")
    func everyKeyIsSnakeCase() throws {
        for preset in Presets.all {
            for (variant, parameters) in preset.variants {
                var p = parameters
                p.budget = 1
                p.gradient = preset.name == "gers2000-cerg" ? .truncated : .full
                let record = TrialRecord(preset: preset.name, variant: variant, seed: 1, parameters: p, solved: false, sequences: 1,
                                         trainingSteps: 1, wrong: 0, testCount: 1, testMSE: 0.5,
                                         milestones: [Milestone(name: "final", sequences: 1, wrong: 0, testCount: 1, testMSE: 0.5)],
                                         cergOutcome: nil, meanTestStreamLength: nil, seconds: 0)
                let line = try record.jsonLine()
                let bad = keys(of: line).filter { !isSnakeCase($0) }
                #expect(bad.isEmpty, "\(preset.name) \(variant): keys not in snake_case: \(bad)")
                #expect(try TrialRecord(jsonLine: line) == record)
            }
        }
        // The scanner itself finds camelCase keys where they are.
        #expect(keys(of: #"{"aB":{"c_d":1,"eF":"x:"}}"#) == ["aB", "c_d", "eF"])
    }

    @Test("A record of GateLab 0.3.0 (camelCase parameters, T, _0) reads as the same trial")
    func oldRecordsAreReadable() throws {
        // Exp. 4's record as 0.3.0 wrote it (parameters verbatim from a 0.3.0 results.jsonl).
        let old = #"{"cerg_outcome":null,"experiment":"hochreiter1997","gatelab_version":"0.3.0","id":"hochreiter1997-exp4_T100_seed8","mean_test_stream_length":null,"milestones":[{"name":"final","sequences":503434,"test_count":2560,"test_mse":5.2955491439349905e-05,"wrong":15}],"parameters":{"alphaDecayPerStep":null,"architecture":{"blocks":2,"cellBias":true,"cellsPerBlock":2,"forgetGates":false,"gateBias":true,"gatesFeedUnits":true,"inputs":2,"outputBias":true,"outputShortcuts":false,"outputs":1},"budget":1000000,"correctness":{"absolute":{"_0":0.04}},"criterion":{"st3":{"threshold":0.01,"window":2000}},"gradient":"truncated","initialisation":{"inputGateBiases":[-3,-6],"range":0.1},"learningRate":0.5,"resetAtStringStart":false,"stateDecay":1,"task":{"adding":{"T":100}},"testCount":2560,"trainingStreamCap":100000,"weightUpdate":"everyTargetStep"},"preset":"hochreiter1997-exp4","seconds":30.5,"seed":8,"sequences":503434,"solved":true,"test_count":2560,"test_mse":5.2955491439349905e-05,"training_steps":52861038,"variant":"T=100","wrong":15}"#
        let record = try TrialRecord(jsonLine: old)
        #expect(record.parameters == (try Presets.parameters("hochreiter1997-exp4", variant: "T=100")))
        #expect(record.sequences == 503_434 && record.wrong == 15 && record.gatelabVersion == "0.3.0")
        // Enums with other cases and labels: Exp. 1's criterion, Exp. 5's n_seq levels, CERG.
        for name in ["hochreiter1997-exp1", "hochreiter1997-exp3a", "hochreiter1997-exp5", "gers2000-cerg"] {
            var p = try Presets.parameters(name)
            p.dataSetPairs = nil   // 0.3.0 had no data pairs
            let snake = try TrialRecord(preset: name, variant: "v", seed: 1, parameters: p, solved: false, sequences: 0,
                                        trainingSteps: 0, wrong: 0, testCount: 0, testMSE: nil, milestones: [],
                                        cergOutcome: nil, meanTestStreamLength: nil, seconds: 0).jsonLine()
            // Turn the new keys back into 0.3.0's.
            var camel = snake
            for (new, oldKey) in [("\"t\":", "\"T\":"), ("\"n\":", "\"N\":"), ("\"threshold\":0.", "\"_0\":0."), ("\"levels\":", "\"_0\":")] {
                camel = camel.replacingOccurrences(of: new, with: oldKey)
            }
            for key in keys(of: snake) where key.contains("_") && !["test_count", "test_mse", "training_steps", "cerg_outcome",
                                                                       "mean_test_stream_length", "gatelab_version"].contains(key) {
                let parts = key.split(separator: "_")
                let camelKey = String(parts[0]) + parts.dropFirst().map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
                camel = camel.replacingOccurrences(of: "\"\(key)\":", with: "\"\(camelKey)\":")
            }
            #expect(camel != snake)
            #expect(try TrialRecord(jsonLine: camel).parameters == p, "\(name)")
        }
    }

    @Test("Exp. 1: 3 data pairs × 10 initialisations: seeds 1, 4, 7 share data but not weights")
    func exp1DataPairs() throws {
        var pairs: [UInt64] = []
        for seed in 1...30 { pairs.append(Trial.dataPair(seed: UInt64(seed), pairs: 3)) }
        let firstPair = pairs.filter { $0 == 1 }
        #expect(firstPair.count == 10)
        #expect(Trial.dataPair(seed: 0, pairs: 3) == 3)
        let a = try Trial(preset: "hochreiter1997-exp1", variant: "1-5", seed: 1)
        let b = try Trial(preset: "hochreiter1997-exp1", variant: "1-5", seed: 4)
        let c = try Trial(preset: "hochreiter1997-exp1", variant: "1-5", seed: 2)
        #expect(a.trainingSet == b.trainingSet && a.testSet == b.testSet)
        #expect(a.trainingSet != c.trainingSet)
        #expect(a.network.lstm!.weights != b.network.lstm!.weights)
        for p in Presets.all.first(where: { $0.name == "hochreiter1997-exp1" })!.variants { #expect(p.parameters.dataSetPairs == 3) }
    }

    @Test("A grid's gradient axis makes a full-BPTT control point with its own id")
    func gradientAxis() throws {
        let e = try ReproductionExperiment(source: """
            name = "g"
            kind = "reproduction"
            [[grid]]
            preset = "hochreiter1997-exp4"
            gradient = ["truncated", "full"]
            seeds = 1
            """, file: "g.toml")
        let ids = e.points.map(\.id)
        #expect(ids == ["hochreiter1997-exp4_T100_seed1", "hochreiter1997-exp4_T100_full_seed1"])
        #expect(try e.points[1].parameters().gradient == .full && e.points[0].parameters().gradient == .truncated)
        #expect(throws: (any Error).self) {
            _ = try ReproductionExperiment(source: "name = \"g\"\nkind = \"reproduction\"\n[[grid]]\npreset = \"hochreiter1997-exp4\"\ngradient = \"fool\"\n", file: "g.toml")
        }
    }

    @Test("The report's figure: per preset a step line per row rising by 1/trials at each solved trial, the paper's mean dashed")
    func solvedFigure() throws {
        let p = try Presets.parameters("hochreiter1997-exp4")
        func record(_ seed: UInt64, _ solved: Bool, _ sequences: Int) -> TrialRecord {
            TrialRecord(preset: "hochreiter1997-exp4", variant: "T=100", seed: seed, parameters: p, solved: solved, sequences: sequences,
                        trainingSteps: 0, wrong: 0, testCount: 2560, testMSE: 0, milestones: [], cergOutcome: nil,
                        meanTestStreamLength: nil, seconds: 0)
        }
        let figures = ReproductionReport.figures([record(1, true, 300), record(2, false, 1000), record(3, true, 100), record(4, true, 200)])
        #expect(figures.count == 1 && figures[0].file == "figures/solved-hochreiter1997-exp4.svg")
        let series = figures[0].panels[0].series
        #expect(series.count == 2)
        #expect(series[0].points.map(\.y) == [0, 0, 0.25, 0.25, 0.5, 0.5, 0.75, 0.75])
        #expect(series[0].points.map(\.x) == [0, 100, 100, 200, 200, 300, 300, 1000])
        #expect(series[1].points.map(\.x) == [74_000, 74_000] && series[1].dashKey == "paper")
        // No figure for a preset without a solved trial.
        #expect(ReproductionReport.figures([record(1, false, 10)]).isEmpty)
    }
}
