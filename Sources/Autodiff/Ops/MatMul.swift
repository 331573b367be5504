// Matrix product through CBLAS dgemm (OpenBLAS; see GSLKit.BLAS), with either operand
// transposed. With C = op(A) op(B) and G = ∂L/∂C:
//   C = A B    : dA += G Bᵀ,   dB += Aᵀ G
//   C = A Bᵀ   : dA += G B,    dB += Gᵀ A
//   C = Aᵀ B   : dA += B Gᵀ,   dB += A G
//   C = Aᵀ Bᵀ  : dA += Bᵀ Gᵀ,  dB += Gᵀ Aᵀ
import GSLKit

enum MatMul {
    /// `out = op(a) · op(b)` (overwrites `out`).
    static func forward(transposeA ta: Bool, transposeB tb: Bool, _ a: Arg, _ b: Arg, _ out: Arg) {
        let k = ta ? a.rows : a.cols
        gemm(ta, tb, out.rows, out.cols, k, a, b, beta: 0, out)
    }

    /// Adds the VJP into `ga` and `gb`.
    static func vjp(transposeA ta: Bool, transposeB tb: Bool, _ a: Arg, _ b: Arg, _ g: Arg, _ ga: Arg, _ gb: Arg) {
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
    private static func gemm(_ tx: Bool, _ ty: Bool, _ m: Int, _ n: Int, _ k: Int,
                             _ x: Arg, _ y: Arg, beta: Double, _ c: Arg) {
        BLAS.gemm(transposeA: tx, transposeB: ty, m: m, n: n, k: k, alpha: 1,
                  a: x.p!, lda: x.cols, b: y.p!, ldb: y.cols, beta: beta, c: c.p!, ldc: c.cols)
    }
}
