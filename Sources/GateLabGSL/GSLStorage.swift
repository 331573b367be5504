internal import CGateLabGSL

// Owned GSL matrices and vectors, internal to GateLabGSL: they copy row-major [Double] in and
// out, so no GSL pointer ever crosses the module boundary.

/// An owned `gsl_matrix`, freed on deinit.
final class GSLMatrix {
    let pointer: UnsafeMutablePointer<gsl_matrix>
    let rows: Int
    let cols: Int

    /// Allocates a zeroed `rows × cols` matrix.
    init(rows: Int, cols: Int, caller: String) throws {
        try require(rows > 0 && cols > 0, caller, "matrix dimensions must be positive, got \(rows) × \(cols)")
        guard let pointer = try GSLCall.value(caller, { gsl_matrix_calloc(rows, cols) }) else {
            throw GSLError(function: caller, reason: "gsl_matrix_calloc(\(rows), \(cols)) returned NULL",
                           file: "", line: 0, code: Int(GSL_ENOMEM))
        }
        self.pointer = pointer
        self.rows = rows
        self.cols = cols
    }

    /// Allocates a `rows × cols` matrix holding `rowMajor` (which must have `rows * cols` values).
    convenience init(rows: Int, cols: Int, rowMajor: [Double], caller: String) throws {
        try require(rowMajor.count == rows * cols, caller,
                    "data has \(rowMajor.count) values but a \(rows) × \(cols) matrix needs \(rows * cols)")
        try self.init(rows: rows, cols: cols, caller: caller)
        for i in 0..<rows {
            for j in 0..<cols { self[i, j] = rowMajor[i * cols + j] }
        }
    }

    deinit { gsl_matrix_free(pointer) }

    /// Element `(i, j)`, unchecked (GSL's own `gsl_matrix_get` would range-check).
    subscript(i: Int, j: Int) -> Double {
        get { pointer.pointee.data[i * pointer.pointee.tda + j] }
        set { pointer.pointee.data[i * pointer.pointee.tda + j] = newValue }
    }

    /// The values, row-major.
    var rowMajor: [Double] {
        var values = [Double]()
        values.reserveCapacity(rows * cols)
        for i in 0..<rows {
            for j in 0..<cols { values.append(self[i, j]) }
        }
        return values
    }

    /// Householder QR in place (`gsl_linalg_QR_decomp`); `tau` must have `min(rows, cols)` entries.
    func decomposeQR(tau: GSLVector, caller: String) throws {
        try GSLCall.status(caller) { gsl_linalg_QR_decomp(pointer, tau.pointer) }
    }
}

/// An owned `gsl_vector`, freed on deinit.
final class GSLVector {
    let pointer: UnsafeMutablePointer<gsl_vector>
    let count: Int

    /// Allocates a zeroed vector of `count` entries.
    init(count: Int, caller: String) throws {
        try require(count > 0, caller, "vector length must be positive, got \(count)")
        guard let pointer = try GSLCall.value(caller, { gsl_vector_calloc(count) }) else {
            throw GSLError(function: caller, reason: "gsl_vector_calloc(\(count)) returned NULL",
                           file: "", line: 0, code: Int(GSL_ENOMEM))
        }
        self.pointer = pointer
        self.count = count
    }

    deinit { gsl_vector_free(pointer) }

    /// Entry `i`, unchecked.
    subscript(i: Int) -> Double {
        get { pointer.pointee.data[i * pointer.pointee.stride] }
        set { pointer.pointee.data[i * pointer.pointee.stride] = newValue }
    }

    /// The entries as an array.
    var values: [Double] { (0..<count).map { self[$0] } }
}

/// Transposes a row-major `rows × cols` matrix.
func transposed(rows: Int, cols: Int, _ data: [Double]) -> [Double] {
    var result = [Double](repeating: 0, count: data.count)
    for i in 0..<rows {
        for j in 0..<cols { result[j * rows + i] = data[i * cols + j] }
    }
    return result
}
