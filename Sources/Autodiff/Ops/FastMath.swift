// exp, expm1, the logistic sigmoid and tanh for whole arrays, branch-free so that the
// compiler vectorizes the loops. libm's scalar calls were a fifth of an LSTM step's time.
//
// Method (Cody & Waite range reduction, as in every libm): x = k·ln2 + r with |r| ≤ ln2/2,
// e^r − 1 by its Taylor series to r¹³ (truncation below 1e-17 relative; Estrin's scheme), then 2^k built from
// the exponent bits. Accuracy is within a few units in the last place of libm over the whole
// range (tested against Foundation over ±700); results below 2^-1022 are flushed towards
// e^-708 (σ and tanh never need them).
import Foundation

enum FastMath {
    /// `y[i] = σ(x[i])` for `n` elements; `x` and `y` must not overlap (see `sigmoid(inPlace:_:)`).
    static func sigmoid(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { y[i] = sigmoid(x[i]) }
    }

    /// `y[i] = tanh(x[i])` for `n` elements; `x` and `y` must not overlap (see `tanh(inPlace:_:)`).
    static func tanh(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { y[i] = tanh(x[i]) }
    }

    /// `y[i] = σ(y[i])`. (A separate loop: with one pointer the vectorizer needs no overlap
    /// check, which an in-place call of the two-pointer form fails at run time.)
    static func sigmoid(inPlace y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { y[i] = sigmoid(y[i]) }
    }

    /// `y[i] = tanh(y[i])`, in place (see `sigmoid(inPlace:_:)`).
    static func tanh(inPlace y: UnsafeMutablePointer<Double>, _ n: Int) {
        for i in 0..<n { y[i] = tanh(y[i]) }
    }

    private static let log2e = 1.4426950408889634
    private static let ln2Hi = 6.93147180369123816490e-01
    private static let ln2Lo = 1.90821492927058770002e-10

    /// (2^k, e^r − 1) for x = k·ln2 + r, x clamped to [−708, 709].
    @inline(__always)
    private static func reduce(_ x: Double) -> (scale: Double, em1: Double) {
        let xc = Swift.min(Swift.max(x, -708.0), 709.0)
        // Round to the nearest integer by adding and subtracting 1.5·2^52 (exact for
        // |x·log2e| < 2^51), instead of a call to rint that would stop vectorization.
        let shifted = xc * log2e + 6755399441055744.0
        let k = shifted - 6755399441055744.0
        let r = (xc - k * ln2Hi) - k * ln2Lo
        // e^r − 1 = r + r²·P(r), P(r) = 1/2! + r/3! + … + r¹¹/13!, evaluated by Estrin's
        // scheme (pairs, then powers r², r⁴, r⁸): a dependency chain of 5 instead of Horner's
        // 12, so vectorized loops are not bound by latency.
        let r2 = r * r, r4 = r2 * r2, r8 = r4 * r4
        let a0 = 1.0 / 2 + r * (1.0 / 6), a1 = 1.0 / 24 + r * (1.0 / 120)
        let a2 = 1.0 / 720 + r * (1.0 / 5040), a3 = 1.0 / 40320 + r * (1.0 / 362880)
        let a4 = 1.0 / 3628800 + r * (1.0 / 39916800), a5 = 1.0 / 479001600 + r * (1.0 / 6227020800)
        let b0 = a0 + r2 * a1, b1 = a2 + r2 * a3, b2 = a4 + r2 * a5
        let p = r + r2 * ((b0 + r4 * b1) + r8 * b2)
        // 2^k from the exponent bits, without a trapping Double → Int conversion (which would
        // stop the loop from vectorizing): `shifted` holds k in its low mantissa bits.
        let scale = Double(bitPattern: (shifted.bitPattern &+ 1023) &<< 52)
        return (scale, p)
    }

    /// e^x.
    @inline(__always)
    static func exp(_ x: Double) -> Double {
        let (s, q) = reduce(x)
        return s + s * q
    }

    /// e^x − 1, accurate for small x.
    @inline(__always)
    static func expm1(_ x: Double) -> Double {
        let (s, q) = reduce(x)
        return s * q + (s - 1)
    }

    /// σ(x) = 1 / (1 + e^−x), computed from e^−|x| so nothing overflows.
    @inline(__always)
    static func sigmoid(_ x: Double) -> Double {
        let e = exp(-Swift.abs(x))
        let s = 1 / (1 + e)
        return x >= 0 ? s : e * s
    }

    /// tanh(x) = −expm1(−2|x|) / (2 + expm1(−2|x|)), with the sign of x.
    @inline(__always)
    static func tanh(_ x: Double) -> Double {
        let y = expm1(-2 * Swift.abs(x))
        let t = -y / (2 + y)
        return x < 0 ? -t : t
    }
}
