// Activation functions: sigmoid, tanh, relu. The VJPs reuse the forward's output
// (σ: g ⊙ y ⊙ (1 − y), tanh: g ⊙ (1 − y²)), which is why programs keep these outputs.
import Foundation
import ComplexModule

enum Activations {
    /// `out = f(a)`.
    static func forward<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ out: Arg<S>) {
        let (x, o, n) = (a.p!, out.p!, out.count)
        switch op {
        case .sigmoid: S.sigmoid(x, o, n)
        case .tanh: S.tanh(x, o, n)
        case .relu: for k in 0..<n { o[k] = x[k] > 0 ? x[k] : 0 }
        default: fatalError("Activations.forward: \(op.name)")
        }
    }

    /// Adds the VJP into `ga`.
    static func vjp<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ out: Arg<S>, _ g: Arg<S>, _ ga: Arg<S>) {
        guard let da = ga.p else { return }
        let (x, y, d, n) = (a.p!, out.p!, g.p!, out.count)
        switch op {
        case .sigmoid: for k in 0..<n { da[k] += sigmoidVJP(d[k], y[k]) }
        case .tanh: for k in 0..<n { da[k] += tanhVJP(d[k], y[k]) }
        case .relu: for k in 0..<n where x[k] > 0 { da[k] += d[k] }
        default: fatalError("Activations.vjp: \(op.name)")
        }
    }

    /// σ's VJP at one element, from the output gradient g and the output y: g σ′ = g y (1 − y).
    /// (Written once: the fused instructions call it too, so their bits are these.)
    @inline(__always) static func sigmoidVJP<S: Scalar>(_ g: S, _ y: S) -> S { g * y * (1 - y) }

    /// tanh's VJP at one element: g tanh′ = g (1 − y²).
    @inline(__always) static func tanhVJP<S: Scalar>(_ g: S, _ y: S) -> S { g * (1 - y * y) }
}

extension Activations: PrimitiveFamily {
    static func name(_ op: Primitive) -> String {
        switch op { case .sigmoid: return "sigmoid"; case .tanh: return "tanh"; default: return "relu" }
    }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        s.count == 1 ? .success(s[0]) : .failure(ShapeMismatch(reason: "needs 1 operand"))
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) {
        forward(op, a[0], out)
    }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        vjp(op, a[0], out, g, ga[0])
    }

    /// σ and tanh read their output (y (1 − y), 1 − y²); relu its operand's sign.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { op == .relu ? (true, false) : (false, true) }

    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        switch op {
        case .sigmoid: return style.call(style.latex ? "\\sigma" : "σ", a)
        case .tanh: return style.call(style.latex ? "\\tanh" : "tanh", a)
        default: return style.call(style.latex ? "\\operatorname{relu}" : "relu", a)
        }
    }

    static func symbol(_ op: Primitive) -> String { op == .sigmoid ? "σ" : name(op) }

    static func rowsAreIndependent(_ op: Primitive) -> Bool { true }
    static func hasRowKernel(_ op: Primitive) -> Bool { true }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension Activations {
    /// `out = f(a)` in complex arithmetic: σ and tanh are their analytic continuations,
    /// written so that a tiny imaginary part keeps full relative accuracy (tanh(x + iy) =
    /// (sinh 2x + i sin 2y) / (cosh 2x + cos 2y) has no cancellation, unlike sinh z / cosh z);
    /// relu branches on the real part (Martins et al. 2003): z where Re z > 0, else 0.
    static func complexForward(_ op: Primitive, _ a: ComplexArg, _ out: ComplexArg) {
        let (x, o, n) = (a.p, out.p, out.count)
        switch op {
        case .sigmoid: for k in 0..<n { o[k] = complexSigmoid(x[k]) }
        case .tanh: for k in 0..<n { o[k] = complexTanh(x[k]) }
        case .relu: for k in 0..<n { o[k] = x[k].real > 0 ? x[k] : .zero }
        default: fatalError("Activations.complexForward: \(op.name)")
        }
    }

    /// tanh(x + iy) = (sinh 2x + i sin 2y) / (cosh 2x + cos 2y); ±1 beyond |x| = 350, where
    /// cosh 2x would overflow and the imaginary part is below the smallest double.
    static func complexTanh(_ z: ComplexValue) -> ComplexValue {
        let (x, y) = (z.real, z.imaginary)
        guard abs(x) <= 350 else { return ComplexValue(x > 0 ? 1 : -1, 0) }
        let d = Foundation.cosh(2 * x) + Foundation.cos(2 * y)
        return ComplexValue(Foundation.sinh(2 * x) / d, Foundation.sin(2 * y) / d)
    }

    /// σ(z) = 1 / (1 + e^−z) for Re z ≥ 0, e^z / (1 + e^z) otherwise (no overflow either way).
    static func complexSigmoid(_ z: ComplexValue) -> ComplexValue {
        if z.real >= 0 { return 1 / (1 + ComplexValue.exp(-z)) }
        let e = ComplexValue.exp(z)
        return e / (1 + e)
    }
}
