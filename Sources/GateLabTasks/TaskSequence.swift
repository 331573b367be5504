import GateLabGSL

/// One training or test sequence, stored flat so that a generator can refill it without
/// allocating (the buffers keep their capacity between sequences): the per-sequence stream that
/// online training (the reproductions' truncated RTRL) reads one sequence at a time, and the unit
/// from which `TaskBatch(sequences:loss:)` lays out a batch for the engine, so that both kinds of
/// training see the same sequences.
///
/// Step t (0-based) puts `inputs[t*inputSize ..< (t+1)*inputSize]` on the input units; if
/// `hasTarget[t]`, the outputs of that step are compared with `targets[t*outputSize ..< …]`.
public struct TaskSequence: Codable, Equatable, Sendable {
    /// Number of input units.
    public let inputSize: Int
    /// Number of output units.
    public let outputSize: Int
    /// Number of time steps.
    public var length: Int = 0
    /// `length × inputSize` input values, row by row.
    public var inputs: [Double] = []
    /// `length × outputSize` targets (rows without a target are zero).
    public var targets: [Double] = []
    /// Whether step t carries a target.
    public var hasTarget: [Bool] = []
    /// For the Reber tasks: `length × outputSize`, 1 where the symbol is a legal successor
    /// (used by Exp. 1's success rule); empty for the other tasks.
    public var legal: [Double] = []
    /// The class or choice that the sequence encodes (task-specific, for statistics).
    public var label: Int = 0
    /// For a task whose targets carry noise (H&S 1997 Exp. 3c): `length × outputSize` noise-free
    /// targets, against which the sequence is judged and its error measured, while learning
    /// follows `targets`; nil for every other task (the targets are what is expected).
    public var expected: [Double]? = nil

    /// An empty sequence for a task with the given input and output sizes.
    /// - Parameters:
    ///   - inputSize: Number of input units.
    ///   - outputSize: Number of output units.
    public init(inputSize: Int, outputSize: Int) {
        self.inputSize = inputSize
        self.outputSize = outputSize
    }

    /// Empties the sequence and makes room for `length` zeroed steps.
    /// - Parameters:
    ///   - length: The number of steps.
    ///   - withLegal: Whether to make room for `legal` too (the Reber tasks).
    public mutating func reset(length: Int, withLegal: Bool = false) {
        self.length = length
        inputs.removeAll(keepingCapacity: true)
        inputs.append(contentsOf: repeatElement(0, count: length * inputSize))
        targets.removeAll(keepingCapacity: true)
        targets.append(contentsOf: repeatElement(0, count: length * outputSize))
        hasTarget.removeAll(keepingCapacity: true)
        hasTarget.append(contentsOf: repeatElement(false, count: length))
        legal.removeAll(keepingCapacity: true)
        if withLegal { legal.append(contentsOf: repeatElement(0, count: length * outputSize)) }
        label = 0
        expected = nil
    }

    /// Sets the final step's target (the tasks whose error comes only at the sequence end).
    public mutating func setFinalTarget(_ values: [Double]) {
        precondition(values.count == outputSize)
        let base = (length - 1) * outputSize
        for k in 0..<outputSize { targets[base + k] = values[k] }
        hasTarget[length - 1] = true
    }

    /// Sets the final step's noise-free target (`expected`) where the target carries noise; the
    /// other steps' are zero.
    public mutating func setFinalExpected(_ values: [Double]) {
        precondition(values.count == outputSize)
        var rows = [Double](repeating: 0, count: length * outputSize)
        for k in 0..<outputSize { rows[(length - 1) * outputSize + k] = values[k] }
        expected = rows
    }

    /// The values a step is judged against: `expected` where the targets are noisy, else
    /// `targets`.
    public var judged: [Double] { expected ?? targets }
}

/// A generator of random sequences for one task of the papers.
public protocol SequenceTask: Sendable {
    /// Number of input units.
    var inputSize: Int { get }
    /// Number of output units.
    var outputSize: Int { get }
    /// Draws the next random sequence into `sequence` (whose sizes match this task).
    /// - Parameters:
    ///   - sequence: The sequence to overwrite.
    ///   - rng: The trial's random source.
    func generate(into sequence: inout TaskSequence, using rng: RandomSource)
}

extension SequenceTask {
    /// A fresh sequence drawn from this task.
    /// - Parameter rng: The random source.
    public func sample(using rng: RandomSource) -> TaskSequence {
        var sequence = TaskSequence(inputSize: inputSize, outputSize: outputSize)
        generate(into: &sequence, using: rng)
        return sequence
    }
}

extension TaskBatch {
    /// The batch of `sequences` (all of one task: equal input and output sizes), laid out for the
    /// engine: sequence b is row b, padded with zero inputs after its end; each step's targets
    /// hold the rows whose sequence has a target there, in increasing order.
    /// - Parameters:
    ///   - sequences: The sequences, at least one.
    ///   - loss: How the targets are read: `.meanSquaredError` copies each target row;
    ///     `.crossEntropy` takes the class whose target is largest (a one-hot target's 1).
    ///   - steps: The batch's time steps (the task's `steps`, so that every batch of a task has
    ///     one shape); at least the longest sequence. `nil`: the longest sequence.
    public init(sequences: [TaskSequence], loss: TaskLoss, steps: Int? = nil) {
        precondition(!sequences.isEmpty && sequences.allSatisfy { $0.inputSize == sequences[0].inputSize && $0.outputSize == sequences[0].outputSize })
        let inputSize = sequences[0].inputSize, outputSize = sequences[0].outputSize
        let longest = sequences.map(\.length).max()!
        precondition(steps ?? longest >= longest, "a batch of \(steps ?? longest) steps cannot hold a sequence of \(longest)")
        self.init(size: sequences.count, steps: steps ?? longest, inputSize: inputSize)
        lengths = sequences.map(\.length)
        for (b, sequence) in sequences.enumerated() {
            for t in 0..<sequence.length {
                for i in 0..<inputSize { self[t, b, i] = sequence.inputs[t * inputSize + i] }
            }
        }
        for t in 0..<self.steps {
            let rows = sequences.indices.filter { t < sequences[$0].length && sequences[$0].hasTarget[t] }
            guard !rows.isEmpty else { continue }
            let targetRows = rows.map { sequences[$0].targets[(t * outputSize)..<((t + 1) * outputSize)] }
            switch loss {
            case .meanSquaredError, .bernoulli:
                targets.append(StepTargets(step: t, rows: rows, values: targetRows.flatMap { $0 }))
            case .crossEntropy:
                targets.append(StepTargets(step: t, rows: rows, classes: targetRows.map { argmax($0) }))
            }
        }
    }
}
