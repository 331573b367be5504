internal import CGateLabGSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Row-major double-precision BLAS through the CBLAS interface, resolved to OpenBLAS at link
/// time (see `dgemmProvider()`), plus OpenBLAS's threading controls.
///
/// The products are the hot path: they check nothing. The caller guarantees the contract
/// stated on each function; a violation reads or writes out of bounds.
public enum BLAS {
    /// C ← α·op(A)·op(B) + β·C (`cblas_dgemm`, row-major), op(X) = X or Xᵀ.
    ///
    /// Contract: op(A) is m × k, op(B) is k × n, C is m × n, all row-major. A holds
    /// (transposeA ? k : m) rows of lda ≥ (transposeA ? m : k) doubles; B holds
    /// (transposeB ? n : k) rows of ldb ≥ (transposeB ? k : n) doubles; C holds m rows of
    /// ldc ≥ n doubles and does not overlap A or B. With β = 0, C's prior contents (even NaN)
    /// are ignored.
    /// - Parameters:
    ///   - transposeA: Use Aᵀ.
    ///   - transposeB: Use Bᵀ.
    ///   - m: Rows of op(A) and C.
    ///   - n: Columns of op(B) and C.
    ///   - k: Columns of op(A), rows of op(B).
    ///   - alpha: Scale of the product.
    ///   - a: A's first element.
    ///   - lda: Distance between A's rows, in doubles.
    ///   - b: B's first element.
    ///   - ldb: Distance between B's rows, in doubles.
    ///   - beta: Scale of C's prior contents.
    ///   - c: C's first element.
    ///   - ldc: Distance between C's rows, in doubles.
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Double,
        a: UnsafePointer<Double>, lda: Int, b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y ← α·op(A)·x + β·y (`cblas_dgemv`, row-major), op(A) = A or Aᵀ.
    ///
    /// Contract: A is m × n row-major with lda ≥ n; x has (transposeA ? m : n) entries and
    /// y has (transposeA ? n : m), both contiguous; y does not overlap A or x.
    /// - Parameters:
    ///   - transposeA: Use Aᵀ.
    ///   - m: Rows of A (as stored).
    ///   - n: Columns of A (as stored).
    ///   - alpha: Scale of the product.
    ///   - a: A's first element.
    ///   - lda: Distance between A's rows, in doubles.
    ///   - x: The input vector.
    ///   - beta: Scale of y's prior contents.
    ///   - y: The output vector.
    public static func gemv(
        transposeA: Bool, m: Int, n: Int, alpha: Double, a: UnsafePointer<Double>, lda: Int,
        x: UnsafePointer<Double>, beta: Double, y: UnsafeMutablePointer<Double>
    ) {
        cblas_dgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                    alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// C ← α·op(A)·op(B) + β·C in single precision (`cblas_sgemm`, row-major): the same
    /// contract as the double-precision `gemm`, with leading dimensions counted in floats.
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int, alpha: Float,
        a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
                    Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    /// y ← α·op(A)·x + β·y in single precision (`cblas_sgemv`, row-major): the same contract
    /// as the double-precision `gemv`.
    public static func gemv(
        transposeA: Bool, m: Int, n: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
        x: UnsafePointer<Float>, beta: Float, y: UnsafeMutablePointer<Float>
    ) {
        cblas_sgemv(CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, Int32(m), Int32(n),
                    alpha, a, Int32(lda), x, 1, beta, y, 1)
    }

    /// The number of threads OpenBLAS uses (`openblas_get_num_threads`).
    public static var threads: Int { Int(openblas_get_num_threads()) }

    /// Sets the number of threads OpenBLAS uses (`openblas_set_num_threads`). One thread is
    /// usually fastest for the small products of a recurrent step.
    /// - Parameter n: The thread count, ≥ 1.
    public static func setThreads(_ n: Int) {
        precondition(n >= 1, "BLAS.setThreads: thread count must be ≥ 1, got \(n)")
        openblas_set_num_threads(Int32(n))
    }

    /// OpenBLAS's build description (`openblas_get_config`), e.g.
    /// `"OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64"`.
    public static var configuration: String { String(cString: openblas_get_config()) }

    /// The path of the shared library that provides the `cblas_dgemm` this process calls.
    /// It names OpenBLAS when products do not go through GSL's slow reference `libgslcblas`,
    /// which `libgsl` itself links.
    ///
    /// The symbol is looked up as the process resolves it (`dlsym(RTLD_DEFAULT, …)`). Its
    /// library is then found with `dladdr` on Darwin; on Linux, Swift's Glibc module hides
    /// `dladdr` (it needs `_GNU_SOURCE`), so the address is looked up in `/proc/self/maps`,
    /// which lists the file each mapped range comes from.
    /// - Returns: The library path, or a message starting with `"unresolved"` if the loader
    ///   cannot say.
    public static func dgemmProvider() -> String { provider(of: "cblas_dgemm") }

    /// The path of the shared library that provides the `cblas_sgemm` this process calls: the
    /// float32 engine's products, which GSL's `libgslcblas` also exports (and computes slowly).
    /// - Returns: The library path, or a message starting with `"unresolved"`.
    public static func sgemmProvider() -> String { provider(of: "cblas_sgemm") }

    /// The library providing `name` as the process resolves it (see `dgemmProvider`).
    private static func provider(of name: String) -> String {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else {
            return "unresolved: " + (dlerror().map { String(cString: $0) } ?? "dlsym found no \(name)")
        }
        #if canImport(Darwin)
        var info = Dl_info()
        guard dladdr(symbol, &info) != 0, let file = info.dli_fname else {
            return "unresolved: dladdr could not map \(name) to a library"
        }
        return String(cString: file)
        #else
        return mappedFile(containing: UInt(bitPattern: symbol))
            ?? "unresolved: \(name)'s address is in no file mapping of /proc/self/maps"
        #endif
    }

    /// The path in `/proc/self/maps` whose range holds `address` (lines read
    /// `start-end perms offset dev inode path`).
    private static func mappedFile(containing address: UInt) -> String? {
        guard let maps = fopen("/proc/self/maps", "r") else { return nil }
        defer { fclose(maps) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        defer { free(line) }
        while getline(&line, &capacity, maps) > 0, let line {
            let fields = String(cString: line).split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            let bounds = fields.first?.split(separator: "-").compactMap { UInt($0, radix: 16) } ?? []
            guard fields.count == 6, bounds.count == 2, bounds[0] <= address, address < bounds[1] else { continue }
            var path = fields[5].drop { $0 == " " }
            if path.last == "\n" { path = path.dropLast() }
            return path.isEmpty ? nil : String(path)
        }
        return nil
    }

    /// Measures square DGEMM throughput: C ← A·B for n × n matrices, after one warm-up call.
    /// A benchmark helper for the command line, not a test.
    /// - Parameters:
    ///   - n: The matrix order, ≥ 1.
    ///   - repetitions: Timed products, ≥ 1.
    /// - Returns: The median rate in GFLOP/s, counting 2n³ floating-point operations per product.
    public static func measureDGEMMRate(n: Int = 1024, repetitions: Int = 3) -> Double {
        precondition(n >= 1 && repetitions >= 1, "BLAS.measureDGEMMRate: n and repetitions must be ≥ 1")
        let a = (0..<n * n).map { Double($0 % 17) / 17 - 0.5 }
        let b = (0..<n * n).map { Double($0 % 13) / 13 - 0.5 }
        var c = [Double](repeating: 0, count: n * n)
        func product() {
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    c.withUnsafeMutableBufferPointer { c in
                        gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1,
                             a: a.baseAddress!, lda: n, b: b.baseAddress!, ldb: n, beta: 0, c: c.baseAddress!, ldc: n)
                    }
                }
            }
        }
        product()
        let clock = ContinuousClock()
        let rates = (0..<repetitions).map { _ -> Double in
            let elapsed = clock.measure(product).components
            let seconds = Double(elapsed.seconds) + Double(elapsed.attoseconds) * 1e-18
            return 2 * pow(Double(n), 3) / Swift.max(seconds, 1e-12) / 1e9
        }.sorted()
        return rates[rates.count / 2]
    }
}
