import Testing
import Foundation
import CGateLabStepProduct
import GateLabGSL
@testable import GateLabAutodiff

/// The `Scalar` conformances a generic engine computes through (issue #18): Double's entry
/// points are exactly the float64 engine's (same bits), Float's agree with Double's to float
/// rounding.
@Suite("Scalar: Double is the float64 engine's code, Float agrees with it to float rounding")
struct ScalarTests {
    /// Inputs that floats hold exactly, so that both precisions start from the same numbers and
    /// only their arithmetic differs (σ at −30 would otherwise amplify the input's own rounding 30×).
    let xs: [Double] = (stride(from: -12.0, through: 12.0, by: 0.0371).map { $0 } + [0, 1e-9, -1e-9, 30, -30]).map { Double(Float($0)) }

    /// Runs `S`'s activation loops and products over `xs` and returns the results as Doubles.
    func run<S: Scalar>(_: S.Type) -> (sigmoid: [Double], tanh: [Double], product: [Double], vector: [Double]) {
        let x = xs.map { S($0) }
        var s = [S](repeating: 0, count: x.count), t = s
        x.withUnsafeBufferPointer { x in
            s.withUnsafeMutableBufferPointer { S.sigmoid(x.baseAddress!, $0.baseAddress!, x.count) }
            t.withUnsafeMutableBufferPointer { S.tanh(x.baseAddress!, $0.baseAddress!, x.count) }
        }
        var si = x, ti = x
        si.withUnsafeMutableBufferPointer { S.sigmoid(inPlace: $0.baseAddress!, x.count) }
        ti.withUnsafeMutableBufferPointer { S.tanh(inPlace: $0.baseAddress!, x.count) }
        #expect(si == s && ti == t, "\(S.precision): in-place loops differ from out-of-place ones")
        // A 7 × 16 by (16 × 9)ᵀ product and a 16-vector times a 9 × 16 matrix, from xs's values.
        let a = (0..<(7 * 16)).map { S(xs[$0 % xs.count] / 4) }, b = (0..<(9 * 16)).map { S(xs[($0 * 7) % xs.count] / 4) }
        var c = [S](repeating: 0, count: 7 * 9), y = [S](repeating: 0, count: 9)
        a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
            c.withUnsafeMutableBufferPointer {
                S.gemm(transposeA: false, transposeB: true, m: 7, n: 9, k: 16, alpha: 1, a: a.baseAddress!, lda: 16,
                       b: b.baseAddress!, ldb: 16, beta: 0, c: $0.baseAddress!, ldc: 9)
            }
            y.withUnsafeMutableBufferPointer {
                S.gemv(transposeA: false, m: 9, n: 16, alpha: 1, a: b.baseAddress!, lda: 16, x: a.baseAddress!, beta: 0, y: $0.baseAddress!)
            }
        } }
        func d(_ v: [S]) -> [Double] { v.map { Double($0) } }
        return (d(s), d(t), d(c), d(y))
    }

    @Test func doubleIsTheFloat64EnginesCode() {
        let r = run(Double.self)
        var s = [Double](repeating: 0, count: xs.count), t = s
        xs.withUnsafeBufferPointer { x in
            s.withUnsafeMutableBufferPointer { FastMath.sigmoid(x.baseAddress!, $0.baseAddress!, x.count) }
            t.withUnsafeMutableBufferPointer { FastMath.tanh(x.baseAddress!, $0.baseAddress!, x.count) }
        }
        #expect(r.sigmoid.map(\.bitPattern) == s.map(\.bitPattern))
        #expect(r.tanh.map(\.bitPattern) == t.map(\.bitPattern))
        #expect(Double.precision == .f64 && Float.precision == .f32)
    }

    @Test func floatAgreesWithDoubleToFloatRounding() {
        let (f, d) = (run(Float.self), run(Double.self))
        let u = Double(Float.ulpOfOne)
        // Activations: each within a few float ulps of the double result, absolutely near 0.
        for (a, b) in zip(f.sigmoid + f.tanh, d.sigmoid + d.tanh) { #expect(abs(a - b) <= 4 * u * max(abs(b), 1e-30) + 1e-38, "\(a) vs \(b)") }
        // Products of k = 16 terms, each at most 7.5² in size: Higham's bound |error| ≤ γ_k Σ|terms|
        // ≤ 1.01 · k u · k · 56.25 (the inputs are the same numbers in both precisions).
        for (a, b) in zip(f.product + f.vector, d.product + d.vector) { #expect(abs(a - b) <= 1.01 * 16 * u * 16 * 56.25, "\(a) vs \(b)") }
        // And the two really differ: float is not secretly double.
        #expect(zip(f.tanh, d.tanh).contains { $0 != $1 })
    }

    /// The float32 step product (`stepproduct.c`): the AVX-512 tiles give the scalar reference
    /// loop's bits (one fma chain per element) on shapes with every kind of edge — rows not a
    /// multiple of 8, columns not a multiple of 32 or 16, padded leading dimensions, both
    /// `accumulate` modes — so the tiling cannot move a bit. Skipped where the CPU has no AVX-512
    /// (there the engine keeps sgemm and the loop itself is what runs).
    @Test func stepProductTilesGiveTheReferenceLoopsBits() throws {
        guard Float.hasStepProduct else { return }
        let rng = try RandomSource(seed: 11)
        var shapes = [(1, 1, 1), (2, 17, 5), (7, 31, 128), (8, 32, 64), (9, 33, 3), (32, 512, 128), (32, 128, 512), (5, 48, 300), (16, 16, 1)]
        for _ in 0..<40 { shapes.append((Int(rng.uniform() * 40) + 1, Int(rng.uniform() * 100) + 1, Int(rng.uniform() * 300) + 1)) }
        for (m, n, k) in shapes {
            for accumulate in [false, true] {
                let (lda, ldb, ldc) = (k + Int(rng.uniform() * 3), n + Int(rng.uniform() * 3), n + Int(rng.uniform() * 3))
                let a = rng.gaussianArray(count: m * lda).map { Float($0) }, b = rng.gaussianArray(count: k * ldb).map { Float($0) }
                let c0 = rng.gaussianArray(count: m * ldc).map { Float($0) }
                var tiled = c0, loop = c0
                gatelab_sgemm_kn(m, n, k, a, lda, b, ldb, &tiled, ldc, accumulate ? 1 : 0)
                gatelab_sgemm_kn_scalar(m, n, k, a, lda, b, ldb, &loop, ldc, accumulate ? 1 : 0)
                #expect(tiled.map(\.bitPattern) == loop.map(\.bitPattern), "m \(m) n \(n) k \(k) accumulate \(accumulate)")
                // Padding beyond each row's n columns is left alone.
                #expect((0..<m).allSatisfy { i in (n..<ldc).allSatisfy { tiled[i * ldc + $0].bitPattern == c0[i * ldc + $0].bitPattern } })
            }
        }
    }

    /// `MatMul.stepProduct` split over the two cores (column halves of a wide product, row
    /// halves of a tall one) gives the bits of one unsplit call, and agrees with float64's
    /// product to Higham's bound γ_k Σ|terms|; a broken tile (the bound at 0) would fail.
    @Test func stepProductSplitsWithoutChangingABitAndAgreesWithDouble() throws {
        guard Float.hasStepProduct else { return }
        let rng = try RandomSource(seed: 12)
        for (m, n, k) in [(32, 512, 128), (32, 128, 512), (200, 24, 40)] {
            let a = rng.gaussianArray(count: m * k).map { Float($0) }, b = rng.gaussianArray(count: k * n).map { Float($0) }
            let c0 = rng.gaussianArray(count: m * n).map { Float($0) }
            var split = c0, whole = c0
            a.withUnsafeBufferPointer { a in b.withUnsafeBufferPointer { b in
                split.withUnsafeMutableBufferPointer {
                    MatMul.stepProduct(m, n, k, a.baseAddress!, k, b.baseAddress!, n, accumulate: true, $0.baseAddress!, n)
                }
                whole.withUnsafeMutableBufferPointer {
                    Float.stepProduct(m: m, n: n, k: k, a: a.baseAddress!, lda: k, b: b.baseAddress!, ldb: n, c: $0.baseAddress!, ldc: n, accumulate: true)
                }
            } }
            #expect(split.map(\.bitPattern) == whole.map(\.bitPattern), "m \(m) n \(n) k \(k)")
            let u = Double(Float.ulpOfOne) / 2
            var worst = 0.0
            for i in 0..<m { for j in 0..<n {
                var exact = Double(c0[i * n + j]), size = abs(exact)
                for p in 0..<k { let t = Double(a[i * k + p]) * Double(b[p * n + j]); exact += t; size += abs(t) }
                let bound = Double(k + 1) * u / (1 - Double(k + 1) * u) * size
                worst = max(worst, abs(Double(split[i * n + j]) - exact) / bound)
            } }
            #expect(worst <= 1 && worst > 0, "m \(m) n \(n) k \(k): error / bound \(worst)")
        }
    }
}
