// What a program runs: a node's storage (Slot), one node's kernels over it (Instruction, the
// base of the fused instructions: FusedProducts.swift, FusedSums.swift, RowSection.swift), and the arenas the storage lives in.

/// Where one node lives: its value at step t is `base + t · stride`, its gradient
/// `gradBase + t · gradStride` (t taken modulo the window, for values and gradients stored
/// for one block). Hoisted (`stacks`) slots run a block of steps' rows at once.
struct Slot<S: Scalar> {
    var base: UnsafeMutablePointer<S>
    var stride: Int
    var gradBase: UnsafeMutablePointer<S>?
    var gradStride: Int
    var rows: Int
    var cols: Int
    var stacks: Bool
    var window = 0, gradWindow = 0

    @inline(__always) func arg(_ t: Int, _ count: Int) -> Arg<S> {
        Arg(p: base + (window > 0 ? t % window : t) * stride, rows: stacks ? rows * count : rows, cols: cols)
    }
    @inline(__always) func gradArg(_ t: Int, _ count: Int) -> Arg<S> {
        Arg(p: gradBase.map { $0 + (gradWindow > 0 ? t % gradWindow : t) * gradStride }, rows: stacks ? rows * count : rows, cols: cols)
    }
}

/// One node's forward kernel and VJP, dispatched to its family in `Ops/`. (Subclassed by
/// fused instructions: FusedProducts.swift, FusedSums.swift, RowSection.swift.)
class Instruction<S: Scalar> {
    let node: Int
    let op: Primitive
    let operands: [Slot<S>]
    let out: Slot<S>
    let args: UnsafeMutablePointer<Arg<S>>
    let grads: UnsafeMutablePointer<Arg<S>>
    /// `op.hasRowKernel`, asked of the op's family once here rather than at every step.
    private let primitiveHasRowKernel: Bool

    @_specialize(where S == Double) @_specialize(where S == Float)
    init(node: Int, op: Primitive, operands: [Slot<S>], out: Slot<S>) {
        self.node = node; self.op = op; self.operands = operands; self.out = out
        primitiveHasRowKernel = op.hasRowKernel
        args = .allocate(capacity: operands.count)
        grads = .allocate(capacity: operands.count)
        args.initialize(repeating: Arg(p: nil, rows: 0, cols: 0), count: operands.count)
        grads.initialize(repeating: Arg(p: nil, rows: 0, cols: 0), count: operands.count)
        currentStorage = .allocate(capacity: 1)
        currentStorage.initialize(to: (Arg(p: nil, rows: 0, cols: 0), Arg(p: nil, rows: 0, cols: 0)))
    }
    deinit { args.deallocate(); grads.deallocate(); currentStorage.deallocate() }

    /// Called before a forward pass, a reverse pass, and after a reverse pass's steps.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func beginForward() {}
    @_specialize(where S == Double) @_specialize(where S == Float)
    func beginBackward() {}
    @_specialize(where S == Double) @_specialize(where S == Float)
    func endBlock() {}
    @_specialize(where S == Double) @_specialize(where S == Float)
    func endBackward() {}

    // MARK: Row-wise execution
    //
    // Elementwise ops, activations and the fused sums work row by row: rows r of the output
    // (and of its gradient) depend only on rows r of full-shape operands. Their kernels are
    // split into a row-range part and, in the reverse pass, a *tail* that sums gradients over
    // the rows for broadcast operands (biases). A `RowSection` runs a chain of them with one
    // hand-off to the helper thread instead of one per instruction; alone, each runs its own.

    /// Whether this instruction works row by row: its primitive has a row-range kernel
    /// (`Primitive.hasRowKernel`); the fused sums do too, a `RowSection` runs them itself.
    var hasRowKernel: Bool {
        @_specialize(where S == Double) @_specialize(where S == Float)
        get { primitiveHasRowKernel }
    }

    /// Fills the operand views for step t (and, for the reverse pass, the gradient views).
    @_specialize(where S == Double) @_specialize(where S == Float)
    func prepare(_ t: Int, _ count: Int, gradients: Bool) {
        for i in operands.indices {
            args[i] = operands[i].arg(t, count)
            if gradients { grads[i] = op.isDifferentiable(operand: i) ? operands[i].gradArg(t, count) : Arg(p: nil, rows: 0, cols: 0) }
        }
        current = (out.arg(t, count), out.gradArg(t, count))
    }
    /// The output and its gradient at the prepared step. (Kept behind a pointer, as `args`:
    /// a stored property would be checked for exclusive access at every read in the time loop.)
    var current: (value: Arg<S>, gradient: Arg<S>) {
        get { currentStorage.pointee }
        set { currentStorage.pointee = newValue }
    }
    private let currentStorage: UnsafeMutablePointer<(value: Arg<S>, gradient: Arg<S>)>

    /// The forward kernel on rows `r` (after `prepare`).
    @_specialize(where S == Double) @_specialize(where S == Float)
    func forwardRows(_ r: Range<Int>) {
        let (o, n) = (current.value, current.value.rows)
        switch op {
        case .add, .subtract, .multiply, .divide: Elementwise.forward(op, args[0].rows(r, of: n), args[1].rows(r, of: n), o.rows(r, of: n))
        case .negate, .exp, .log, .square, .sqrt: Elementwise.forwardUnary(op, args[0].rows(r, of: n), o.rows(r, of: n))
        case .sigmoid, .tanh, .relu: Activations.forward(op, args[0].rows(r, of: n), o.rows(r, of: n))
        default: fatalError("forwardRows: \(op.name) is not row-wise")
        }
    }

    /// The VJP's row part on rows `r` (after `prepare(…, gradients: true)`): the gradients of
    /// full-shape operands.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func backwardRows(_ r: Range<Int>) {
        let (o, g, n) = (current.value, current.gradient, current.value.rows)
        switch op {
        case .add, .subtract, .multiply, .divide:
            let (a, b, ga, gb) = (args[0], args[1], grads[0], grads[1])
            let none = Arg<S>(p: nil, rows: 0, cols: 0)
            Elementwise.vjp(op, a.rows(r, of: n), b.rows(r, of: n), o.rows(r, of: n), g.rows(r, of: n),
                            ga.rows == n ? ga.rows(r, of: n) : none, gb.rows == n ? gb.rows(r, of: n) : none)
        case .negate, .exp, .log, .square, .sqrt:
            Elementwise.vjpUnary(op, args[0].rows(r, of: n), o.rows(r, of: n), g.rows(r, of: n), grads[0].rows(r, of: n))
        case .sigmoid, .tanh, .relu:
            Activations.vjp(op, args[0].rows(r, of: n), o.rows(r, of: n), g.rows(r, of: n), grads[0].rows(r, of: n))
        default: fatalError("backwardRows: \(op.name) is not row-wise")
        }
    }

    // The VJP's tail, after every row: broadcast operands' gradients, summed over the rows.

    /// Whether the prepared VJP has a tail: an operand gradient that is not full-shape.
    var hasTail: Bool {
        @_specialize(where S == Double) @_specialize(where S == Float)
        get {
            switch op { case .add, .subtract, .multiply, .divide: break; default: return false }
            let m = current.value.rows
            return (grads[0].rows != m && grads[0].p != nil) || (grads[1].rows != m && grads[1].p != nil)
        }
    }

    /// Whether the prepared tail is nothing but column sums (biases' gradients), which may run
    /// split by columns or rows (`backwardTail(rows:columns:)`) with the same bits: each column's sum keeps
    /// its order, whichever core adds it.
    var tailSplitsByColumns: Bool {
        @_specialize(where S == Double) @_specialize(where S == Float)
        get {
            guard hasTail else { return true }
            let (m, cols) = (current.value.rows, current.value.cols)
            func rowOrFull(_ x: Arg<S>) -> Bool { x.p == nil || x.rows == m || (x.rows == 1 && x.cols == cols) }
            return (op == .add || op == .subtract) && rowOrFull(grads[0]) && rowOrFull(grads[1])
        }
    }

    /// The tail (when `tailSplitsByColumns`) over output rows `rs` and columns `cs`: each
    /// column adds its rows in order, so column blocks on two cores, or rows 0 ..< h on one
    /// core and then h ..< m on the other, give the bits of one call over everything.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func backwardTail(rows rs: Range<Int>, columns cs: Range<Int>) {
        switch op { case .add, .subtract: break; default: return }
        let (g, ga, gb, m, cols) = (current.gradient, grads[0], grads[1], current.value.rows, current.value.cols)
        let rowsOfG = g.p! + rs.lowerBound * cols
        if ga.rows != m, let d = ga.p { Elementwise.addColumnSums(into: d, of: rowsOfG, rows: rs.count, cols: cols, columns: cs) }
        if gb.rows != m, let d = gb.p {
            Elementwise.addColumnSums(into: d, of: rowsOfG, rows: rs.count, cols: cols, columns: cs, subtract: op == .subtract)
        }
    }

    /// Whether no two of the prepared tail's sums add into one gradient (so that they may run
    /// by row halves, each half adding into every target in turn).
    var tailTargetsDistinct: Bool {
        let m = current.value.rows
        for i in operands.indices where grads[i].rows != m && grads[i].p != nil {
            for j in operands.indices where j > i && grads[j].rows != m && grads[j].p == grads[i].p { return false }
        }
        return true
    }

    /// Calls `body` with each gradient the prepared tail adds into.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func forEachTailTarget(_ body: (UnsafeMutablePointer<S>) -> Void) {
        let m = current.value.rows
        for i in operands.indices where grads[i].rows != m { if let d = grads[i].p { body(d) } }
    }

    /// The whole tail: column sums split over the cores, or the general broadcasting VJP.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func backwardTail() {
        guard hasTail else { return }
        let o = current.value
        if tailSplitsByColumns { Parallel.columns(o.cols, rows: o.rows) { backwardTail(rows: 0..<o.rows, columns: $0) } } else { broadcastTail() }
    }

    /// A tail that is not only column sums, on one thread.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func broadcastTail() {
        let (o, g) = current
        let (m, none) = (o.rows, Arg<S>(p: nil, rows: 0, cols: 0))
        Elementwise.vjp(op, args[0], args[1], o, g, grads[0].rows == m ? none : grads[0], grads[1].rows == m ? none : grads[1])
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    func run(from t: Int, count: Int) throws {
        if hasRowKernel {
            prepare(t, count, gradients: false)
            Parallel.rows(current.value.rows, cols: current.value.cols) { forwardRows($0) }
            return
        }
        for i in operands.indices { args[i] = operands[i].arg(t, count) }
        do { try op.forward(args, operands.count, out.arg(t, count)) }
        catch let e as KernelError { throw ProgramError.badData(step: t, message: e.message) }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    func vjp(from t: Int, count: Int) {
        guard out.gradBase != nil else { return }
        if hasRowKernel {
            prepare(t, count, gradients: true)
            let (rows, cols) = (current.value.rows, current.value.cols)
            if hasTail && tailSplitsByColumns && tailTargetsDistinct {
                // The bias sums in the rows' hand-off, each core on its own rows (as a RowSection).
                Parallel.rows(rows, cols: cols, { backwardRows($0) }, thenInOrder: { backwardTail(rows: $0, columns: 0..<cols) })
                return
            }
            Parallel.rows(rows, cols: cols) { backwardRows($0) }
            backwardTail()
            return
        }
        for i in operands.indices {
            args[i] = operands[i].arg(t, count)
            grads[i] = op.isDifferentiable(operand: i) ? operands[i].gradArg(t, count) : Arg(p: nil, rows: 0, cols: 0)
        }
        op.vjp(args, grads, operands.count, out.arg(t, count), out.gradArg(t, count))
    }
}

/// Errors met while running a program on bad data.
public enum ProgramError: Error, CustomStringConvertible {
    /// Data an op cannot take, at a step.
    case badData(step: Int, message: String)
    /// The first NaN or ±∞ of a forward pass run with `checkFinite`: the primitive, the value
    /// (its name, or `%id`), the time step, the number, and where a cell file wrote it
    /// (`Graph.Node.origin`), if one did.
    case nonFinite(op: String, value: String, step: Int, number: Double, origin: String?)
    public var description: String {
        switch self {
        case let .badData(step, m): return "\(m) (time step \(step))"
        case let .nonFinite(op, value, step, number, origin):
            return "\(number.isNaN ? "nan" : "\(number)") first appears in \(value) = \(op)(…) at time step \(step)" + (origin.map { ", written at \($0)" } ?? "")
        }
    }
}

/// A zero-initialized block of scalars owned by a program.
final class Arena<S: Scalar> {
    let base: UnsafeMutablePointer<S>
    let count: Int
    @_specialize(where S == Double) @_specialize(where S == Float)
    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { base.deallocate() }
    func pointer(_ offset: Int) -> UnsafeMutablePointer<S> { base + offset }
    @_specialize(where S == Double) @_specialize(where S == Float)
    func zero() {
        Parallel.rows(count, cols: 1) { r in (base + r.lowerBound).update(repeating: 0, count: r.count) }
    }
    /// Copies `xs` in from the start (rounded to `S`: exact for Double).
    func load(_ xs: [Double]) { xs.withUnsafeBufferPointer { S.store($0, into: base) } }
    /// The numbers, as Doubles (exact).
    var doubles: [Double] { S.doubles(base, count: count) }
}
