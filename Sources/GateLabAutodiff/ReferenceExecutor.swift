/// The plain meaning of running a graph over time steps, beside the fast `Program`.
///
/// Every node has a value and a gradient at every step (parameters and constants: one of
/// each, shared by all steps). The forward pass is two loops — steps, then the nodes in
/// recording order, one kernel call each on the whole B-row tensors; the reverse pass is the
/// same loops backwards, each VJP *adding* into its operands' gradients. Nothing is hoisted,
/// fused, windowed or split over cores, so a reader can check the fast program against this
/// one (JAX's `disable_jit`, here a class): `Execution.reference` selects it.
///
/// What it shares with `Program` is only the kernels (`Primitive.forward` / `vjp` in Ops/),
/// and so the forward values agree bit for bit. Gradients agree to rounding where the fast
/// program adds a sum in another order: one product over stacked gates or over a block of
/// steps (`∂h += [G_i G_f …]·[W_i; W_f; …]`, `∂W += Σ_t G_tᵀ a_t` in one DGEMM) against one
/// product per gate and per step here.
/// The reference executor in float64.
public typealias ReferenceExecutor = ReferenceExecutorOf<Double>

public final class ReferenceExecutorOf<S: GateLabAutodiff.Scalar>: Executor {
    /// The graph it runs.
    public let graph: Graph
    /// Number of time steps.
    public let steps: Int
    /// The recurrence: at step t > 0 `state` takes the value `next` had at step t − 1.
    let recurrence: [(state: Int, next: Int)]
    /// Node → its offset in a step's frame, or in the shared frame (parameters, constants).
    private let offset: [Int]
    private let isShared: [Bool]
    /// Numbers of one step's frame.
    private let frame: Int
    private let values: Arena<S>, gradients: Arena<S>                  // steps × frame each
    private let sharedValues: Arena<S>, sharedGradients: Arena<S>
    private let initialStates: [Arena<S>]
    /// Per recurrence pair: the gradient flowing into the state leaf, carried to the step before.
    private let carries: [Arena<S>]
    /// Nodes reached from a parameter or a differentiated input (those that get a gradient).
    private let hasGradient: [Bool]
    /// Nodes used as an operand the op differentiates.
    private let differentiableUse: [Bool]
    private let gradientless: Set<Int>
    /// Operand views for one kernel call (sized for the widest node).
    private let args: UnsafeMutablePointer<Arg<S>>, grads: UnsafeMutablePointer<Arg<S>>

    /// Bytes per time step: every node's value and gradient.
    public var bytesPerStep: Int { 2 * MemoryLayout<S>.size * frame }
    /// Bytes of value and gradient storage held.
    public var bytesStored: Int { MemoryLayout<S>.size * (values.count + gradients.count + sharedValues.count + sharedGradients.count) }

    /// Lays out storage (see `Program.init` for the parameters; every value is kept, so it
    /// takes no `keep:`).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public init(graph: Graph, steps: Int = 1, recurrence: [(state: Value, next: Value)] = [],
                withoutGradient: [Value] = []) throws {
        try graph.validate()
        precondition(steps >= 1, "ReferenceExecutor: steps must be ≥ 1")
        self.graph = graph
        self.steps = steps
        self.recurrence = recurrence.map { ($0.state.id, $0.next.id) }
        let nodes = graph.nodes
        for (s, n) in self.recurrence {
            guard nodes[s].op == .input else { throw AutodiffError.unknownName("state \(nodes[s].name ?? "%\(s)") must be an input leaf") }
            guard nodes[s].shape == nodes[n].shape else {
                throw AutodiffError.feedShape(name: nodes[s].name ?? "%\(s)", expected: nodes[s].shape, got: nodes[n].shape)
            }
        }
        gradientless = Set(withoutGradient.map(\.id))
        var offset = [Int](), isShared = [Bool](), frame = 0, shared = 0
        var hasGradient = [Bool](), differentiableUse = [Bool](repeating: false, count: nodes.count)
        for (id, node) in nodes.enumerated() {
            let sharedNode = node.op == .parameter || node.op == .constant
            offset.append(sharedNode ? shared : frame)
            isShared.append(sharedNode)
            if sharedNode { shared += node.shape.count } else { frame += node.shape.count }
            var gets = false
            switch node.op {
            case .parameter, .input: gets = !gradientless.contains(id)
            case .constant: break
            default:
                for (i, o) in node.operands.enumerated() where node.op.isDifferentiable(operand: i) {
                    differentiableUse[o] = true
                    gets = gets || hasGradient[o]
                }
            }
            hasGradient.append(gets)
        }
        (self.offset, self.isShared, self.frame, self.hasGradient, self.differentiableUse) = (offset, isShared, frame, hasGradient, differentiableUse)
        values = Arena(count: steps * frame); gradients = Arena(count: steps * frame)
        sharedValues = Arena(count: shared); sharedGradients = Arena(count: shared)
        initialStates = self.recurrence.map { Arena(count: nodes[$0.state].shape.count) }
        carries = self.recurrence.map { Arena(count: nodes[$0.state].shape.count) }
        let width = max(1, nodes.map(\.operands.count).max() ?? 1)
        args = .allocate(capacity: width); grads = .allocate(capacity: width)
        for (id, node) in nodes.enumerated() where node.op == .constant { sharedValues.load(node.constant!.scalars, at: offset[id]) }
    }

    deinit { args.deallocate(); grads.deallocate() }

    // MARK: Storage

    /// Node `id`'s value at step t.
    private func value(_ id: Int, _ t: Int) -> UnsafeMutablePointer<S> {
        isShared[id] ? sharedValues.pointer(offset[id]) : values.pointer(t * frame + offset[id])
    }

    /// Node `id`'s gradient at step t (nil when it gets none).
    private func gradient(_ id: Int, _ t: Int) -> UnsafeMutablePointer<S>? {
        guard hasGradient[id] else { return nil }
        return isShared[id] ? sharedGradients.pointer(offset[id]) : gradients.pointer(t * frame + offset[id])
    }

    private func view(_ p: UnsafeMutablePointer<S>?, _ id: Int) -> Arg<S> {
        Arg(p: p, rows: graph.nodes[id].shape.rows, cols: graph.nodes[id].shape.cols)
    }

    private func tensor(_ p: UnsafeMutablePointer<S>, _ shape: Shape) -> Tensor {
        Tensor(rows: shape.rows, cols: shape.cols, scalars: S.doubles(p, count: shape.count))
    }

    // MARK: Feeding and reading

    /// Sets a parameter, a constant-shaped input of a one-step graph, or (for a state leaf)
    /// the initial state.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func set(_ leaf: Value, _ tensor: Tensor) throws {
        try checkShape(leaf, tensor)
        if let k = recurrence.firstIndex(where: { $0.state == leaf.id }) { initialStates[k].load(tensor.scalars) }
        else { try set(leaf, step: 0, tensor) }
    }

    /// Sets the value of a leaf at `step` (a parameter's or constant's at any step: it is shared).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func set(_ leaf: Value, step: Int, _ tensor: Tensor) throws {
        try checkShape(leaf, tensor)
        tensor.scalars.withUnsafeBufferPointer { S.store($0, into: value(leaf.id, step)) }
    }

    /// Sets a per-step input leaf for all steps at once (step 0's rows first).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func setSequence(_ leaf: Value, _ scalars: [Double]) throws {
        let n = leaf.shape.count
        guard leaf.node.op == .input, scalars.count == n * steps else {
            throw AutodiffError.feedShape(name: leaf.name ?? "%\(leaf.id)", expected: Shape(steps * leaf.shape.rows, leaf.shape.cols),
                                          got: Shape(scalars.count / max(leaf.shape.cols, 1), leaf.shape.cols))
        }
        scalars.withUnsafeBufferPointer { xs in
            for t in 0..<steps { S.store(UnsafeBufferPointer(rebasing: xs[(t * n)..<((t + 1) * n)]), into: value(leaf.id, t)) }
        }
    }

    /// The value of `v` at `step` (every value is kept for every step).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func value(of v: Value, step: Int) -> Tensor { tensor(value(v.id, step), v.shape) }

    /// The gradient of the seeded loss with respect to `v` at `step` (parameters: summed over
    /// steps; a state leaf at step 0: what flows into the initial state). Throws as `Program`
    /// does for an input built without a gradient or a value with no differentiable path.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func gradient(of v: Value, step: Int) throws -> Tensor {
        if let k = recurrence.firstIndex(where: { $0.state == v.id }), step == 0 { return tensor(carries[k].base, v.shape) }
        guard !gradientless.contains(v.id) else { throw AutodiffError.notDifferentiated(v.name ?? "%\(v.id)") }
        guard let g = gradient(v.id, step), differentiableUse[v.id] || !graph.nodes.contains(where: { $0.operands.contains(v.id) }) else {
            let consumer = graph.nodes.first { $0.operands.contains(v.id) }
            throw AutodiffError.noGradient(value: v.name ?? "%\(v.id)", op: consumer?.op.name ?? "nothing")
        }
        return tensor(g, v.shape)
    }

    /// The gradient of a per-step input leaf for steps `0 ..< count` (nil: all), step after step.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func sequenceGradient(of leaf: Value, count: Int?) -> [Double] {
        precondition(leaf.node.op == .input && hasGradient[leaf.id], "sequenceGradient: \(leaf.name ?? "%\(leaf.id)") is not a differentiated input")
        return (0..<(count ?? steps)).flatMap { S.doubles(gradient(leaf.id, $0)!, count: leaf.shape.count) }
    }

    /// The value the state leaf `state` reaches after step `last` (nil: the last step).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func finalState(_ state: Value, last: Int?) -> Tensor {
        let next = recurrence.first { $0.state == state.id }!.next
        return tensor(value(next, last ?? steps - 1), graph.nodes[next].shape)
    }

    // MARK: Passes

    /// The forward pass over `range`: for each step, the states from the step before (or the
    /// initial ones), then every node in recording order.
    /// - Parameters:
    ///   - range: the time steps to run (within `0 ..< steps`).
    ///   - checkFinite: throw `ProgramError.nonFinite` at the first node whose output
    ///     holds NaN or ±∞ (in step order, then node order).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func forward(steps range: Range<Int>, checkFinite: Bool) throws {
        precondition(range.upperBound <= steps, "forward: steps \(range) beyond the executor's \(steps)")
        for t in range {
            for (k, (state, next)) in recurrence.enumerated() {
                value(state, t).update(from: t == 0 ? initialStates[k].base : value(next, t - 1), count: initialStates[k].count)
            }
            for (id, node) in graph.nodes.enumerated() where !node.op.isLeaf {
                for (i, o) in node.operands.enumerated() { args[i] = view(value(o, t), o) }
                let out = view(value(id, t), id)
                do { try node.op.forward(args, node.operands.count, out) }
                catch let e as KernelError { throw ProgramError.badData(step: t, message: e.message) }
                if checkFinite, let bad = out.buffer.first(where: { !$0.isFinite }) {
                    throw ProgramError.nonFinite(op: node.op.name, value: node.name ?? "%\(id)", step: t, number: Double(bad), origin: node.origin)
                }
            }
        }
    }

    /// The reverse pass over steps `0 ..< count`, last first: the carried state gradients, the
    /// seeds, every node's VJP in reverse recording order, then the gradients carried to the
    /// step before (see `Program.backward(count:incoming:accumulate:seed:carried:)` for the
    /// parameters).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func backward(count: Int?, incoming: [[Double]]?, accumulate: Bool,
                         seed: (SeedsOf<S>) throws -> Void,
                         carried: ((SeedsOf<S>, [UnsafeMutableBufferPointer<S>]) -> Void)?) throws {
        let n = count ?? steps
        gradients.zeroAll()
        if !accumulate { sharedGradients.zeroAll() }
        for (k, c) in carries.enumerated() { if let incoming { c.load(incoming[k]) } else { c.zeroAll() } }
        let carryBuffers = carries.map { UnsafeMutableBufferPointer(start: $0.base, count: $0.count) }
        for t in (0..<n).reversed() {
            // What later steps (or a later segment) send into this step's new states.
            if t < n - 1 || incoming != nil {
                for (k, (_, next)) in recurrence.enumerated() {
                    let g = gradient(next, t)!
                    for j in 0..<carries[k].count { g[j] += carries[k].base[j] }
                }
            }
            try seed(SeedsOf(source: self, step: t))
            for (id, node) in graph.nodes.enumerated().reversed() where !node.op.isLeaf {
                guard let g = gradient(id, t) else { continue }
                for (i, o) in node.operands.enumerated() {
                    args[i] = view(value(o, t), o)
                    grads[i] = view(node.op.isDifferentiable(operand: i) ? gradient(o, t) : nil, o)
                }
                node.op.vjp(args, grads, node.operands.count, view(value(id, t), id), view(g, id))
            }
            for (k, (state, _)) in recurrence.enumerated() { carries[k].base.update(from: gradient(state, t)!, count: carries[k].count) }
            carried?(SeedsOf(source: self, step: t), carryBuffers)
        }
    }

    private func checkShape(_ leaf: Value, _ tensor: Tensor) throws {
        guard leaf.node.op.isLeaf else { throw AutodiffError.unknownName("\(leaf.name ?? "%\(leaf.id)") is not a leaf") }
        guard tensor.shape == leaf.shape else {
            throw AutodiffError.feedShape(name: leaf.name ?? "%\(leaf.id)", expected: leaf.shape, got: tensor.shape)
        }
    }
}

extension ReferenceExecutorOf: SeedSource {
    @_specialize(where S == Double) @_specialize(where S == Float)
    func seedGradient(of v: Value, step: Int) -> UnsafeMutableBufferPointer<S> {
        UnsafeMutableBufferPointer(start: gradient(v.id, step), count: v.shape.count)
    }
    @_specialize(where S == Double) @_specialize(where S == Float)
    func seedValue(of v: Value, step: Int) -> UnsafeMutableBufferPointer<S> {
        UnsafeMutableBufferPointer(start: value(v.id, step), count: v.shape.count)
    }
}

extension Arena {
    /// Sets every number to 0, on one thread.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func zeroAll() { base.update(repeating: 0, count: max(count, 1)) }
    /// Copies `xs` in at `offset`.
    @_specialize(where S == Double) @_specialize(where S == Float)
    func load(_ xs: [Double], at offset: Int) {
        xs.withUnsafeBufferPointer { S.store($0, into: base + offset) }
    }
}
