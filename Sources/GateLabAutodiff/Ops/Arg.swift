/// A kernel's view of one operand: a pointer into a program's storage and its shape.
/// (`p` is nil for an operand that receives no gradient.)
struct Arg<S: Scalar> {
    var p: UnsafeMutablePointer<S>?
    var rows: Int
    var cols: Int
    var count: Int { rows * cols }
    var shape: Shape { Shape(rows, cols) }
    var buffer: UnsafeMutableBufferPointer<S> { UnsafeMutableBufferPointer(start: p, count: count) }
    /// No operand (no gradient wanted).
    static var none: Arg { Arg(p: nil, rows: 0, cols: 0) }
}

/// Row and column strides that read operand `a` broadcast to the shape of `out`
/// (a stride of 0 repeats a row or a column).
@inline(__always)
func broadcastStrides<S>(_ a: Arg<S>, _ out: Arg<S>) -> (row: Int, col: Int) {
    (a.rows == 1 && out.rows != 1 ? 0 : a.cols, a.cols == 1 && out.cols != 1 ? 0 : 1)
}

/// Errors a kernel can meet at run time (bad data rather than bad shapes).
struct KernelError: Error { var message: String }

extension Arg {
    /// Rows `range` of this operand when it has `fullRows` rows; a 1-row (broadcast) operand
    /// is returned whole.
    func rows(_ range: Range<Int>, of fullRows: Int) -> Arg {
        guard rows == fullRows else { return self }
        return Arg(p: p.map { $0 + range.lowerBound * cols }, rows: range.count, cols: cols)
    }
}
