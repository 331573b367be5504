import GSLKit

/// One training or test sequence, stored flat so that a generator can refill it without
/// allocating (the buffers keep their capacity between sequences).
///
/// Step t (0-based) puts `inputs[t*inputSize ..< (t+1)*inputSize]` on the input units; if
/// `hasTarget[t]`, the outputs of that step are compared with `targets[t*outputSize ..< …]`.
public struct Sequence: Codable, Equatable, Sendable {
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

    /// An empty sequence for a task with the given input and output sizes.
    /// - Parameters:
    ///   - inputSize: Number of input units.
    ///   - outputSize: Number of output units.
    public init(inputSize: Int, outputSize: Int) {
        self.inputSize = inputSize
        self.outputSize = outputSize
    }

    /// Empties the sequence and makes room for `length` zeroed steps.
    mutating func reset(length: Int, withLegal: Bool = false) {
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
    }

    /// Sets the final step's target (the tasks whose error comes only at the sequence end).
    mutating func setFinalTarget(_ values: [Double]) {
        precondition(values.count == outputSize)
        let base = (length - 1) * outputSize
        for k in 0..<outputSize { targets[base + k] = values[k] }
        hasTarget[length - 1] = true
    }
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
    func generate(into sequence: inout Sequence, using rng: RandomSource)
}

extension SequenceTask {
    /// A fresh sequence drawn from this task.
    /// - Parameter rng: The random source.
    public func sample(using rng: RandomSource) -> Sequence {
        var sequence = Sequence(inputSize: inputSize, outputSize: outputSize)
        generate(into: &sequence, using: rng)
        return sequence
    }
}
