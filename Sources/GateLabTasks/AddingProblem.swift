import GateLabGSL

/// The adding problem in its modern form (Le, Jaitly & Hinton 2015; Arjovsky, Shah & Bengio
/// 2016): T steps of pairs (value ~ U[0, 1], marker ∈ {0, 1}), exactly two markers, one in
/// each half (positions in [0, T/2) and [T/2, T)); the target after the last step is the sum
/// X1 + X2 of the two marked values; loss MSE. Predicting the constant 1 = E[X1 + X2] scores
/// Var(X1 + X2) = 2 · 1/12 = 1/6: the baseline. Solved: held-out MSE < 0.01.
public struct AddingProblem: ForgettingTask {
    public let name = "adding"
    public let length: Int
    public let inputSize = 2
    public let loss = TaskLoss.meanSquaredError(outputs: 1)
    public var steps: Int { length }
    public let baseline = 1.0 / 6.0
    public let baselineDescription = "MSE of the constant prediction 1: Var(X1 + X2) = 1/6"
    public let criterion = "held-out MSE < 0.01"

    /// Creates the task for sequences of `length` ≥ 2 steps.
    public init(length: Int) throws {
        guard length >= 2 else { throw TaskError.badParameter(task: "adding", message: "length must be ≥ 2, got \(length)") }
        self.length = length
    }

    /// A batch: values from `rng`, then the two marker positions of each sequence.
    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        var batch = TaskBatch(size: size, steps: length, inputSize: 2)
        let half = length / 2
        var sums = [Double]()
        for b in 0..<size {
            for t in 0..<length { batch[t, b, 0] = rng.uniform() }
            let first = rng.integer(below: half)
            let second = half + rng.integer(below: length - half)
            batch[first, b, 1] = 1
            batch[second, b, 1] = 1
            sums.append(batch[first, b, 0] + batch[second, b, 0])
        }
        batch.targets = [StepTargets(step: length - 1, rows: Array(0..<size), values: sums)]
        return batch
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        // Not the criterion (that is the MSE), but a comparable per-sequence score: the
        // tolerance of Hochreiter & Schmidhuber's form, scaled to this target's range [0, 2].
        abs(prediction.first! - value.first!) < 0.04 * 4
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { loss < 0.01 }
}

/// The adding problem as Hochreiter & Schmidhuber (1997) define it, Experiment 4, as batches:
/// the sequences of `MarkedPairTask(.adding, T: length)` (which states the paper's reading and
/// its source), the same ones the Exp. 4 reproduction trains on one at a time. Pairs
/// (value ~ U[−1, 1], marker ∈ {−1, 0, 1}), lengths uniform in [T, T + T/10], the target
/// 0.5 + (X1 + X2)/4 ∈ [0, 1] at each sequence's last step; loss MSE. A sequence is correct when
/// the absolute error is below 0.04; solved when every held-out sequence is correct (the paper
/// stops when the last 2000 training sequences all are).
public struct HochreiterAddingProblem: ForgettingTask {
    public let name = "adding-hs"
    public let length: Int
    public let inputSize = 2
    public let loss = TaskLoss.meanSquaredError(outputs: 1)
    public var steps: Int { length + length / 10 }
    public let criterion = "every held-out sequence within 0.04 of its target (Hochreiter & Schmidhuber 1997)"
    public let baselineDescription = "MSE of the constant prediction 0.5 + E[X1 + X2]/4 = 0.5: Var(X1 + X2)/16 ≈ 1/24 (less the rare marked pair 0, whose value is 0)"
    /// The paper's generator.
    public let generator: MarkedPairTask

    /// Creates the task for minimal length `length` ≥ 20 (so that the first ten pairs fit in the
    /// first half).
    public init(length: Int) throws {
        guard length >= 20 else {
            throw TaskError.badParameter(task: "adding-hs", message: "length must be ≥ 20 (the first marker is among the first 10 pairs), got \(length)")
        }
        self.length = length
        generator = MarkedPairTask(.adding, T: length)
    }

    /// Var(X1 + X2)/16: each marked value is U[−1, 1] (variance 1/3), or 0 on pair 0, which is
    /// the first marked pair with probability 1/10 and the second with 9/10 · 1/(T/2 − 1).
    public var baseline: Double {
        let secondAtZero = generator.pairZeroMarkedProbability - 0.1
        return (0.9 / 3 + (1 - secondAtZero) / 3) / 16
    }

    /// A batch of `size` sequences of the generator, drawn one after another from `rng`.
    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        TaskBatch(sequences: (0..<size).map { _ in generator.sample(using: rng) }, loss: loss, steps: steps)
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        abs(prediction.first! - value.first!) < 0.04
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { fractionCorrect >= 1 }
}
