// Elementwise arithmetic: add, subtract, multiply, divide (with row and scalar broadcasting),
// negate, exp, log, square, sqrt. Each op's forward and VJP side by side; a VJP *adds* into
// the operand gradients, and a broadcast operand's stride of 0 sums its gradient back to its
// own shape for free.
import Foundation

enum Elementwise {
    /// `out = a ∘ b` for a binary op, broadcasting either operand.
    static func forward(_ op: Primitive, _ a: Arg, _ b: Arg, _ out: Arg) {
        let (o, x, y) = (out.p!, a.p!, b.p!)
        if a.shape == out.shape && b.shape == out.shape {  // the common case, kept tight
            let n = out.count
            switch op {
            case .add: for k in 0..<n { o[k] = x[k] + y[k] }
            case .subtract: for k in 0..<n { o[k] = x[k] - y[k] }
            case .multiply: for k in 0..<n { o[k] = x[k] * y[k] }
            case .divide: for k in 0..<n { o[k] = x[k] / y[k] }
            default: fatalError("Elementwise.forward: \(op.name)")
            }
            return
        }
        let (ar, ac) = broadcastStrides(a, out), (br, bc) = broadcastStrides(b, out)
        for r in 0..<out.rows {
            for c in 0..<out.cols {
                let u = x[r * ar + c * ac], v = y[r * br + c * bc]
                let w: Double
                switch op {
                case .add: w = u + v
                case .subtract: w = u - v
                case .multiply: w = u * v
                case .divide: w = u / v
                default: fatalError("Elementwise.forward: \(op.name)")
                }
                o[r * out.cols + c] = w
            }
        }
    }

    /// Adds the VJP of a binary op into `ga` and `gb` (either may be absent).
    ///   add: ga += g, gb += g · subtract: ga += g, gb −= g
    ///   multiply: ga += g ⊙ b, gb += g ⊙ a · divide: ga += g ⊘ b, gb −= g ⊙ out ⊘ b
    static func vjp(_ op: Primitive, _ a: Arg, _ b: Arg, _ out: Arg, _ g: Arg, _ ga: Arg, _ gb: Arg) {
        let (x, y, o, d) = (a.p!, b.p!, out.p!, g.p!)
        let (ar, ac) = broadcastStrides(a, out), (br, bc) = broadcastStrides(b, out)
        if let da = ga.p {
            if a.shape == out.shape, op == .add || op == .subtract {
                for k in 0..<out.count { da[k] += d[k] }
            } else {
                for r in 0..<out.rows {
                    for c in 0..<out.cols {
                        let k = r * out.cols + c, j = r * br + c * bc
                        switch op {
                        case .add, .subtract: da[r * ar + c * ac] += d[k]
                        case .multiply: da[r * ar + c * ac] += d[k] * y[j]
                        case .divide: da[r * ar + c * ac] += d[k] / y[j]
                        default: fatalError("Elementwise.vjp: \(op.name)")
                        }
                    }
                }
            }
        }
        if let db = gb.p {
            for r in 0..<out.rows {
                for c in 0..<out.cols {
                    let k = r * out.cols + c, i = r * br + c * bc
                    switch op {
                    case .add: db[i] += d[k]
                    case .subtract: db[i] -= d[k]
                    case .multiply: db[i] += d[k] * x[r * ar + c * ac]
                    case .divide: db[i] -= d[k] * o[k] / y[i]
                    default: fatalError("Elementwise.vjp: \(op.name)")
                    }
                }
            }
        }
    }

    /// `out = f(a)` for negate, exp, log, square, sqrt.
    static func forwardUnary(_ op: Primitive, _ a: Arg, _ out: Arg) {
        let (x, o, n) = (a.p!, out.p!, out.count)
        switch op {
        case .negate: for k in 0..<n { o[k] = -x[k] }
        case .exp: for k in 0..<n { o[k] = Foundation.exp(x[k]) }
        case .log: for k in 0..<n { o[k] = Foundation.log(x[k]) }
        case .square: for k in 0..<n { o[k] = x[k] * x[k] }
        case .sqrt: for k in 0..<n { o[k] = x[k].squareRoot() }
        default: fatalError("Elementwise.forwardUnary: \(op.name)")
        }
    }

    /// Adds the VJP of a unary op into `ga`, reusing the forward's output where it can:
    ///   negate: −g · exp: g ⊙ y · log: g ⊘ a · square: 2 g ⊙ a · sqrt: g ⊘ (2y)
    static func vjpUnary(_ op: Primitive, _ a: Arg, _ out: Arg, _ g: Arg, _ ga: Arg) {
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
