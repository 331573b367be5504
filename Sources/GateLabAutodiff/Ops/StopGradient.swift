// The stop-gradient: the identity forward, a zero VJP. A value written through it is a
// constant as far as the reverse pass is concerned — how a truncated gradient (Hochreiter &
// Schmidhuber 1997, App. A.1: errors leaving a unit's net input are not carried back in time)
// is expressed on the graph. Its gradient "check" is therefore against the derivative with
// the stopped value held constant (`OpGradientTests.stopGradient`), not against central
// differences of the whole function, which see through it.
import ComplexModule

enum StopGradient: PrimitiveFamily {
    static func name(_ op: Primitive) -> String { "stopGradient" }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        s.count == 1 ? .success(s[0]) : .failure(ShapeMismatch(reason: "needs 1 operand"))
    }

    /// `out = a`.
    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) {
        out.p!.update(from: a[0].p!, count: out.count)
    }

    /// Adds nothing: the operand receives no gradient through this path.
    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                               output out: Arg<S>, outputGradient g: Arg<S>) {}

    /// A zero VJP reads nothing.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (false, false) }

    /// `stop(a)` (LaTeX `\operatorname{sg}(a)`, the notation of the literature on stop-gradients).
    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        style.call(style.latex ? "\\operatorname{sg}" : "stop", a)
    }

    static func rowsAreIndependent(_ op: Primitive) -> Bool { true }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension StopGradient {
    /// `out = a`: the complex step, like central differences, sees through a stop-gradient.
    static func complexForward(_ a: ComplexArg, _ out: ComplexArg) {
        out.p.update(from: a.p, count: out.count)
    }
}
