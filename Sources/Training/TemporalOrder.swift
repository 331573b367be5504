import GSLKit

/// The temporal-order problem of Hochreiter & Schmidhuber (1997), Experiment 6a. Symbols
/// {a, b, c, d, X, Y, B, E}, one-hot in that order. For T = 100 a sequence has length uniform in
/// [100, 110], starts with E and ends with B; X or Y appears at t1 ∈ [10, 20] and at
/// t2 ∈ [50, 60]; every other step is a distractor from {a, b, c, d}. The class is the order
/// (XX, XY, YX, YY), given as a one-hot target of 4 outputs at the last step; loss MSE, as in
/// the paper. A sequence is correct when every output's absolute error is below 0.3; solved when
/// every held-out sequence is. Other T scale the positions: length in [T, T + T/10],
/// t1 ∈ [T/10, T/5], t2 ∈ [T/2, T/2 + T/10].
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

    /// Creates the task with minimal length `length` ≥ 20.
    public init(length: Int) throws {
        guard length >= 20 else { throw TaskError.badParameter(task: "temporal-order", message: "length must be ≥ 20, got \(length)") }
        self.length = length
    }

    /// The ranges of t1 and t2.
    public var firstRange: ClosedRange<Int> { (length / 10)...(length / 5) }
    /// The range of t2.
    public var secondRange: ClosedRange<Int> { (length / 2)...(length / 2 + length / 10) }

    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        var batch = TaskBatch(size: size, steps: steps, inputSize: inputSize)
        var targets = [StepTargets]()
        for b in 0..<size {
            let n = length + rng.integer(below: length / 10 + 1)
            batch.lengths[b] = n
            let t1 = firstRange.lowerBound + rng.integer(below: firstRange.count)
            let t2 = secondRange.lowerBound + rng.integer(below: secondRange.count)
            let s1 = rng.integer(below: 2), s2 = rng.integer(below: 2)   // 0 = X, 1 = Y
            for t in 0..<n {
                let symbol: Int
                switch t {
                case 0: symbol = 7                 // E
                case n - 1: symbol = 6             // B
                case t1: symbol = 4 + s1
                case t2: symbol = 4 + s2
                default: symbol = rng.integer(below: 4)
                }
                batch[t, b, symbol] = 1
            }
            var target = [Double](repeating: 0, count: 4)
            target[2 * s1 + s2] = 1
            targets.append(StepTargets(step: n - 1, rows: [b], values: target))
        }
        batch.targets = merge(targets)
        return batch
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        zip(prediction, value).allSatisfy { abs($0 - $1) < 0.3 }
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { fractionCorrect >= 1 }
}
