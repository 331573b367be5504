// Fusing a step's chains of additions ending in an activation: σ(((a + b) + c) + d) — a gate's
// pre-activation sums and its nonlinearity — become one instruction instead of four, with no
// intermediate storage. The additions keep their order, so values are bit-identical; the
// reverse pass hands the pre-activation gradient straight to every addend.
extension ProgramOf {
    /// Replaces left-nested addition chains (each intermediate sum used once, by the next
    /// addition or the final activation, and needed by no VJP) with `FusedSum` instructions.
    func fuseSums(_ list: [Instruction<S>], protected: Set<Int>) -> [Instruction<S>] {
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for o in node.operands { uses[o] += 1 } }
        let position = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($0.element.node, $0.offset) })
        func isInternal(_ id: Int) -> Bool {
            graph.nodes[id].op == .add && uses[id] == 1 && placement[id].storage == .scratch
                && !protected.contains(id) && position[id] != nil && list[position[id]!] is FusedSum<S> == false
                && list[position[id]!].op == .add && !(list[position[id]!] is FusedProducts<S>)
        }
        var replaced = [Int: Instruction<S>](), removed = Set<Int>()
        for (i, ins) in list.enumerated() where !(ins is FusedProducts<S>) {
            let node = graph.nodes[ins.node]
            let activation: Primitive?
            var top: Int
            switch node.op {
            case .sigmoid, .tanh:
                guard isInternal(node.operands[0]) else { continue }
                activation = node.op; top = node.operands[0]
            case .add:
                guard isInternal(node.operands[0]), !removed.contains(i) else { continue }
                activation = nil; top = ins.node
            default: continue
            }
            // Walk down the left operands while they are internal sums.
            var addends = [Int](), chain = [Int]()
            var cursor = top
            while true {
                let n = graph.nodes[cursor]
                addends.append(n.operands[1])
                if cursor != ins.node { chain.append(cursor) }
                if isInternal(n.operands[0]) { cursor = n.operands[0] } else { addends.append(n.operands[0]); break }
            }
            addends.reverse()
            guard addends.count >= 3 || activation != nil else { continue }
            replaced[i] = FusedSum(node: ins.node, activation: activation, addends: addends, operands: addends.map { slot($0) }, out: ins.out)
            for id in chain { if let p = position[id] { removed.insert(p) } }
        }
        return list.indices.compactMap { removed.contains($0) ? nil : (replaced[$0] ?? list[$0]) }
    }

    /// Replaces `a ⊙ b + c ⊙ d` (each product used once, needed by no VJP, all four factors of
    /// the sum's shape) with one `FusedProductSum`: the LSTM's c' = f ⊙ c + i ⊙ g, the GRU's
    /// h' = (1 − z) ⊙ n + z ⊙ h.
    func fuseProductSums(_ list: [Instruction<S>], protected: Set<Int>) -> [Instruction<S>] {
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for o in node.operands { uses[o] += 1 } }
        let position = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($0.element.node, $0.offset) })
        func plainProduct(_ id: Int, shape: Shape) -> Bool {
            guard let k = position[id], type(of: list[k]) == Instruction<S>.self, list[k].op == .multiply else { return false }
            return uses[id] == 1 && placement[id].storage == .scratch && !protected.contains(id)
                && graph.nodes[id].operands.allSatisfy { graph.nodes[$0].shape == shape }
        }
        var replaced = [Int: Instruction<S>](), removed = Set<Int>()
        for (i, ins) in list.enumerated() where type(of: ins) == Instruction<S>.self && ins.op == .add {
            let node = graph.nodes[ins.node]
            let (m1, m2) = (node.operands[0], node.operands[1])
            guard m1 != m2, plainProduct(m1, shape: node.shape), plainProduct(m2, shape: node.shape) else { continue }
            let factors = graph.nodes[m1].operands + graph.nodes[m2].operands
            replaced[i] = FusedProductSum(node: ins.node, factors: factors, operands: factors.map { slot($0) }, out: ins.out,
                                          firstProductRunsFirst: position[m1]! < position[m2]!)
            removed.formUnion([position[m1]!, position[m2]!])
        }
        return list.indices.compactMap { removed.contains($0) ? nil : (replaced[$0] ?? list[$0]) }
    }
}

/// `y = a ⊙ b + c ⊙ d` in one pass. Reverse: with g = ∂L/∂y, ∂c += g ⊙ d, ∂d += g ⊙ c,
/// ∂a += g ⊙ b, ∂b += g ⊙ a — the products' VJPs in the order the unfused program ran them (so
/// factors shared between the products get their gradients added in the same order).
final class FusedProductSum<S: Scalar>: Instruction<S> {
    /// Whether `a ⊙ b` came before `c ⊙ d` in the step (its VJP then runs after).
    let firstProductRunsFirst: Bool
    /// The factors' node ids: a, b, c, d.
    let factors: [Int]

    init(node: Int, factors: [Int], operands: [Slot<S>], out: Slot<S>, firstProductRunsFirst: Bool) {
        self.firstProductRunsFirst = firstProductRunsFirst
        self.factors = factors
        super.init(node: node, op: .add, operands: operands, out: out)
    }

    override var hasRowKernel: Bool { @_specialize(where S == Double) @_specialize(where S == Float) get { true } }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func prepare(_ t: Int, _ count: Int, gradients: Bool) {
        for i in 0..<4 {
            args[i] = operands[i].arg(t, count)
            if gradients { grads[i] = operands[i].gradArg(t, count) }
        }
        current = (out.arg(t, count), out.gradArg(t, count))
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func forwardRows(_ r: Range<Int>) {
        let (a, b, c, d, y, n) = (args[0].p!, args[1].p!, args[2].p!, args[3].p!, current.value.p!, current.value.cols)
        for k in (r.lowerBound * n)..<(r.upperBound * n) { y[k] = a[k] * b[k] + c[k] * d[k] }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func backwardRows(_ r: Range<Int>) {
        guard let g = current.gradient.p else { return }
        let (args, grads, n) = (self.args, self.grads, current.value.cols)
        let range = (r.lowerBound * n)..<(r.upperBound * n)
        func product(_ x: Int, _ y: Int) {   // the VJP of args[x] ⊙ args[y]
            if let dx = grads[x].p { let v = args[y].p!; for k in range { dx[k] += Elementwise.multiplyVJP(g[k], v[k]) } }
            if let dy = grads[y].p { let v = args[x].p!; for k in range { dy[k] += Elementwise.multiplyVJP(g[k], v[k]) } }
        }
        if firstProductRunsFirst { product(2, 3); product(0, 1) } else { product(0, 1); product(2, 3) }
    }

    override var hasTail: Bool { @_specialize(where S == Double) @_specialize(where S == Float) get { false } }
}

// Reading a gate's recurrent product in place. The fused product computes [W₁h W₂h …] into
// one buffer; a gate's sum then reads its columns there (row stride = the buffer's width)
// instead of a copy, and writes their gradient back there, when the sum is the product's only
// consumer. Same additions in the same order: the bits do not change.
extension ProgramOf {
    func linkFusedReads(_ list: [Instruction<S>], protected: Set<Int>) {
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for o in node.operands { uses[o] += 1 } }
        var member: [Int: (FusedProducts<S>, Int)] = [:]   // node → (fused product, member index)
        for case let f as FusedProducts<S> in list { for (k, m) in f.members.enumerated() { member[m.node] = (f, k) } }
        for case let sum as FusedSum<S> in list {
            // Only sums that run the row-wise kernel (every addend full-shape or a broadcast row).
            let shape = graph.nodes[sum.node].shape
            guard sum.addends.allSatisfy({ graph.nodes[$0].shape.cols == shape.cols && [shape.rows, 1].contains(graph.nodes[$0].shape.rows) })
            else { continue }
            for (i, id) in sum.addends.enumerated() {
                guard let (f, k) = member[id], uses[id] == 1, !protected.contains(id), placement[id].storage == .scratch,
                      f.members[k].out.rows == sum.out.rows, f.members[k].out.cols == sum.out.cols, !f.direct[k] else { continue }
                f.direct[k] = true
                sum.views[i] = FusedSum<S>.View(values: f.outputs + f.offsets[k], stride: f.width, product: f, offset: f.offsets[k])
            }
        }
    }
}

/// `y = f(((a₀ + a₁) + a₂) + …)` for an activation f (σ, tanh) or none, addends broadcasting
/// (biases). Reverse: p = g ⊙ f′(y) (reusing y), then every addend's gradient += p.
final class FusedSum<S: Scalar>: Instruction<S> {
    let activation: Primitive?
    /// The addends' node ids.
    let addends: [Int]
    private let pre: UnsafeMutablePointer<S>
    /// An addend read in place from a fused product's output (see `linkFusedReads`).
    struct View {
        var values: UnsafeMutablePointer<S>
        var stride: Int
        unowned(unsafe) var product: FusedProducts<S>   // the program owns both; no reference counting in the time loop
        var offset: Int
    }
    /// Per addend, its view or nil (behind a pointer: read at every step, set only while the
    /// program is built).
    let views: UnsafeMutableBufferPointer<View?>
    /// Per addend, this step: its first element and its row stride (0 for a broadcast row).
    private let bases: UnsafeMutablePointer<UnsafeMutablePointer<S>>
    private let strides: UnsafeMutablePointer<Int>

    init(node: Int, activation: Primitive?, addends: [Int], operands: [Slot<S>], out: Slot<S>) {
        self.activation = activation
        self.addends = addends
        pre = .allocate(capacity: out.rows * out.cols)
        views = .allocate(capacity: addends.count)
        views.initialize(repeating: nil)
        bases = .allocate(capacity: addends.count)
        strides = .allocate(capacity: addends.count)
        super.init(node: node, op: activation ?? .add, operands: operands, out: out)
    }
    deinit { pre.deallocate(); bases.deallocate(); strides.deallocate(); views.deallocate() }

    /// Fills `bases` and `strides` from the prepared operands; false when an addend is neither
    /// full-shape, a broadcast row nor a view (then the general kernels run).
    private func rowLayout(rows m: Int, cols n: Int) -> Bool {
        for i in operands.indices {
            if let v = views[i] { bases[i] = v.values; strides[i] = v.stride; continue }
            let a = args[i]
            guard a.cols == n, a.rows == m || a.rows == 1 else { return false }
            bases[i] = a.p!; strides[i] = a.rows == m ? n : 0
        }
        return true
    }

    override var hasRowKernel: Bool { @_specialize(where S == Double) @_specialize(where S == Float) get { true } }
    /// Whether the prepared step runs the row kernel (every addend full-shape, a broadcast row
    /// or a view; see `rowLayout`) rather than the general broadcasting one.
    private var rowKernel = false

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func prepare(_ t: Int, _ count: Int, gradients: Bool) {
        let o = out.arg(t, count)
        current = (o, out.gradArg(t, count))
        for i in operands.indices {
            args[i] = operands[i].arg(t, count)
            if gradients { grads[i] = operands[i].gradArg(t, count) }
        }
        if !gradients { rowKernel = rowLayout(rows: o.rows, cols: o.cols) }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func forwardRows(_ r: Range<Int>) {
        let o = current.value
        let (m, n, k, y) = (o.rows, o.cols, operands.count, o.p!)
        if rowKernel {
            let (bases, strides) = (self.bases, self.strides)
            for row in r {
                let dst = y + row * n, a0 = bases[0] + row * strides[0], a1 = bases[1] + row * strides[1]
                for c in 0..<n { dst[c] = a0[c] + a1[c] }
                for i in 2..<k { let ai = bases[i] + row * strides[i]; for c in 0..<n { dst[c] += ai[c] } }
            }
        } else {
            // The instruction's preallocated operand views: no allocation inside the time loop.
            let os = o.rows(r, of: m)
            Elementwise.map(args[0].rows(r, of: m), args[1].rows(r, of: m), os) { $0 + $1 }
            for i in 2..<k { Elementwise.addInPlace(os, args[i].rows(r, of: m)) }
        }
        switch activation {
        case .sigmoid?: S.sigmoid(inPlace: y + r.lowerBound * n, r.count * n)
        case .tanh?: S.tanh(inPlace: y + r.lowerBound * n, r.count * n)
        default: break
        }
    }

    /// p = g ⊙ f′(y) (reusing y) and the full-shape addends' gradients, rows `r`.
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func backwardRows(_ r: Range<Int>) {
        let (o, g) = current
        guard let d = g.p else { return }
        let p: UnsafeMutablePointer<S> = activation == nil ? d : pre
        let gp = Arg(p: p, rows: o.rows, cols: o.cols)
        let (y, dd, pp) = (o.p! + r.lowerBound * o.cols, d + r.lowerBound * o.cols, p + r.lowerBound * o.cols)
        let n = r.count * o.cols
        switch activation {
        case .sigmoid?: for k in 0..<n { pp[k] = Activations.sigmoidVJP(dd[k], y[k]) }
        case .tanh?: for k in 0..<n { pp[k] = Activations.tanhVJP(dd[k], y[k]) }
        default: break
        }
        let gs = gp.rows(r, of: o.rows), os = o.rows(r, of: o.rows)
        for i in operands.indices where grads[i].rows == o.rows && views[i] == nil {
            Elementwise.accumulate(grads[i].rows(r, of: o.rows), gs, gs, os) { d, _ in d }
        }
        // Addends read in place: their gradient is exactly p (this sum is their only consumer).
        for case let v? in views {
            let dst = v.product.currentGradients + v.offset
            for row in r { (dst + row * v.product.width).update(from: p + row * o.cols, count: o.cols) }
        }
    }

    override var hasTail: Bool {
        @_specialize(where S == Double) @_specialize(where S == Float)
        get { current.gradient.p != nil && UnsafeBufferPointer(start: grads, count: operands.count).contains { $0.rows != current.value.rows && $0.p != nil } }
    }

    override var tailSplitsByColumns: Bool {
        @_specialize(where S == Double) @_specialize(where S == Float)
        get {
            let o = current.value
            return UnsafeBufferPointer(start: grads, count: operands.count).allSatisfy { ga in
                ga.rows == o.rows || ga.p == nil || (ga.rows == 1 && ga.cols == o.cols)
            }
        }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func backwardTail(rows rs: Range<Int>, columns cs: Range<Int>) {
        let o = current.value
        guard let d = current.gradient.p else { return }
        let p: UnsafeMutablePointer<S> = activation == nil ? d : pre
        for ga in UnsafeBufferPointer(start: grads, count: operands.count) where ga.rows != o.rows {
            if let da = ga.p { Elementwise.addColumnSums(into: da, of: p + rs.lowerBound * o.cols, rows: rs.count, cols: o.cols, columns: cs) }
        }
    }

    /// The broadcast addends' gradients when they are not all biases, on one thread.
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func broadcastTail() {
        let (o, g) = current
        guard let d = g.p else { return }
        let p: UnsafeMutablePointer<S> = activation == nil ? d : pre
        let gp = Arg(p: p, rows: o.rows, cols: o.cols)
        for ga in UnsafeBufferPointer(start: grads, count: operands.count) where ga.rows != o.rows {
            if ga.rows == 1 && ga.cols == o.cols, let da = ga.p {
                Elementwise.addColumnSums(into: da, of: p, rows: o.rows, cols: o.cols)
            } else {
                Elementwise.accumulate(ga, gp, gp, o) { d, _ in d }
            }
        }
    }
}
