import GateLabGSL
import GateLabSupport

/// What a task's loss compares: real-valued outputs (mean squared error), classes (softmax
/// cross-entropy over logits) or independent binary outputs (Bernoulli negative log-likelihood
/// of sigmoid outputs).
public enum TaskLoss: Sendable, Equatable {
    /// Mean squared error over `outputs` real outputs.
    case meanSquaredError(outputs: Int)
    /// Softmax cross-entropy over `classes` classes.
    case crossEntropy(classes: Int)
    /// Bernoulli negative log-likelihood of `outputs` sigmoid outputs σ(y) against 0/1
    /// targets, summed over the outputs and averaged over targets (the NLL per time step of
    /// polyphonic music models).
    case bernoulli(outputs: Int)

    /// The readout's width (outputs or classes).
    public var width: Int {
        switch self {
        case .meanSquaredError(let k), .crossEntropy(let k), .bernoulli(let k): return k
        }
    }
}

/// The targets of one time step of a batch: which rows have one, and what it is.
public struct StepTargets: Sendable, Equatable {
    /// The time step.
    public var step: Int
    /// The rows (sequences of the batch) with a target at this step, increasing.
    public var rows: [Int]
    /// For an MSE or Bernoulli task: `rows.count · K` numbers, row after row; empty for a
    /// classification task.
    public var values: [Double]
    /// For a classification task: one class per row in `rows`; empty for an MSE task.
    public var classes: [Int]
    /// Whether these targets count in the task's fraction-correct score (the copy task scores
    /// only the recalled symbols, not the blanks before them).
    public var scored: Bool

    /// Creates the targets of one step.
    public init(step: Int, rows: [Int], values: [Double] = [], classes: [Int] = [], scored: Bool = true) {
        self.step = step; self.rows = rows; self.values = values; self.classes = classes; self.scored = scored
    }
}

/// A batch of sequences of a task, laid out for `Unrolled.forward(inputs:)`.
public struct TaskBatch: Sendable, Equatable {
    /// Sequences (B).
    public var size: Int
    /// Time steps of the unrolled network (T): the longest sequence; shorter ones are padded
    /// with zero inputs after their end, which cannot affect their targets.
    public var steps: Int
    /// Input features per step (I).
    public var inputSize: Int
    /// T·B·I numbers, step-major (`x[t][b][i]`).
    public var inputs: [Double]
    /// Each sequence's own length (≤ `steps`).
    public var lengths: [Int]
    /// The targets, by increasing step.
    public var targets: [StepTargets]

    /// Creates an empty (all-zero) batch to be filled by a generator.
    public init(size: Int, steps: Int, inputSize: Int) {
        self.size = size; self.steps = steps; self.inputSize = inputSize
        inputs = [Double](repeating: 0, count: steps * size * inputSize)
        lengths = [Int](repeating: steps, count: size)
        targets = []
    }

    /// The input feature `i` of sequence `b` at step `t`.
    public subscript(t: Int, b: Int, i: Int) -> Double {
        get { inputs[(t * size + b) * inputSize + i] }
        set { inputs[(t * size + b) * inputSize + i] = newValue }
    }

    /// The number of (sequence, step) targets.
    public var targetCount: Int { targets.reduce(0) { $0 + $1.rows.count } }
}

/// A long-time-lag task: a seeded generator of batches, its loss, the memoryless baseline and
/// the criterion that counts it as solved.
public protocol ForgettingTask: Sendable {
    /// The task's command-line name (`adding`, `copy`, …).
    var name: String { get }
    /// The length parameter T, as the task's paper defines it.
    var length: Int { get }
    /// Input features per step.
    var inputSize: Int { get }
    /// The loss and the readout's width.
    var loss: TaskLoss { get }
    /// The number of time steps of every batch (the longest sequence).
    var steps: Int { get }
    /// A batch of `size` sequences drawn from `rng` (the same state gives the same batch).
    func batch(size: Int, using rng: RandomSource) -> TaskBatch
    /// The loss of the best predictor that does not remember the informative inputs.
    var baseline: Double { get }
    /// What the baseline is, in words.
    var baselineDescription: String { get }
    /// Whether a prediction (K numbers: outputs or logits) of a scored target is correct.
    /// - Parameters:
    ///   - prediction: the readout's K numbers.
    ///   - value: the K target values (MSE tasks; empty otherwise).
    ///   - label: the target class (classification tasks; −1 otherwise).
    func isCorrect(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> Bool
    /// Whether held-out results meet the task's success criterion.
    /// - Parameters:
    ///   - loss: the held-out loss (as trained: mean over targets).
    ///   - fractionCorrect: the fraction of scored held-out targets judged correct.
    func isSolved(loss: Double, fractionCorrect: Double) -> Bool
    /// The success criterion, in words.
    var criterion: String { get }

    // Requirements with defaults (below), which every generated task keeps as they are.

    /// How many of a scored target's judgements are right, of how many: summed over the
    /// held-out set, right / of is the fraction correct. Default: one judgement, `isCorrect`.
    func score(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> (right: Int, of: Int)
    /// A fixed held-out split in batches of `size` sequences (rows without a sequence have
    /// length 0 and no targets), or nil (default) for a task that draws its held-out set from
    /// the evaluation seed.
    func heldOut(_ split: HeldOutSplit, batchSize size: Int) -> [TaskBatch]?
    /// Whether `isSolved` can ever be true (default true); a task without a criterion is
    /// trained for its whole budget and scored by its held-out loss.
    var hasCriterion: Bool { get }
    /// The data files the task reads, as it found them (default none: generated tasks), so
    /// that a record can name and hash them.
    var dataFiles: [String] { get }
}

/// A fixed held-out split of a data set.
public enum HeldOutSplit: String, Sendable, CaseIterable {
    /// The split evaluated during training (the learning curve, model choice).
    case validation
    /// The split scored beside it at every evaluation (with the same weights), reported as the
    /// test result.
    case test
}

extension ForgettingTask {
    public func score(prediction: ArraySlice<Double>, value: ArraySlice<Double>, label: Int) -> (right: Int, of: Int) {
        (isCorrect(prediction: prediction, value: value, label: label) ? 1 : 0, 1)
    }
    public func heldOut(_ split: HeldOutSplit, batchSize size: Int) -> [TaskBatch]? { nil }
    public var hasCriterion: Bool { true }
    public var dataFiles: [String] { [] }
}

/// The tasks by command-line name: one table, one row per task (its name, other names it
/// answers to, and how to make it).
public enum Tasks {
    /// A row of the table.
    struct Entry {
        let name: String
        let aliases: [String]
        let make: (Int) throws -> any ForgettingTask
    }

    static let table: [Entry] = [
        Entry(name: "adding", aliases: ["adding-modern"]) { try AddingProblem(length: $0) },
        Entry(name: "adding-hs", aliases: ["adding-hs97", "adding-1997"]) { try HochreiterAddingProblem(length: $0) },
        Entry(name: "copy", aliases: ["copy-memory"]) { try CopyMemory(length: $0) },
        Entry(name: "recall", aliases: ["first-input-recall"]) { try FirstInputRecall(length: $0) },
        Entry(name: "agreement", aliases: ["latest-subject-agreement"]) { try SubjectAgreement(length: $0) },
        Entry(name: "temporal-order", aliases: ["temporal"]) { try TemporalOrder(length: $0) },
        Entry(name: "chorales", aliases: ["jsb", "jsb-chorales"]) { try Chorales(length: $0) },
    ]

    /// Every task's name (each also answers to a few other names, e.g. `copy-memory`).
    public static let names = table.map(\.name)

    /// The task `name` (case-insensitive) with length parameter `length`.
    /// - Throws: `TaskError` for an unknown name or a length the task cannot take.
    /// The longest task length accepted (10^7 steps: far beyond any experiment here).
    public static let largestLength = 10_000_000

    public static func make(_ name: String, length: Int) throws -> any ForgettingTask {
        let key = name.lowercased()
        guard let entry = table.first(where: { $0.name == key || $0.aliases.contains(key) }) else { throw TaskError.unknownTask(name) }
        // Every task adds a few steps to its length (copy: T + 20): bounded here, once, so no
        // task's step count can overflow (a length of Int.max trapped in CopyMemory.steps).
        guard length <= largestLength else {
            throw TaskError.badParameter(task: key, message: "length must be at most \(largestLength), got \(length)")
        }
        return try entry.make(length)
    }
}

/// Errors of task construction.
public enum TaskError: Error, Equatable, CustomStringConvertible {
    /// No task has this name.
    case unknownTask(String)
    /// A length or other parameter out of the task's range.
    case badParameter(task: String, message: String)
    /// A string that the embedded Reber grammar does not accept.
    case notInGrammar(String)
    public var description: String {
        switch self {
        case .unknownTask(let n): return "unknown task '\(n)'\(didYouMean(n.lowercased(), among: Tasks.names)); valid tasks: \(Tasks.names.joined(separator: ", "))"
        case let .badParameter(t, m): return "task \(t): \(m)"
        case .notInGrammar(let s): return "\"\(s)\" is not an embedded Reber string"
        }
    }
}

/// Index of the largest element (the predicted class).
func argmax(_ xs: ArraySlice<Double>) -> Int {
    var best = xs.startIndex
    for i in xs.indices where xs[i] > xs[best] { best = i }
    return best - xs.startIndex
}
