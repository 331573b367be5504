#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import GateLabReproductions
import GateLabTasks

/// The tanh-RNN control's forward and reverse passes written by hand, one loop per equation:
/// the tests' check of the engine's `FullGradient` on `TanhRNNControl`.
public struct ReferenceTanhRNN {
    /// Input, hidden and output units.
    public let inputs, hidden, outputs: Int
    /// The weights (`TanhRNNControl`'s layout).
    public var weights: [Double]

    /// The reference pass for `net`'s sizes and weights.
    public init(_ net: TanhRNNControl) {
        (inputs, hidden, outputs, weights) = (net.inputs, net.hidden, net.outputs, net.weights)
    }

    var rowW: Int { 1 + inputs + hidden }
    var offsetV: Int { hidden * rowW }

    /// Forward pass from h(−1) = 0: h(t) for every step (h(−1) first) and the outputs y(t).
    public func forward(_ sequence: TaskSequence) -> (h: [Double], y: [Double]) {
        let (n, H, K) = (inputs, hidden, outputs)
        var h = [Double](repeating: 0, count: (sequence.length + 1) * H)
        var y = [Double](repeating: 0, count: sequence.length * K)
        for t in 0..<sequence.length {
            for i in 0..<H {
                let row = i * rowW
                var a = weights[row]
                for j in 0..<n { a += weights[row + 1 + j] * sequence.inputs[t * n + j] }
                for m in 0..<H { a += weights[row + 1 + n + m] * h[t * H + m] }
                h[(t + 1) * H + i] = tanh(a)
            }
            for k in 0..<K {
                let row = offsetV + k * (1 + H)
                var a = weights[row]
                for i in 0..<H { a += weights[row + 1 + i] * h[(t + 1) * H + i] }
                y[t * K + k] = 1 / (1 + exp(-a))
            }
        }
        return (h, y)
    }

    /// The outcome of `y` against the sequence's targets under `rule`.
    public static func outcome(_ sequence: TaskSequence, _ y: [Double], rule: CorrectnessRule) -> SequenceOutcome {
        var outcome = SequenceOutcome(correct: true, finalError: 0, squaredErrorSum: 0, targetSteps: 0)
        let K = sequence.outputSize
        var yt = [Double](repeating: 0, count: K)
        for t in 0..<sequence.length where sequence.hasTarget[t] {
            var e2 = 0.0
            for k in 0..<K { yt[k] = y[t * K + k]; let e = sequence.targets[t * K + k] - yt[k]; e2 += e * e }
            outcome.finalError = e2
            outcome.squaredErrorSum += e2
            outcome.targetSteps += 1
            let correct = yt.withUnsafeMutableBufferPointer { yb in
                sequence.targets.withUnsafeBufferPointer { tb in
                    sequence.legal.withUnsafeBufferPointer { lb in
                        rule.holds(yb.baseAddress!, tb.baseAddress! + t * K, lb.isEmpty ? nil : lb.baseAddress! + t * K, K)
                    }
                }
            }
            if !correct { outcome.correct = false }
        }
        return outcome
    }

    /// A forward pass only (testing).
    public func run(_ sequence: TaskSequence, rule: CorrectnessRule) -> SequenceOutcome {
        ReferenceTanhRNN.outcome(sequence, forward(sequence).y, rule: rule)
    }

    /// −∂L/∂w over the sequence by BPTT (the descent direction), with the forward pass's outcome.
    public func descent(_ sequence: TaskSequence, rule: CorrectnessRule) -> (descent: [Double], outcome: SequenceOutcome) {
        let (n, H, K) = (inputs, hidden, outputs)
        let (h, y) = forward(sequence)
        var grad = [Double](repeating: 0, count: weights.count)   // ∂L/∂w
        var dhNext = [Double](repeating: 0, count: H)
        var dh = [Double](repeating: 0, count: H), da = [Double](repeating: 0, count: H)
        var dy = [Double](repeating: 0, count: K)
        for t in stride(from: sequence.length - 1, through: 0, by: -1) {
            for k in 0..<K {
                let yk = y[t * K + k]
                dy[k] = sequence.hasTarget[t] ? (yk - sequence.targets[t * K + k]) * yk * (1 - yk) : 0
                let row = offsetV + k * (1 + H)
                grad[row] += dy[k]
                for i in 0..<H { grad[row + 1 + i] += dy[k] * h[(t + 1) * H + i] }
            }
            for i in 0..<H {
                var d = dhNext[i]
                for k in 0..<K { d += weights[offsetV + k * (1 + H) + 1 + i] * dy[k] }
                dh[i] = d
                let hi = h[(t + 1) * H + i]
                da[i] = d * (1 - hi * hi)
            }
            for m in 0..<H { dhNext[m] = 0 }
            for i in 0..<H {
                let row = i * rowW
                grad[row] += da[i]
                for j in 0..<n { grad[row + 1 + j] += da[i] * sequence.inputs[t * n + j] }
                for m in 0..<H {
                    grad[row + 1 + n + m] += da[i] * h[t * H + m]
                    dhNext[m] += weights[row + 1 + n + m] * da[i]
                }
            }
        }
        return (grad.map { -$0 }, ReferenceTanhRNN.outcome(sequence, y, rule: rule))
    }

    /// L = ½ Σ (t − y)² over the target steps (for the finite-difference check).
    public func loss(_ sequence: TaskSequence) -> Double {
        let y = forward(sequence).y
        var loss = 0.0
        for t in 0..<sequence.length where sequence.hasTarget[t] {
            for k in 0..<outputs { let e = sequence.targets[t * outputs + k] - y[t * outputs + k]; loss += 0.5 * e * e }
        }
        return loss
    }
}
