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
public final class Program: Executor {
    /// The graph it runs.
    public let graph: Graph
    /// Number of time steps.
    public let steps: Int
    /// The recurrence: at step t > 0 `state` takes the value `next` had at step t − 1.
    public let recurrence: [(state: Int, next: Int)]
    /// Steps per block (a function of the batch size only, so that programs of any length
    /// over the same step graph share block boundaries; see "Passes").
    public let block: Int

    enum Storage: Int, CaseIterable { case shared, sequence, kept, scratch }
    struct Placement {
        var storage: Storage
        var offset = 0, stride = 0
        var hasGradient = false
        var gradOffset = 0, gradStride = 0
        /// Steps a hoisted value (gradient) is stored for: 0 for every step, else one block's
        /// worth, reused block after block (step t at t mod window).
        var window = 0, gradWindow = 0
    }
    private(set) var placement: [Placement]
    /// Instructions run once per block (hoisted) and once per step, after fusion (a measure
    /// of a step's overhead), and the row sections the step's row-wise instructions run in.
    public var instructionCounts: (hoisted: Int, perStep: Int, rowSections: Int) {
        (hoisted.count, stepwise.reduce(0) { $0 + (($1 as? RowSection)?.members.count ?? 1) }, stepwise.count { $0 is RowSection })
    }
    /// Bytes of storage per time step (values kept for the reverse pass, hoisted values and
    /// their gradients): a program of T steps needs about T times this.
    public private(set) var bytesPerStep = 0
    /// Bytes of value and gradient storage the program holds (its arenas).
    public var bytesStored: Int { 8 * (arenas + gradArenas).reduce(0) { $0 + $1.count } }
    private var hoisted: [Instruction] = []
    private var stepGradientRanges: [(Int, Int)] = []
    private var stepGradientCount = 0
    /// Per hoisted value with a gradient: its gradient's offset in the sequence arena and its
    /// size at one step (the gradient at step t starts at offset + t · size).
    private var sequenceGradientSlices: [(offset: Int, count: Int, window: Int)] = []
    var zeroedEachStep = Set<Int>()
    private var stepwise: [Instruction] = []
    /// Value and gradient storage, indexed by `Storage.rawValue` (an array, not a dictionary:
    /// addresses are computed inside the time loop).
    private let arenas: [Arena]
    private let gradArenas: [Arena]
    private var initialStates: [Arena]
    private var carries: [Arena]
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
    public init(graph: Graph, steps: Int = 1, recurrence: [(state: Value, next: Value)] = [],
                keep: [Value] = [], withoutGradient: [Value] = []) throws {
        try graph.validate()
        precondition(steps >= 1, "Program: steps must be ≥ 1")
        Parallel.prepare
        self.graph = graph
        self.steps = steps
        self.recurrence = recurrence.map { ($0.state.id, $0.next.id) }
        let nodes = graph.nodes
        block = Program.blockLength(rows: nodes.first { $0.op == .input }?.shape.rows ?? 1)
        for (s, n) in self.recurrence {
            guard nodes[s].op == .input else { throw AutodiffError.unknownName("state \(nodes[s].name ?? "%\(s)") must be an input leaf") }
            guard nodes[s].shape == nodes[n].shape else {
                throw AutodiffError.feedShape(name: nodes[s].name ?? "%\(s)", expected: nodes[s].shape, got: nodes[n].shape)
            }
        }
        let stateLeaves = Set(self.recurrence.map(\.state))
        for v in withoutGradient {
            precondition(nodes[v.id].op == .input && !stateLeaves.contains(v.id),
                         "Program: withoutGradient takes input leaves outside the recurrence; \(v.name ?? "%\(v.id)") is not one")
        }
        gradientless = Set(withoutGradient.map(\.id))

        // Placement: shared, hoisted (sequence), or per step.
        var place = [Placement]()
        for (id, node) in nodes.enumerated() {
            switch node.op {
            case .parameter, .constant: place.append(Placement(storage: .shared))
            case .input: place.append(Placement(storage: stateLeaves.contains(id) ? .kept : .sequence))
            default:
                let canHoist = steps > 1 && Program.hoistable(node, nodes, place)
                place.append(Placement(storage: canHoist ? .sequence : .scratch))
            }
        }
        // A hoisted `x • W + b` (a bias added to an input product) whose consumers all run step
        // by step stays in the step: the step's fused gate sum then adds the bias itself, which
        // saves a pass over all steps' gate values and its gradient (a copy) per block.
        for (id, node) in nodes.enumerated() where place[id].storage == .sequence && node.op == .add {
            let consumers = nodes.indices.filter { nodes[$0].operands.contains(id) }
            let biasAdded = node.operands.contains { place[$0].storage == .shared && nodes[$0].shape.rows == 1 }
            if biasAdded, consumers.count == 1, consumers.allSatisfy({ place[$0].storage != .sequence && nodes[$0].op == .add }),
               !keep.contains(where: { $0.id == id }) {
                place[id].storage = .scratch
            }
        }
        // Keep the step values some VJP reads, and those asked for; with one step keep all.
        for (id, node) in nodes.enumerated() where !node.op.isLeaf {
            let needs = node.op.vjpReads
            if needs.operands { for o in node.operands where place[o].storage == .scratch { place[o].storage = .kept } }
            if needs.output && place[id].storage == .scratch { place[id].storage = .kept }
        }
        for v in keep where place[v.id].storage == .scratch { place[v.id].storage = .kept }
        if steps == 1 { for i in place.indices where place[i].storage == .scratch { place[i].storage = .kept } }

        // Which nodes carry a gradient: those reached from a parameter or input through
        // operands the op differentiates.
        differentiableUse = Array(repeating: false, count: nodes.count)
        for (id, node) in nodes.enumerated() {
            switch node.op {
            case .parameter, .input: place[id].hasGradient = !gradientless.contains(id)
            case .constant: break
            default:
                for (i, o) in node.operands.enumerated() where node.op.isDifferentiable(operand: i) {
                    differentiableUse[o] = true
                    if place[o].hasGradient { place[id].hasGradient = true }
                }
            }
        }

        // Hoisted values that no reverse pass reads (an input projection: its VJP reads x and W,
        // not x W), and hoisted gradients (consumed by the hoisted VJPs at the end of their
        // block), are stored for one block, not for every step: far less memory and memory
        // traffic (Notes/performance.md). Input leaves, and values kept or read by a VJP, are
        // stored for every step.
        var readInReverse = Set(keep.map(\.id) + self.recurrence.map(\.next))
        for (id, node) in nodes.enumerated() where !node.op.isLeaf {
            let reads = node.op.vjpReads
            if reads.operands { readInReverse.formUnion(node.operands) }
            if reads.output { readInReverse.insert(id) }
        }
        for (id, node) in nodes.enumerated() where place[id].storage == .sequence && !node.op.isLeaf && steps > block {
            if !readInReverse.contains(id) { place[id].window = block }
            if place[id].hasGradient { place[id].gradWindow = block }
        }

        // Offsets and strides.
        var size: [Storage: Int] = [:], gradSize: [Storage: Int] = [:]
        var sequenceEveryStep = 0   // what the sequence arenas would hold for every step
        var frame = 0
        for (id, node) in nodes.enumerated() {
            let n = node.shape.count
            var p = place[id]
            switch p.storage {
            case .shared: p.offset = size[.shared, default: 0]; size[.shared, default: 0] += n
            case .sequence:
                p.offset = size[.sequence, default: 0]; p.stride = n
                size[.sequence, default: 0] += n * (p.window > 0 ? p.window : steps)
                sequenceEveryStep += n * steps
            case .kept: p.offset = frame; frame += n
            case .scratch: p.offset = size[.scratch, default: 0]; size[.scratch, default: 0] += n
            }
            if p.hasGradient {
                let g: Storage = p.storage == .kept ? .scratch : p.storage   // step gradients share one frame
                p.gradOffset = gradSize[g, default: 0]
                p.gradStride = g == .sequence ? n : 0
                gradSize[g, default: 0] += g == .sequence ? n * (p.gradWindow > 0 ? p.gradWindow : steps) : n
                if g == .sequence { sequenceEveryStep += n * steps }
            }
            place[id] = p
        }
        for i in place.indices where place[i].storage == .kept { place[i].stride = frame }
        // As if every hoisted value were stored for every step: an upper bound (what a program of
        // one block, as `Unrolled` measures it, stores) that does not depend on the length.
        bytesPerStep = 8 * (frame + sequenceEveryStep / steps)
        size[.kept] = frame * steps
        arenas = Storage.allCases.map { Arena(count: size[$0, default: 0]) }   // in rawValue order
        gradArenas = Storage.allCases.map { Arena(count: gradSize[$0, default: 0]) }
        placement = place
        initialStates = self.recurrence.map { Arena(count: nodes[$0.state].shape.count) }
        carries = self.recurrence.map { Arena(count: nodes[$0.state].shape.count) }
        for (id, node) in nodes.enumerated() where node.op == .constant {
            node.constant!.scalars.withUnsafeBufferPointer { arenas[Storage.shared.rawValue].pointer(place[id].offset).update(from: $0.baseAddress!, count: $0.count) }
        }
        for (id, node) in nodes.enumerated() where !node.op.isLeaf {
            let ins = Instruction(node: id, op: node.op, operands: node.operands.map { slot($0) }, out: slot(id))
            if place[id].storage == .sequence { hoisted.append(ins) } else { stepwise.append(ins) }
        }
        // Values read after the pass (next states, `keep`) are never fused away.
        let protected = Set(self.recurrence.map(\.next) + keep.map(\.id))
        stepwise = fuseProducts(stepwise)
        stepwise = fuseSums(stepwise, protected: protected)
        linkFusedReads(stepwise, protected: protected)
        stepwise = fuseProductSums(stepwise, protected: protected)
        // The per-step gradient slots the remaining instructions use, as merged ranges: only
        // these are zeroed at every step (fusion leaves the intermediate sums' slots unused).
        var used = Set<Int>(self.recurrence.flatMap { [$0.state, $0.next] } + keep.map(\.id))
        for ins in stepwise {
            used.insert(ins.node)
            switch ins {
            case let f as FusedProducts:
                for (k, m) in f.members.enumerated() where !f.direct[k] { used.insert(m.node) }
                used.insert(graph.nodes[ins.node].operands[0])
            case let f as FusedSum: for (i, a) in f.addends.enumerated() where f.views[i] == nil { used.insert(a) }
            case let f as FusedProductSum: used.formUnion(f.factors)
            default: used.formUnion(graph.nodes[ins.node].operands)
            }
        }
        zeroedEachStep = used
        var ranges = [(Int, Int)]()
        for id in used.sorted(by: { placement[$0].gradOffset < placement[$1].gradOffset })
        where placement[id].hasGradient && (placement[id].storage == .kept || placement[id].storage == .scratch) {
            let (o, n) = (placement[id].gradOffset, graph.nodes[id].shape.count)
            if let last = ranges.last, last.0 + last.1 == o { ranges[ranges.count - 1].1 += n } else { ranges.append((o, n)) }
        }
        stepGradientRanges = ranges
        sequenceGradientSlices = placement.indices.filter { placement[$0].storage == .sequence && placement[$0].hasGradient }
            .map { (placement[$0].gradOffset, graph.nodes[$0].shape.count, placement[$0].gradWindow) }
        stepGradientCount = ranges.reduce(0) { $0 + $1.1 } + sequenceGradientSlices.reduce(0) { $0 + $1.count }
        stepwise = groupRowwise(stepwise)
    }

    // MARK: Feeding and reading

    /// Sets a parameter, a constant-shaped input of a one-step program, or (for a state leaf)
    /// the initial state.
    public func set(_ leaf: Value, _ tensor: Tensor) throws {
        try checkShape(leaf, tensor)
        if let k = recurrence.firstIndex(where: { $0.state == leaf.id }) {
            initialStates[k].load(tensor.scalars)
        } else {
            try set(leaf, step: 0, tensor)
        }
    }

    /// Sets the value of a per-step input leaf at `step`.
    public func set(_ leaf: Value, step: Int, _ tensor: Tensor) throws {
        try checkShape(leaf, tensor)
        let p = placement[leaf.id]
        tensor.scalars.withUnsafeBufferPointer { address(p, step).update(from: $0.baseAddress!, count: $0.count) }
    }

    /// Sets a per-step input leaf for all steps at once: `scalars` holds step 0's rows, then
    /// step 1's, … (`steps · rows · cols` numbers).
    public func setSequence(_ leaf: Value, _ scalars: [Double]) throws {
        let p = placement[leaf.id], n = leaf.shape.count
        guard p.storage == .sequence, scalars.count == n * steps else {
            throw AutodiffError.feedShape(name: leaf.name ?? "%\(leaf.id)", expected: Shape(steps * leaf.shape.rows, leaf.shape.cols),
                                          got: Shape(scalars.count / max(leaf.shape.cols, 1), leaf.shape.cols))
        }
        scalars.withUnsafeBufferPointer { address(p, 0).update(from: $0.baseAddress!, count: $0.count) }
    }

    /// The value of `v` at `step` (for step nodes: kept ones at any step, others at the last
    /// step computed).
    public func value(of v: Value, step: Int) -> Tensor {
        let p = placement[v.id]
        precondition(p.storage != .scratch || step == steps - 1, "value(of:step:): \(v.name ?? "%\(v.id)") is not kept for every step")
        precondition(p.window == 0, "value(of:step:): \(v.name ?? "%\(v.id)") is stored for one block of steps only (pass it in `keep:`)")
        return Tensor(rows: v.shape.rows, cols: v.shape.cols,
                      scalars: Array(UnsafeBufferPointer(start: address(p, p.storage == .scratch ? 0 : step), count: v.shape.count)))
    }

    /// The gradient of the seeded loss with respect to `v` (at `step` for per-step values;
    /// parameters' gradients are summed over steps). Throws when `v` reaches the loss only
    /// through an operand that is not differentiated.
    public func gradient(of v: Value, step: Int) throws -> Tensor {
        let p = placement[v.id]
        if let k = recurrence.firstIndex(where: { $0.state == v.id }), step == 0 {
            return Tensor(rows: v.shape.rows, cols: v.shape.cols, scalars: carries[k].array)
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
                      scalars: Array(UnsafeBufferPointer(start: gradAddress(p, step), count: v.shape.count)))
    }

    /// The gradient of a per-step input leaf for steps `0 ..< count`, step after step
    /// (count · rows · cols numbers), after `backward`.
    public func sequenceGradient(of leaf: Value, count: Int?) -> [Double] {
        let p = placement[leaf.id]
        precondition(p.storage == .sequence && p.hasGradient, "sequenceGradient: \(leaf.name ?? "%\(leaf.id)") is not a per-step input")
        return Array(UnsafeBufferPointer(start: gradAddress(p, 0), count: (count ?? steps) * leaf.shape.count))
    }

    /// The value the state leaf `state` reaches after step `last` (default: the last step of
    /// the program; pass `n − 1` after a forward pass over `0 ..< n`).
    public func finalState(_ state: Value, last: Int?) -> Tensor {
        let k = recurrence.firstIndex { $0.state == state.id }!
        let next = graph.value(recurrence[k].next)
        let p = placement[next.id]
        return Tensor(rows: next.shape.rows, cols: next.shape.cols,
                      scalars: Array(UnsafeBufferPointer(start: address(p, p.storage == .scratch ? 0 : (last ?? steps - 1)), count: next.shape.count)))
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
    /// - Parameter checkFinite: after every instruction, check its output for NaN or ±∞ and
    ///   throw `ProgramError.nonFinite` naming the op, the value and the time step where one
    ///   first appears (slower: for diagnosing a diverged run).
    public func forward(steps range: Range<Int>, checkFinite: Bool) throws {
        guard !range.isEmpty else { return }
        precondition(range.upperBound <= steps, "forward: steps \(range) beyond the program's \(steps)")
        // The lists as locals: the time loop then reads no stored property of the program (no
        // exclusivity checks, no reference counting per step).
        let (stepwise, hoisted, recurrence, placement, initialStates) = (self.stepwise, self.hoisted, self.recurrence, self.placement, self.initialStates)
        let stepRefs = stepwise.map(Unmanaged.passUnretained)   // owned by `stepwise`
        if range.lowerBound == 0 { for ins in stepwise { ins.beginForward() } }
        for b in blocks(range) {
            for ins in hoisted {
                try ins.run(from: b.lowerBound, count: b.count)
                if checkFinite { try check(ins, from: b.lowerBound, count: b.count) }
            }
            for t in b {
                for (k, (s, n)) in recurrence.enumerated() {
                    let dst = address(placement[s], t)
                    if t == 0 { dst.update(from: initialStates[k].base, count: initialStates[k].count) }
                    else { dst.update(from: address(placement[n], t - 1), count: initialStates[k].count) }
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
    private func check(_ ins: Instruction, from t: Int, count: Int) throws {
        if let s = ins as? RowSection {   // in program order: the first to hold one is named
            for m in s.members { try check(m, from: t, count: count) }
            return
        }
        var outputs = [(ins.node, ins.out)]
        if let f = ins as? FusedProducts {
            // Members read in place are checked in the fused buffer (one step, rows × width).
            for (k, m) in f.members.enumerated() where f.direct[k] {
                for r in 0..<f.rows { for c in 0..<m.out.cols where !f.outputs[r * f.width + f.offsets[k] + c].isFinite {
                    let n = graph.nodes[m.node]
                    throw ProgramError.nonFinite(op: n.op.name, value: n.name ?? "%\(m.node)", step: t, number: f.outputs[r * f.width + f.offsets[k] + c])
                } }
            }
            outputs = f.members.enumerated().filter { !f.direct[$0.offset] }.map { ($0.element.node, $0.element.out) }
        }
        for (node, slot) in outputs {
            let a = slot.arg(t, count)
            let per = slot.rows * slot.cols
            for k in 0..<a.count where !a.p![k].isFinite {
                let n = graph.nodes[node]
                throw ProgramError.nonFinite(op: n.op.name, value: n.name ?? "%\(node)", step: t + (slot.stacks ? k / per : 0), number: a.p![k])
            }
        }
    }

    /// `Seeds`, as `backward`'s closures receive them.
    public typealias Seeds = Autodiff.Seeds

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
                         carried: ((Seeds, [UnsafeMutableBufferPointer<Double>]) -> Void)?) throws {
        let n = count ?? steps
        // The hoisted values' gradients (all steps: by far the largest arena) are zeroed one
        // step at a time, just before the step's VJPs write them, while they are in cache.
        for (i, a) in gradArenas.enumerated() where i != Storage.sequence.rawValue && (i != Storage.shared.rawValue || !accumulate) { a.zero() }
        zeroSequenceGradients(n..<steps)
        let (stepwise, hoisted, recurrence, placement, carries) = (self.stepwise, self.hoisted, self.recurrence, self.placement, self.carries)
        let zeroing = StepZeroing(frame: gradArenas[Storage.scratch.rawValue].base, sequence: gradArenas[Storage.sequence.rawValue].base,
                                  ranges: stepGradientRanges, slices: sequenceGradientSlices, count: stepGradientCount)
        let reversed = stepwise.reversed().map(Unmanaged.passUnretained)   // owned by `stepwise`
        for ins in stepwise { ins.beginBackward() }
        let carryBuffers = carries.map { UnsafeMutableBufferPointer(start: $0.base, count: $0.count) }
        for (k, c) in carries.enumerated() {
            if let incoming { c.load(incoming[k]) } else { c.zero() }
        }
        var pending = incoming != nil
        for b in blocks(0..<n).reversed() {
            for t in b.reversed() {
                zeroing.zero(step: t)
                if t < n - 1 || pending {
                    for (k, (_, next)) in recurrence.enumerated() {
                        let (g, c) = (gradAddress(placement[next], t), carries[k].base)
                        for j in 0..<carries[k].count { g[j] += c[j] }
                    }
                    pending = false
                }
                try seed(Seeds(source: self, step: t))
                for ins in reversed { ins._withUnsafeGuaranteedRef { $0.vjp(from: t, count: 1) } }
                for (k, (s, _)) in recurrence.enumerated() {
                    carries[k].base.update(from: gradAddress(placement[s], t), count: carries[k].count)
                }
                carried?(Seeds(source: self, step: t), carryBuffers)
            }
            for ins in stepwise { ins.endBlock() }
            for ins in hoisted.reversed() { ins.vjp(from: b.lowerBound, count: b.count) }
        }
        for ins in stepwise { ins.endBackward() }
    }

    /// Zeroes, before step t's VJPs, the step gradients in use and the hoisted values'
    /// gradients at step t (both cores share the ranges when they are large).
    private struct StepZeroing {
        let frame: UnsafeMutablePointer<Double>, sequence: UnsafeMutablePointer<Double>
        let ranges: [(Int, Int)]
        let slices: [(offset: Int, count: Int, window: Int)]
        let count: Int

        func zero(step t: Int) {
            func zero(_ part: Int, of parts: Int) {
                for (o, n) in ranges {
                    let (lo, hi) = (n * part / parts, n * (part + 1) / parts)
                    (frame + o + lo).update(repeating: 0, count: hi - lo)
                }
                for (o, n, window) in slices {
                    let (lo, hi) = (n * part / parts, n * (part + 1) / parts)
                    (sequence + o + (window > 0 ? t % window : t) * n + lo).update(repeating: 0, count: hi - lo)
                }
            }
            if count / 2 < Parallel.minimumElements { zero(0, of: 1) } else { Parallel.two { zero($0, of: 2) } }
        }
    }

    /// Zeroes the hoisted values' gradients at `steps`.
    private func zeroSequenceGradients(_ steps: Range<Int>) {
        let sequence = gradArenas[Storage.sequence.rawValue].base
        for (o, n, window) in sequenceGradientSlices where window == 0 {   // a window is zeroed step by step
            (sequence + o + steps.lowerBound * n).update(repeating: 0, count: steps.count * n)
        }
    }

    // MARK: Storage

    private func checkShape(_ leaf: Value, _ tensor: Tensor) throws {
        guard leaf.node.op.isLeaf else { throw AutodiffError.unknownName("\(leaf.name ?? "%\(leaf.id)") is not a leaf") }
        guard tensor.shape == leaf.shape else {
            throw AutodiffError.feedShape(name: leaf.name ?? "%\(leaf.id)", expected: leaf.shape, got: tensor.shape)
        }
    }

    fileprivate func address(_ p: Placement, _ t: Int) -> UnsafeMutablePointer<Double> {
        arenas[p.storage.rawValue].pointer(p.offset + (p.window > 0 ? t % p.window : t) * p.stride)
    }

    fileprivate func gradAddress(_ p: Placement, _ t: Int) -> UnsafeMutablePointer<Double> {
        let g: Storage = p.storage == .kept ? .scratch : p.storage
        return gradArenas[g.rawValue].pointer(p.gradOffset + (p.gradWindow > 0 ? t % p.gradWindow : t) * p.gradStride)
    }

    func slot(_ id: Int) -> Slot {
        let p = placement[id], shape = graph.nodes[id].shape
        let g: Storage = p.storage == .kept ? .scratch : p.storage
        return Slot(base: arenas[p.storage.rawValue].pointer(p.offset), stride: p.stride,
                    gradBase: p.hasGradient ? gradArenas[g.rawValue].pointer(p.gradOffset) : nil,
                    gradStride: p.gradStride, rows: shape.rows, cols: shape.cols,
                    stacks: p.storage == .sequence, window: p.window, gradWindow: p.gradWindow)
    }

    /// Whether `node` can run once over all steps: a row-wise op whose per-step operands are
    /// all hoisted with the node's own row count, and whose shared operands only broadcast
    /// (1-row) or are the weight side of a product.
    private static func hoistable(_ node: Graph.Node, _ nodes: [Graph.Node], _ place: [Placement]) -> Bool {
        guard node.op.isRowwise else { return false }
        var anySequence = false
        for (i, o) in node.operands.enumerated() {
            switch place[o].storage {
            case .sequence:
                guard nodes[o].shape.rows == node.shape.rows else { return false }
                if case .matmul = node.op, i == 1 { return false }
                anySequence = true
            case .shared:
                switch node.op {
                case .matmul: if i == 0 { return false }
                case .add, .subtract, .multiply, .divide: if nodes[o].shape.rows != 1 { return false }
                default: return false
                }
            default: return false
            }
        }
        return anySequence
    }
}

/// Where one node lives: its value at step t is `base + t · stride`, its gradient
/// `gradBase + t · gradStride` (t taken modulo the window, for values and gradients stored
/// for one block). Hoisted (`stacks`) slots run a block of steps' rows at once.
struct Slot {
    var base: UnsafeMutablePointer<Double>
    var stride: Int
    var gradBase: UnsafeMutablePointer<Double>?
    var gradStride: Int
    var rows: Int
    var cols: Int
    var stacks: Bool
    var window = 0, gradWindow = 0

    @inline(__always) func arg(_ t: Int, _ count: Int) -> Arg {
        Arg(p: base + (window > 0 ? t % window : t) * stride, rows: stacks ? rows * count : rows, cols: cols)
    }
    @inline(__always) func gradArg(_ t: Int, _ count: Int) -> Arg {
        Arg(p: gradBase.map { $0 + (gradWindow > 0 ? t % gradWindow : t) * gradStride }, rows: stacks ? rows * count : rows, cols: cols)
    }
}

/// One node's forward kernel and VJP, dispatched to its family in `Ops/`. (Subclassed by
/// fused instructions, see Fusion.swift.)
class Instruction {
    let node: Int
    let op: Primitive
    let operands: [Slot]
    let out: Slot
    let args: UnsafeMutablePointer<Arg>
    let grads: UnsafeMutablePointer<Arg>

    init(node: Int, op: Primitive, operands: [Slot], out: Slot) {
        self.node = node; self.op = op; self.operands = operands; self.out = out
        args = .allocate(capacity: operands.count)
        grads = .allocate(capacity: operands.count)
        args.initialize(repeating: Arg(p: nil, rows: 0, cols: 0), count: operands.count)
        grads.initialize(repeating: Arg(p: nil, rows: 0, cols: 0), count: operands.count)
        currentStorage = .allocate(capacity: 1)
        currentStorage.initialize(to: (Arg(p: nil, rows: 0, cols: 0), Arg(p: nil, rows: 0, cols: 0)))
    }
    deinit { args.deallocate(); grads.deallocate(); currentStorage.deallocate() }

    /// Called before a forward pass, a reverse pass, and after a reverse pass's steps.
    func beginForward() {}
    func beginBackward() {}
    func endBlock() {}
    func endBackward() {}

    // MARK: Row-wise execution
    //
    // Elementwise ops, activations and the fused sums work row by row: rows r of the output
    // (and of its gradient) depend only on rows r of full-shape operands. Their kernels are
    // split into a row-range part and, in the reverse pass, a *tail* that sums gradients over
    // the rows for broadcast operands (biases). A `RowSection` runs a chain of them with one
    // hand-off to the helper thread instead of one per instruction; alone, each runs its own.

    /// Whether this instruction works row by row.
    var isRowwise: Bool {
        switch op {
        case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .square, .sqrt, .sigmoid, .tanh, .relu: return true
        default: return false
        }
    }

    /// Fills the operand views for step t (and, for the reverse pass, the gradient views).
    func prepare(_ t: Int, _ count: Int, gradients: Bool) {
        for i in operands.indices {
            args[i] = operands[i].arg(t, count)
            if gradients { grads[i] = op.isDifferentiable(operand: i) ? operands[i].gradArg(t, count) : Arg(p: nil, rows: 0, cols: 0) }
        }
        current = (out.arg(t, count), out.gradArg(t, count))
    }
    /// The output and its gradient at the prepared step. (Kept behind a pointer, as `args`:
    /// a stored property would be checked for exclusive access at every read in the time loop.)
    var current: (value: Arg, gradient: Arg) {
        get { currentStorage.pointee }
        set { currentStorage.pointee = newValue }
    }
    private let currentStorage: UnsafeMutablePointer<(value: Arg, gradient: Arg)>

    /// The forward kernel on rows `r` (after `prepare`).
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
    func backwardRows(_ r: Range<Int>) {
        let (o, g, n) = (current.value, current.gradient, current.value.rows)
        switch op {
        case .add, .subtract, .multiply, .divide:
            let (a, b, ga, gb) = (args[0], args[1], grads[0], grads[1])
            let none = Arg(p: nil, rows: 0, cols: 0)
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
        switch op { case .add, .subtract, .multiply, .divide: break; default: return false }
        let m = current.value.rows
        return (grads[0].rows != m && grads[0].p != nil) || (grads[1].rows != m && grads[1].p != nil)
    }

    /// Whether the prepared tail is nothing but column sums (biases' gradients), which may run
    /// split by columns (`backwardTail(columns:)`) with the same bits: each column's sum keeps
    /// its order, whichever core adds it.
    var tailSplitsByColumns: Bool {
        guard hasTail else { return true }
        let (m, cols) = (current.value.rows, current.value.cols)
        func rowOrFull(_ x: Arg) -> Bool { x.p == nil || x.rows == m || (x.rows == 1 && x.cols == cols) }
        return (op == .add || op == .subtract) && rowOrFull(grads[0]) && rowOrFull(grads[1])
    }

    /// The tail on output columns `cs` only (when `tailSplitsByColumns`).
    func backwardTail(columns cs: Range<Int>) {
        switch op { case .add, .subtract: break; default: return }
        let (g, ga, gb, m, cols) = (current.gradient, grads[0], grads[1], current.value.rows, current.value.cols)
        if ga.rows != m, let d = ga.p { Elementwise.addColumnSums(into: d, of: g.p!, rows: m, cols: cols, columns: cs) }
        if gb.rows != m, let d = gb.p { Elementwise.addColumnSums(into: d, of: g.p!, rows: m, cols: cols, columns: cs, subtract: op == .subtract) }
    }

    /// The whole tail: column sums split over the cores, or the general broadcasting VJP.
    func backwardTail() {
        guard hasTail else { return }
        let o = current.value
        if tailSplitsByColumns { Parallel.columns(o.cols, rows: o.rows) { backwardTail(columns: $0) } } else { broadcastTail() }
    }

    /// A tail that is not only column sums, on one thread.
    func broadcastTail() {
        let (o, g) = current
        let (m, none) = (o.rows, Arg(p: nil, rows: 0, cols: 0))
        Elementwise.vjp(op, args[0], args[1], o, g, grads[0].rows == m ? none : grads[0], grads[1].rows == m ? none : grads[1])
    }

    func run(from t: Int, count: Int) throws {
        if isRowwise {
            prepare(t, count, gradients: false)
            Parallel.rows(current.value.rows, cols: current.value.cols) { forwardRows($0) }
            return
        }
        for i in operands.indices { args[i] = operands[i].arg(t, count) }
        do { try op.forward(args, operands.count, out.arg(t, count)) }
        catch let e as KernelError { throw ProgramError.badData(step: t, message: e.message) }
    }

    func vjp(from t: Int, count: Int) {
        guard out.gradBase != nil else { return }
        if isRowwise {
            prepare(t, count, gradients: true)
            Parallel.rows(current.value.rows, cols: current.value.cols) { backwardRows($0) }
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
    /// The first NaN or ±∞ of a forward pass run with `checkFinite`.
    case nonFinite(op: String, value: String, step: Int, number: Double)
    public var description: String {
        switch self {
        case let .badData(step, m): return "\(m) (time step \(step))"
        case let .nonFinite(op, value, step, number): return "\(number.isNaN ? "nan" : "\(number)") first appears in \(value) = \(op)(…) at time step \(step)"
        }
    }
}

/// A zero-initialized block of Doubles owned by a program.
final class Arena {
    let base: UnsafeMutablePointer<Double>
    let count: Int
    init(count: Int) {
        self.count = count
        base = .allocate(capacity: max(count, 1))
        base.initialize(repeating: 0, count: max(count, 1))
    }
    deinit { base.deallocate() }
    func pointer(_ offset: Int) -> UnsafeMutablePointer<Double> { base + offset }
    func zero() {
        Parallel.rows(count, cols: 1) { r in (base + r.lowerBound).update(repeating: 0, count: r.count) }
    }
    func load(_ xs: [Double]) { xs.withUnsafeBufferPointer { base.update(from: $0.baseAddress!, count: $0.count) } }
    var array: [Double] { Array(UnsafeBufferPointer(start: base, count: count)) }
}

extension Program: SeedSource {
    func seedGradient(of v: Value, step: Int) -> UnsafeMutableBufferPointer<Double> {
        let p = placement[v.id]
        precondition(p.storage == .sequence || p.storage == .shared || zeroedEachStep.contains(v.id),
                     "Seeds: \(v.name ?? "%\(v.id)") is an intermediate value; seed a state, an input or a value passed in `keep:`")
        return UnsafeMutableBufferPointer(start: gradAddress(p, step), count: v.shape.count)
    }

    func seedValue(of v: Value, step: Int) -> UnsafeMutableBufferPointer<Double> {
        let p = placement[v.id]
        return UnsafeMutableBufferPointer(start: address(p, p.storage == .scratch ? 0 : step), count: v.shape.count)
    }
}
