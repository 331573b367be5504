/// A kernel's view of one operand: a pointer into a program's storage and its shape.
/// (`p` is nil for an operand that receives no gradient.)
struct Arg {
    var p: UnsafeMutablePointer<Double>?
    var rows: Int
    var cols: Int
    var count: Int { rows * cols }
    var shape: Shape { Shape(rows, cols) }
    var buffer: UnsafeMutableBufferPointer<Double> { UnsafeMutableBufferPointer(start: p, count: count) }
}

/// Row and column strides that read operand `a` broadcast to the shape of `out`
/// (a stride of 0 repeats a row or a column).
@inline(__always)
func broadcastStrides(_ a: Arg, _ out: Arg) -> (row: Int, col: Int) {
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

import Dispatch

/// Splitting row-wise work of large batches over the two cores. Only work whose rows are
/// independent is split (never a sum over rows), so results do not depend on it.
enum Parallel {
    /// Below this many elements one thread is faster than handing work to another.
    static var minimumElements = 8192

    /// Calls `body` with row ranges covering `0 ..< rows`: two halves on two threads for large
    /// tensors, the whole range otherwise.
    @inline(__always)
    static func rows(_ rows: Int, cols: Int, _ body: (Range<Int>) -> Void) {
        guard rows >= 2, rows * cols >= minimumElements else { return body(0..<rows) }
        let half = rows / 2
        DispatchQueue.concurrentPerform(iterations: 2) { body($0 == 0 ? 0..<half : half..<rows) }
    }
}
