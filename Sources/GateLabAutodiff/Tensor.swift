/// A dense two-dimensional tensor of `Double`s, stored row-major.
///
/// Rows are the batch, columns the features: a batch of 32 hidden states of 128 units is a
/// 32 × 128 tensor, a bias is a 1 × n row that broadcasts over the batch.
public struct Tensor: Equatable, Sendable, CustomStringConvertible {
    /// The number of rows (the batch dimension).
    public var rows: Int
    /// The number of columns (the feature dimension).
    public var cols: Int
    /// The elements, row after row; `scalars.count == rows * cols`.
    public var scalars: [Double]

    /// Creates a tensor from its row-major elements.
    /// - Parameters:
    ///   - rows: number of rows.
    ///   - cols: number of columns.
    ///   - scalars: `rows * cols` elements, row after row.
    public init(rows: Int, cols: Int, scalars: [Double]) {
        precondition(rows >= 0 && cols >= 0 && scalars.count == rows * cols,
                     "Tensor: \(scalars.count) scalars cannot fill \(rows)×\(cols)")
        self.rows = rows
        self.cols = cols
        self.scalars = scalars
    }

    /// Creates a tensor with every element equal to `value`.
    /// - Parameters:
    ///   - rows: number of rows.
    ///   - cols: number of columns.
    ///   - value: the value of every element (zero by default).
    public init(rows: Int, cols: Int, repeating value: Double = 0) {
        self.init(rows: rows, cols: cols, scalars: Array(repeating: value, count: rows * cols))
    }

    /// Creates a tensor from nested rows, e.g. `Tensor([[1, 2], [3, 4]])`.
    /// - Parameter rows: the rows, all of the same length.
    public init(_ rows: [[Double]]) {
        let cols = rows.first?.count ?? 0
        precondition(rows.allSatisfy { $0.count == cols }, "Tensor: ragged rows")
        self.init(rows: rows.count, cols: cols, scalars: rows.flatMap { $0 })
    }

    /// The shape of the tensor.
    public var shape: Shape { Shape(rows, cols) }

    /// The element at `row`, `col`.
    public subscript(row: Int, col: Int) -> Double {
        get { scalars[row * cols + col] }
        set { scalars[row * cols + col] = newValue }
    }

    /// The rows as nested arrays.
    public var nestedRows: [[Double]] {
        (0..<rows).map { Array(scalars[($0 * cols)..<(($0 + 1) * cols)]) }
    }

    /// The transpose.
    public var transposed: Tensor {
        var t = Tensor(rows: cols, cols: rows)
        for r in 0..<rows { for c in 0..<cols { t.scalars[c * rows + r] = scalars[r * cols + c] } }
        return t
    }

    /// The Euclidean (Frobenius) norm of all elements, computed without overflow or underflow.
    public var norm: Double { euclideanNorm(scalars) }

    public var description: String {
        "Tensor(\(rows)×\(cols)) " + nestedRows.map { "[" + $0.map { "\($0)" }.joined(separator: ", ") + "]" }.joined(separator: " ")
    }
}

/// The shape of a two-dimensional tensor.
public struct Shape: Hashable, Sendable, CustomStringConvertible {
    /// Number of rows.
    public var rows: Int
    /// Number of columns.
    public var cols: Int
    /// Creates a shape.
    public init(_ rows: Int, _ cols: Int) { self.rows = rows; self.cols = cols }
    /// Number of elements.
    public var count: Int { rows * cols }
    public var description: String { "\(rows)×\(cols)" }
}

/// The Euclidean norm of `x`, scaled as LAPACK's dnrm2 does so that neither tiny nor huge
/// elements underflow or overflow when squared.
@inlinable
public func euclideanNorm<C: Collection>(_ x: C) -> Double where C.Element == Double {
    var scale = 0.0, ssq = 1.0
    for v in x where v != 0 {
        let a = Swift.abs(v)
        if scale < a { ssq = 1 + ssq * (scale / a) * (scale / a); scale = a } else { ssq += (a / scale) * (a / scale) }
    }
    return scale * ssq.squareRoot()
}
