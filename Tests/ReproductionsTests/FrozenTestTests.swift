import Foundation
import GateLabGSL
import Testing
@testable import GateLabReproductions
import GateLabSupport

private func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }

/// Exp. 2c's criterion in its second reading: a frozen test of fresh sequences with the
/// weights fixed (`StoppingCriterion.frozenTest`, the `-frozen` variants).
@Suite("Exp. 2c's frozen test: criterion, variants, training stream, records and report")
struct FrozenTestTests {
    static let preset = "hochreiter1997-exp2c"

    /// 2c-1-frozen's parameters with a small test and schedule (and, where given, another
    /// correctness rule), so that a trial takes milliseconds.
    static func small(testCount: Int, every: Int, budget: Int = 5_000_000, rule: CorrectnessRule? = nil) throws -> PresetParameters {
        var p = try Presets.parameters(preset, variant: "2c-1-frozen")
        p.criterion = .frozenTest(testCount: testCount, every: every)
        p.budget = budget
        p.testCount = 40
        if let rule { p.correctness = rule }
        return p
    }

    @Test("Every row 2c-1 … 2c-9 has a -frozen variant: the same set-up but the criterion; the default and the running-window rows are as they were")
    func variants() throws {
        let exp2c = Presets.all.first { $0.name == Self.preset }!
        #expect(exp2c.defaultVariant == "2c-1")
        let rows = (1...9).map { "2c-\($0)" }
        #expect(exp2c.variants.map(\.name) == rows + rows.map { $0 + "-frozen" })
        let qp = [(50, 50), (100, 100), (200, 200), (500, 500), (1000, 1000), (1000, 500), (1000, 200), (1000, 100), (1000, 50)]
        for (row, (q, p)) in zip(rows, qp) {
            let window = try Presets.parameters(Self.preset, variant: row)
            let frozen = try Presets.parameters(Self.preset, variant: row + "-frozen")
            #expect(window.task == .distractor(q: q, p: p) && window.criterion == .successiveCorrect(count: 10_000), "\(row)")
            #expect(frozen.criterion == .frozenTest(testCount: 10_000, every: 1000), "\(row)")
            var same = frozen
            same.criterion = window.criterion
            #expect(same == window, "\(row): the frozen variant differs from its row in more than the criterion")
            #expect(exp2c.paperWeightCounts[row + "-frozen"] == exp2c.paperWeightCounts[row] && exp2c.paperWeightCounts[row] == 6 * p + 64)
        }
        // The running-window rows' parameters, byte for byte as records carry them.
        let line = try RecordJSON.line(try Presets.parameters(Self.preset, variant: "2c-1"))
        #expect(line == #"{"architecture":{"blocks":2,"cell_bias":false,"cells_per_block":1,"forget_gates":false,"gate_bias":false,"gates_feed_units":true,"inputs":54,"output_bias":false,"output_shortcuts":false,"outputs":2},"budget":5000000,"correctness":{"absolute":{"threshold":0.2}},"criterion":{"successive_correct":{"count":10000}},"gradient":"truncated","initialisation":{"range":0.2},"learning_rate":0.01,"reset_at_string_start":false,"state_decay":1,"task":{"distractor":{"p":50,"q":50}},"test_count":10000,"training_stream_cap":100000,"weight_update":"everyTargetStep"}"#, "\(line)")
        // `train --preset … --variant 2c-1-frozen` and `variant = "2c-1-frozen"` in a file: the settings' row takes it.
        let point = try ReproductionSettings.table.configuration(["--preset": .string(Self.preset), "--variant": .string("2c-5-frozen")])
        #expect(point.id == "hochreiter1997-exp2c_2c-5-frozen_seed1")
        #expect(try point.parameters().criterion == .frozenTest(testCount: 10_000, every: 1000))
    }

    @Test("The criterion is written frozen_test {test_count, every} in a record and reads back the same")
    func recordRoundTrip() throws {
        let p = try Presets.parameters(Self.preset, variant: "2c-3-frozen")
        let record = TrialRecord(preset: Self.preset, variant: "2c-3-frozen", seed: 4, parameters: p, solved: true, sequences: 123_000,
                                 trainingSteps: 9, wrong: 0, testCount: 10_000, testMSE: 0.001,
                                 milestones: [Milestone(name: "frozen-test", sequences: 122_000, wrong: 3, testCount: 10_000, testMSE: 0.002),
                                              Milestone(name: "frozen-test", sequences: 123_000, wrong: 0, testCount: 10_000, testMSE: 0.001)],
                                 cergOutcome: nil, meanTestStreamLength: nil, seconds: 0)
        let line = try record.jsonLine()
        #expect(line.contains(#""criterion":{"frozen_test":{"every":1000,"test_count":10000}}"#), "\(line)")
        #expect(line.contains(#"{"name":"frozen-test","sequences":123000,"test_count":10000,"test_mse":0.001,"wrong":0}"#), "\(line)")
        let back = try TrialRecord(jsonLine: line)
        #expect(back == record && back.parameters.criterion == .frozenTest(testCount: 10_000, every: 1000))
        // Written by hand (another key order) it reads as the same criterion.
        let text = #"{"frozen_test":{"test_count":500,"every":20}}"#
        #expect(try JSONDecoder().decode(StoppingCriterion.self, from: Data(text.utf8)) == .frozenTest(testCount: 500, every: 20))
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(StoppingCriterion.self, from: Data(#"{"frozen_test":{"testCount":500,"every":20}}"#.utf8))
        }
    }

    @Test("A frozen test that every sequence passes stops the trial solved at the first test, after `every` sequences, with that test as the final")
    func forcedPass() throws {
        // Every output's error is below 1 (outputs in (0, 1), targets 0 or 1): every test sequence is correct.
        let p = try Self.small(testCount: 50, every: 7, rule: .absolute(1.0))
        var trial = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 2, parameters: p)
        let record = trial.run()
        #expect(record.solved && record.sequences == 7)
        #expect(record.milestones == [Milestone(name: "frozen-test", sequences: 7, wrong: 0, testCount: 50, testMSE: record.testMSE)])
        #expect(record.wrong == 0 && record.testCount == 50 && (record.testMSE ?? 0) > 0)
        #expect(record.sequencesUntilCorrect == 7)
    }

    @Test("An untrained net fails each test: one milestone every `every` sequences, the final a test of its own unless the budget ends on a test")
    func failingTests() throws {
        var trial = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 3, parameters: try Self.small(testCount: 30, every: 7, budget: 30))
        let record = trial.run()
        #expect(!record.solved && record.sequences == 30)
        let tests = record.milestones.filter { $0.name == "frozen-test" }
        #expect(tests.map(\.sequences) == [7, 14, 21, 28])
        #expect(tests.allSatisfy { $0.wrong > 0 && $0.testCount == 30 && $0.sequences % 7 == 0 })
        #expect(record.milestones.last?.name == "final" && record.milestones.last?.sequences == 30 && record.testCount == 40)
        #expect(record.sequencesUntilCorrect == nil)
        // The budget a multiple of `every`: the last test is the final, not a second test of the same weights.
        var atTest = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 3, parameters: try Self.small(testCount: 30, every: 7, budget: 28))
        let ended = atTest.run()
        #expect(ended.milestones == tests && ended.wrong == tests.last!.wrong && ended.testCount == 30)
    }

    @Test("A frozen-test trial trains on the running-window trial's sequences, bit for bit: its tests draw from a stream of their own")
    func trainingStreamUntouched() throws {
        let n = 450
        var window = try Trial(preset: Self.preset, variant: "2c-1", seed: 5)
        var frozen = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 5, parameters: try Self.small(testCount: 200, every: 100))
        #expect(bits(window.network.lstm!.weights) == bits(frozen.network.lstm!.weights))
        window.train(atMost: n)
        frozen.train(atMost: n)
        #expect(frozen.milestones.map(\.sequences) == [100, 200, 300, 400] && !frozen.finished)
        #expect(window.sequences == n && frozen.sequences == n)
        #expect(frozen.trainingSteps == window.trainingSteps)
        #expect(bits(frozen.network.lstm!.weights) == bits(window.network.lstm!.weights))
        #expect(bits(frozen.network.lstm!.gradient) == bits(window.network.lstm!.gradient))
        #expect(frozen.random.stateBytes() == window.random.stateBytes())
        #expect(frozen.curve == window.curve)
        // The test stream is another generator than the training stream, and the tests moved it.
        #expect(frozen.testRandom?.generatorName == "taus2" && window.testRandom == nil)
        let fresh = try Trial.testSource(seed: 5)
        #expect(frozen.testRandom!.stateBytes() != fresh.stateBytes())
        // Had the tests drawn from the training stream, training would have gone elsewhere:
        // the same number of tests from `random` changes the weights after the next sequences.
        var disturbed = try Trial(preset: Self.preset, variant: "2c-1", seed: 5)
        disturbed.train(atMost: 100)
        _ = disturbed.test(count: 200)
        disturbed.train(atMost: n - 100)
        #expect(bits(disturbed.network.lstm!.weights) != bits(window.network.lstm!.weights))
    }

    @Test("A frozen-test trial saved mid-run resumes bit-identical, test stream included; an edited test stream is refused")
    func checkpointResume() throws {
        let p = try Self.small(testCount: 60, every: 25, budget: 130)
        var straight = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 8, parameters: p)
        let whole = straight.run()
        var interrupted = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 8, parameters: p)
        interrupted.train(atMost: 60)
        let saved = try interrupted.checkpoint()
        var resumed = try Trial.resume(from: saved)
        var rest = resumed.run()
        rest.seconds = whole.seconds
        #expect(rest == whole)
        #expect(bits(resumed.network.lstm!.weights) == bits(straight.network.lstm!.weights))
        #expect(resumed.testRandom!.stateBytes() == straight.testRandom!.stateBytes())
        // A running-window checkpoint has no test stream (its bytes as before).
        var window = try Trial(preset: Self.preset, variant: "2c-1", seed: 8)
        window.train(atMost: 3)
        #expect(!String(decoding: try window.checkpoint(), as: UTF8.self).contains("testRandom"))
        // The test stream removed by hand and the line resealed: not the criterion's trial.
        let (body, _) = SealedLine.unseal(String(decoding: saved, as: UTF8.self))
        var object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
        object["testRandom"] = nil
        let edited = Data(SealedLine.seal(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)).utf8)
        #expect(throws: ReproductionError.self) { try Trial.resume(from: edited) }
    }

    @Test("A frozen test with no sequences or no schedule, or on the continual stream, is refused")
    func refused() throws {
        #expect(throws: ReproductionError.self) {
            _ = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 1, parameters: try Self.small(testCount: 10, every: 0))
        }
        #expect(throws: ReproductionError.self) {
            _ = try Trial(preset: Self.preset, variant: "2c-1-frozen", seed: 1, parameters: try Self.small(testCount: 0, every: 10))
        }
        var cerg = try Presets.parameters("gers2000-cerg")
        cerg.criterion = .frozenTest(testCount: 10, every: 10)
        #expect(throws: ReproductionError.self) { _ = try Trial(preset: "gers2000-cerg", seed: 1, parameters: cerg) }
    }

    @Test("The report puts both readings side by side: the frozen stop, the window's stop minus its 10 000; points.csv gains the column only with a frozen row")
    func report() throws {
        func record(_ variant: String, _ seed: UInt64, solved: Bool, _ sequences: Int) throws -> TrialRecord {
            TrialRecord(preset: Self.preset, variant: variant, seed: seed, parameters: try Presets.parameters(Self.preset, variant: variant),
                        solved: solved, sequences: sequences, trainingSteps: 0, wrong: 0, testCount: 10_000, testMSE: 0.01,
                        milestones: [], cergOutcome: nil, meanTestStreamLength: nil, seconds: 0)
        }
        let window = [try record("2c-1", 1, solved: true, 30_000), try record("2c-1", 2, solved: true, 50_000)]
        let frozen = [try record("2c-1-frozen", 1, solved: true, 21_000), try record("2c-1-frozen", 2, solved: false, 5_000_000)]
        #expect(window.map(\.sequencesUntilCorrect) == [20_000, 40_000])
        #expect(frozen.map(\.sequencesUntilCorrect) == [21_000, nil])

        // Without a frozen row: the table and the report as they always were.
        let plain = ReproductionReport.pointsCSV(window)
        #expect(plain.hasPrefix("id,preset,variant,seed,solved,sequences,training_steps,wrong,test_count,test_mse,cerg_outcome,mean_test_stream_length,budget,seconds\n"))
        #expect(!ReproductionReport.body(window).sections.joined().contains("read two ways"))

        // With one: the column, and the section with the rows paired (window first).
        let csv = ReproductionReport.pointsCSV(frozen + window).split(separator: "\n", omittingEmptySubsequences: false)
        #expect(csv[0].hasSuffix(",seconds,sequences_until_correct"))
        #expect(csv[1].hasSuffix(",21000") && csv[2].hasSuffix(",") && csv[3].hasSuffix(",20000") && csv[4].hasSuffix(",40000"))
        #expect(csv.dropFirst().filter { !$0.isEmpty }.allSatisfy { $0.split(separator: ",", omittingEmptySubsequences: false).count == 15 })
        let section = ReproductionReport.body(frozen + window).sections.joined()
        let rows = section.split(separator: "\n").filter { $0.hasPrefix("| 2c-1") && $0.contains("reading") == false && $0.contains(": ") }
        #expect(rows == [
            "| 2c-1 | running window: 10\u{202F}000 successive correct training sequences | 2 | 2/2 | 40\u{202F}000 | 30\u{202F}000 | 30\u{202F}000 | 20\u{202F}000–40\u{202F}000 |",
            "| 2c-1-frozen | frozen test: 10\u{202F}000 fresh sequences every 1\u{202F}000 | 2 | 1/2 | 21\u{202F}000 | 21\u{202F}000 | 21\u{202F}000 | 21\u{202F}000–21\u{202F}000 |",
        ], "\(section)")
    }
}
