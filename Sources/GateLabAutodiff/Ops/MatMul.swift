// Matrix product through CBLAS dgemm (OpenBLAS; see GateLabGSL.BLAS), with either operand
// transposed. With C = op(A) op(B) and G = ∂L/∂C:
//   C = A B    : dA += G Bᵀ,   dB += Aᵀ G
//   C = A Bᵀ   : dA += G B,    dB += Gᵀ A
//   C = Aᵀ B   : dA += B Gᵀ,   dB += A G
//   C = Aᵀ Bᵀ  : dA += Bᵀ Gᵀ,  dB += Gᵀ Aᵀ
import GateLabGSL
import ComplexModule

enum MatMul {
    /// `out = op(a) · op(b)` (overwrites `out`).
    static func forward<S: Scalar>(transposeA ta: Bool, transposeB tb: Bool, _ a: Arg<S>, _ b: Arg<S>, _ out: Arg<S>) {
        let k = ta ? a.rows : a.cols
        gemm(ta, tb, out.rows, out.cols, k, a, b, beta: 0, out)
    }

    /// Adds the VJP into `ga` and `gb`.
    static func vjp<S: Scalar>(transposeA ta: Bool, transposeB tb: Bool, _ a: Arg<S>, _ b: Arg<S>, _ g: Arg<S>, _ ga: Arg<S>, _ gb: Arg<S>) {
        if ga.p != nil {
            switch (ta, tb) {
            case (false, false): gemm(false, true, a.rows, a.cols, g.cols, g, b, beta: 1, ga)
            case (false, true): gemm(false, false, a.rows, a.cols, g.cols, g, b, beta: 1, ga)
            case (true, false): gemm(false, true, a.rows, a.cols, g.cols, b, g, beta: 1, ga)
            case (true, true): gemm(true, true, a.rows, a.cols, g.cols, b, g, beta: 1, ga)
            }
        }
        if gb.p != nil {
            switch (ta, tb) {
            case (false, false): gemm(true, false, b.rows, b.cols, g.rows, a, g, beta: 1, gb)
            case (false, true): gemm(true, false, b.rows, b.cols, g.rows, g, a, beta: 1, gb)
            case (true, false): gemm(false, false, b.rows, b.cols, g.rows, a, g, beta: 1, gb)
            case (true, true): gemm(true, true, b.rows, b.cols, g.rows, g, a, beta: 1, gb)
            }
        }
    }

    /// `c = op(x) · op(y) + beta · c`, op(x) being m × k and op(y) k × n, all row-major.
    @inline(__always)
    private static func gemm<S: Scalar>(_ tx: Bool, _ ty: Bool, _ m: Int, _ n: Int, _ k: Int,
                             _ x: Arg<S>, _ y: Arg<S>, beta: S, _ c: Arg<S>) {
        product(tx, ty, m, n, k, x.p!, x.cols, y.p!, y.cols, beta: beta, c.p!, c.cols)
    }

    /// `c = op(a) · op(b) + beta · c` on raw row-major storage (leading dimensions lda, ldb,
    /// ldc). A batch of one row (m = 1), a single column (n = 1) or an outer product (k = 1) —
    /// the shapes of a B = 1 recurrence — skip DGEMM's packing: DGEMV, or a plain loop.
    static func product<S: Scalar>(_ ta: Bool, _ tb: Bool, _ m: Int, _ n: Int, _ k: Int,
                        _ a: UnsafePointer<S>, _ lda: Int, _ b: UnsafePointer<S>, _ ldb: Int,
                        beta: S, _ c: UnsafeMutablePointer<S>, _ ldc: Int) {
        if m == 1 && (ta ? lda == 1 : true) {
            // cᵀ = op(b)ᵀ aᵀ: a matrix–vector product over b.
            if tb { S.gemv(transposeA: false, m: n, n: k, alpha: 1, a: b, lda: ldb, x: a, beta: beta, y: c) }
            else { S.gemv(transposeA: true, m: k, n: n, alpha: 1, a: b, lda: ldb, x: a, beta: beta, y: c) }
        } else if n == 1 && ldc == 1 && (tb ? true : ldb == 1) {
            // c = op(a) b: a matrix–vector product over a.
            if ta { S.gemv(transposeA: true, m: k, n: m, alpha: 1, a: a, lda: lda, x: b, beta: beta, y: c) }
            else { S.gemv(transposeA: false, m: m, n: k, alpha: 1, a: a, lda: lda, x: b, beta: beta, y: c) }
        } else if k == 1 {
            // Outer product: c[i, j] = beta c[i, j] + a_i b_j (b contiguous: the loops vectorize).
            let bStride = tb ? ldb : 1
            for i in 0..<m {
                let ai = ta ? a[i] : a[i * lda], row = c + i * ldc
                if bStride == 1 {
                    if beta == 0 { for j in 0..<n { row[j] = ai * b[j] } }
                    else if beta == 1 { for j in 0..<n { row[j] += ai * b[j] } }
                    else { for j in 0..<n { row[j] = beta * row[j] + ai * b[j] } }
                } else {
                    if beta == 0 { for j in 0..<n { row[j] = ai * b[j * bStride] } }
                    else { for j in 0..<n { row[j] = beta * row[j] + ai * b[j * bStride] } }
                }
            }
        } else if Parallel.enabled && S.gemmBlocksKeepBits && m * n * k >= Parallel.minimumProductWork && max(m, n) >= 16 {
            // Two blocks of C on the two cores: column blocks (of op(b)) when C is wide, row
            // blocks (of op(a)) otherwise — only where the BLAS gives a block of C the whole
            // product's bits (`Scalar.gemmBlocksKeepBits`: DGEMM, not SGEMM), so that the split
            // changes no bit.
            if n >= m {
                Parallel.two { part in
                    let cs = Parallel.half(part, of: n), (j, w) = (cs.lowerBound, cs.count)
                    S.gemm(transposeA: ta, transposeB: tb, m: m, n: w, k: k, alpha: 1, a: a, lda: lda,
                              b: tb ? b + j * ldb : b + j, ldb: ldb, beta: beta, c: c + j, ldc: ldc)
                }
            } else {
                Parallel.two { part in
                    let rs = Parallel.half(part, of: m), (i, h) = (rs.lowerBound, rs.count)
                    S.gemm(transposeA: ta, transposeB: tb, m: h, n: n, k: k, alpha: 1, a: ta ? a + i : a + i * lda, lda: lda,
                              b: b, ldb: ldb, beta: beta, c: c + i * ldc, ldc: ldc)
                }
            }
        } else {
            S.gemm(transposeA: ta, transposeB: tb, m: m, n: n, k: k, alpha: 1,
                      a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
        }
    }
}

extension MatMul {
    /// Whether `stepProduct` splits an m × n result (inner size k) into the two row halves
    /// of `Parallel.rowHalf`: a batch of 16 rows or more (two 8-row tiles a core). Split so,
    /// each core multiplies the batch rows its row-wise sections write and read, so that a
    /// step's states and gradients stay in that core's cache from one step to the next
    /// (split by columns, half of every row crossed between the cores at every step: on a
    /// machine whose two cores sit on different L3 caches, 350 ns a round trip instead of 55,
    /// that traffic slowed a float32 training by 1.7×). A smaller batch splits by columns.
    static func splitsStepProductByRows(_ m: Int, _ n: Int, _ k: Int) -> Bool {
        Parallel.enabled && m >= 16 && m * n * k >= Parallel.minimumProductWork
    }

    /// `c = a · b` (`accumulate`: `c += a · b`) with b read in place as k × n, through
    /// `S.stepProduct` (only when `S.hasStepProduct`): a recurrent step's product, split over
    /// the two cores by batch rows (`splitsStepProductByRows`), or for a batch under 16 rows
    /// by column blocks. Each element is one fma chain whichever part computes it, so the
    /// split changes no bit.
    static func stepProduct<S: Scalar>(_ m: Int, _ n: Int, _ k: Int, _ a: UnsafePointer<S>, _ lda: Int,
                                       _ b: UnsafePointer<S>, _ ldb: Int, accumulate: Bool, _ c: UnsafeMutablePointer<S>, _ ldc: Int) {
        if splitsStepProductByRows(m, n, k) {
            Parallel.two { part in
                let rs = Parallel.rowHalf(part, of: m)
                S.stepProduct(m: rs.count, n: n, k: k, a: a + rs.lowerBound * lda, lda: lda, b: b, ldb: ldb,
                              c: c + rs.lowerBound * ldc, ldc: ldc, accumulate: accumulate)
            }
        } else if Parallel.enabled && m * n * k >= Parallel.minimumProductWork && n >= 16 {
            // Fewer than 16 rows here, so C is the wider way: column blocks.
            Parallel.two { part in
                let cs = Parallel.half(part, of: n)
                S.stepProduct(m: m, n: cs.count, k: k, a: a, lda: lda, b: b + cs.lowerBound, ldb: ldb,
                              c: c + cs.lowerBound, ldc: ldc, accumulate: accumulate)
            }
        } else {
            S.stepProduct(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate)
        }
    }
}

extension MatMul: PrimitiveFamily {
    static func name(_ op: Primitive) -> String {
        guard case let .matmul(ta, tb) = op else { fatalError("MatMul: \(op)") }
        return "matmul" + (ta ? "(Aᵀ)" : "") + (tb ? "(Bᵀ)" : "")
    }

    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        guard case let .matmul(ta, tb) = op else { fatalError("MatMul: \(op)") }
        guard s.count == 2 else { return .failure(ShapeMismatch(reason: "needs 2 operands")) }
        let (m, ka) = ta ? (s[0].cols, s[0].rows) : (s[0].rows, s[0].cols)
        let (kb, n) = tb ? (s[1].cols, s[1].rows) : (s[1].rows, s[1].cols)
        guard ka == kb else {
            return .failure(ShapeMismatch(reason: "inner dimensions differ: \(s[0])\(ta ? "ᵀ" : "") · \(s[1])\(tb ? "ᵀ" : "") (\(ka) ≠ \(kb))"))
        }
        return .success(Shape(m, n))
    }

    static func forward<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, count: Int, into out: Arg<S>) {
        guard case let .matmul(ta, tb) = op else { fatalError("MatMul: \(op)") }
        forward(transposeA: ta, transposeB: tb, a[0], a[1], out)
    }

    static func vjp<S: Scalar>(_ op: Primitive, operands a: UnsafeMutablePointer<Arg<S>>, gradients ga: UnsafeMutablePointer<Arg<S>>, count: Int,
                    output out: Arg<S>, outputGradient g: Arg<S>) {
        guard case let .matmul(ta, tb) = op else { fatalError("MatMul: \(op)") }
        vjp(transposeA: ta, transposeB: tb, a[0], a[1], g, ga[0], ga[1])
    }

    /// Both operands (the other's gradient is a product with each), not the output.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (true, false) }

    /// `a · b` (ᵀ where transposed); a weight used transposed on the right, `x • W`, prints in
    /// the papers' column-vector order, `W x`.
    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        guard case let .matmul(ta, tb) = op else { fatalError("MatMul: \(op)") }
        if tb && !ta && a[1].isLeaf { return PrintedOperand(text: "\(style.wrap(a[1], 4)) \(style.wrap(a[0], 4))", precedence: 3) }
        let t = style.latex ? "^\\top" : "ᵀ"
        return PrintedOperand(text: "\(style.wrap(a[0], 4))\(ta ? t : "") \(style.latex ? "\\cdot" : "·") \(style.wrap(a[1], 4))\(tb ? t : "")", precedence: 3)
    }

    static func symbol(_ op: Primitive) -> String { "matmul" }

    /// `a · op(b)` treats rows independently; `aᵀ · b` sums over them.
    static func rowsAreIndependent(_ op: Primitive) -> Bool { if case .matmul(false, _) = op { return true }; return false }
}

// Complex forward (complex-step derivatives; see ComplexForward.swift).
extension MatMul {
    /// `out = op(a) · op(b)` in complex arithmetic: plain loops (BLAS has no mixed product here,
    /// and the complex pass checks, it does not race).
    static func complexForward(_ op: Primitive, _ args: UnsafeMutablePointer<ComplexArg>, _ count: Int, _ out: ComplexArg) {
        guard case let .matmul(ta, tb) = op else { fatalError("MatMul: \(op)") }
        let (a, b) = (args[0], args[1])
        let k = ta ? a.rows : a.cols
        for r in 0..<out.rows { for c in 0..<out.cols {
            var s = ComplexValue.zero
            for j in 0..<k {
                let x = ta ? a.p[j * a.cols + r] : a.p[r * a.cols + j]
                let y = tb ? b.p[c * b.cols + j] : b.p[j * b.cols + c]
                s = s + x * y
            }
            out.p[r * out.cols + c] = s
        } }
    }
}
