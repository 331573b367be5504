// Column concatenation and column slicing: how gate blocks are stacked and taken apart.
// Both only move numbers, so their VJPs move the gradient back the same way.
import ComplexModule

enum Structure {
    /// `out = [a₀ a₁ …]`, operands side by side.
    static func concatForward<S: Scalar>(_ parts: UnsafeMutablePointer<Arg<S>>, _ count: Int, _ out: Arg<S>) {
        var col = 0
        for i in 0..<count {
            let a = parts[i]
            for r in 0..<out.rows {
                (out.p! + r * out.cols + col).update(from: a.p! + r * a.cols, count: a.cols)
            }
            col += a.cols
        }
    }

    /// Adds each operand's block of `g` into its gradient.
    static func concatVJP<S: Scalar>(_ grads: UnsafeMutablePointer<Arg<S>>, _ count: Int, _ g: Arg<S>) {
        var col = 0
        for i in 0..<count {
            let ga = grads[i]
            if let da = ga.p {
                for r in 0..<g.rows {
                    let src = g.p! + r * g.cols + col, dst = da + r * ga.cols
                    for c in 0..<ga.cols { dst[c] += src[c] }
                }
            }
            col += ga.cols
        }
    }

    /// `out = a[:, start ..< start + out.cols]`.
    static func sliceForward<S: Scalar>(start: Int, _ a: Arg<S>, _ out: Arg<S>) {
        for r in 0..<out.rows {
            (out.p! + r * out.cols).update(from: a.p! + r * a.cols + start, count: out.cols)
        }
    }

    /// `ga[:, start ..< start + g.cols] += g`.
    static func sliceVJP<S: Scalar>(start: Int, _ g: Arg<S>, _ ga: Arg<S>) {
        guard let da = ga.p else { return }
        for r in 0..<g.rows {
            let src = g.p! + r * g.cols, dst = da + r * ga.cols + start
            for c in 0..<g.cols { dst[c] += src[c] }
        }
    }
}

extension Structure: PrimitiveFamily {
    static func name(_ op: Primitive) -> String {
        if case let .sliceColumns(s, c) = op { return "sliceColumns[\(s)..<\(s + c)]" }
        return "concatColumns"
    }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        func fail(_ why: String) -> Result<Shape, ShapeMismatch> { .failure(ShapeMismatch(reason: why)) }
        switch op {
        case let .sliceColumns(start, count):
            guard s.count == 1 else { return fail("needs 1 operand") }
            guard start >= 0, count > 0, start + count <= s[0].cols else {
                return fail("columns \(start)..<\(start + count) are outside \(s[0])")
            }
            return .success(Shape(s[0].rows, count))
        default:
            guard let first = s.first else { return fail("needs at least 1 operand") }
            guard s.allSatisfy({ $0.rows == first.rows }) else {
                return fail("row counts differ: " + s.map(\.description).joined(separator: ", "))
            }
            return .success(Shape(first.rows, s.reduce(0) { $0 + $1.cols }))
        }
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) {
        if case let .sliceColumns(start, _) = op { sliceForward(start: start, a[0], out) } else { concatForward(a, count, out) }
    }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        if case let .sliceColumns(start, _) = op { sliceVJP(start: start, g, ga[0]) } else { concatVJP(ga, count, g) }
    }

    /// Moving numbers reads none.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (false, false) }

    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        if case let .sliceColumns(s, c) = op { return PrintedOperand(text: style.wrap(a[0], 10) + "[:, \(s):\(s + c)]", precedence: 10) }
        let latex = style.latex
        return PrintedOperand(text: (latex ? "\\left[" : "[") + a.map(\.text).joined(separator: ", ") + (latex ? "\\right]" : "]"), precedence: 10)
    }

    static func rowsAreIndependent(_ op: Primitive) -> Bool { true }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension Structure {
    /// Moves complex numbers as the real forward moves real ones.
    static func complexForward(_ op: Primitive, _ a: UnsafeMutablePointer<ComplexArg>, _ count: Int, _ out: ComplexArg) {
        if case let .sliceColumns(start, _) = op {
            for r in 0..<out.rows { (out.p + r * out.cols).update(from: a[0].p + r * a[0].cols + start, count: out.cols) }
            return
        }
        var col = 0
        for i in 0..<count {
            for r in 0..<out.rows { (out.p + r * out.cols + col).update(from: a[i].p + r * a[i].cols, count: a[i].cols) }
            col += a[i].cols
        }
    }
}
