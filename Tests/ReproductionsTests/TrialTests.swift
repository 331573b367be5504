import Foundation
import GateLabTasks
import GateLabGSL
import HandWrittenBPTT
import Testing
import GateLabExperiments
@testable import GateLabReproductions
import GateLabSupport

private func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }

@Suite("Presets, trials, records and checkpoints")
struct TrialTests {
    @Test("Every preset variant has the paper's weight count (93 … 10 504, 424); the CERG baselines 360")
    func weightCounts() throws {
        var seen = Set<Int>()
        for preset in Presets.all {
            for (name, parameters) in preset.variants {
                let count = parameters.architecture.weightCount
                if let paper = preset.paperWeightCounts[name] {
                    #expect(count == paper, "\(preset.name) \(name): \(count) weights, paper \(paper)")
                    seen.insert(paper)
                } else {
                    #expect(count == 360, "\(preset.name) \(name): the forget-gate-free CERG net")
                }
            }
        }
        #expect(seen == [93, 102, 156, 264, 276, 308, 364, 664, 1264, 3064, 6064, 10_504, 424])
    }

    @Test("Initial weights: uniform in the preset's interval, fixed gate biases in their slots")
    func initialisation() throws {
        let trial = try Trial(preset: "hochreiter1997-exp4", seed: 5)
        let a = trial.parameters.architecture
        let w = trial.network.lstm!.weights
        #expect(w[a.inputGateOffset(0)] == -3 && w[a.inputGateOffset(1)] == -6)
        var others = w
        others.remove(at: a.inputGateOffset(1))
        others.remove(at: a.inputGateOffset(0))
        #expect(others.allSatisfy { abs($0) <= 0.1 })
        let cerg = try Trial(preset: "gers2000-cerg", seed: 5)
        let g = cerg.parameters.architecture
        #expect((0..<4).map { cerg.network.lstm!.weights[g.forgetGateOffset($0)] } == [0.5, 1, 1.5, 2])
        #expect((0..<4).map { cerg.network.lstm!.weights[g.outputGateOffset($0)] } == [-0.5, -1, -1.5, -2])
        let exp1 = try Trial(preset: "hochreiter1997-exp1", variant: "1-1", seed: 5)
        let e = exp1.parameters.architecture
        #expect((0..<4).map { exp1.network.lstm!.weights[e.outputGateOffset($0)] } == [-1, -2, -3, -4])
    }

    @Test("A short online run is bit-identical across runs", arguments: [
        ("hochreiter1997-exp4", "T=100", 300), ("hochreiter1997-exp1", "1-5", 300), ("gers2000-cerg", "forget-gates", 20),
    ])
    func deterministic(preset: String, variant: String, count: Int) throws {
        var first = try Trial(preset: preset, variant: variant, seed: 11)
        var second = try Trial(preset: preset, variant: variant, seed: 11)
        first.train(atMost: count)
        second.train(atMost: count)
        #expect(bits(first.network.lstm!.weights) == bits(second.network.lstm!.weights))
        #expect(bits(first.network.lstm!.state) == bits(second.network.lstm!.state))
        #expect(first.trainingSteps == second.trainingSteps && first.trainingSteps > 0)
        // And training did change the weights; another seed gives other weights.
        let initial = try Trial(preset: preset, variant: variant, seed: 11)
        #expect(bits(first.network.lstm!.weights) != bits(initial.network.lstm!.weights))
        var other = try Trial(preset: preset, variant: variant, seed: 12)
        other.train(atMost: count)
        #expect(bits(first.network.lstm!.weights) != bits(other.network.lstm!.weights))
    }

    @Test("A trial saved mid-run and resumed ends bit-identical to one never interrupted", arguments: [
        ("hochreiter1997-exp4", "T=100", 400), ("hochreiter1997-exp1", "1-5", 400), ("hochreiter1997-exp3a", "T=100,N=3", 600),
        ("hochreiter1997-exp5", "T=100", 300), ("hochreiter1997-exp6a", "6a", 300), ("hochreiter1997-exp2c", "2c-1", 400),
        ("gers2000-cerg", "forget-gates-alpha-decay", 30), ("hochreiter1997-exp4", "full gradient", 200),
    ])
    func checkpointResume(preset: String, variant: String, count: Int) throws {
        var parameters: PresetParameters? = nil
        var variant: String? = variant
        if variant == "full gradient" {
            parameters = try Presets.parameters(preset)
            parameters!.gradient = .full
            variant = nil
        }
        var straight = try Trial(preset: preset, variant: variant, seed: 3, parameters: parameters)
        straight.train(atMost: count)
        var interrupted = try Trial(preset: preset, variant: variant, seed: 3, parameters: parameters)
        interrupted.train(atMost: count / 2 + 1)
        let saved = try interrupted.checkpoint()
        var resumed = try Trial.resume(from: saved)
        resumed.train(atMost: count - (count / 2 + 1))
        #expect(resumed.sequences == straight.sequences)
        #expect(resumed.trainingSteps == straight.trainingSteps)
        #expect(bits(resumed.network.lstm!.weights) == bits(straight.network.lstm!.weights))
        #expect(bits(resumed.network.lstm!.state) == bits(straight.network.lstm!.state))
        #expect(bits(resumed.network.lstm!.gradient) == bits(straight.network.lstm!.gradient))
        #expect(resumed.random.stateBytes() == straight.random.stateBytes())
        #expect(resumed.recentCorrect == straight.recentCorrect && bits(resumed.recentError) == bits(straight.recentError))
        #expect(resumed.successiveCorrect == straight.successiveCorrect && resumed.milestones == straight.milestones)
    }

    @Test("A trial checkpoint is sealed: an edited or unsealed one is refused, an intact one resumes")
    func checkpointIsSealed() throws {
        var trial = try Trial(preset: "hochreiter1997-exp4", variant: "T=100", seed: 3)
        trial.train(atMost: 20)
        let saved = String(decoding: try trial.checkpoint(), as: UTF8.self)
        #expect(saved.contains(#""checksum":"fnv1a64:"#))
        #expect(try Trial.resume(from: Data(saved.utf8)).sequences == trial.sequences)
        // One digit of the sequence count changed: still a decodable trial, but not this one.
        let edited = saved.replacingOccurrences(of: #""sequences":20"#, with: #""sequences":21"#)
        #expect(edited != saved)
        #expect(throws: ReproductionError.damagedCheckpoint("its checksum does not match its content (edited by hand, or damaged); start afresh without --resume")) {
            try Trial.resume(from: Data(edited.utf8))
        }
        let unsealed = String(decoding: try JSONEncoder().encode(trial), as: UTF8.self)
        #expect(throws: ReproductionError.self) { try Trial.resume(from: Data(unsealed.utf8)) }
    }

    @Test("A trial checkpoint edited and resealed by hand is validated: each inconsistency refused, none crashes")
    func resealedCheckpointIsValidated() throws {
        var trial = try Trial(preset: "hochreiter1997-exp4", variant: "T=100", seed: 3)
        trial.train(atMost: 30)
        let saved = try trial.checkpoint()
        let (body, _) = SealedLine.unseal(String(decoding: saved, as: UTF8.self))
        func resealed(_ edit: (inout [String: Any]) -> Void) throws -> Data {
            var object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as! [String: Any]
            edit(&object)
            return Data(SealedLine.seal(String(decoding: try JSONSerialization.data(withJSONObject: object), as: UTF8.self)).utf8)
        }
        // Unedited but re-serialised: still a valid trial (so the refusals below are the edits').
        #expect(try Trial.resume(from: try resealed { _ in }).sequences == 30)
        let edits: [(String, (inout [String: Any]) -> Void)] = [
            ("position", { $0["ringNext"] = 1_000_000_000 }),
            ("window", { $0["recentError"] = [Double]() }),
            ("wrong count", { $0["recentWrong"] = 7 }),
            ("negative counter", { $0["sequences"] = -5 }),
            ("state decay", { object in
                var network = object["network"] as! [String: Any], lstm = network["lstm"] as! [String: Any]
                var inner = lstm["_0"] as! [String: Any]
                inner["stateDecay"] = 0.5
                lstm["_0"] = inner; network["lstm"] = lstm; object["network"] = network
            }),
        ]
        for (name, edit) in edits {
            #expect(throws: ReproductionError.self, "\(name)") { try Trial.resume(from: try resealed(edit)) }
        }
    }

    @Test("A trial out of budget stops unsolved and its record is Codable with the required fields")
    func budgetAndRecord() throws {
        var parameters = try Presets.parameters("hochreiter1997-exp4")
        parameters.budget = 50
        parameters.testCount = 100
        var trial = try Trial(preset: "hochreiter1997-exp4", seed: 9, parameters: parameters)
        let record = trial.run()
        #expect(!record.solved && record.sequences == 50 && record.testCount == 100)
        #expect(record.wrong > 50, "an untrained net gets most adding sequences wrong (\(record.wrong))")
        let json = try JSONEncoder().encode(record)
        let object = try JSONSerialization.jsonObject(with: json) as! [String: Any]
        for key in ["solved", "sequences", "wrong", "test_mse", "seed", "preset", "variant", "parameters"] {
            #expect(object[key] != nil, "record lacks \(key)")
        }
        #expect(try JSONDecoder().decode(TrialRecord.self, from: json) == record)
    }

    @Test("The full-gradient option changes the weights by α times the full BPTT direction at the sequence end")
    func fullGradientOption() throws {
        var parameters = try Presets.parameters("hochreiter1997-exp6a")
        parameters.gradient = .full
        var trial = try Trial(preset: "hochreiter1997-exp6a", seed: 4, parameters: parameters)
        let before = trial.network.lstm!.weights
        // Replay the trial's draws: weights first, then the first training sequence.
        let rng = try RandomSource(seed: 4)
        _ = parameters.initialisation.weights(for: parameters.architecture, using: rng)
        let sequence = TemporalOrderTask.sixA.sample(using: rng)
        trial.train(atMost: 1)
        let full = ReferenceBPTT.run(architecture: parameters.architecture, weights: before, sequence: sequence, mode: .full)
        for i in 0..<before.count {
            #expect(abs(trial.network.lstm!.weights[i] - (before[i] + 0.5 * full.descent[i])) <= 1e-13)
        }
        #expect(throws: ReproductionError.self) {
            var cerg = try Presets.parameters("gers2000-cerg")
            cerg.gradient = .full
            _ = try Trial(preset: "gers2000-cerg", seed: 1, parameters: cerg)
        }
        #expect(throws: ReproductionError.self, "the cell file has no state decay") {
            var decayed = parameters
            decayed.stateDecay = 0.9
            _ = try Trial(preset: "hochreiter1997-exp6a", seed: 1, parameters: decayed)
        }
        #expect(throws: ReproductionError.self, "the 2000 cell file has no gate feeds") {
            var both = parameters
            both.architecture.forgetGates = true
            _ = try Trial(preset: "hochreiter1997-exp6a", seed: 1, parameters: both)
        }
    }

    @Test("A CERG trial out of budget is judged by its last test streams (rest, with 10 wrong streams)")
    func cergRecord() throws {
        var parameters = try Presets.parameters("gers2000-cerg", variant: "standard-external-reset")
        parameters.budget = 3
        var trial = try Trial(preset: "gers2000-cerg", variant: "standard-external-reset", seed: 2, parameters: parameters)
        let record = trial.run()
        #expect(!record.solved && record.sequences == 3 && record.testCount == 10 && record.wrong == 10)
        #expect(record.cergOutcome == "rest" && record.testMSE == nil)
        #expect((record.meanTestStreamLength ?? 1000) < 100)
        #expect(record.trainingSteps >= 3)
    }

    @Test("Exp. 1 with weightUpdate = .sequenceEnd changes the weights once per string, by α × the summed truncated direction")
    func sequenceEndUpdate() throws {
        var parameters = try Presets.parameters("hochreiter1997-exp1")
        parameters.weightUpdate = .sequenceEnd
        var trial = try Trial(preset: "hochreiter1997-exp1", seed: 6, parameters: parameters)
        let before = trial.network.lstm!.weights
        let string = trial.trainingSet
        // Replay the trial's draws after the weights (the data sets come from their own
        // generator, `Trial.dataSource`): the index of the first training string.
        let rng = try RandomSource(seed: 6)
        _ = parameters.initialisation.weights(for: parameters.architecture, using: rng)
        let sequence = string[rng.integer(below: string.count)]
        trial.train(atMost: 1)
        let truncated = ReferenceBPTT.run(architecture: parameters.architecture, weights: before, sequence: sequence, mode: .truncated)
        for i in 0..<before.count {
            #expect(abs(trial.network.lstm!.weights[i] - (before[i] + 0.5 * truncated.descent[i])) <= 1e-13)
        }
        // The default (every step) ends elsewhere.
        var perStep = try Trial(preset: "hochreiter1997-exp1", seed: 6)
        perStep.train(atMost: 1)
        #expect(zip(perStep.network.lstm!.weights, trial.network.lstm!.weights).contains { abs($0 - $1) > 1e-9 })
    }

    @Test("Unknown presets and variants are refused with the valid names")
    func unknownPreset() {
        #expect(throws: ReproductionError.self) { try Presets.parameters("hochreiter1997-exp7") }
        #expect(throws: ReproductionError.self) { try Presets.parameters("hochreiter1997-exp4", variant: "T=200") }
    }
}
