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

import CWorker
import Foundation
import GSLKit

/// Splitting work over the two cores: row-wise work of large batches (two row ranges) and
/// large matrix products (two column or row blocks, see `MatMul.product`). Only work whose
/// parts write disjoint outputs is split, never a sum, so the bits of every result are the
/// same whether the parts run in parallel or one after the other.
///
/// The second part runs on one helper thread that polls for work between the short parallel
/// sections of a time step (see `Sources/CWorker/worker.c`), so a hand-off costs well under a
/// microsecond instead of a thread wake-up. OpenBLAS is then used single-threaded: its own
/// threads would compete with the helper for the same two cores.
enum Parallel {
    /// Below this many elements one thread is faster than handing work to another.
    static var minimumElements = 4096
    /// Below this many multiply-adds (m·n·k) a product runs on one thread.
    static var minimumProductWork = 1 << 16
    /// Whether work is split at all: `GATELAB_THREADS` when set (1: never), else whether this
    /// process may run on more than one CPU (its affinity mask, as a Slurm task's is narrowed
    /// to its `--cpus-per-task`).
    static let enabled: Bool = {
        if let v = ProcessInfo.processInfo.environment["GATELAB_THREADS"], let n = Int(v) { return n > 1 }
        let cpus = Int(gatelab_available_cpus())
        return (cpus > 0 ? cpus : ProcessInfo.processInfo.activeProcessorCount) > 1
    }()

    /// Called once before the first pass of any program: OpenBLAS single-threaded.
    static let prepare: Void = { BLAS.setThreads(1) }()

    /// Runs `body(0)` and `body(1)`, in parallel when the helper thread is free.
    @inline(__always)
    static func two(_ body: (Int) -> Void) {
        guard enabled else { body(0); body(1); return }
        withoutActuallyEscaping(body) { f in
            var f = f
            withUnsafeMutablePointer(to: &f) { pointer in
                _ = gatelab_run_two({ context, part in
                    context!.assumingMemoryBound(to: ((Int) -> Void).self).pointee(Int(part))
                }, pointer)
            }
        }
    }

    /// Calls `body` with column ranges covering `0 ..< cols` (halves aligned to 8 columns when
    /// the work is large): for sums over rows, which a split by rows would reorder.
    @inline(__always)
    static func columns(_ cols: Int, rows: Int, _ body: (Range<Int>) -> Void) {
        guard enabled, cols >= 16, rows * cols >= minimumElements else { return body(0..<cols) }
        two { body(half($0, of: cols)) }
    }

    /// Part `part` (0 or 1) of `0 ..< cols` as `columns` (and a split product) divides it:
    /// halves aligned to 8, or everything in part 0 when there are fewer than 16.
    @inline(__always)
    static func half(_ part: Int, of cols: Int) -> Range<Int> {
        guard cols >= 16 else { return part == 0 ? 0..<cols : cols..<cols }
        let half = (cols / 2 + 7) & ~7
        return part == 0 ? 0..<half : half..<cols
    }

    /// Calls `body` with row ranges covering `0 ..< rows`: two halves on two threads for large
    /// tensors, the whole range otherwise.
    @inline(__always)
    static func rows(_ rows: Int, cols: Int, _ body: (Range<Int>) -> Void) {
        guard enabled, rows >= 2, rows * cols >= minimumElements else { return body(0..<rows) }
        let half = rows / 2
        two { body($0 == 0 ? 0..<half : half..<rows) }
    }
}
