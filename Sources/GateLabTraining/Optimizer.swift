import GateLabAutodiff
import Foundation

/// The optimizers: PyTorch's update rules, on parameters held as flat arrays.
public enum OptimizerKind: String, Codable, Sendable, CaseIterable {
    /// SGD with (heavy-ball) momentum, PyTorch's form: v ← μ v + g, θ ← θ − η v.
    case sgd
    /// Adam (Kingma & Ba 2015) with bias correction: θ ← θ − η m̂ / (√v̂ + ε).
    case adam
    /// RMSProp, PyTorch's form: v ← α v + (1 − α) g², θ ← θ − η g / (√v + ε).
    case rmsprop
}

/// A learning-rate schedule over updates.
public enum Schedule: Codable, Sendable, Equatable {
    /// The base rate throughout.
    case constant
    /// The rate multiplied by `factor` every `every` updates.
    case step(every: Int, factor: Double)
    /// Cosine annealing from the base rate to 0 over `updates` updates (Loshchilov & Hutter 2017).
    case cosine(updates: Int)

    /// The rate for update `u` (counted from 0) with base rate `base`.
    public func rate(base: Double, update u: Int) -> Double {
        switch self {
        case .constant: return base
        case let .step(every, factor): return base * pow(factor, Double(u / max(every, 1)))
        case let .cosine(n): return base * 0.5 * (1 + cos(Double.pi * Double(min(u, n)) / Double(max(n, 1))))
        }
    }

    // Stored flat and readable, `{"kind": "step", "every": 1000, "factor": 0.5}`, rather than
    // the synthesized `{"step": {"every": 1000, "factor": 0.5}}` (and `{"constant": {}}`).
    private enum CodingKeys: String, CodingKey { case kind, every, factor, updates }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(String.self, forKey: .kind) {
        case "constant": self = .constant
        case "step": self = .step(every: try c.decode(Int.self, forKey: .every), factor: try c.decode(Double.self, forKey: .factor))
        case "cosine": self = .cosine(updates: try c.decode(Int.self, forKey: .updates))
        case let other:
            throw DecodingError.dataCorruptedError(forKey: .kind, in: c, debugDescription: "unknown schedule '\(other)'; valid: constant, step, cosine")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .constant: try c.encode("constant", forKey: .kind)
        case let .step(every, factor):
            try c.encode("step", forKey: .kind); try c.encode(every, forKey: .every); try c.encode(factor, forKey: .factor)
        case let .cosine(updates):
            try c.encode("cosine", forKey: .kind); try c.encode(updates, forKey: .updates)
        }
    }
}

/// An optimizer's settings and its state (moments and step count), enough to resume exactly.
public struct Optimizer: Codable, Sendable, Equatable {
    /// The update rule.
    public var kind: OptimizerKind
    /// Momentum μ (SGD).
    public var momentum = 0.9
    /// Adam's β1, β2.
    public var beta1 = 0.9, beta2 = 0.999
    /// RMSProp's smoothing constant α.
    public var alpha = 0.99
    /// ε in the denominators (Adam, RMSProp).
    public var epsilon = 1e-8
    /// Updates taken.
    public private(set) var step = 0
    /// First moments (SGD velocity, Adam m), per parameter.
    public private(set) var first: [[Double]] = []
    /// Second moments (Adam v, RMSProp mean square), per parameter.
    public private(set) var second: [[Double]] = []

    /// Creates an optimizer with empty state.
    public init(kind: OptimizerKind) { self.kind = kind }

    /// Applies one update to `parameters` with `gradients` (same shapes) at rate `rate`.
    public mutating func update(_ parameters: inout [[Double]], gradients: [[Double]], rate: Double) {
        if first.isEmpty {
            first = gradients.map { [Double](repeating: 0, count: $0.count) }
            second = first
        }
        step += 1
        let c1 = 1 - pow(beta1, Double(step)), c2 = 1 - pow(beta2, Double(step))
        let (kind, momentum, beta1, beta2, alpha, epsilon) = (kind, momentum, beta1, beta2, alpha, epsilon)   // the same values, as locals the split's closures capture
        // Through buffer pointers (the nested arrays' element accessors checked uniqueness
        // and bounds at every element and kept the loops scalar); each element's arithmetic
        // is the same expression in the same order, so the bits are too.
        for p in parameters.indices {
            gradients[p].withUnsafeBufferPointer { g in
                parameters[p].withUnsafeMutableBufferPointer { w in
                    first[p].withUnsafeMutableBufferPointer { m in
                        second[p].withUnsafeMutableBufferPointer { v in
                            precondition(w.count == g.count && m.count == g.count && v.count == g.count, "Optimizer.update: shapes changed")
                            // Each element on its own: the halves of a large array run on the two
                            // cores (`splitOverCores`) without changing a bit.
                            switch kind {
                            case .sgd:
                                splitOverCores(g.count) { r in
                                    for i in r {
                                        m[i] = momentum * m[i] + g[i]
                                        w[i] -= rate * m[i]
                                    }
                                }
                            case .adam:
                                splitOverCores(g.count) { r in
                                    for i in r {
                                        m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                                        v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                                        w[i] -= rate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
                                    }
                                }
                            case .rmsprop:
                                splitOverCores(g.count) { r in
                                    for i in r {
                                        v[i] = alpha * v[i] + (1 - alpha) * g[i] * g[i]
                                        w[i] -= rate * g[i] / (v[i].squareRoot() + epsilon)
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Scales `gradients` so that their joint Euclidean norm is at most `maxNorm`, as PyTorch's
/// `clip_grad_norm_` (factor maxNorm / (norm + 1e-6) when the norm exceeds maxNorm).
/// - Returns: the norm before clipping.
@discardableResult
public func clipGradientNorm(_ gradients: inout [[Double]], maxNorm: Double?) -> Double {
    let norm = euclideanNormOf(gradients)
    if let maxNorm, norm > maxNorm {
        let factor = maxNorm / (norm + 1e-6)
        for p in gradients.indices { for i in gradients[p].indices { gradients[p][i] *= factor } }
    }
    return norm
}

/// The joint Euclidean norm of several arrays, without overflow or underflow.
func euclideanNormOf(_ arrays: [[Double]]) -> Double {
    var scale = 0.0, ssq = 1.0
    for a in arrays {
        for v in a where v != 0 {
            let x = abs(v)
            if !x.isFinite { return x.isNaN ? .nan : .infinity }
            if scale < x { ssq = 1 + ssq * (scale / x) * (scale / x); scale = x } else { ssq += (x / scale) * (x / scale) }
        }
    }
    return scale * ssq.squareRoot()
}
