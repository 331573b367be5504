import GateLabTasks
import GateLabGSL
import HandWrittenBPTT
import Testing
@testable import GateLabReproductions

/// Networks covering every path of the learning rule: 1997 nets with each bias set, the 2000
/// net (forget gates, shortcuts, no gate feeds), and the 2000 net with gate feeds switched on.
private let cases: [(name: String, architecture: Architecture, decay: Double)] = [
    ("1997 F, all biases (Exp. 4 shape)", .hochreiter1997(inputs: 2, blocks: 2, cellsPerBlock: 2, outputs: 1, biases: .all), 1),
    ("1997 F, gates only (Exp. 1 shape)", .hochreiter1997(inputs: 7, blocks: 3, cellsPerBlock: 2, outputs: 7, biases: .gates), 1),
    ("1997 F, hidden only (Exp. 3 shape)", .hochreiter1997(inputs: 1, blocks: 3, cellsPerBlock: 1, outputs: 1, biases: .hidden), 1),
    ("1997 F, no biases (Exp. 2c shape)", .hochreiter1997(inputs: 6, blocks: 2, cellsPerBlock: 1, outputs: 2, biases: .none), 1),
    ("2000 forget gates + shortcuts", .gers2000(), 1),
    ("1997 cell with state decay 0.9", .gers2000(forgetGates: false), 0.9),
    ("forget gates and gate feeds together",
     Architecture(inputs: 3, blocks: 2, cellsPerBlock: 2, outputs: 2, forgetGates: true, gatesFeedUnits: true,
                  outputShortcuts: true, cellBias: true, gateBias: true, outputBias: true), 1),
]

/// A random sequence for `architecture`: inputs in [−1, 1], targets in [0, 1] at the steps
/// chosen by `everyStep` (else only at the end).
private func randomSequence(_ a: Architecture, length: Int, everyStep: Bool, rng: RandomSource) -> TaskSequence {
    var sequence = TaskSequence(inputSize: a.inputs, outputSize: a.outputs)
    sequence.reset(length: length)
    for i in 0..<sequence.inputs.count { sequence.inputs[i] = rng.uniform(-1, 1) }
    for t in 0..<length where everyStep || t == length - 1 {
        sequence.hasTarget[t] = true
        for k in 0..<a.outputs { sequence.targets[t * a.outputs + k] = rng.uniform() }
    }
    return sequence
}

@Suite("The truncated gradient and the full gradient are what they claim to be")
struct GradientTests {
    @Test("Forward RTRL traces equal a reverse pass with y(t−1) held constant, to 1e-12",
          arguments: [false, true])
    func truncatedEqualsStopGradientBPTT(everyStep: Bool) throws {
        let rng = try RandomSource(seed: 21)
        for (name, architecture, decay) in cases {
            // Weights of ±1 so that every path carries a sizeable signal.
            let weights = rng.uniformArray(count: architecture.weightCount, low: -1, high: 1)
            let sequence = randomSequence(architecture, length: 30, everyStep: everyStep, rng: rng)
            var learner = TruncatedRTRL(architecture: architecture, weights: weights, stateDecay: decay)
            _ = learner.run(sequence, rule: .absolute(0.5), timing: .accumulate)
            let reference = ReferenceBPTT.run(architecture: architecture, weights: weights, sequence: sequence,
                                              stateDecay: decay, mode: .truncated)
            let worst = zip(learner.gradient, reference.descent).map { abs($0 - $1) }.max()!
            let size = reference.descent.map(abs).max()!
            #expect(worst <= 1e-12, "\(name): worst |RTRL − truncated BPTT| = \(worst)")
            #expect(size > 1e-3, "\(name): the gradient is not trivially zero (max \(size))")
            // The forward passes agree too.
            let last = reference.outputs.last!
            #expect(zip(learner.outputs, last).allSatisfy { abs($0 - $1) <= 1e-14 })
            // And the truncation is real: the full gradient differs (except where no y(t−1)
            // path exists, which none of these nets lacks).
            let full = ReferenceBPTT.run(architecture: architecture, weights: weights, sequence: sequence,
                                         stateDecay: decay, mode: .full)
            let gap = zip(full.descent, reference.descent).map { abs($0 - $1) }.max()!
            #expect(gap > 1e-6, "\(name): full and truncated gradients coincide (gap \(gap))")
        }
    }

    /// Worst relative error of `gradient` against central differences of the loss.
    private func worstRelativeError(_ a: Architecture, _ weights: [Double], _ sequence: TaskSequence, _ decay: Double,
                                    _ descent: [Double]) -> (Double, Int) {
        let h = 1e-5
        var worst = (0.0, -1)
        for i in 0..<weights.count {
            var plus = weights, minus = weights
            plus[i] += h
            minus[i] -= h
            let numeric = (ReferenceBPTT.loss(architecture: a, weights: plus, sequence: sequence, stateDecay: decay)
                - ReferenceBPTT.loss(architecture: a, weights: minus, sequence: sequence, stateDecay: decay)) / (2 * h)
            let analytic = -descent[i]
            // Relative error with a floor of 1e-4 on the scale, so that entries that are zero
            // up to rounding do not divide by zero.
            let relative = abs(analytic - numeric) / max(abs(analytic), abs(numeric), 1e-4)
            if relative > worst.0 { worst = (relative, i) }
        }
        return worst
    }

    @Test("The full gradient equals central finite differences (relative error ≤ 1e-6)")
    func fullMatchesFiniteDifferences() throws {
        let rng = try RandomSource(seed: 22)
        for (name, architecture, decay) in cases where architecture.weightCount < 200 {
            let weights = rng.uniformArray(count: architecture.weightCount, low: -1, high: 1)
            let sequence = randomSequence(architecture, length: 12, everyStep: true, rng: rng)
            let full = ReferenceBPTT.run(architecture: architecture, weights: weights, sequence: sequence,
                                         stateDecay: decay, mode: .full)
            #expect(abs(full.loss - ReferenceBPTT.loss(architecture: architecture, weights: weights, sequence: sequence,
                                                       stateDecay: decay)) < 1e-14)
            let (worst, index) = worstRelativeError(architecture, weights, sequence, decay, full.descent)
            #expect(worst <= 1e-6, "\(name): worst relative error \(worst) at weight \(index)")
            // The checker can fail: the truncated gradient is not the gradient of the loss.
            let truncated = ReferenceBPTT.run(architecture: architecture, weights: weights, sequence: sequence,
                                              stateDecay: decay, mode: .truncated)
            let (truncatedWorst, _) = worstRelativeError(architecture, weights, sequence, decay, truncated.descent)
            #expect(truncatedWorst > 1e-3, "\(name): the truncated gradient passed the finite-difference check")
        }
    }

    @Test("The engine's full gradient (the cell file unrolled, the output units on it) equals the hand-written full BPTT to 1e-12, and refuses what the cell files cannot express",
          arguments: [false, true])
    func engineFullEqualsReference(everyStep: Bool) throws {
        let rng = try RandomSource(seed: 24)
        var checked = 0
        for (name, architecture, decay) in cases {
            let weights = rng.uniformArray(count: architecture.weightCount, low: -1, high: 1)
            let expressible = decay == 1 && (!architecture.forgetGates || !architecture.gatesFeedUnits)
            guard expressible else {
                #expect(throws: ReproductionError.self, "\(name)") { _ = try FullGradient(architecture: architecture, stateDecay: decay) }
                continue
            }
            let engine = try FullGradient(architecture: architecture, stateDecay: decay)
            for length in [1, 25, 1, 7] {   // programs of several lengths, and one reused
                let sequence = randomSequence(architecture, length: length, everyStep: everyStep, rng: rng)
                var descent = [Double](repeating: .nan, count: weights.count)
                let outcome = try descent.withUnsafeMutableBufferPointer {
                    try engine.run(weights: weights, sequence: sequence, rule: .absolute(0.5), descent: $0)
                }
                let reference = ReferenceBPTT.run(architecture: architecture, weights: weights, sequence: sequence,
                                                  stateDecay: decay, mode: .full)
                let worst = zip(descent, reference.descent).map { abs($0 - $1) }.max()!
                #expect(worst <= 1e-12, "\(name), length \(length): worst |engine − reference| = \(worst)")
                #expect(abs(outcome.squaredErrorSum / 2 - reference.loss) <= 1e-12)
                #expect(outcome.targetSteps == (everyStep ? length : 1))
                let forward = try engine.run(weights: weights, sequence: sequence, rule: .absolute(0.5), descent: nil)
                #expect(forward == outcome, "a forward pass alone judges the sequence as the training pass does")
                checked += 1
            }
        }
        #expect(checked == 5 * 4)
    }

    @Test("A per-step update changes the weights by α times that step's truncated descent direction")
    func perStepUpdate() throws {
        let rng = try RandomSource(seed: 23)
        let architecture = Architecture.gers2000()
        let weights = rng.uniformArray(count: architecture.weightCount, low: -0.2, high: 0.2)
        let sequence = randomSequence(architecture, length: 1, everyStep: true, rng: rng)
        var learner = TruncatedRTRL(architecture: architecture, weights: weights)
        _ = learner.run(sequence, rule: .absolute(0.49), timing: .everyTargetStep(learningRate: 0.5))
        let reference = ReferenceBPTT.run(architecture: architecture, weights: weights, sequence: sequence, mode: .truncated)
        for i in 0..<weights.count {
            #expect(abs(learner.weights[i] - (weights[i] + 0.5 * reference.descent[i])) <= 1e-15)
        }
        #expect(learner.gradient.allSatisfy { $0 == 0 })
    }
}
