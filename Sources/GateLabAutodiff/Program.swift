/// A graph made executable: storage laid out once, then forward and reverse passes replayed
/// over it with no allocation — for one evaluation (`steps == 1`) or for a recurrence unrolled
/// over many time steps.
///
/// For a recurrence the graph is *one step*: its `recurrence` pairs say which input leaf
/// (`h_prev`) takes, at step t, the value another node (`h`) had at step t − 1. Storage:
/// - parameters and constants are *shared* by all steps (their gradients accumulate);
/// - per-step input leaves (`x`) and every row-wise node that depends only on them and on
///   shared values are *hoisted*: stored for all steps at once, `[T·B × n]`, and computed by one
///   kernel call over all steps (so `W_ii x_t` for every t is one large matrix product, as in
///   the Theano LSTM tutorial and cuDNN), and differentiated the same way after the loop;
/// - the other nodes are computed step by step; the values a reverse pass needs (those a
///   consumer's VJP reads) are *kept* for every step, the rest live in one scratch frame.
/// Gradients of step nodes live in one frame reused by every step; the gradients flowing
/// into the state leaves are carried to the step before.
/// The fast program in float64, the engine's default precision.
public typealias Program = ProgramOf<Double>

public final class ProgramOf<S: GateLabAutodiff.Scalar>: Executor {
    /// The graph it runs.
    public let graph: Graph
    /// Number of time steps.
    public let steps: Int
    /// The recurrence: at step t > 0 `state` takes the value `next` had at step t − 1.
    public let recurrence: [(state: Int, next: Int)]
    /// Steps per block (a function of the batch size only, so that programs of any length
    /// over the same step graph share block boundaries; see "Passes").
    public let block: Int

    /// The optimizations applied.
    public let options: Options
    /// Where each node's value and gradient live (see StorageLayout.swift).
    private(set) var placement: [Placement]
    /// Instructions run once per block (hoisted) and once per step, after fusion (a measure
    /// of a step's overhead), and the row sections the step's row-wise instructions run in.
    public var instructionCounts: (hoisted: Int, perStep: Int, rowSections: Int) {
        (hoisted.count, stepwise.reduce(0) { $0 + (($1 as? RowSection<S>)?.members.count ?? 1) }, stepwise.count { $0 is RowSection<S> })
    }
    /// Bytes of storage per time step (values kept for the reverse pass, hoisted values and
    /// their gradients): a program of T steps needs about T times this.
    public let bytesPerStep: Int
    /// Bytes of value and gradient storage the program holds (its arenas).
    public var bytesStored: Int { MemoryLayout<S>.size * (arenas + gradArenas).reduce(0) { $0 + $1.count } }
    private var hoisted: [Instruction<S>] = []
    private var stepwise: [Instruction<S>] = []
    /// The gradients the reverse pass zeroes at each step (see GradientZeroing.swift).
    private var zeroing = GradientZeroing()
    /// Value and gradient storage, indexed by `Storage.rawValue` (an array, not a dictionary:
    /// addresses are computed inside the time loop).
    private let arenas: [Arena<S>]
    private let gradArenas: [Arena<S>]
    private var initialStates: [Arena<S>]
    private var carries: [Arena<S>]
    /// The recurrence states' shapes (rows: the batch), in `recurrence`'s order.
    private let stateShapes: [(Int, Int)]
    /// Whether the states are copied between steps by both cores, each its row half
    /// (`Parallel.rowHalf`): the rows its row-wise sections write.
    let splitsStates: Bool
    private var differentiableUse: [Bool]
    /// Input leaves built without a gradient (`withoutGradient`).
    private let gradientless: Set<Int>

    /// Builds the program.
    /// - Parameters:
    ///   - graph: a valid graph (its first building error is thrown otherwise).
    ///   - steps: number of time steps (1 for an ordinary evaluation).
    ///   - recurrence: pairs (state leaf, node giving its next value), same shapes.
    ///   - keep: nodes whose value must be readable at every step after `forward()`.
    ///   - withoutGradient: input leaves whose gradient is not wanted (PyTorch's
    ///     `requires_grad=False`): the reverse pass skips the work that only they need, such
    ///     as the product giving ∂L/∂x from an input projection. Nothing else changes.
    ///   - options: the optimizations to apply (all by default; tests turn them off).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public init(graph: Graph, steps: Int = 1, recurrence: [(state: Value, next: Value)] = [],
                keep: [Value] = [], withoutGradient: [Value] = [], options: Options = .all) throws {
        try graph.validate()
        precondition(steps >= 1, "Program: steps must be ≥ 1")
        Parallel.prepare
        self.graph = graph
        self.steps = steps
        self.options = options
        self.recurrence = try ProgramOf.checked(recurrence, in: graph)
        block = ProgramOf.blockLength(rows: graph.nodes.first { $0.op == .input }?.shape.rows ?? 1)
        gradientless = ProgramOf.checked(withoutGradient: withoutGradient, recurrence: self.recurrence, in: graph)

        // Storage: where each value and gradient lives (shared, hoisted, kept, scratch).
        let layout = StorageLayout(graph: graph, steps: steps, block: block, recurrence: self.recurrence,
                                   keep: keep.map(\.id), gradientless: gradientless,
                                   bytesPerScalar: MemoryLayout<S>.size)
        placement = layout.placement
        differentiableUse = layout.differentiableUse
        bytesPerStep = layout.bytesPerStep
        arenas = layout.valueSizes.map { Arena(count: $0) }
        gradArenas = layout.gradientSizes.map { Arena(count: $0) }
        initialStates = self.recurrence.map { Arena(count: graph.nodes[$0.state].shape.count) }
        carries = self.recurrence.map { Arena(count: graph.nodes[$0.state].shape.count) }
        stateShapes = self.recurrence.map { (graph.nodes[$0.state].shape.rows, graph.nodes[$0.state].shape.cols) }
        let stateShapes = self.stateShapes
        splitsStates = Parallel.withThresholds(options) {
            Parallel.enabled && stateShapes.contains { $0.0 >= 2 } && stateShapes.reduce(0) { $0 + $1.0 * $1.1 } >= Parallel.minimumElements
        }
        loadConstants()

        // Instructions: hoisted ones run once per block, the others once per step; then the
        // fusion passes, the gradients each step zeroes, and the row sections.
        (hoisted, stepwise) = instructions()
        let protected = Set(self.recurrence.map(\.next) + keep.map(\.id))   // read after the pass: never fused away
        stepwise = fuse(stepwise, protected: protected)
        zeroing = GradientZeroing(program: self, stepwise: stepwise, keep: keep.map(\.id))
        if options.contains(.rowSections) { stepwise = groupRowwise(stepwise) }
    }

    /// The optimizations a program may apply (see `ProgramOptions`).
    public typealias Options = ProgramOptions

    /// The recurrence pairs as node ids, checked: each state an input leaf of its next value's shape.
    private static func checked(_ recurrence: [(state: Value, next: Value)], in graph: Graph) throws -> [(state: Int, next: Int)] {
        let nodes = graph.nodes
        for (s, n) in recurrence.map({ ($0.state.id, $0.next.id) }) {
            guard nodes[s].op == .input else { throw AutodiffError.unknownName("state \(nodes[s].name ?? "%\(s)") must be an input leaf") }
            guard nodes[s].shape == nodes[n].shape else {
                throw AutodiffError.feedShape(name: nodes[s].name ?? "%\(s)", expected: nodes[s].shape, got: nodes[n].shape)
            }
        }
        return recurrence.map { ($0.state.id, $0.next.id) }
    }

    /// The input leaves built without a gradient, checked: inputs outside the recurrence.
    private static func checked(withoutGradient: [Value], recurrence: [(state: Int, next: Int)], in graph: Graph) -> Set<Int> {
        let stateLeaves = Set(recurrence.map(\.state))
        for v in withoutGradient {
            precondition(graph.nodes[v.id].op == .input && !stateLeaves.contains(v.id),
                         "Program: withoutGradient takes input leaves outside the recurrence; \(v.name ?? "%\(v.id)") is not one")
        }
        return Set(withoutGradient.map(\.id))
    }

    /// Copies the constants' values into the shared arena.
    private func loadConstants() {
        for (id, node) in graph.nodes.enumerated() where node.op == .constant {
            node.constant!.scalars.withUnsafeBufferPointer { S.store($0, into: arenas[Storage.shared.rawValue].pointer(placement[id].offset)) }
        }
    }

    /// One instruction per non-leaf node, in recording order: the hoisted ones and the step ones.
    private func instructions() -> (hoisted: [Instruction<S>], stepwise: [Instruction<S>]) {
        var hoisted = [Instruction<S>](), stepwise = [Instruction<S>]()
        for (id, node) in graph.nodes.enumerated() where !node.op.isLeaf {
            let ins = Instruction<S>(node: id, op: node.op, operands: node.operands.map { slot($0) }, out: slot(id))
            if placement[id].storage == .sequence { hoisted.append(ins) } else { stepwise.append(ins) }
        }
        return (hoisted, stepwise)
    }

    /// The fusion passes `options` allow, in order (FusedProducts.swift, FusedSums.swift).
    private func fuse(_ list: [Instruction<S>], protected: Set<Int>) -> [Instruction<S>] {
        var list = list
        if options.contains(.fuseProducts) { list = fuseProducts(list) }
        if options.contains(.fuseSums) {
            list = fuseSums(list, protected: protected)
            linkFusedReads(list, protected: protected)
        }
        if options.contains(.fuseProductSums) { list = fuseProductSums(list, protected: protected) }
        return list
    }

    // MARK: Feeding and reading

    /// Sets a parameter, a constant-shaped input of a one-step program, or (for a state leaf)
    /// the initial state.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func set(_ leaf: Value, _ tensor: Tensor) throws {
        try checkShape(leaf, tensor)
        if let k = recurrence.firstIndex(where: { $0.state == leaf.id }) {
            initialStates[k].load(tensor.scalars)
        } else {
            try set(leaf, step: 0, tensor)
        }
    }

    /// Sets the value of a per-step input leaf at `step`.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func set(_ leaf: Value, step: Int, _ tensor: Tensor) throws {
        try checkShape(leaf, tensor)
        let p = placement[leaf.id]
        tensor.scalars.withUnsafeBufferPointer { S.store($0, into: address(p, step)) }
    }

    /// Sets a per-step input leaf for all steps at once: `scalars` holds step 0's rows, then
    /// step 1's, … (`steps · rows · cols` numbers).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func setSequence(_ leaf: Value, _ scalars: [Double]) throws {
        let p = placement[leaf.id], n = leaf.shape.count
        guard p.storage == .sequence, scalars.count == n * steps else {
            throw AutodiffError.feedShape(name: leaf.name ?? "%\(leaf.id)", expected: Shape(steps * leaf.shape.rows, leaf.shape.cols),
                                          got: Shape(scalars.count / max(leaf.shape.cols, 1), leaf.shape.cols))
        }
        scalars.withUnsafeBufferPointer { S.store($0, into: address(p, 0)) }
    }

    /// The value of `v` at `step` (for step nodes: kept ones at any step, others at the last
    /// step computed).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func value(of v: Value, step: Int) -> Tensor {
        let p = placement[v.id]
        precondition(p.storage != .scratch || step == steps - 1, "value(of:step:): \(v.name ?? "%\(v.id)") is not kept for every step")
        precondition(p.window == 0, "value(of:step:): \(v.name ?? "%\(v.id)") is stored for one block of steps only (pass it in `keep:`)")
        return Tensor(rows: v.shape.rows, cols: v.shape.cols,
                      scalars: S.doubles(address(p, p.storage == .scratch ? 0 : step), count: v.shape.count))
    }

    /// The gradient of the seeded loss with respect to `v` (at `step` for per-step values;
    /// parameters' gradients are summed over steps). Throws when `v` reaches the loss only
    /// through an operand that is not differentiated.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func gradient(of v: Value, step: Int) throws -> Tensor {
        let p = placement[v.id]
        if let k = recurrence.firstIndex(where: { $0.state == v.id }), step == 0 {
            return Tensor(rows: v.shape.rows, cols: v.shape.cols, scalars: carries[k].doubles)
        }
        guard !gradientless.contains(v.id) else { throw AutodiffError.notDifferentiated(v.name ?? "%\(v.id)") }
        guard p.hasGradient, differentiableUse[v.id] || !graph.nodes.contains(where: { $0.operands.contains(v.id) }) else {
            let consumer = graph.nodes.first { $0.operands.contains(v.id) }
            throw AutodiffError.noGradient(value: v.name ?? "%\(v.id)", op: consumer?.op.name ?? "nothing")
        }
        precondition(p.gradWindow == 0, "gradient(of:step:): the gradient of \(v.name ?? "%\(v.id)") is stored for one block of steps only")
        precondition(p.storage == .sequence || p.storage == .shared || step == 0,
                     "gradient(of:step:): per-step gradients of \(v.name ?? "%\(v.id)") are only seen during backward (use `carried`)")
        return Tensor(rows: v.shape.rows, cols: v.shape.cols,
                      scalars: S.doubles(gradAddress(p, step), count: v.shape.count))
    }

    /// The gradient of a per-step input leaf for steps `0 ..< count`, step after step
    /// (count · rows · cols numbers), after `backward`.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func sequenceGradient(of leaf: Value, count: Int?) -> [Double] {
        let p = placement[leaf.id]
        precondition(p.storage == .sequence && p.hasGradient, "sequenceGradient: \(leaf.name ?? "%\(leaf.id)") is not a per-step input")
        return S.doubles(gradAddress(p, 0), count: (count ?? steps) * leaf.shape.count)
    }

    /// The value the state leaf `state` reaches after step `last` (default: the last step of
    /// the program; pass `n − 1` after a forward pass over `0 ..< n`).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func finalState(_ state: Value, last: Int?) -> Tensor {
        let k = recurrence.firstIndex { $0.state == state.id }!
        let next = graph.value(recurrence[k].next)
        let p = placement[next.id]
        return Tensor(rows: next.shape.rows, cols: next.shape.cols,
                      scalars: S.doubles(address(p, p.storage == .scratch ? 0 : (last ?? steps - 1)), count: next.shape.count))
    }

    // MARK: Passes
    //
    // Steps are processed in blocks of `block` steps, aligned at step 0: hoisted nodes run (and
    // are differentiated) one block at a time, and fused products add their weights' gradient
    // once per block. A long sequence cut into segments whose lengths are multiples of the
    // block (checkpointing) therefore does exactly the same arithmetic, in the same order, as
    // one pass over the whole sequence: gradients are bit-identical.


    /// Steps per block for a batch of `rows` rows: about 1024 stacked rows per block.
    public static func blockLength(rows: Int) -> Int { max(1, 1024 / max(rows, 1)) }

    private func blocks(_ range: Range<Int>) -> [Range<Int>] {
        stride(from: range.lowerBound, to: range.upperBound, by: block).map { $0..<Swift.min($0 + block, range.upperBound) }
    }

    /// Runs the forward pass over `range` (within `0 ..< steps`), which must start at 0 or
    /// continue a previous call at a block boundary.
    /// - Parameters:
    ///   - range: the time steps to run.
    ///   - checkFinite: after every instruction, check its output for NaN or ±∞ and
    ///     throw `ProgramError.nonFinite` naming the op, the value and the time step where one
    ///     first appears (slower: for diagnosing a diverged run).
    public func forward(steps range: Range<Int>, checkFinite: Bool) throws {
        try Parallel.withThresholds(options) { try runForward(steps: range, checkFinite: checkFinite) }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    private func runForward(steps range: Range<Int>, checkFinite: Bool) throws {
        guard !range.isEmpty else { return }
        precondition(range.upperBound <= steps, "forward: steps \(range) beyond the program's \(steps)")
        // The lists as locals: the time loop then reads no stored property of the program (no
        // exclusivity checks, no reference counting per step).
        let (stepwise, hoisted, recurrence, placement, initialStates) = (self.stepwise, self.hoisted, self.recurrence, self.placement, self.initialStates)
        let (stateShapes, splitsStates) = (self.stateShapes, self.splitsStates)
        let stepRefs = stepwise.map(Unmanaged.passUnretained)   // owned by `stepwise`
        if range.lowerBound == 0 { for ins in stepwise { ins.beginForward() } }
        for b in blocks(range) {
            for ins in hoisted {
                try ins.run(from: b.lowerBound, count: b.count)
                if checkFinite { try check(ins, from: b.lowerBound, count: b.count) }
            }
            for t in b {
                // The states into step t, each core copying the batch rows its row-wise
                // sections write (`Parallel.rowHalf`).
                Parallel.inParts(splitsStates) { part, parts in
                    for (k, (s, n)) in recurrence.enumerated() {
                        let (rows, cols) = stateShapes[k], rs = Parallel.rowHalf(part, of: rows, parts: parts)
                        let dst = address(placement[s], t) + rs.lowerBound * cols
                        let src = t == 0 ? initialStates[k].base : address(placement[n], t - 1)
                        dst.update(from: src + rs.lowerBound * cols, count: rs.count * cols)
                    }
                }
                for ins in stepRefs {
                    try ins._withUnsafeGuaranteedRef { try $0.run(from: t, count: 1) }
                    if checkFinite { try check(ins.takeUnretainedValue(), from: t, count: 1) }
                }
            }
        }
    }

    /// Throws `nonFinite` if an instruction's output (every member's, for fused ones) holds
    /// NaN or ±∞ at steps `t ..< t + count`.
    private func check(_ ins: Instruction<S>, from t: Int, count: Int) throws {
        if let s = ins as? RowSection<S> {   // in program order: the first to hold one is named
            for m in s.members { try check(m, from: t, count: count) }
            return
        }
        var outputs = [(ins.node, ins.out)]
        if let f = ins as? FusedProducts<S> {
            // Members read in place are checked in the fused buffer (one step, rows × width).
            for (k, m) in f.members.enumerated() where f.direct[k] {
                for r in 0..<f.rows { for c in 0..<m.out.cols where !f.outputs[r * f.width + f.offsets[k] + c].isFinite {
                    let n = graph.nodes[m.node]
                    throw ProgramError.nonFinite(op: n.op.name, value: n.name ?? "%\(m.node)", step: t, number: Double(f.outputs[r * f.width + f.offsets[k] + c]), origin: n.origin)
                } }
            }
            outputs = f.members.enumerated().filter { !f.direct[$0.offset] }.map { ($0.element.node, $0.element.out) }
        }
        for (node, slot) in outputs {
            let a = slot.arg(t, count)
            let per = slot.rows * slot.cols
            for k in 0..<a.count where !a.p![k].isFinite {
                let n = graph.nodes[node]
                throw ProgramError.nonFinite(op: n.op.name, value: n.name ?? "%\(node)", step: t + (slot.stacks ? k / per : 0), number: Double(a.p![k]), origin: n.origin)
            }
        }
    }

    /// `Seeds`, as `backward`'s closures receive them.
    public typealias Seeds = SeedsOf<S>

    /// Runs the reverse pass from the last step computed to the first.
    /// - Parameters:
    ///   - count: the number of steps of the forward pass (default: all).
    ///   - incoming: gradients flowing into the final states from later steps (a sequence
    ///     processed in segments), one array per recurrence pair; nil for none.
    ///   - accumulate: add the parameters' gradients to those of the previous reverse pass
    ///     (segments of one sequence) instead of starting from zero.
    ///   - seed: called at each step (last first) to add ∂L/∂v for the values the loss reads.
    ///   - carried: called at each step t after its VJPs with (a) access to step t's complete
    ///     gradients — e.g. of the new-state nodes, ∂L/∂ state after step t — and (b) the
    ///     gradients flowing into the state leaves (∂L/∂ state after step t − 1), one buffer per
    ///     recurrence pair, which it may read or rescale (the probe rescales them to avoid
    ///     underflow).
    public func backward(count: Int?, incoming: [[Double]]?, accumulate: Bool,
                         seed: (Seeds) throws -> Void,
                         carried: ((Seeds, [UnsafeMutableBufferPointer<S>]) -> Void)?) throws {
        try Parallel.withThresholds(options) {
            try runBackward(count: count, incoming: incoming, accumulate: accumulate, seed: seed, carried: carried)
        }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    private func runBackward(count: Int?, incoming: [[Double]]?, accumulate: Bool,
                             seed: (Seeds) throws -> Void,
                             carried: ((Seeds, [UnsafeMutableBufferPointer<S>]) -> Void)?) throws {
        let n = count ?? steps
        // The hoisted values' gradients (all steps: by far the largest arena) are zeroed one
        // step at a time, just before the step's VJPs write them, while they are in cache.
        for (i, a) in gradArenas.enumerated() where i != Storage.sequence.rawValue && (i != Storage.shared.rawValue || !accumulate) { a.zero() }
        let zeroing = self.zeroing.bound(frame: gradArenas[Storage.scratch.rawValue].base, sequence: gradArenas[Storage.sequence.rawValue].base)
        zeroing.zeroSequenceGradients(n..<steps)
        let (stepwise, hoisted, recurrence, placement, carries) = (self.stepwise, self.hoisted, self.recurrence, self.placement, self.carries)
        let (stateShapes, splitsStates) = (self.stateShapes, self.splitsStates)
        let reversed = stepwise.reversed().map(Unmanaged.passUnretained)   // owned by `stepwise`
        for ins in stepwise { ins.beginBackward() }
        let carryBuffers = carries.map { UnsafeMutableBufferPointer(start: $0.base, count: $0.count) }
        for (k, c) in carries.enumerated() {
            if let incoming { c.load(incoming[k]) } else { c.zero() }
        }
        // Between two steps: the state leaves' gradients at step t + 1 into `carries` (unless
        // `carried` already took them), step t's gradients zeroed, the carries added into the
        // new states' gradients at step t. Split over the cores by batch rows
        // (`Parallel.rowHalf`, as the zeroing splits every tensor), so that each core moves the
        // rows its row-wise sections write.
        let splits = zeroing.splits || splitsStates
        func carry(from t: Int, part: Int, of parts: Int) {
            for (k, (s, _)) in recurrence.enumerated() {
                let (rows, cols) = stateShapes[k], rs = Parallel.rowHalf(part, of: rows, parts: parts)
                let (o, c) = (rs.lowerBound * cols, rs.count * cols)
                (carries[k].base + o).update(from: gradAddress(placement[s], t) + o, count: c)
            }
        }
        func betweenSteps(_ t: Int, carryFrom later: Int?, add: Bool, part: Int, of parts: Int) {
            if let later { carry(from: later, part: part, of: parts) }
            zeroing.zero(step: t, part: part, of: parts)
            guard add else { return }
            for (k, (_, next)) in recurrence.enumerated() {
                let (rows, cols) = stateShapes[k], rs = Parallel.rowHalf(part, of: rows, parts: parts)
                let (g, c) = (gradAddress(placement[next], t), carries[k].base)
                for j in (rs.lowerBound * cols)..<(rs.upperBound * cols) { g[j] += c[j] }
            }
        }
        var pending = incoming != nil
        var uncarried: Int? = nil   // a step whose state gradients are not in `carries` yet
        for b in blocks(0..<n).reversed() {
            for t in b.reversed() {
                let add = t < n - 1 || pending
                Parallel.inParts(splits) { betweenSteps(t, carryFrom: uncarried, add: add, part: $0, of: $1) }
                pending = false
                try seed(SeedsOf(source: self, step: t))
                for ins in reversed { ins._withUnsafeGuaranteedRef { $0.vjp(from: t, count: 1) } }
                if let carried {
                    Parallel.inParts(splitsStates) { carry(from: t, part: $0, of: $1) }
                    carried(SeedsOf(source: self, step: t), carryBuffers)
                    uncarried = nil
                } else {
                    uncarried = t
                }
            }
            for ins in stepwise { ins.endBlock() }
            for ins in hoisted.reversed() { ins.vjp(from: b.lowerBound, count: b.count) }
        }
        if let t = uncarried { Parallel.inParts(splitsStates) { carry(from: t, part: $0, of: $1) } }
        for ins in stepwise { ins.endBackward() }
    }

    // MARK: Storage

    private func checkShape(_ leaf: Value, _ tensor: Tensor) throws {
        guard leaf.node.op.isLeaf else { throw AutodiffError.unknownName("\(leaf.name ?? "%\(leaf.id)") is not a leaf") }
        guard tensor.shape == leaf.shape else {
            throw AutodiffError.feedShape(name: leaf.name ?? "%\(leaf.id)", expected: leaf.shape, got: tensor.shape)
        }
    }

    fileprivate func address(_ p: Placement, _ t: Int) -> UnsafeMutablePointer<S> {
        arenas[p.storage.rawValue].pointer(p.offset + (p.window > 0 ? t % p.window : t) * p.stride)
    }

    fileprivate func gradAddress(_ p: Placement, _ t: Int) -> UnsafeMutablePointer<S> {
        let g: Storage = p.storage == .kept ? .scratch : p.storage
        return gradArenas[g.rawValue].pointer(p.gradOffset + (p.gradWindow > 0 ? t % p.gradWindow : t) * p.gradStride)
    }

    func slot(_ id: Int) -> Slot<S> {
        let p = placement[id], shape = graph.nodes[id].shape
        let g: Storage = p.storage == .kept ? .scratch : p.storage
        return Slot<S>(base: arenas[p.storage.rawValue].pointer(p.offset), stride: p.stride,
                    gradBase: p.hasGradient ? gradArenas[g.rawValue].pointer(p.gradOffset) : nil,
                    gradStride: p.gradStride, rows: shape.rows, cols: shape.cols,
                    stacks: p.storage == .sequence, window: p.window, gradWindow: p.gradWindow)
    }
}

extension ProgramOf: SeedSource {
    @_specialize(where S == Double) @_specialize(where S == Float)
    func seedGradient(of v: Value, step: Int) -> UnsafeMutableBufferPointer<S> {
        let p = placement[v.id]
        precondition(p.storage == .sequence || p.storage == .shared || zeroing.nodes.contains(v.id),
                     "Seeds: \(v.name ?? "%\(v.id)") is an intermediate value; seed a state, an input or a value passed in `keep:`")
        return UnsafeMutableBufferPointer(start: gradAddress(p, step), count: v.shape.count)
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    func seedValue(of v: Value, step: Int) -> UnsafeMutableBufferPointer<S> {
        let p = placement[v.id]
        return UnsafeMutableBufferPointer(start: address(p, p.storage == .scratch ? 0 : step), count: v.shape.count)
    }
}

/// The optimizations a program may apply to its step's instruction list. Every one keeps
/// the bits of every value; `fuseProducts` alone changes the rounding of gradients (it adds
/// the gates' products, and the weights' gradient over a block of steps, in one DGEMM).
/// Tests turn them off to check that by machine.
public struct ProgramOptions: OptionSet, Sendable {
    /// The set as bits (one per optimization).
    public let rawValue: Int
    /// Creates a set from its raw bits.
    public init(rawValue: Int) { self.rawValue = rawValue }
    /// The step products sharing their left operand as one product (FusedProducts).
    public static let fuseProducts = ProgramOptions(rawValue: 1 << 0)
    /// Addition chains ending in an activation as one instruction (FusedSum), reading a
    /// fused product's output in place when `fuseProducts` is on too.
    public static let fuseSums = ProgramOptions(rawValue: 1 << 1)
    /// `a ⊙ b + c ⊙ d` as one instruction (FusedProductSum).
    public static let fuseProductSums = ProgramOptions(rawValue: 1 << 2)
    /// Consecutive row-wise instructions run with one hand-off to the helper (RowSection).
    public static let rowSections = ProgramOptions(rawValue: 1 << 3)
    /// Every optimization (the default).
    public static let all: ProgramOptions = [.fuseProducts, .fuseSums, .fuseProductSums, .rowSections]
    /// No work split over the two threads, whatever its size (the bits of one thread).
    public static let splitNothing = ProgramOptions(rawValue: 1 << 8)
    /// Every piece of work that can be split over the two threads is, however small (tests
    /// of the split's bits on small shapes).
    public static let splitEverything = ProgramOptions(rawValue: 1 << 9)
}
