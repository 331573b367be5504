// The softmax cross-entropy loss, a 1 × 1 mean over rows (the squared-error and Bernoulli
// losses of training are composed from elementwise ops and `sum`).
//   softmaxCrossEntropy(z, y) = mean_r(logΣ_c e^{z_rc} − z_{r,y_r});  VJP: gz += g(softmax(z) − onehot(y))/rows
// The log-sum-exp subtracts each row's maximum so that large logits do not overflow.
import Foundation
import ComplexModule

enum Losses {
    /// `out = mean over rows of −log softmax(z)[label]`; labels are class indices stored as
    /// Ss. Throws when a label is not an integer in 0 ..< classes.
    static func crossEntropyForward<S: Scalar>(_ z: Arg<S>, _ labels: Arg<S>, _ out: Arg<S>) throws {
        var total: S = 0
        for r in 0..<z.rows {
            let label = try classIndex(labels.p![r], row: r, classes: z.cols)
            let row = z.p! + r * z.cols
            total += logSumExp(row, z.cols) - row[label]
        }
        out.p![0] = total / S(z.rows)
    }

    /// Adds the VJP into `gz` (the labels receive none).
    static func crossEntropyVJP<S: Scalar>(_ z: Arg<S>, _ labels: Arg<S>, _ g: Arg<S>, _ gz: Arg<S>) {
        guard let dz = gz.p else { return }
        let scale = g.p![0] / S(z.rows)
        for r in 0..<z.rows {
            let row = z.p! + r * z.cols, lse = logSumExp(row, z.cols)
            let label = Int(labels.p![r])
            for c in 0..<z.cols {
                dz[r * z.cols + c] += scale * (S.exp(row[c] - lse) - (c == label ? 1 : 0))
            }
        }
    }

    private static func logSumExp<S: Scalar>(_ row: UnsafeMutablePointer<S>, _ n: Int) -> S {
        var m = -S.infinity
        for c in 0..<n { m = max(m, row[c]) }
        var s: S = 0
        for c in 0..<n { s += S.exp(row[c] - m) }
        return m + S.log(s)
    }

    private static func classIndex<S: Scalar>(_ v: S, row: Int, classes: Int) throws -> Int {
        guard v.rounded() == v, v >= 0, v < S(classes) else {
            throw KernelError(message: "softmaxCrossEntropy: label \(v) in row \(row) is not a class index in 0..<\(classes)")
        }
        return Int(v)
    }
}

extension Losses: PrimitiveFamily {
    static func name(_ op: Primitive) -> String { "softmaxCrossEntropy" }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        func fail(_ why: String) -> Result<Shape, ShapeMismatch> { .failure(ShapeMismatch(reason: why)) }
        guard s.count == 2 else { return fail("needs 2 operands") }
        guard s[1] == Shape(s[0].rows, 1) else { return fail("labels must be \(s[0].rows)×1 for logits \(s[0]), got \(s[1])") }
        return .success(Shape(1, 1))
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) throws {
        try crossEntropyForward(a[0], a[1], out)
    }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        crossEntropyVJP(a[0], a[1], g, ga[0])
    }

    /// It reads its operands (the logits and labels).
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (true, false) }

    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        style.call(style.latex ? "\\operatorname{CE}" : "CE", a)
    }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension Losses {
    /// The loss in complex arithmetic; the log-sum-exp's shift is the element of largest real
    /// part (any shift gives the same analytic function; this one keeps e^(z − m) in range).
    static func complexForward(_ op: Primitive, _ a: UnsafeMutablePointer<ComplexArg>, _ count: Int, _ out: ComplexArg) throws {
        let (z, b) = (a[0], a[1])
        var total = ComplexValue.zero
        for r in 0..<z.rows {
            let v = b.p[r].real
            guard v.rounded() == v, v >= 0, v < Double(z.cols) else {
                throw ComplexKernelError(reason: "label \(v) in row \(r) is not a class index in 0..<\(z.cols)")
            }
            let row = z.p + r * z.cols
            var m = row[0]
            for c in 1..<z.cols where row[c].real > m.real { m = row[c] }
            var s = ComplexValue.zero
            for c in 0..<z.cols { s = s + ComplexValue.exp(row[c] - m) }
            total = total + m + ComplexValue.log(s) - row[Int(v)]
        }
        out.p[0] = total / ComplexValue(Double(z.rows))
    }
}
