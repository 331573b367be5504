import GateLabGSL

/// The temporal-order problem of Hochreiter & Schmidhuber (1997), Experiment 6a, as batches: the
/// sequences of `TemporalOrderTask.sixA(T: length)` (which states the paper's reading and its
/// source), the same generator the Exp. 6a reproduction trains on. Symbols E, B, a, b, c, d, X, Y,
/// one-hot in that order; a sequence of length uniform in [T, T + T/10] starts with E and ends
/// with B; X or Y appears at 1-based positions t1 ∈ [T/10, T/5] and t2 ∈ [T/2, T/2 + T/10]
/// (10…20 and 50…60 for the paper's T = 100); every other step is a distractor from
/// {a, b, c, d}. The class is the order (XX, XY, YX, YY), given as a one-hot target of 4 outputs
/// at the last step; loss MSE, as in the paper. A sequence is correct when every output's
/// absolute error is below 0.3; solved when every held-out sequence is.
public struct TemporalOrder: ForgettingTask {
    public let name = "temporal-order"
    public let length: Int
    public let inputSize = 8
    public let loss = TaskLoss.meanSquaredError(outputs: 4)
    public var steps: Int { length + length / 10 }
    /// The constant prediction 1/4 on each output: MSE = (3/16 · 3 + 9/16)/4 = 3/16.
    public let baseline = 3.0 / 16.0
    public let baselineDescription = "MSE of predicting 1/4 on every output: 3/16"
    public let criterion = "every output of every held-out sequence within 0.3 (Hochreiter & Schmidhuber 1997)"
    /// The paper's generator.
    public let generator: TemporalOrderTask

    /// Creates the task with minimal length `length` ≥ 20 (so that t1's range starts after E).
    public init(length: Int) throws {
        guard length >= 20 else { throw TaskError.badParameter(task: "temporal-order", message: "length must be ≥ 20, got \(length)") }
        self.length = length
        generator = .sixA(T: length)
    }

    /// The 1-based range of t1.
    public var firstRange: ClosedRange<Int> { generator.relevantRanges[0] }
    /// The 1-based range of t2.
    public var secondRange: ClosedRange<Int> { generator.relevantRanges[1] }

    /// A batch of `size` sequences of the generator, drawn one after another from `rng`.
    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        TaskBatch(sequences: (0..<size).map { _ in generator.sample(using: rng) }, loss: loss, steps: steps)
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        zip(prediction, value).allSatisfy { abs($0 - $1) < 0.3 }
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { fractionCorrect >= 1 }
}
