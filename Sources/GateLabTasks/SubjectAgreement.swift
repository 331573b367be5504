import Foundation
import GateLabGSL

/// Latest-subject agreement: a stream of T tokens in which `subjects` subjects (each of one of
/// two genders, two word types per gender) appear at distinct uniformly chosen steps among
/// filler tokens (four types), then a query token; the target at the query is the gender of the
/// most recent subject. Passing needs both jobs of a forget gate: keep the subject across the
/// gap to the query, and drop an older subject when a new one appears (with independent
/// genders, half the sequences end on a subject whose gender differs from an earlier one's).
/// Tokens one-hot: 0–3 filler, 4–5 gender A, 6–7 gender B, 8 query. Loss: softmax
/// cross-entropy; baseline ln 2 (chance 1/2). Solved: ≥ 99% of held-out sequences right.
public struct SubjectAgreement: ForgettingTask {
    public let name = "agreement"
    /// Tokens before the query (T).
    public let length: Int
    /// Subjects per sequence, at distinct uniform positions in [0, T): the gap from the latest
    /// to the query is distributed as T minus the largest of them.
    public let subjects: Int
    public let inputSize = 9
    public let loss = TaskLoss.crossEntropy(classes: 2)
    public var steps: Int { length + 1 }
    public var baseline: Double { log(2) }
    public let baselineDescription = "cross-entropy of a fair guess: ln 2"
    public let criterion = "≥ 99% of held-out sequences right"

    /// Creates the task.
    /// - Parameters:
    ///   - length: tokens before the query (≥ subjects).
    ///   - subjects: subjects per sequence (≥ 1; default 3).
    public init(length: Int, subjects: Int = 3) throws {
        guard subjects >= 1, length >= subjects else {
            throw TaskError.badParameter(task: "agreement", message: "need length ≥ subjects ≥ 1, got length \(length), subjects \(subjects)")
        }
        self.length = length
        self.subjects = subjects
    }

    public func batch(size: Int, using rng: RandomSource) -> TaskBatch {
        var batch = TaskBatch(size: size, steps: steps, inputSize: inputSize)
        var labels = [Int]()
        for b in 0..<size {
            // `choose` cannot fail here: 0 < subjects ≤ length.
            let positions = (try? rng.choose(subjects, from: length)) ?? []
            var latest = 0
            for t in 0..<length { batch[t, b, rng.integer(below: 4)] = 1 }
            for p in positions {          // increasing, so the last one written is the latest
                let gender = rng.integer(below: 2)
                for i in 0..<4 { batch[p, b, i] = 0 }
                batch[p, b, 4 + 2 * gender + rng.integer(below: 2)] = 1
                latest = gender
            }
            batch[length, b, 8] = 1
            labels.append(latest)
        }
        batch.targets = [StepTargets(step: length, rows: Array(0..<size), classes: labels)]
        return batch
    }

    public func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool {
        argmax(prediction) == label
    }

    public func isSolved(loss: Double, fractionCorrect: Double) -> Bool { fractionCorrect >= 0.99 }
}
