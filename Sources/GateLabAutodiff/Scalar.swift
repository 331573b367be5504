// The scalar the engine computes in: Double (float64, the default) or Float (float32).
//
// One protocol carries every entry point whose code differs by precision — the BLAS routines
// (OpenBLAS's d- and s- products) and the vectorized activation loops (fastmath.c's double and
// float loops) — so that one generic engine, not a copy, can run in either. Double's conformance
// calls exactly the functions a float64-only engine would, so the float64 results keep their
// bits. See Notes/float32.md for the design and what remains.
import CGateLabStepProduct
import Foundation
import GateLabGSL

/// The working precision of a run, as the command line and experiment files spell it
/// (`--precision f32|f64`, `precision = "f32"`), and as results record it.
public enum Precision: String, CaseIterable, Codable, Sendable {
    /// IEEE single precision (`Float`): half the memory traffic, 2^-24 rounding.
    case f32
    /// IEEE double precision (`Double`), the default.
    case f64
}

/// A floating-point type the engine can compute in: `Double` or `Float`.
public protocol Scalar: BinaryFloatingPoint, Sendable {
    /// The precision this type computes in.
    static var precision: Precision { get }

    /// C ← α·op(A)·op(B) + β·C, row-major (`cblas_dgemm` / `cblas_sgemm`; contract: `BLAS.gemm`).
    static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Self,
                     a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                     beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)
    /// Whether `stepProduct` runs here (Float on a CPU with AVX-512; never Double).
    static var hasStepProduct: Bool { get }
    /// Whether `gemm` gives every element of C the same bits when C is computed in blocks
    /// (the two cores' halves) as when it is computed whole: true of OpenBLAS's DGEMM; not of
    /// its SGEMM, whose kernels on some cores (seen on a Zen core without AVX-512) round a
    /// block of C otherwise than the whole. Products are split over the cores only when true.
    static var gemmBlocksKeepBits: Bool { get }
    /// C ← A·B, or C ← C + A·B when `accumulate`, row-major, A m × k, B k × n read in place:
    /// a recurrent step's product without the packing a BLAS call repeats at every step
    /// (`Sources/CGateLabStepProduct/stepproduct.c`: each element one fma chain over k, the same bits
    /// whatever the tiling or a split of the columns). Only called when `hasStepProduct`.
    static func stepProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Self>, lda: Int, b: UnsafePointer<Self>, ldb: Int,
                            c: UnsafeMutablePointer<Self>, ldc: Int, accumulate: Bool)
    /// y ← α·op(A)·x + β·y, row-major (`cblas_dgemv` / `cblas_sgemv`; contract: `BLAS.gemv`).
    static func gemv(transposeA: Bool, m: Int, n: Int, alpha: Self, a: UnsafePointer<Self>, lda: Int,
                     x: UnsafePointer<Self>, beta: Self, y: UnsafeMutablePointer<Self>)

    /// `y[i] = σ(x[i])` for `n` elements, vectorized; `x` and `y` must not overlap.
    static func sigmoid(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y[i] = tanh(x[i])` for `n` elements, vectorized; `x` and `y` must not overlap.
    static func tanh(_ x: UnsafePointer<Self>, _ y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y[i] = σ(y[i])`, in place.
    static func sigmoid(inPlace y: UnsafeMutablePointer<Self>, _ n: Int)
    /// `y[i] = tanh(y[i])`, in place.
    static func tanh(inPlace y: UnsafeMutablePointer<Self>, _ n: Int)

    /// libm's e^x in this precision (the `exp` primitive and the losses).
    static func exp(_ x: Self) -> Self
    /// libm's natural logarithm in this precision.
    static func log(_ x: Self) -> Self

    /// Copies float64 numbers into storage of this precision (Double: a plain copy; Float:
    /// each rounded to nearest). How tensors, inputs and constants enter a program.
    static func store(_ xs: UnsafeBufferPointer<Double>, into p: UnsafeMutablePointer<Self>)
    /// `count` numbers of this precision as float64 (exact: every Float is a Double). How
    /// values and gradients leave a program.
    static func doubles(_ p: UnsafePointer<Self>, count: Int) -> [Double]
}

extension Double: Scalar {
    public static var precision: Precision { .f64 }

    /// Never: float64 keeps OpenBLAS's products (and their bits).
    public static var hasStepProduct: Bool { false }
    /// DGEMM's blocks of C have the whole product's bits (checked on the shapes of a step).
    public static var gemmBlocksKeepBits: Bool { true }
    public static func stepProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                                   c: UnsafeMutablePointer<Double>, ldc: Int, accumulate: Bool) {
        preconditionFailure("Double.stepProduct: float64 has no step product (hasStepProduct is false)")
    }

    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
                            a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
                            beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int) {
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    @inline(__always)
    public static func gemv(transposeA: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
                            x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>) {
        BLAS.gemv(transposeA: transposeA, m: m, n: n, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }

    @inline(__always) public static func sigmoid(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) { FastMath.sigmoid(x, y, n) }
    @inline(__always) public static func tanh(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) { FastMath.tanh(x, y, n) }
    @inline(__always) public static func sigmoid(inPlace y: UnsafeMutablePointer<Double>, _ n: Int) { FastMath.sigmoid(inPlace: y, n) }
    @inline(__always) public static func tanh(inPlace y: UnsafeMutablePointer<Double>, _ n: Int) { FastMath.tanh(inPlace: y, n) }
    @inline(__always) public static func exp(_ x: Double) -> Double { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Double) -> Double { Foundation.log(x) }
    @inline(__always) public static func store(_ xs: UnsafeBufferPointer<Double>, into p: UnsafeMutablePointer<Double>) {
        p.update(from: xs.baseAddress!, count: xs.count)
    }
    @inline(__always) public static func doubles(_ p: UnsafePointer<Double>, count: Int) -> [Double] {
        Array(UnsafeBufferPointer(start: p, count: count))
    }
}

extension Float: Scalar {
    public static var precision: Precision { .f32 }

    /// Decided once: the AVX-512 tiles of `stepproduct.c` where the CPU has them.
    public static let hasStepProduct = gatelab_sgemm_kn_available() != 0
    /// SGEMM's blocks of C need not have the whole product's bits (a 64 × 256 product split
    /// into column halves differed in 419 of its elements on a Zen core): float32 products that
    /// go to OpenBLAS are never split, so one core and two give the same bits.
    public static var gemmBlocksKeepBits: Bool { false }
    @inline(__always)
    public static func stepProduct(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                                   c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool) {
        gatelab_sgemm_kn(m, n, k, a, lda, b, ldb, c, ldc, accumulate ? 1 : 0)
    }

    @inline(__always)
    public static func gemm(transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
                            a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                            beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) {
        BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                  a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc)
    }

    @inline(__always)
    public static func gemv(transposeA: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                            x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>) {
        BLAS.gemv(transposeA: transposeA, m: m, n: n, alpha: alpha, a: a, lda: lda, x: x, beta: beta, y: y)
    }

    @inline(__always) public static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { FastMath.sigmoid(x, y, n) }
    @inline(__always) public static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) { FastMath.tanh(x, y, n) }
    @inline(__always) public static func sigmoid(inPlace y: UnsafeMutablePointer<Float>, _ n: Int) { FastMath.sigmoid(inPlace: y, n) }
    @inline(__always) public static func tanh(inPlace y: UnsafeMutablePointer<Float>, _ n: Int) { FastMath.tanh(inPlace: y, n) }
    @inline(__always) public static func exp(_ x: Float) -> Float { Foundation.exp(x) }
    @inline(__always) public static func log(_ x: Float) -> Float { Foundation.log(x) }
    public static func store(_ xs: UnsafeBufferPointer<Double>, into p: UnsafeMutablePointer<Float>) {
        for k in xs.indices { p[k] = Float(xs[k]) }
    }
    public static func doubles(_ p: UnsafePointer<Float>, count: Int) -> [Double] {
        (0..<count).map { Double(p[$0]) }
    }
}
