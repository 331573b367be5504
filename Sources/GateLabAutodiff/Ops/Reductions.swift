// The sum of all elements (1 × 1): a loss summed over steps and the batch.
// VJP: the output gradient spread back over every element.
import ComplexModule

enum Reductions {
    /// `out = Σ a`.
    static func forward<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ out: Arg<S>) {
        let x = a.p!
        var s: S = 0
        for k in 0..<a.count { s += x[k] }
        out.p![0] = s
    }

    /// Adds the VJP into `ga`.
    static func vjp<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ g: Arg<S>, _ ga: Arg<S>) {
        guard let da = ga.p else { return }
        let v = g.p![0]
        for k in 0..<a.count { da[k] += v }
    }
}

extension Reductions: PrimitiveFamily {
    static func name(_ op: Primitive) -> String { "sumAll" }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        guard s.count == 1 else { return .failure(ShapeMismatch(reason: "needs 1 operand")) }
        return .success(Shape(1, 1))
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) { forward(op, a[0], out) }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        vjp(op, a[0], g, ga[0])
    }

    /// Spreading the gradient back reads nothing but its shape.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (false, false) }

    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        style.call(style.latex ? "\\sum" : "Σ", a)
    }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension Reductions {
    /// The sum in complex arithmetic.
    static func complexForward(_ op: Primitive, _ a: ComplexArg, _ out: ComplexArg) {
        var s = ComplexValue.zero
        for k in 0..<a.count { s = s + a.p[k] }
        out.p[0] = s
    }
}
