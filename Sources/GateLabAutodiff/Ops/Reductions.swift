// Sums and means, over everything (1 × 1) or over rows, i.e. the batch (1 × cols).
// VJP: the output gradient spread back over what was summed (divided by the count for means).
import ComplexModule

enum Reductions {
    /// `out = Σ a` or a mean, per `op`.
    static func forward<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ out: Arg<S>) {
        let (x, o) = (a.p!, out.p!)
        switch op {
        case .sumAll, .meanAll:
            var s: S = 0
            for k in 0..<a.count { s += x[k] }
            o[0] = op == .sumAll ? s : s / S(a.count)
        case .sumRows, .meanRows:
            for c in 0..<a.cols { o[c] = 0 }
            for r in 0..<a.rows { for c in 0..<a.cols { o[c] += x[r * a.cols + c] } }
            if op == .meanRows { for c in 0..<a.cols { o[c] /= S(a.rows) } }
        default: fatalError("Reductions.forward: \(op.name)")
        }
    }

    /// Adds the VJP into `ga`.
    static func vjp<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ g: Arg<S>, _ ga: Arg<S>) {
        guard let da = ga.p else { return }
        let d = g.p!
        switch op {
        case .sumAll, .meanAll:
            let v = op == .sumAll ? d[0] : d[0] / S(a.count)
            for k in 0..<a.count { da[k] += v }
        case .sumRows, .meanRows:
            let scale = op == .sumRows ? 1 : 1 / S(a.rows)
            for r in 0..<a.rows { for c in 0..<a.cols { da[r * a.cols + c] += d[c] * scale } }
        default: fatalError("Reductions.vjp: \(op.name)")
        }
    }
}

extension Reductions: PrimitiveFamily {
    static func name(_ op: Primitive) -> String {
        switch op { case .sumAll: return "sumAll"; case .sumRows: return "sumRows"; case .meanAll: return "meanAll"; default: return "meanRows" }
    }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        guard s.count == 1 else { return .failure(ShapeMismatch(reason: "needs 1 operand")) }
        return .success(op == .sumAll || op == .meanAll ? Shape(1, 1) : Shape(1, s[0].cols))
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) { forward(op, a[0], out) }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        vjp(op, a[0], g, ga[0])
    }

    /// Spreading the gradient back reads nothing but its shape.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (false, false) }

    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        let latex = style.latex
        switch op {
        case .sumAll: return style.call(latex ? "\\sum" : "Σ", a)
        case .sumRows: return style.call(latex ? "\\sum_{\\text{rows}}" : "Σ_rows", a)
        case .meanAll: return style.call(latex ? "\\operatorname{mean}" : "mean", a)
        default: return style.call(latex ? "\\operatorname{mean}_{\\text{rows}}" : "mean_rows", a)
        }
    }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension Reductions {
    /// Sums and means in complex arithmetic.
    static func complexForward(_ op: Primitive, _ a: ComplexArg, _ out: ComplexArg) {
        switch op {
        case .sumAll, .meanAll:
            var s = ComplexValue.zero
            for k in 0..<a.count { s = s + a.p[k] }
            out.p[0] = op == .sumAll ? s : s / ComplexValue(Double(a.count))
        case .sumRows, .meanRows:
            for c in 0..<a.cols {
                var s = ComplexValue.zero
                for r in 0..<a.rows { s = s + a.p[r * a.cols + c] }
                out.p[c] = op == .sumRows ? s : s / ComplexValue(Double(a.rows))
            }
        default: fatalError("Reductions.complexForward: \(op.name)")
        }
    }
}
