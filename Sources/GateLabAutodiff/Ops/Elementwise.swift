// Elementwise arithmetic: add, subtract, multiply, divide (with row and scalar broadcasting),
// negate, exp, log, square, sqrt. Each op's forward and VJP side by side; a VJP *adds* into
// the operand gradients, and a broadcast operand's stride of 0 sums its gradient back to its
// own shape for free.
import Foundation
import ComplexModule

enum Elementwise {
    /// `out = a ∘ b` for a binary op, broadcasting either operand.
    static func forward<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ b: Arg<S>, _ out: Arg<S>) {
        switch op {
        case .add: map(a, b, out) { $0 + $1 }
        case .subtract: map(a, b, out) { $0 - $1 }
        case .multiply: map(a, b, out) { $0 * $1 }
        case .divide: map(a, b, out) { $0 / $1 }
        default: fatalError("Elementwise.forward: \(op.name)")
        }
    }

    /// Adds the VJP of a binary op into `ga` and `gb` (either may be absent).
    ///   add: ga += g, gb += g · subtract: ga += g, gb −= g
    ///   multiply: ga += g ⊙ b, gb += g ⊙ a · divide: ga += g ⊘ b, gb −= g ⊙ out ⊘ b
    static func vjp<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ b: Arg<S>, _ out: Arg<S>, _ g: Arg<S>, _ ga: Arg<S>, _ gb: Arg<S>) {
        switch op {
        case .add:
            accumulate(ga, g, b, out) { d, _ in d }
            accumulate(gb, g, a, out) { d, _ in d }
        case .subtract:
            accumulate(ga, g, b, out) { d, _ in d }
            accumulate(gb, g, a, out) { d, _ in -d }
        case .multiply:
            accumulate(ga, g, b, out, multiplyVJP)
            accumulate(gb, g, a, out, multiplyVJP)
        case .divide:
            accumulate(ga, g, b, out) { d, y in d / y }
            if let db = gb.p {   // −g ⊙ out ⊘ b, b broadcast
                let (br, bc) = broadcastStrides(b, out)
                for r in 0..<out.rows { for c in 0..<out.cols {
                    let k = r * out.cols + c, i = r * br + c * bc
                    db[i] -= g.p![k] * out.p![k] / b.p![i]
                } }
            }
        default: fatalError("Elementwise.vjp: \(op.name)")
        }
    }

    /// ⊙'s VJP at one element, for one factor: the output gradient g times the other factor.
    /// (Written once: the fused `a ⊙ b + c ⊙ d` calls it too.)
    @inline(__always) static func multiplyVJP<S: Scalar>(_ g: S, _ other: S) -> S { g * other }

    /// `out[r, c] = f(a[r, c], b[r, c])` with broadcasting; the same-shape and row-broadcast
    /// (bias) cases get plain loops the compiler vectorizes.
    @inline(__always)
    static func map<S: Scalar>(_ a: Arg<S>, _ b: Arg<S>, _ out: Arg<S>, _ f: (S, S) -> S) {
        let (x, y, o) = (a.p!, b.p!, out.p!)
        let (m, n) = (out.rows, out.cols)
        if a.count == out.count && b.count == out.count {
            for k in 0..<(m * n) { o[k] = f(x[k], y[k]) }
        } else if a.count == out.count && b.rows == 1 && b.cols == n {
            for r in 0..<m { let (xr, or) = (x + r * n, o + r * n); for c in 0..<n { or[c] = f(xr[c], y[c]) } }
        } else if b.count == out.count && a.rows == 1 && a.cols == n {
            for r in 0..<m { let (yr, or) = (y + r * n, o + r * n); for c in 0..<n { or[c] = f(x[c], yr[c]) } }
        } else if b.count == out.count && a.count == 1 {   // a scalar, e.g. the GRU's 1 − z
            let x0 = x[0]
            for k in 0..<(m * n) { o[k] = f(x0, y[k]) }
        } else if a.count == out.count && b.count == 1 {
            let y0 = y[0]
            for k in 0..<(m * n) { o[k] = f(x[k], y0) }
        } else {
            let (ar, ac) = broadcastStrides(a, out), (br, bc) = broadcastStrides(b, out)
            for r in 0..<m { for c in 0..<n { o[r * n + c] = f(x[r * ar + c * ac], y[r * br + c * bc]) } }
        }
    }

    /// `out += b`, b broadcast: the running sum of a fused addition chain. (In place with one
    /// output pointer, so the loops vectorize without a run-time overlap check.)
    static func addInPlace<S: Scalar>(_ out: Arg<S>, _ b: Arg<S>) {
        let (o, y) = (out.p!, b.p!)
        let (m, n) = (out.rows, out.cols)
        if b.count == out.count {
            for k in 0..<(m * n) { o[k] += y[k] }
        } else if b.rows == 1 && b.cols == n {
            for r in 0..<m { let or = o + r * n; for c in 0..<n { or[c] += y[c] } }
        } else {
            let (br, bc) = broadcastStrides(b, out)
            for r in 0..<m { for c in 0..<n { o[r * n + c] += y[r * br + c * bc] } }
        }
    }

    /// `ga[broadcast index] += f(g[r, c], other[r, c])`: the gradient of one operand, summed
    /// back over the dimensions it was broadcast along.
    @inline(__always)
    static func accumulate<S: Scalar>(_ ga: Arg<S>, _ g: Arg<S>, _ other: Arg<S>, _ out: Arg<S>, _ f: (S, S) -> S) {
        guard let da = ga.p else { return }
        let (d, y) = (g.p!, other.p!)
        let (m, n) = (out.rows, out.cols)
        let otherFull = other.count == out.count
        if ga.count == out.count && (otherFull || other.count == 1 && m * n == 1) {
            for k in 0..<(m * n) { da[k] += f(d[k], y[k]) }
        } else if ga.count == out.count && other.rows == 1 && other.cols == n {
            for r in 0..<m { let (ar, dr) = (da + r * n, d + r * n); for c in 0..<n { ar[c] += f(dr[c], y[c]) } }
        } else if ga.count == out.count && other.count == 1 {   // the other operand a scalar (1 − z)
            let y0 = y[0]
            for k in 0..<(m * n) { da[k] += f(d[k], y0) }
        } else if ga.rows == 1 && ga.cols == n && otherFull {
            for r in 0..<m { let (dr, yr) = (d + r * n, y + r * n); for c in 0..<n { da[c] += f(dr[c], yr[c]) } }
        } else {
            let (ar, ac) = broadcastStrides(ga, out), (br, bc) = broadcastStrides(other, out)
            for r in 0..<m { for c in 0..<n { da[r * ar + c * ac] += f(d[r * n + c], y[r * br + c * bc]) } }
        }
    }

    /// `d[c] ±= Σ_r g[r, c]` for a rows × cols `g`: the gradient of a bias (a row broadcast
    /// over the rows). Split by columns over the two cores; each column's sum runs over the
    /// rows in order, so its bits do not depend on the split.
    static func addColumnSums<S: Scalar>(into d: UnsafeMutablePointer<S>, of g: UnsafePointer<S>, rows m: Int, cols n: Int,
                              subtract: Bool = false) {
        Parallel.columns(n, rows: m) { cs in addColumnSums(into: d, of: g, rows: m, cols: n, columns: cs, subtract: subtract) }
    }

    /// The same on columns `cs` only.
    static func addColumnSums<S: Scalar>(into d: UnsafeMutablePointer<S>, of g: UnsafePointer<S>, rows m: Int, cols n: Int,
                              columns cs: Range<Int>, subtract: Bool = false) {
        if subtract { for r in 0..<m { let gr = g + r * n; for c in cs { d[c] -= gr[c] } } }
        else { for r in 0..<m { let gr = g + r * n; for c in cs { d[c] += gr[c] } } }
    }

    /// `out = f(a)` for negate, exp, log, square, sqrt.
    static func forwardUnary<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ out: Arg<S>) {
        let (x, o, n) = (a.p!, out.p!, out.count)
        switch op {
        case .negate: for k in 0..<n { o[k] = -x[k] }
        case .exp: for k in 0..<n { o[k] = S.exp(x[k]) }
        case .log: for k in 0..<n { o[k] = S.log(x[k]) }
        case .square: for k in 0..<n { o[k] = x[k] * x[k] }
        case .sqrt: for k in 0..<n { o[k] = x[k].squareRoot() }
        default: fatalError("Elementwise.forwardUnary: \(op.name)")
        }
    }

    /// Adds the VJP of a unary op into `ga`, reusing the forward's output where it can:
    ///   negate: −g · exp: g ⊙ y · log: g ⊘ a · square: 2 g ⊙ a · sqrt: g ⊘ (2y)
    static func vjpUnary<S: Scalar>(_ op: Primitive, _ a: Arg<S>, _ out: Arg<S>, _ g: Arg<S>, _ ga: Arg<S>) {
        guard let da = ga.p else { return }
        let (x, y, d, n) = (a.p!, out.p!, g.p!, out.count)
        switch op {
        case .negate: for k in 0..<n { da[k] -= d[k] }
        case .exp: for k in 0..<n { da[k] += d[k] * y[k] }
        case .log: for k in 0..<n { da[k] += d[k] / x[k] }
        case .square: for k in 0..<n { da[k] += 2 * d[k] * x[k] }
        case .sqrt: for k in 0..<n { da[k] += d[k] / (2 * y[k]) }
        default: fatalError("Elementwise.vjpUnary: \(op.name)")
        }
    }
}

extension Elementwise: PrimitiveFamily {
    static func name(_ op: Primitive) -> String {
        switch op {
        case .add: return "add"
        case .subtract: return "subtract"
        case .multiply: return "multiply"
        case .divide: return "divide"
        case .negate: return "negate"
        case .exp: return "exp"
        case .log: return "log"
        case .square: return "square"
        default: return "sqrt"
        }
    }

    /// Binary ops broadcast each dimension that is 1 (biases: a row; scalars: 1 × 1).
    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        switch op {
        case .add, .subtract, .multiply, .divide:
            guard s.count == 2 else { return .failure(ShapeMismatch(reason: "needs 2 operands")) }
            func broadcast(_ a: Int, _ b: Int) -> Int? { a == b ? a : (a == 1 ? b : (b == 1 ? a : nil)) }
            guard let r = broadcast(s[0].rows, s[1].rows), let c = broadcast(s[0].cols, s[1].cols) else {
                return .failure(ShapeMismatch(reason: "\(s[0]) and \(s[1]) do not broadcast (each dimension must match or be 1)"))
            }
            return .success(Shape(r, c))
        default:
            return s.count == 1 ? .success(s[0]) : .failure(ShapeMismatch(reason: "needs 1 operand"))
        }
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) {
        if count == 2 { forward(op, a[0], a[1], out) } else { forwardUnary(op, a[0], out) }
    }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        if count == 2 { vjp(op, a[0], a[1], out, g, ga[0], ga[1]) } else { vjpUnary(op, a[0], out, g, ga[0]) }
    }

    /// ⊙ reads the other factor, ⊘ both operands and its output, log and square their operand,
    /// exp and √ their output; + − and negation nothing.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) {
        switch op {
        case .multiply, .log, .square: return (true, false)
        case .divide: return (true, true)
        case .exp, .sqrt: return (false, true)
        default: return (false, false)
        }
    }

    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        let latex = style.latex
        switch op {
        case .add: return PrintedOperand(text: "\(style.wrap(a[0], 1)) + \(style.wrap(a[1], 2))", precedence: 1)
        case .subtract: return PrintedOperand(text: "\(style.wrap(a[0], 1)) \(latex ? "-" : "−") \(style.wrap(a[1], 2))", precedence: 1)
        case .multiply:   // a constant factor is written as a coefficient: 2 x
            let sign = a[0].isConstant ? " " : (latex ? " \\odot " : " ⊙ ")
            return PrintedOperand(text: "\(style.wrap(a[0], 2))\(sign)\(style.wrap(a[1], 3))", precedence: 2)
        case .divide:
            if latex { return PrintedOperand(text: "\\frac{\(a[0].text)}{\(a[1].text)}", precedence: 10) }
            return PrintedOperand(text: "\(style.wrap(a[0], 2)) / \(style.wrap(a[1], 3))", precedence: 2)
        case .negate: return PrintedOperand(text: "-" + style.wrap(a[0], 3), precedence: 2)
        case .exp: return style.call(latex ? "\\exp" : "exp", a)
        case .log: return style.call(latex ? "\\log" : "log", a)
        case .sqrt: return PrintedOperand(text: latex ? "\\sqrt{\(a[0].text)}" : "√" + style.paren(a[0].text), precedence: 10)
        default: return PrintedOperand(text: style.wrap(a[0], 10) + (latex ? "^2" : "²"), precedence: 9)
        }
    }

    static func symbol(_ op: Primitive) -> String {
        switch op {
        case .add: return "+"
        case .subtract: return "−"
        case .multiply: return "⊙"
        case .divide: return "/"
        default: return name(op)
        }
    }

    static func rowsAreIndependent(_ op: Primitive) -> Bool { true }
    static func hasRowKernel(_ op: Primitive) -> Bool { true }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension Elementwise {
    /// `out = op(operands)` in complex arithmetic, broadcasting as the real forward does.
    /// log and √ are analytic only off their branch cut: an argument whose real part is not
    /// positive is refused (there the real function is undefined or its derivative infinite,
    /// and Im f(x + ih)/h is not a derivative).
    static func complexForward(_ op: Primitive, _ a: UnsafeMutablePointer<ComplexArg>, _ count: Int, _ out: ComplexArg) throws {
        let o = out.p, n = out.count
        if count == 2 {
            let (l, r) = (a[0], a[1])
            let (ar, ac) = broadcastStrides(l, out), (br, bc) = broadcastStrides(r, out)
            for i in 0..<out.rows { for j in 0..<out.cols {
                let (x, y) = (l.p[i * ar + j * ac], r.p[i * br + j * bc])
                let v: ComplexValue
                switch op {
                case .add: v = x + y
                case .subtract: v = x - y
                case .multiply: v = x * y
                case .divide:
                    guard y.real != 0 || y.imaginary != 0 else { throw ComplexKernelError(reason: "division by zero") }
                    v = x / y
                default: fatalError("Elementwise.complexForward: \(op.name)")
                }
                o[i * out.cols + j] = v
            } }
            return
        }
        let x = a[0].p
        switch op {
        case .negate: for k in 0..<n { o[k] = -x[k] }
        case .exp: for k in 0..<n { o[k] = ComplexValue.exp(x[k]) }
        case .square: for k in 0..<n { o[k] = x[k] * x[k] }
        case .log, .sqrt:
            for k in 0..<n {
                guard x[k].real > 0 else {
                    throw ComplexKernelError(reason: "argument \(x[k].real) is not positive: \(op.name) is not analytic there (its real value is \(x[k].real == 0 && op == .sqrt ? "0 with an infinite derivative" : "undefined")), so it has no complex-step derivative")
                }
                o[k] = op == .log ? ComplexValue.log(x[k]) : ComplexValue.sqrt(x[k])
            }
        default: fatalError("Elementwise.complexForward: \(op.name)")
        }
    }
}
