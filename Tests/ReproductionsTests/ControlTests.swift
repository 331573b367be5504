import GateLabTasks
import GateLabGSL
import HandWrittenBPTT
import Testing
@testable import GateLabReproductions

@Suite("The tanh-RNN control")
struct ControlTests {
    @Test("Its BPTT gradient by the engine equals the hand-written pass to 1e-12 and central finite differences (relative error ≤ 1e-6)",
          arguments: [false, true])
    func gradientMatchesFiniteDifferences(everyStep: Bool) throws {
        let rng = try RandomSource(seed: 5)
        let control = TanhRNNControl(inputs: 3, hidden: 4, outputs: 2,
                                     weights: rng.uniformArray(count: TanhRNNControl.weightCount(inputs: 3, hidden: 4, outputs: 2), low: -0.8, high: 0.8))
        let net = ReferenceTanhRNN(control)
        var sequence = TaskSequence(inputSize: 3, outputSize: 2)
        sequence.reset(length: 12)
        for i in 0..<sequence.inputs.count { sequence.inputs[i] = rng.uniform(-1, 1) }
        for t in 0..<12 where everyStep || t == 11 {
            sequence.hasTarget[t] = true
            for k in 0..<2 { sequence.targets[t * 2 + k] = rng.uniform() }
        }
        let (descent, outcome) = net.descent(sequence, rule: .absolute(0.5))
        #expect(outcome.targetSteps == (everyStep ? 12 : 1))
        var engineDescent = [Double](repeating: .nan, count: descent.count)
        let engineOutcome = try engineDescent.withUnsafeMutableBufferPointer {
            try FullGradient(control: control).run(weights: control.weights, sequence: sequence, rule: .absolute(0.5), descent: $0)
        }
        let gap = zip(engineDescent, descent).map { abs($0 - $1) }.max()!
        #expect(gap <= 1e-12, "engine vs hand-written: \(gap)")
        #expect(abs(engineOutcome.squaredErrorSum - outcome.squaredErrorSum) <= 1e-12 && engineOutcome.correct == outcome.correct)
        let h = 1e-6
        var worst = 0.0
        for i in 0..<net.weights.count {
            var plus = net, minus = net
            plus.weights[i] += h
            minus.weights[i] -= h
            let numeric = -(plus.loss(sequence) - minus.loss(sequence)) / (2 * h)
            worst = max(worst, abs(numeric - descent[i]) / max(1e-3, abs(numeric)))
        }
        #expect(worst <= 1e-6, "worst relative error \(worst)")
        #expect(descent.contains { abs($0) > 1e-4 })
    }

    @Test("The control gets the hidden size closest to the LSTM's weight count: 8 units (97) for Exp. 4, 7 (144) for Exp. 6a")
    func weightCounts() throws {
        let four = try Presets.parameters("hochreiter1997-exp4").withTanhRNNControl()
        #expect(four.network == .tanhRNN(hidden: 8) && four.gradient == .full)
        #expect(TanhRNNControl.weightCount(inputs: 2, hidden: 8, outputs: 1) == 97)
        let six = try Presets.parameters("hochreiter1997-exp6a").withTanhRNNControl()
        #expect(six.network == .tanhRNN(hidden: 7) && TanhRNNControl.weightCount(inputs: 8, hidden: 7, outputs: 4) == 144)
    }

    @Test("A control trial trains the RNN (its weights change by α × its BPTT direction), is bit-identical when resumed, and refuses Exp. 1")
    func controlTrial() throws {
        let p = try Presets.parameters("hochreiter1997-exp4").withTanhRNNControl()
        var trial = try Trial(preset: "hochreiter1997-exp4", seed: 3, parameters: p)
        let before = trial.network.tanhRNN!
        #expect(trial.network.lstm == nil, "a control trial holds only the net it trains")
        #expect(before.weights.allSatisfy { abs($0) <= 0.1 })
        // The first training sequence, replayed: after the RNN's weights in the trial's stream.
        let rng = try RandomSource(seed: 3)
        _ = rng.uniformArray(count: before.weights.count, low: -0.1, high: 0.1)
        let first = MarkedPairTask(.adding, T: 100).sample(using: rng)
        trial.train(atMost: 1)
        let (direction, _) = ReferenceTanhRNN(before).descent(first, rule: p.correctness)
        for i in 0..<before.weights.count { #expect(abs(trial.network.tanhRNN!.weights[i] - (before.weights[i] + 0.5 * direction[i])) <= 1e-13) }
        // Saved and resumed mid-run, it ends where an uninterrupted trial ends.
        var budgeted = p
        budgeted.budget = 40
        var whole = try Trial(preset: "hochreiter1997-exp4", seed: 4, parameters: budgeted)
        var half = try Trial(preset: "hochreiter1997-exp4", seed: 4, parameters: budgeted)
        half.train(atMost: 17)
        var resumed = try Trial.resume(from: try half.checkpoint())
        var a = whole.run(), b = resumed.run()
        (a.seconds, b.seconds) = (0, 0)
        #expect(a == b && a.testCount == 2560)
        #expect(throws: ReproductionError.self) {
            _ = try Trial(preset: "hochreiter1997-exp1", seed: 1,
                          parameters: try Presets.parameters("hochreiter1997-exp1").withTanhRNNControl())
        }
    }
}
