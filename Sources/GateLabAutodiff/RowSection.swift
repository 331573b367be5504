// Running a step's chain of row-wise instructions with one hand-off. After the fused product,
// an LSTM step is seven row-wise instructions (four gates, c', tanh c', h'); split one by one
// they would cost seven hand-offs and seven waits a step, in each direction. Rows r of each
// depend only on rows r of the ones before, so one
// split serves the whole chain: each core runs every instruction on its half of the rows.
// The reverse pass's tails (the biases' column sums) run in the same hand-off when every
// tail adds into a gradient of its own (`Parallel.rows(_:cols:_:thenInOrder:)`): core 0 adds
// its rows, then core 1 its rows, so each column still adds rows 0, 1, … in order and neither
// core reads the other's rows. Same kernels, same order for every element: the bits do not change.
extension ProgramOf {
    /// Replaces runs of two or more consecutive row-wise step instructions with the same row
    /// count (at least two rows) by `RowSection`s.
    func groupRowwise(_ list: [Instruction<S>]) -> [Instruction<S>] {
        var result = [Instruction<S>](), run = [Instruction<S>]()
        func close() {
            if run.count >= 2 { result.append(RowSection(run)) } else { result += run }
            run = []
        }
        for ins in list {
            if ins.hasRowKernel, !ins.out.stacks, ins.out.rows >= 2, run.isEmpty || run[0].out.rows == ins.out.rows {
                run.append(ins)
            } else {
                close()
                if ins.hasRowKernel, !ins.out.stacks, ins.out.rows >= 2 { run.append(ins) } else { result.append(ins) }
            }
        }
        close()
        return result
    }
}

/// Instructions referenced without reference counting, for the time loop (the program owns
/// them): iterating an array of class references retains and releases every element, and when
/// both cores iterate the same list in a split section those counts are one cache line written
/// by both, which crosses between the cores at every step (350 ns a crossing when they do not
/// share an L3 cache).
struct UnretainedInstructions<S: Scalar> {
    private let refs: UnsafeMutableBufferPointer<Unmanaged<Instruction<S>>>
    init(_ list: [Instruction<S>]) {
        refs = .allocate(capacity: list.count)
        _ = refs.initialize(from: list.map(Unmanaged.passUnretained))
    }
    func deallocate() { refs.deallocate() }
    /// Calls `body` with each instruction in order, at +0.
    @inline(__always) func forEach(_ body: (Instruction<S>) throws -> Void) rethrows {
        for i in refs.indices { try refs[i]._withUnsafeGuaranteedRef(body) }
    }
}

/// Row-wise instructions run as one: forward, every member on each core's rows in order;
/// reverse, every member's row part in reverse order, then their tails in reverse order.
final class RowSection<S: Scalar>: Instruction<S> {
    let members: [Instruction<S>]
    private let rows: Int, width: Int

    /// The members that have a gradient, in reverse order: those the reverse pass runs.
    private let active: [Instruction<S>]
    /// `members` and `active` for the time loop.
    private let memberRefs: UnretainedInstructions<S>, activeRefs: UnretainedInstructions<S>

    /// Whether the prepared tails may run by row halves, core 1 after core 0: there are
    /// tails, all of them column sums, each into a gradient of its own. (Two tails into one
    /// gradient would interleave their rows differently from one call's order.)
    private func tailsRunByRows() -> Bool {
        targets.removeAll(keepingCapacity: true)
        var distinct = true, allColumnSums = true
        activeRefs.forEach { m in
            guard allColumnSums, m.hasTail else { return }
            guard m.tailSplitsByColumns else { allColumnSums = false; return }
            m.forEachTailTarget { d in
                if targets.contains(d) { distinct = false } else { targets.append(d) }
            }
        }
        return allColumnSums && distinct && !targets.isEmpty
    }
    private var targets: [UnsafeMutablePointer<S>] = []

    init(_ members: [Instruction<S>]) {
        self.members = members
        active = members.filter { $0.out.gradBase != nil }.reversed()
        rows = members[0].out.rows
        width = members.reduce(0) { $0 + $1.out.cols }
        let last = members.last!
        memberRefs = UnretainedInstructions(members)
        activeRefs = UnretainedInstructions(active)
        super.init(node: last.node, op: last.op, operands: last.operands, out: last.out)
    }
    deinit { memberRefs.deallocate(); activeRefs.deallocate() }

    override var hasRowKernel: Bool { @_specialize(where S == Double) @_specialize(where S == Float) get { false } }
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func beginForward() { for m in members { m.beginForward() } }
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func beginBackward() { for m in members { m.beginBackward() } }
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func endBlock() { for m in members { m.endBlock() } }
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func endBackward() { for m in members { m.endBackward() } }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func run(from t: Int, count: Int) throws {
        let members = memberRefs
        members.forEach { $0.prepare(t, count, gradients: false) }
        Parallel.rows(rows, cols: width) { r in members.forEach { $0.forwardRows(r) } }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func vjp(from t: Int, count: Int) {
        let active = activeRefs
        active.forEach { $0.prepare(t, count, gradients: true) }
        if tailsRunByRows() {
            // Each core runs its rows and then adds them into the biases' column sums, core 1
            // after core 0, so every column adds rows 0, 1, … in order as in one call, and no
            // core reads the other's rows.
            Parallel.rows(rows, cols: width, { r in active.forEach { $0.backwardRows(r) } }, thenInOrder: { r in
                active.forEach { m in if m.hasTail { m.backwardTail(rows: r, columns: 0..<m.current.value.cols) } }
            })
            return
        }
        Parallel.rows(rows, cols: width) { r in active.forEach { $0.backwardRows(r) } }
        // The tails (biases' column sums) in one split by columns, when they are all column
        // sums: each column's sum keeps its order, whichever core adds it.
        var anyTail = false, allColumnSums = true
        active.forEach { m in if m.hasTail { anyTail = true; allColumnSums = allColumnSums && m.tailSplitsByColumns } }
        guard anyTail else { return }
        if allColumnSums {
            func part(_ p: Int) {
                active.forEach { m in
                    guard m.hasTail else { return }
                    let cs = Parallel.half(p, of: m.current.value.cols)
                    if !cs.isEmpty { m.backwardTail(rows: 0..<m.current.value.rows, columns: cs) }
                }
            }
            if Parallel.enabled && rows * width >= Parallel.minimumElements { Parallel.two(part) } else { part(0); part(1) }
        } else {
            active.forEach { $0.backwardTail() }
        }
    }
}
