// Running a step's chain of row-wise instructions with one hand-off. After the fused product,
// an LSTM step is seven row-wise instructions (four gates, c', tanh c', h'); split one by one
// they would cost seven hand-offs and seven waits a step, in each direction. Rows r of each
// depend only on rows r of the ones before, so one
// split serves the whole chain: each core runs every instruction on its half of the rows,
// then the reverse pass's tails (the biases' column sums) run after. Same kernels, same
// order for every element: the bits do not change.
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
            if ins.isRowwise, !ins.out.stacks, ins.out.rows >= 2, run.isEmpty || run[0].out.rows == ins.out.rows {
                run.append(ins)
            } else {
                close()
                if ins.isRowwise, !ins.out.stacks, ins.out.rows >= 2 { run.append(ins) } else { result.append(ins) }
            }
        }
        close()
        return result
    }
}

/// Row-wise instructions run as one: forward, every member on each core's rows in order;
/// reverse, every member's row part in reverse order, then their tails in reverse order.
final class RowSection<S: Scalar>: Instruction<S> {
    let members: [Instruction<S>]
    private let rows: Int, width: Int

    /// The members that have a gradient, in reverse order: those the reverse pass runs.
    private let active: [Instruction<S>]

    init(_ members: [Instruction<S>]) {
        self.members = members
        active = members.filter { $0.out.gradBase != nil }.reversed()
        rows = members[0].out.rows
        width = members.reduce(0) { $0 + $1.out.cols }
        let last = members.last!
        super.init(node: last.node, op: last.op, operands: last.operands, out: last.out)
    }

    override var isRowwise: Bool { @_specialize(where S == Double) @_specialize(where S == Float) get { false } }
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
        for m in members { m.prepare(t, count, gradients: false) }
        let members = self.members
        Parallel.rows(rows, cols: width) { r in for m in members { m.forwardRows(r) } }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func vjp(from t: Int, count: Int) {
        let active = self.active
        for m in active { m.prepare(t, count, gradients: true) }
        Parallel.rows(rows, cols: width) { r in for m in active { m.backwardRows(r) } }
        // The tails (biases' column sums) in one split by columns, when they are all column
        // sums: each column's sum keeps its order, whichever core adds it.
        guard active.contains(where: \.hasTail) else { return }
        if active.allSatisfy(\.tailSplitsByColumns) {
            func part(_ p: Int) {
                for m in active where m.hasTail {
                    let cs = Parallel.half(p, of: m.current.value.cols)
                    if !cs.isEmpty { m.backwardTail(columns: cs) }
                }
            }
            if Parallel.enabled && rows * width >= Parallel.minimumElements { Parallel.two(part) } else { part(0); part(1) }
        } else {
            for m in active { m.backwardTail() }
        }
    }
}
