// Column concatenation and column slicing: how gate blocks are stacked and taken apart.
// Both only move numbers, so their VJPs move the gradient back the same way.

enum Structure {
    /// `out = [a₀ a₁ …]`, operands side by side.
    static func concatForward(_ parts: UnsafeMutablePointer<Arg>, _ count: Int, _ out: Arg) {
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
    static func concatVJP(_ grads: UnsafeMutablePointer<Arg>, _ count: Int, _ g: Arg) {
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
    static func sliceForward(start: Int, _ a: Arg, _ out: Arg) {
        for r in 0..<out.rows {
            (out.p! + r * out.cols).update(from: a.p! + r * a.cols + start, count: out.cols)
        }
    }

    /// `ga[:, start ..< start + g.cols] += g`.
    static func sliceVJP(start: Int, _ g: Arg, _ ga: Arg) {
        guard let da = ga.p else { return }
        for r in 0..<g.rows {
            let src = g.p! + r * g.cols, dst = da + r * ga.cols + start
            for c in 0..<g.cols { dst[c] += src[c] }
        }
    }
}
