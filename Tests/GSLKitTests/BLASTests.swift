import Testing
import GateLabGSL

@Suite("BLAS")
struct BLASTests {
    @Test("cblas_dgemm resolves to OpenBLAS, not GSL's reference libgslcblas")
    func provider() {
        let path = BLAS.dgemmProvider()
        #expect(path.contains("openblas"), "cblas_dgemm comes from \(path)")
        #expect(BLAS.configuration.contains("OpenBLAS"))
    }

    @Test("cblas_sgemm (the float32 products) resolves to OpenBLAS too")
    func singlePrecisionProvider() {
        let path = BLAS.sgemmProvider()
        #expect(path.contains("openblas"), "cblas_sgemm comes from \(path)")
    }

    @Test("gemm matches a naive triple loop for all four transpose combinations, with padded rows",
          arguments: [(false, false), (false, true), (true, false), (true, true)])
    func gemm(transposeA: Bool, transposeB: Bool) throws {
        let (m, n, k, pad) = (3, 4, 5, 2)
        let rng = try RandomSource(seed: 13)
        // Stored shapes: A is (k × m) when transposed, else (m × k); likewise B.
        let (aRows, aCols) = transposeA ? (k, m) : (m, k)
        let (bRows, bCols) = transposeB ? (n, k) : (k, n)
        let (lda, ldb, ldc) = (aCols + pad, bCols + pad, n + pad)
        let a = rng.gaussianArray(count: aRows * lda), b = rng.gaussianArray(count: bRows * ldb)
        var c = rng.gaussianArray(count: m * ldc)
        let (alpha, beta) = (1.5, -0.5)
        var expected = c
        for i in 0..<m {
            for j in 0..<n {
                let dot = (0..<k).reduce(0.0) { sum, p in
                    sum + (transposeA ? a[p * lda + i] : a[i * lda + p]) * (transposeB ? b[j * ldb + p] : b[p * ldb + j])
                }
                expected[i * ldc + j] = alpha * dot + beta * c[i * ldc + j]
            }
        }
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                              a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
        // Padding columns of C are untouched (exactly), the rest match to rounding.
        #expect(isClose(c, expected, tolerance: 1e-13))
        for i in 0..<m { #expect(c[(i * ldc + n)..<((i + 1) * ldc)] == expected[(i * ldc + n)..<((i + 1) * ldc)]) }
    }

    @Test("gemv matches a naive loop, plain and transposed", arguments: [false, true])
    func gemv(transposeA: Bool) throws {
        let (m, n) = (4, 3)
        let rng = try RandomSource(seed: 21)
        let a = rng.gaussianArray(count: m * n)
        let x = rng.gaussianArray(count: transposeA ? m : n)
        var y = rng.gaussianArray(count: transposeA ? n : m)
        let expected = (0..<y.count).map { i in
            2 * (0..<x.count).reduce(0.0) { $0 + (transposeA ? a[$1 * n + i] : a[i * n + $1]) * x[$1] } + 0.25 * y[i]
        }
        a.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(transposeA: transposeA, m: m, n: n, alpha: 2, a: a.baseAddress!, lda: n,
                              x: x.baseAddress!, beta: 0.25, y: y.baseAddress!)
                }
            }
        }
        #expect(isClose(y, expected, tolerance: 1e-13))
    }

    /// The single-precision routines (float32 engine, issue #18) against the same naive loop in
    /// double precision over the floats' own values: agreement to float rounding (k = 37
    /// products summed, relative to the sum of |terms|), and padding columns left untouched.
    @Test("sgemm matches a naive loop in double to float rounding, all four transpose combinations",
          arguments: [(false, false), (false, true), (true, false), (true, true)])
    func sgemm(transposeA: Bool, transposeB: Bool) throws {
        let (m, n, k, pad) = (5, 7, 37, 3)
        let rng = try RandomSource(seed: 17)
        let (aRows, aCols) = transposeA ? (k, m) : (m, k)
        let (bRows, bCols) = transposeB ? (n, k) : (k, n)
        let (lda, ldb, ldc) = (aCols + pad, bCols + pad, n + pad)
        let a = rng.gaussianArray(count: aRows * lda).map(Float.init), b = rng.gaussianArray(count: bRows * ldb).map(Float.init)
        var c = rng.gaussianArray(count: m * ldc).map(Float.init)
        let (alpha, beta): (Float, Float) = (1.5, -0.5)
        var expected = c.map(Double.init), magnitude = expected.map { abs($0) * 0.5 }
        for i in 0..<m {
            for j in 0..<n {
                var dot = 0.0, size = 0.0
                for p in 0..<k {
                    let t = Double(transposeA ? a[p * lda + i] : a[i * lda + p]) * Double(transposeB ? b[j * ldb + p] : b[p * ldb + j])
                    dot += t; size += abs(t)
                }
                expected[i * ldc + j] = 1.5 * dot - 0.5 * Double(c[i * ldc + j])
                magnitude[i * ldc + j] += 1.5 * size
            }
        }
        let before = c
        a.withUnsafeBufferPointer { a in
            b.withUnsafeBufferPointer { b in
                c.withUnsafeMutableBufferPointer { c in
                    BLAS.gemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k, alpha: alpha,
                              a: a.baseAddress!, lda: lda, b: b.baseAddress!, ldb: ldb, beta: beta, c: c.baseAddress!, ldc: ldc)
                }
            }
        }
        for i in 0..<m {
            for j in 0..<n {
                let e = abs(Double(c[i * ldc + j]) - expected[i * ldc + j]) / magnitude[i * ldc + j]
                #expect(e < Double(k) * 6e-8, "[\(i), \(j)]: \(c[i * ldc + j]) vs \(expected[i * ldc + j])")
            }
            #expect(c[(i * ldc + n)..<((i + 1) * ldc)] == before[(i * ldc + n)..<((i + 1) * ldc)])
        }
    }

    @Test("sgemv matches a naive loop in double to float rounding, plain and transposed", arguments: [false, true])
    func sgemv(transposeA: Bool) throws {
        let (m, n) = (9, 6)
        let rng = try RandomSource(seed: 23)
        let a = rng.gaussianArray(count: m * n).map(Float.init)
        let x = rng.gaussianArray(count: transposeA ? m : n).map(Float.init)
        var y = rng.gaussianArray(count: transposeA ? n : m).map(Float.init)
        let expected = (0..<y.count).map { i -> Double in
            var dot = 0.0
            for j in 0..<x.count { dot += Double(transposeA ? a[j * n + i] : a[i * n + j]) * Double(x[j]) }
            return 2 * dot + 0.25 * Double(y[i])
        }
        a.withUnsafeBufferPointer { a in
            x.withUnsafeBufferPointer { x in
                y.withUnsafeMutableBufferPointer { y in
                    BLAS.gemv(transposeA: transposeA, m: m, n: n, alpha: 2, a: a.baseAddress!, lda: n,
                              x: x.baseAddress!, beta: 0.25, y: y.baseAddress!)
                }
            }
        }
        #expect(isClose(y.map(Double.init), expected, tolerance: 1e-5))
    }

    @Test("thread count can be read and set; the rate probe returns a positive number")
    func threadsAndRate() {
        let original = BLAS.threads
        #expect(original >= 1)
        BLAS.setThreads(1)
        #expect(BLAS.threads == 1)
        BLAS.setThreads(original)
        #expect(BLAS.measureDGEMMRate(n: 64, repetitions: 3) > 0)
    }
}
