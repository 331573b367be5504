// Activation functions: sigmoid, tanh, relu. The VJPs reuse the forward's output
// (σ: g ⊙ y ⊙ (1 − y), tanh: g ⊙ (1 − y²)), which is why programs keep these outputs.
import Foundation

enum Activations {
    /// `out = f(a)`.
    static func forward(_ op: Primitive, _ a: Arg, _ out: Arg) {
        let (x, o, n) = (a.p!, out.p!, out.count)
        switch op {
        case .sigmoid: FastMath.sigmoid(x, o, n)
        case .tanh: FastMath.tanh(x, o, n)
        case .relu: for k in 0..<n { o[k] = x[k] > 0 ? x[k] : 0 }
        default: fatalError("Activations.forward: \(op.name)")
        }
    }

    /// Adds the VJP into `ga`.
    static func vjp(_ op: Primitive, _ a: Arg, _ out: Arg, _ g: Arg, _ ga: Arg) {
        guard let da = ga.p else { return }
        let (x, y, d, n) = (a.p!, out.p!, g.p!, out.count)
        switch op {
        case .sigmoid: for k in 0..<n { da[k] += d[k] * y[k] * (1 - y[k]) }
        case .tanh: for k in 0..<n { da[k] += d[k] * (1 - y[k] * y[k]) }
        case .relu: for k in 0..<n where x[k] > 0 { da[k] += d[k] }
        default: fatalError("Activations.vjp: \(op.name)")
        }
    }

    /// A classic bug, kept for the gradient checker's own test: tanh′ written as 1 − y.
    static func wrongTanhVJP(_ out: Arg, _ g: Arg, _ ga: Arg) {
        guard let da = ga.p else { return }
        for k in 0..<out.count { da[k] += g.p![k] * (1 - out.p![k]) }
    }
}
