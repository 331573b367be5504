internal import CGateLabGSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Dense decompositions of small row-major matrices by GSL, for diagnostics such as the
/// spectral norm or spectral radius of a recurrent weight matrix. Shapes are checked in
/// Swift before GSL is called.
public enum LinearAlgebra {
    /// The singular values, largest first (`gsl_linalg_SV_decomp`, Golub–Reinsch; a wide
    /// matrix is transposed first since GSL needs rows ≥ cols, which leaves them unchanged).
    /// - Parameters:
    ///   - rows: The number of rows, ≥ 1.
    ///   - cols: The number of columns, ≥ 1.
    ///   - data: `rows * cols` finite values, row-major.
    /// - Returns: min(rows, cols) values in descending order.
    /// - Throws: `InvalidArgumentError` for a shape mismatch or a non-finite entry;
    ///   `GSLError` if the decomposition fails.
    public static func singularValues(rows: Int, cols: Int, _ data: [Double]) throws -> [Double] {
        let caller = "LinearAlgebra.singularValues"
        try checkMatrix(rows: rows, cols: cols, data, caller)
        let (m, n) = rows >= cols ? (rows, cols) : (cols, rows)
        let tall = rows >= cols ? data : transposed(rows: rows, cols: cols, data)
        let a = try GSLMatrix(rows: m, cols: n, rowMajor: tall, caller: caller)
        let v = try GSLMatrix(rows: n, cols: n, caller: caller)
        let s = try GSLVector(count: n, caller: caller)
        let work = try GSLVector(count: n, caller: caller)
        try GSLCall.status(caller) { gsl_linalg_SV_decomp(a.pointer, v.pointer, s.pointer, work.pointer) }
        return s.values
    }

    /// The spectral norm ‖A‖₂, the largest singular value.
    /// - Parameters:
    ///   - rows: The number of rows, ≥ 1.
    ///   - cols: The number of columns, ≥ 1.
    ///   - data: `rows * cols` finite values, row-major.
    /// - Throws: As `singularValues(rows:cols:_:)`.
    public static func spectralNorm(rows: Int, cols: Int, _ data: [Double]) throws -> Double {
        try singularValues(rows: rows, cols: cols, data)[0]
    }

    /// The eigenvalues of a general real square matrix (`gsl_eigen_nonsymm`: balancing, then
    /// the Francis double-shift QR algorithm). Complex eigenvalues come in conjugate pairs.
    /// - Parameters:
    ///   - n: The order of the matrix, ≥ 1.
    ///   - data: `n * n` finite values, row-major.
    /// - Returns: n eigenvalues sorted by modulus, largest first (ties: larger real part,
    ///   then larger imaginary part first).
    /// - Throws: `InvalidArgumentError` for a shape mismatch or a non-finite entry;
    ///   `GSLError` if the QR iteration does not converge.
    public static func eigenvalues(n: Int, _ data: [Double]) throws -> [(re: Double, im: Double)] {
        let caller = "LinearAlgebra.eigenvalues"
        try require(data.count == n * n, caller,
                    "eigenvalues need a square matrix: n = \(n) needs \(n * n) values, got \(data.count)")
        try checkMatrix(rows: n, cols: n, data, caller)
        let a = try GSLMatrix(rows: n, cols: n, rowMajor: data, caller: caller)
        guard let evals = try GSLCall.value(caller, { gsl_vector_complex_alloc(n) }) else {
            throw GSLError(function: caller, reason: "gsl_vector_complex_alloc returned NULL", file: "", line: 0,
                           code: Int(GSL_ENOMEM))
        }
        defer { gsl_vector_complex_free(evals) }
        guard let workspace = try GSLCall.value(caller, { gsl_eigen_nonsymm_alloc(n) }) else {
            throw GSLError(function: caller, reason: "gsl_eigen_nonsymm_alloc returned NULL", file: "", line: 0,
                           code: Int(GSL_ENOMEM))
        }
        defer { gsl_eigen_nonsymm_free(workspace) }
        gsl_eigen_nonsymm_params(0, 1, workspace)
        try GSLCall.status(caller) { gsl_eigen_nonsymm(a.pointer, evals, workspace) }
        let stride = evals.pointee.stride, raw = evals.pointee.data!
        let values = (0..<n).map { (re: raw[2 * $0 * stride], im: raw[2 * $0 * stride + 1]) }
        return values.sorted {
            let (r0, r1) = (hypot($0.re, $0.im), hypot($1.re, $1.im))
            if r0 != r1 { return r0 > r1 }
            if $0.re != $1.re { return $0.re > $1.re }
            return $0.im > $1.im
        }
    }

    /// The spectral radius ρ(A) = max |λᵢ|, which governs whether a linear recurrence
    /// hₜ = A hₜ₋₁ explodes (ρ > 1) or vanishes (ρ < 1).
    /// - Parameters:
    ///   - n: The order of the matrix, ≥ 1.
    ///   - data: `n * n` finite values, row-major.
    /// - Throws: As `eigenvalues(n:_:)`.
    public static func spectralRadius(n: Int, _ data: [Double]) throws -> Double {
        try eigenvalues(n: n, data).map { hypot($0.re, $0.im) }.max()!
    }

    private static func checkMatrix(rows: Int, cols: Int, _ data: [Double], _ caller: String) throws {
        try require(rows > 0 && cols > 0, caller, "matrix dimensions must be positive, got \(rows) × \(cols)")
        try require(data.count == rows * cols, caller,
                    "data has \(data.count) values but a \(rows) × \(cols) matrix needs \(rows * cols)")
        try require(data.allSatisfy { $0.isFinite }, caller, "matrix has a non-finite entry (NaN or ±inf)")
    }
}
