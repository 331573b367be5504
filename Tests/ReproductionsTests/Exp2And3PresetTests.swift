import Foundation
import GateLabTasks
import GateLabGSL
import Testing
@testable import GateLabReproductions

private func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }

/// Exp. 2a's preset with a stall rule that fires after the second block of 5 sequences (a
/// block mean is never 99 % below the one before), so that the cells are added at sequence 10.
private func quickGrowth() throws -> PresetParameters {
    var p = try Presets.parameters("hochreiter1997-exp2a")
    p.addCellsWhenErrorStalls = ErrorStall(window: 5, relativeFall: 0.99)
    return p
}

@Suite("H&S 1997 Exps. 2a, 2b, 3b and 3c: presets as the paper sets them up")
struct Exp2And3PresetTests {
    @Test("Weight counts equal the paper's (Table 10): 10 504 for 2a and 2b (2 · 101 + 101 · 102), 102 for every 3b and 3c row")
    func weightCounts() throws {
        let paper = ["hochreiter1997-exp2a": ["p=100": 10_504], "hochreiter1997-exp2b": ["p=100": 10_504],
                     "hochreiter1997-exp3b": ["T=100,N=3": 102, "T=100,N=1": 102, "T=1000,N=1": 102],
                     "hochreiter1997-exp3c": ["T=100,N=3": 102, "T=100,N=1": 102]]
        for (name, rows) in paper {
            let preset = try #require(Presets.all.first { $0.name == name })
            #expect(Set(preset.variants.map(\.name)) == Set(rows.keys), "\(name): the paper's rows")
            #expect(preset.paperWeightCounts == rows)
            for (variant, parameters) in preset.variants {
                #expect(parameters.architecture.weightCount == rows[variant], "\(name) \(variant): \(parameters.architecture.weightCount)")
                // The trial's network has exactly that many weights.
                let trial = try Trial(preset: name, variant: variant, seed: 1)
                #expect(trial.network.lstm!.weights.count == rows[variant])
            }
        }
        let b = try Presets.parameters("hochreiter1997-exp2a").architecture
        #expect(b.cellRow == 101 && b.gateRow == 101 && b.outputRow == 102 && b.gatesPerBlock == 1)
    }

    @Test("Exps. 2a/2b: the paper's α, interval, criterion, budget and test; 2b judged at the sequence end")
    func exp2Parameters() throws {
        for (name, rule) in [("hochreiter1997-exp2a", CorrectnessRule.absolute(0.25)), ("hochreiter1997-exp2b", .absoluteAtSequenceEnd(0.25))] {
            let p = try Presets.parameters(name)
            #expect(p.learningRate == 1.0 && p.initialisation == Initialisation(range: 0.2) && p.gradient == .truncated)
            #expect(p.correctness == rule && p.criterion == .successiveCorrect(count: 10_000))
            #expect(p.budget == 5_000_000 && p.testCount == 10_000 && p.weightUpdate == .everyTargetStep)
            #expect(p.addCellsWhenErrorStalls == ErrorStall(window: 100, relativeFall: 0.01))
            let a = p.architecture
            #expect(a.isConnectivityB && !a.hasOutputGates && !a.cellBias && !a.gateBias && !a.outputBias && a.inputs == 101 && a.outputs == 101)
            let trial = try Trial(preset: name, seed: 2)
            #expect(trial.network.lstm!.weights.allSatisfy { abs($0) <= 0.2 })
            #expect(trial.network.lstm!.cellsActive == false, "the cell is added later")
        }
        #expect(try Presets.parameters("hochreiter1997-exp2a").task == .longLag(p: 100))
        #expect(try Presets.parameters("hochreiter1997-exp2b").task == .longLagRandomMiddle(p: 100))
        // The sequence-end rule judges only the last target step; ABS judges every one.
        let end = CorrectnessRule.absoluteAtSequenceEnd(0.25)
        #expect(!end.judges(step: 98, lastTargetStep: 99) && end.judges(step: 99, lastTargetStep: 99))
        #expect(CorrectnessRule.absolute(0.25).judges(step: 98, lastTargetStep: 99))
    }

    @Test("Exps. 3b/3c: Exp. 3a's net and initialisation; 3b α = 1.0, ABS(0.2), ST1 fewer than 6 of 256 and ST2 0.04; 3c α = 0.1, ABS(0.1), ST1 none and ST2 0.015")
    func exp3Parameters() throws {
        let threeA = try Presets.parameters("hochreiter1997-exp3a")
        for (name, variant, task) in [("hochreiter1997-exp3b", "T=1000,N=1", TaskSpec.twoSequenceNoisyInformation(T: 1000, N: 1)),
                                      ("hochreiter1997-exp3c", "T=100,N=1", .twoSequenceNoisyTargets(T: 100, N: 1))] {
            let p = try Presets.parameters(name, variant: variant)
            #expect(p.task == task)
            #expect(p.architecture == threeA.architecture && p.initialisation == threeA.initialisation)
            #expect(p.budget == 2_000_000 && p.testCount == 2560 && p.gradient == .truncated && p.addCellsWhenErrorStalls == nil)
            let trial = try Trial(preset: name, variant: variant, seed: 1)
            #expect(trial.testSet.count == 256)
        }
        let b = try Presets.parameters("hochreiter1997-exp3b")
        #expect(b.learningRate == 1.0 && b.correctness == .absolute(0.2))
        #expect(b.criterion == .st1st2Tolerant(testSetSize: 256, fewerWrongThan: 6, meanAbsoluteError: 0.04, checkEvery: 256))
        let c = try Presets.parameters("hochreiter1997-exp3c")
        #expect(c.learningRate == 0.1 && c.correctness == .absolute(0.1))
        #expect(c.criterion == .st1st2(testSetSize: 256, meanAbsoluteError: 0.015, checkEvery: 256))
        // The 3c test set is judged against noise-free targets.
        let trial = try Trial(preset: "hochreiter1997-exp3c", seed: 1)
        #expect(trial.testSet.allSatisfy { $0.expected != nil })
    }

    @Test("Exps. 2a/2b's net: with the cell in, its truncated gradient is the full gradient (the cell and gate read only the inputs), equal to central differences")
    func layeredGradient() throws {
        let a = Architecture.hochreiter1997LayeredB(inputs: 6, outputs: 6)
        #expect(a.weightCount == 2 * 6 + 6 * 7)
        let rng = try RandomSource(seed: 31)
        let w = rng.uniformArray(count: a.weightCount, low: -0.8, high: 0.8)
        let sequence = LongLagTask(p: 5, randomMiddle: true).sample(using: rng)
        func loss(_ w: [Double]) -> Double {
            var net = TruncatedRTRL(architecture: a, weights: w)
            return 0.5 * net.run(sequence, rule: .absolute(0.25), timing: .none).squaredErrorSum
        }
        var net = TruncatedRTRL(architecture: a, weights: w)
        _ = net.run(sequence, rule: .absolute(0.25), timing: .accumulate)
        let h = 1e-6
        var worst = 0.0
        for i in w.indices {
            var plus = w, minus = w
            plus[i] += h; minus[i] -= h
            let numeric = -(loss(plus) - loss(minus)) / (2 * h)
            worst = max(worst, abs(net.gradient[i] - numeric) / max(1e-3, abs(numeric)))
        }
        #expect(worst < 1e-5, "largest relative difference \(worst)")
        // The state is the sum of y^in · f(net_c): with h the identity and no output gate, y^c = s.
        #expect(net.cellStates.first! > 0)
        // Before the cell is added: the cell's and the gate's weights get no gradient, nor the
        // outputs' weights on the cell.
        var bare = TruncatedRTRL(architecture: a, weights: w)
        bare.cellsActive = false
        _ = bare.run(sequence, rule: .absolute(0.25), timing: .accumulate)
        #expect(bare.gradient[0..<12].allSatisfy { $0 == 0 })
        #expect((0..<6).allSatisfy { bare.gradient[a.outputOffset($0)] == 0 && bare.gradient[a.outputOffset($0) + 1] != 0 })
        #expect(bare.cellStates.first == 0)
    }

    @Test("Exp. 2a's sequential construction: the cell takes no part until the error stalls, then it is added and learns; resumed bit-identically")
    func sequentialConstruction() throws {
        let p = try quickGrowth()
        var trial = try Trial(preset: "hochreiter1997-exp2a", seed: 4, parameters: p)
        let initial = trial.network.lstm!.weights
        trial.train(atMost: 9)
        #expect(trial.network.lstm!.cellsActive == false && trial.milestones.isEmpty)
        #expect(bits(Array(trial.network.lstm!.weights[0..<202])) == bits(Array(initial[0..<202])), "cell and gate weights unchanged")
        #expect(trial.network.lstm!.weights != initial, "the output units learn meanwhile")
        trial.train(atMost: 1)
        #expect(trial.network.lstm!.cellsActive == true)
        #expect(trial.milestones == [Milestone(name: "cells added", sequences: 10, wrong: 0, testCount: 0, testMSE: nil)])
        trial.train(atMost: 3)
        #expect(bits(Array(trial.network.lstm!.weights[0..<202])) != bits(Array(initial[0..<202])), "the added cell learns")
        // Never added while the error keeps falling fast enough: the paper's rule over 10 sequences.
        var paper = try Trial(preset: "hochreiter1997-exp2a", seed: 4)
        paper.train(atMost: 10)
        #expect(paper.network.lstm!.cellsActive == false)

        // Saved before the cell is added, resumed: the same trial, bit for bit.
        var straight = try Trial(preset: "hochreiter1997-exp2a", seed: 4, parameters: p)
        straight.train(atMost: 14)
        var interrupted = try Trial(preset: "hochreiter1997-exp2a", seed: 4, parameters: p)
        interrupted.train(atMost: 7)
        var resumed = try Trial.resume(from: try interrupted.checkpoint())
        #expect(resumed.network.lstm!.cellsActive == false)
        resumed.train(atMost: 7)
        #expect(resumed.milestones == straight.milestones)
        #expect(bits(resumed.network.lstm!.weights) == bits(straight.network.lstm!.weights))
        #expect(bits(resumed.network.lstm!.state) == bits(straight.network.lstm!.state))
    }

    @Test("Exp. 3c: a sequence is judged, and its error measured, against the noise-free target; learning follows the noisy one")
    func exp3cJudgedNoiseFree() throws {
        let p = try Presets.parameters("hochreiter1997-exp3c")
        let rng = try RandomSource(seed: 8)
        let weights = p.initialisation.weights(for: p.architecture, using: rng)
        let sequence = TwoSequenceTask.threeC(T: 100, N: 3).sample(using: rng)
        let (target, expected) = (sequence.targets.last!, sequence.expected!.last!)
        #expect(abs(target - expected) > 1e-3)
        var net = TruncatedRTRL(architecture: p.architecture, weights: weights)
        let outcome = net.run(sequence, rule: .absolute(0.1), timing: .accumulate)
        let y = net.outputs.first!
        #expect(outcome.finalError == (expected - y) * (expected - y))
        #expect(outcome.correct == (abs(expected - y) < 0.1))
        // The gradient is the noisy target's: the output unit's bias-free weight on cell 1 moves by
        // e_k · y^c with e_k = f'(net)(target − y).
        let yc = net.state[net.o.yc]
        #expect(abs(net.gradient[p.architecture.outputOffset(0)] - y * (1 - y) * (target - y) * yc) < 1e-15)
    }

    @Test("Exp. 3b's ST1 tolerates 5 of 256 misclassified test sequences, not 6; ST2 then needs the mean absolute error below 0.04")
    func exp3bTolerantStop() throws {
        /// A 3b trial whose fixed test set the untrained net gets right but for `wrong` sequences,
        /// each off by `miss`.
        func trial(wrong: Int, miss: Double) throws -> Trial {
            var t = try Trial(preset: "hochreiter1997-exp3b", seed: 3)
            var net = t.network.lstm!
            for i in t.testSet.indices {
                _ = net.run(t.testSet[i], rule: .absolute(0.2), timing: .none)
                t.testSet[i].targets[t.testSet[i].length - 1] = net.outputs.first! + (i < wrong ? miss : 0)
            }
            return t
        }
        var five = try trial(wrong: 5, miss: 0.3)
        five.checkST1ST2(fewerWrongThan: 6, meanAbsoluteError: 0.04, every: 1)
        #expect(five.solved && five.milestones.map(\.name) == ["ST1", "ST2"] && five.milestones[0].wrong == 5)
        var six = try trial(wrong: 6, miss: 0.3)
        six.checkST1ST2(fewerWrongThan: 6, meanAbsoluteError: 0.04, every: 1)
        #expect(!six.solved && six.milestones.isEmpty)
        // ST1 without ST2: 5 wrong by 0.5 and all others off by 0.035 (mean 5 · 0.5/256 + 251 · 0.035/256 ≈ 0.044).
        var st1 = try trial(wrong: 5, miss: 0.5)
        for i in 5..<256 { st1.testSet[i].targets[st1.testSet[i].length - 1] += 0.035 }
        st1.checkST1ST2(fewerWrongThan: 6, meanAbsoluteError: 0.04, every: 1)
        #expect(!st1.solved && st1.milestones.map(\.name) == ["ST1"])
        // Exp. 3a's rule (none wrong) does not stop on the 5-wrong set.
        var strict = try trial(wrong: 5, miss: 0.3)
        strict.checkST1ST2(fewerWrongThan: 1, meanAbsoluteError: 0.04, every: 1)
        #expect(!strict.solved && strict.milestones.isEmpty)
    }

    @Test("The full gradient refuses Exps. 2a/2b's net with the reason; the other options of the new presets are refused or accepted as documented")
    func refusals() throws {
        var p = try Presets.parameters("hochreiter1997-exp2b")
        p.gradient = .full
        #expect(throws: ReproductionError.self) { _ = try Trial(preset: "hochreiter1997-exp2b", seed: 1, parameters: p) }
        #expect(throws: ReproductionError.self) { _ = try Presets.parameters("hochreiter1997-exp2a").withLength(50) }
        let longer = try Presets.parameters("hochreiter1997-exp3b").withLength(500)
        #expect(longer.task == .twoSequenceNoisyInformation(T: 500, N: 3))
        #expect(try Presets.parameters("hochreiter1997-exp3c").withLength(200).task == .twoSequenceNoisyTargets(T: 200, N: 3))
    }

    @Test("Records of the new presets read back equal, with the new keys in snake_case")
    func records() throws {
        for name in ["hochreiter1997-exp2b", "hochreiter1997-exp3b", "hochreiter1997-exp3c"] {
            let p = try Presets.parameters(name)
            let record = TrialRecord(preset: name, variant: "v", seed: 1, parameters: p, solved: false, sequences: 0, trainingSteps: 0,
                                     wrong: 0, testCount: 0, testMSE: nil, milestones: [], cergOutcome: nil, meanTestStreamLength: nil,
                                     seconds: 0)
            let line = try record.jsonLine()
            #expect(try TrialRecord(jsonLine: line) == record)
        }
        let b = try TrialRecord(preset: "x", variant: "v", seed: 1, parameters: Presets.parameters("hochreiter1997-exp2b"), solved: false,
                                sequences: 0, trainingSteps: 0, wrong: 0, testCount: 0, testMSE: nil, milestones: [], cergOutcome: nil,
                                meanTestStreamLength: nil, seconds: 0).jsonLine()
        for key in [#""absolute_at_sequence_end":{"threshold":0.25}"#, #""long_lag_random_middle":{"p":100}"#, #""connectivity_b":true"#,
                    #""add_cells_when_error_stalls":{"#, #""relative_fall":0.01"#] {
            #expect(b.contains(key), "\(key) in \(b)")
        }
        // An existing preset's record holds none of the new keys.
        let four = try TrialRecord(preset: "x", variant: "v", seed: 1, parameters: Presets.parameters("hochreiter1997-exp4"), solved: false,
                                   sequences: 0, trainingSteps: 0, wrong: 0, testCount: 0, testMSE: nil, milestones: [], cergOutcome: nil,
                                   meanTestStreamLength: nil, seconds: 0).jsonLine()
        #expect(!four.contains("connectivity_b") && !four.contains("add_cells"))
    }
}
