import Foundation
import GateLabGSL

/// First-input recall: the plainest form of "the network forgets its first inputs". Step 0
/// carries a symbol from 8 categories (one-hot), the next T steps carry distractor symbols drawn
/// from the same 8 (so the network must ignore inputs, not only wait); at the last step the
/// target is the first symbol's class. Loss: softmax cross-entropy; the memoryless baseline is
/// ln 8 (chance accuracy 1/8). Solved: at least 99% of held-out sequences right.
public struct FirstInputRecall: ForgettingTask {
    public let name = "recall"
    public let length: Int
    /// Number of symbol categories.
    public let categories = 8
    public var inputSize: Int { categories }
    public var loss: TaskLoss { .crossEntropy(classes: categories) }
    public var steps: Int { length + 1 }
    public var baseline: Double { log(Double(categories)) }
    public let baselineDescription = "cross-entropy of a uniform guess: ln 8"
    public let criterion = "≥ 99% of held-out sequences right"

    /// Creates the task with `length` ≥ 0 distractor steps after the first input.
    public init(length: Int) throws {
        guard length >= 0 else { throw TaskError.badParameter(task: "recall", message: "length must be ≥ 0, got \(length)") }
        self.length = length
    }

    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        var batch = TaskBatch(size: size, steps: steps, inputSize: inputSize)
        var labels = [Int]()
        for b in 0..<size {
            let first = rng.integer(below: categories)
            batch[0, b, first] = 1
            labels.append(first)
            for t in 1..<steps { batch[t, b, rng.integer(below: categories)] = 1 }
        }
        batch.targets = [StepTargets(step: steps - 1, rows: Array(0..<size), classes: labels)]
        return batch
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        argmax(prediction) == label
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { fractionCorrect >= 0.99 }
}
