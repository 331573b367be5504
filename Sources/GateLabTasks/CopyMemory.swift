import Foundation
import GateLabGSL

/// The copy-memory task of Arjovsky, Shah & Bengio (2016): 10 symbols drawn uniformly from 8
/// categories, then T − 1 blanks, a delimiter, and 10 more blanks (T + 20 steps); the target is
/// blank for the first T + 10 steps and the 10 symbols, in order, for the last 10. Inputs and
/// targets are one-hot over 10 tokens: 0 blank, 1 … 8 the symbols, 9 the delimiter (never a
/// target). Loss: softmax cross-entropy averaged over every step. A network that remembers
/// nothing predicts blank then uniform symbols: 10 · ln 8 / (T + 20), the baseline. Solved:
/// at least 99% of the recalled held-out symbols right.
public struct CopyMemory: ForgettingTask {
    public let name = "copy"
    public let length: Int
    /// Symbols to copy (10 in the paper).
    public let symbols = 10
    /// Categories they are drawn from (8 in the paper).
    public let categories = 8
    public var inputSize: Int { categories + 2 }
    public var loss: TaskLoss { .crossEntropy(classes: categories + 1) }
    public var steps: Int { length + 2 * symbols }
    public var baseline: Double { Double(symbols) * log(Double(categories)) / Double(length + 2 * symbols) }
    public let baselineDescription = "cross-entropy of predicting blank, then uniform symbols: 10 · ln 8 / (T + 20)"
    public let criterion = "≥ 99% of the recalled held-out symbols right"

    /// Creates the task with T = `length` ≥ 1 blanks between the symbols and the delimiter.
    public init(length: Int) throws {
        guard length >= 1 else { throw TaskError.badParameter(task: "copy", message: "length must be ≥ 1, got \(length)") }
        self.length = length
    }

    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        var batch = TaskBatch(size: size, steps: steps, inputSize: inputSize)
        var labels = [[Int]](repeating: [Int](repeating: 0, count: size), count: steps)
        for b in 0..<size {
            for k in 0..<symbols {
                let s = 1 + rng.integer(below: categories)
                batch[k, b, s] = 1
                labels[length + symbols + k][b] = s
            }
            for t in symbols..<steps where t != length + symbols - 1 { batch[t, b, 0] = 1 }
            batch[length + symbols - 1, b, categories + 1] = 1
        }
        batch.targets = (0..<steps).map {
            StepTargets(step: $0, rows: Array(0..<size), classes: labels[$0], scored: $0 >= length + symbols)
        }
        return batch
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        argmax(prediction) == label
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { fractionCorrect >= 0.99 }
}
