import CGateLabWorker
import Foundation
import GateLabGSL
import GateLabSupport

/// Splitting work over the two cores: row-wise work of large batches (two row ranges) and
/// large matrix products (two column or row blocks, see `MatMul.product`). Only work whose
/// parts write disjoint outputs is split, never a sum, so the bits of every result are the
/// same whether the parts run in parallel or one after the other.
///
/// The second part runs on one helper thread that polls for work between the short parallel
/// sections of a time step (see `Sources/CGateLabWorker/worker.c`), so a hand-off costs far less than
/// a thread wake-up. OpenBLAS is then used single-threaded: its own threads would compete with
/// the helper for the same two cores.
///
/// `GATELAB_THREADS` is a thread count: 1 runs everything on the calling thread (no helper),
/// 2 adds the one helper. Larger counts run as 2: every split here is a split in two halves
/// (a row range, a column block), so a third thread would find no work; counts up to the
/// task's CPUs are accepted so that a Slurm script can export its `--cpus-per-task` as is.
/// Unset (or not a positive number): 2 when this process may run on more than one CPU (its
/// affinity mask, as a Slurm task's is narrowed to its `--cpus-per-task`), else 1.
enum Parallel {
    /// Below this many elements one thread is faster than handing work to another (4 096;
    /// this thread's, as the running program's options set it: `withThresholds`).
    static var minimumElements: Int { gatelab_split_elements() }
    /// Below this many multiply-adds (m·n·k) a product runs on one thread (2^16; see above).
    static var minimumProductWork: Int { gatelab_split_product_work() }

    /// Runs `body` with this thread's split thresholds as `options` ask: the defaults, none
    /// (`.splitNothing`: everything on one thread) or the least (`.splitEverything`: every
    /// piece of work that can be split is). Other threads keep theirs; the bits are the same
    /// either way.
    @inline(__always)
    static func withThresholds<R>(_ options: ProgramOptions, _ body: () throws -> R) rethrows -> R {
        guard options.contains(.splitNothing) || options.contains(.splitEverything) else { return try body() }
        let old = options.contains(.splitNothing) ? gatelab_split_set(Int.max, Int.max) : gatelab_split_set(2, 1)
        defer { _ = gatelab_split_set(old.elements, old.productWork) }
        return try body()
    }
    /// The threads work is split over: 1 or 2 (see above).
    static let threads: Int = threads(environment: ProcessInfo.processInfo.environment["GATELAB_THREADS"],
                                      availableCPUs: AvailableCPUs.count)

    /// The thread count for a `GATELAB_THREADS` value (nil: unset) and the CPUs this process
    /// may run on (`AvailableCPUs.count`, the one count every layer uses).
    static func threads(environment value: String?, availableCPUs cpus: Int) -> Int {
        if let value, let n = Int(value.trimmingCharacters(in: .whitespaces)), n >= 1 { return min(n, 2) }
        return cpus > 1 ? 2 : 1
    }

    /// Whether work is split at all (a helper thread is used).
    static var enabled: Bool { threads == 2 }

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
        two { body(rowHalf($0, of: rows)) }
    }

    /// Runs `body` on the row halves of `0 ..< rows` in parallel (as `rows` splits them), then
    /// `inOrder` on half 0 and only then on half 1 (core 1 waits for a flag core 0 raises):
    /// for sums over the rows that must add them in order (a bias's gradient), each core
    /// reading only the rows it wrote. Unsplit: `body` and `inOrder` on all rows.
    @inline(__always)
    static func rows(_ rows: Int, cols: Int, _ body: (Range<Int>) -> Void, thenInOrder inOrder: (Range<Int>) -> Void) {
        guard enabled, rows >= 2, rows * cols >= minimumElements else { body(0..<rows); inOrder(0..<rows); return }
        var flag: UInt = 0
        withUnsafeMutablePointer(to: &flag) { f in
            // `gatelab_run_two` runs part 0 first whenever it runs the parts in turn: the wait
            // cannot block.
            two { part in
                let r = rowHalf(part, of: rows)
                body(r)
                if part == 1 { gatelab_flag_wait(f, 1) }
                inOrder(r)
                if part == 0 { gatelab_flag_raise(f, 1) }
            }
        }
    }

    /// `body(part, 2)` for parts 0 and 1 on the two cores when `split`, else `body(0, 1)` once:
    /// for work that each core does on its own rows (`rowHalf(part, of:parts:)`).
    @inline(__always)
    static func inParts(_ split: Bool, _ body: (_ part: Int, _ parts: Int) -> Void) {
        if split { two { body($0, 2) } } else { body(0, 1) }
    }

    /// Part `part` of `parts` (1: all of `0 ..< rows`; 2: `rowHalf`).
    @inline(__always)
    static func rowHalf(_ part: Int, of rows: Int, parts: Int) -> Range<Int> {
        parts == 1 ? 0..<rows : rowHalf(part, of: rows)
    }

    /// Part `part` (0 or 1) of `0 ..< rows` as `rows` divides it: the first ⌊rows/2⌋ rows, then
    /// the rest (so a single row is part 1's). Every split of a step's batch rows uses these
    /// halves, so that the rows a core writes at one step are the rows it reads at the next.
    @inline(__always)
    static func rowHalf(_ part: Int, of rows: Int) -> Range<Int> {
        let half = rows / 2
        return part == 0 ? 0..<half : half..<rows
    }
}

/// Runs `body` over `0 ..< count`, split in two halves on the two cores when `count` is large
/// (`Parallel.rows`' rule), else in one call: for element-wise work outside a program, such
/// as the optimizer's update of each parameter array. Each element must depend on its index
/// alone, so that the split changes no bit.
public func splitOverCores(_ count: Int, _ body: (Range<Int>) -> Void) {
    Parallel.rows(count, cols: 1, body)
}

/// The mean time of one round trip of a cache line between two of this process's CPUs, in
/// nanoseconds (see `gatelab_core_round_trip_ns`); nil when it may run on one CPU only. The
/// price of every hand-off to the helper thread: on this project's VM it is 52–65 ns when the
/// two vCPUs share an L3 cache and 330–360 ns when they do not, switching by itself.
public func coreRoundTripNanoseconds(iterations: Int = 100_000) -> Double? {
    let ns = gatelab_core_round_trip_ns(iterations)
    return ns > 0 ? ns : nil
}
