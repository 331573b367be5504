// Fusing the matrix products of a step that share their left operand.
//
// A gated cell multiplies the previous state by one weight per gate (W_hi h, W_hf h, W_hg h,
// W_ho h). Written as the papers write them these are four small products; run as one product
// with the weights stacked ([W_hi; W_hf; W_hg; W_ho] h, as cuDNN and PyTorch store them) the
// BLAS works on a 4× wider matrix, and the reverse pass needs one product for ∂L/∂h and one
// for the stacked weights' gradient instead of eight. The graph, the printed equations and the
// parameters stay as written; only the program's instruction list changes.
//
// The weights' gradient Σ_t G_tᵀ a_t is not accumulated step by step (a rank-B update each
// step, slow for small batches) but once per block of steps (see Program): G_t and a_t are
// copied side by side and one GEMM over the block's stacked rows adds their product.
import GSLKit

extension Program {
    /// Replaces groups of step products `a • W₁, a • W₂, …` (same `a`, each W a parameter) by
    /// one fused instruction placed where the first of them was.
    func fuseProducts(_ list: [Instruction]) -> [Instruction] {
        var groups: [Int: [Int]] = [:]   // left operand node → indices in list
        for (i, ins) in list.enumerated() {
            guard case .matmul(false, true) = ins.op else { continue }
            let operands = graph.nodes[ins.node].operands
            guard graph.nodes[operands[1]].op == .parameter, ins.out.gradBase != nil else { continue }
            groups[operands[0], default: []].append(i)
        }
        var replaced = [Int: Instruction](), removed = Set<Int>()
        for (_, members) in groups {
            let fused = FusedProducts(members.map { list[$0] }, block: block)
            replaced[members[0]] = fused
            removed.formUnion(members.dropFirst())
        }
        return list.indices.compactMap { removed.contains($0) ? nil : (replaced[$0] ?? list[$0]) }
    }
}

/// `[y₁ y₂ …] = a · [W₁; W₂; …]ᵀ` as one GEMM, scattered into each product's own storage;
/// reverse: gathered output gradients G, then ∂a += G · W per step, and ∂W += Gᵀ · a over
/// chunks of steps, added into each weight's gradient at the end.
final class FusedProducts: Instruction {
    let members: [Instruction]
    let rows: Int, inner: Int, width: Int
    let offsets: [Int]
    /// Steps per block (the program's), the capacity of the gathered rows.
    let chunk: Int
    /// Steps gathered in this block so far (behind a pointer: no exclusivity check per step).
    var filled: Int {
        get { state[0] }
        set { state[0] = newValue }
    }
    private let state: UnsafeMutablePointer<Int>
    let weights: UnsafeMutablePointer<Double>      // width × inner
    let weightGrad: UnsafeMutablePointer<Double>   // width × inner
    let outputs: UnsafeMutablePointer<Double>      // rows × width
    let chunkGrads: UnsafeMutablePointer<Double>   // chunk · rows × width
    let chunkInputs: UnsafeMutablePointer<Double>  // chunk · rows × inner
    /// Members read in place by the one fused sum that consumes them (see `linkFusedReads`):
    /// their columns of `outputs` are not copied out, and that sum writes their gradient rows
    /// straight into `currentGradients`.
    var direct: [Bool] { didSet { state[1] = direct.contains(false) ? 0 : 1 } }
    /// Every member is read in place: the forward pass copies nothing out.
    var allDirect: Bool { state[1] != 0 }
    /// Where this step's gathered output gradients go (rows × width), during the reverse pass.
    var currentGradients: UnsafeMutablePointer<Double> { chunkGrads + filled * rows * width }

    init(_ members: [Instruction], block: Int) {
        self.members = members
        let first = members[0]
        rows = first.out.rows
        inner = first.operands[0].cols
        offsets = members.reduce(into: [0]) { $0.append($0.last! + $1.out.cols) }
        width = offsets.last!
        chunk = block
        weights = .allocate(capacity: width * inner)
        weightGrad = .allocate(capacity: width * inner)
        outputs = .allocate(capacity: rows * width)
        chunkGrads = .allocate(capacity: chunk * rows * width)
        chunkInputs = .allocate(capacity: chunk * rows * inner)
        weightGrad.initialize(repeating: 0, count: width * inner)
        state = .allocate(capacity: 2)
        state.initialize(repeating: 0, count: 2)
        direct = Array(repeating: false, count: members.count)
        super.init(node: first.node, op: first.op, operands: first.operands, out: first.out)
    }

    deinit {
        weights.deallocate(); weightGrad.deallocate(); outputs.deallocate()
        chunkGrads.deallocate(); chunkInputs.deallocate(); state.deallocate()
    }

    /// Stacks the current weights (they may have changed since the last pass).
    override func beginForward() {
        for (m, off) in zip(members, offsets) {
            (weights + off * inner).update(from: m.operands[1].base, count: m.out.cols * inner)
        }
    }

    override func beginBackward() { filled = 0 }

    /// ∂W_i += (Gᵀ a)_i for the steps gathered in this block, added into each weight's own
    /// gradient once per block (so that a sequence cut into segments adds the same partial
    /// sums in the same order).
    private func flush() {
        guard filled > 0 else { return }
        MatMul.product(true, false, width, inner, filled * rows, chunkGrads, width, chunkInputs, inner, beta: 0, weightGrad, inner)
        filled = 0
        for (m, off) in zip(members, offsets) {
            guard let g = m.operands[1].gradBase else { continue }
            let src = weightGrad + off * inner
            for k in 0..<(m.out.cols * inner) { g[k] += src[k] }
        }
    }

    override func endBlock() { flush() }
    override func endBackward() { flush() }

    override func run(from t: Int, count: Int) throws {
        let a = operands[0].arg(t, count)
        MatMul.product(false, true, rows, width, inner, a.p!, inner, weights, inner, beta: 0, outputs, width)
        if allDirect { return }
        Parallel.rows(rows, cols: width) { range in
            for (k, (m, off)) in zip(members, offsets).enumerated() where !direct[k] {
                let o = m.out.arg(t, count), n = m.out.cols
                for r in range { (o.p! + r * n).update(from: outputs + r * width + off, count: n) }
            }
        }
    }

    override func vjp(from t: Int, count: Int) {
        let outputGrad = chunkGrads + filled * rows * width
        let a = operands[0].arg(t, count), ga = operands[0].gradArg(t, count)
        let inputs = chunkInputs + filled * rows * inner
        Parallel.rows(rows, cols: width) { range in
            for (k, (m, off)) in zip(members, offsets).enumerated() where !direct[k] {
                let g = m.out.gradArg(t, count), n = m.out.cols
                for r in range { (outputGrad + r * width + off).update(from: g.p! + r * n, count: n) }
            }
            (inputs + range.lowerBound * inner).update(from: a.p! + range.lowerBound * inner, count: range.count * inner)
        }
        if let da = ga.p {
            MatMul.product(false, false, rows, inner, width, outputGrad, width, weights, inner, beta: 1, da, inner)
        }
        filled += 1
        precondition(filled <= chunk, "FusedProducts: more steps than a block")
    }
}

// Fusing a step's chains of additions ending in an activation: σ(((a + b) + c) + d) — a gate's
// pre-activation sums and its nonlinearity — become one instruction instead of four, with no
// intermediate storage. The additions keep their order, so values are bit-identical; the
// reverse pass hands the pre-activation gradient straight to every addend.
extension Program {
    /// Replaces left-nested addition chains (each intermediate sum used once, by the next
    /// addition or the final activation, and needed by no VJP) with `FusedSum` instructions.
    func fuseSums(_ list: [Instruction], protected: Set<Int>) -> [Instruction] {
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for o in node.operands { uses[o] += 1 } }
        let position = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($0.element.node, $0.offset) })
        func isInternal(_ id: Int) -> Bool {
            graph.nodes[id].op == .add && uses[id] == 1 && placement[id].storage == .scratch
                && !protected.contains(id) && position[id] != nil && list[position[id]!] is FusedSum == false
                && list[position[id]!].op == .add && !(list[position[id]!] is FusedProducts)
        }
        var replaced = [Int: Instruction](), removed = Set<Int>()
        for (i, ins) in list.enumerated() where !(ins is FusedProducts) {
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
    func fuseProductSums(_ list: [Instruction], protected: Set<Int>) -> [Instruction] {
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for o in node.operands { uses[o] += 1 } }
        let position = Dictionary(uniqueKeysWithValues: list.enumerated().map { ($0.element.node, $0.offset) })
        func plainProduct(_ id: Int, shape: Shape) -> Bool {
            guard let k = position[id], type(of: list[k]) == Instruction.self, list[k].op == .multiply else { return false }
            return uses[id] == 1 && placement[id].storage == .scratch && !protected.contains(id)
                && graph.nodes[id].operands.allSatisfy { graph.nodes[$0].shape == shape }
        }
        var replaced = [Int: Instruction](), removed = Set<Int>()
        for (i, ins) in list.enumerated() where type(of: ins) == Instruction.self && ins.op == .add {
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
final class FusedProductSum: Instruction {
    /// Whether `a ⊙ b` came before `c ⊙ d` in the step (its VJP then runs after).
    let firstProductRunsFirst: Bool
    /// The factors' node ids: a, b, c, d.
    let factors: [Int]

    init(node: Int, factors: [Int], operands: [Slot], out: Slot, firstProductRunsFirst: Bool) {
        self.firstProductRunsFirst = firstProductRunsFirst
        self.factors = factors
        super.init(node: node, op: .add, operands: operands, out: out)
    }

    override var isRowwise: Bool { true }

    override func prepare(_ t: Int, _ count: Int, gradients: Bool) {
        for i in 0..<4 {
            args[i] = operands[i].arg(t, count)
            if gradients { grads[i] = operands[i].gradArg(t, count) }
        }
        current = (out.arg(t, count), out.gradArg(t, count))
    }

    override func forwardRows(_ r: Range<Int>) {
        let (a, b, c, d, y, n) = (args[0].p!, args[1].p!, args[2].p!, args[3].p!, current.value.p!, current.value.cols)
        for k in (r.lowerBound * n)..<(r.upperBound * n) { y[k] = a[k] * b[k] + c[k] * d[k] }
    }

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

    override var hasTail: Bool { false }
}

// Reading a gate's recurrent product in place. The fused product computes [W₁h W₂h …] into
// one buffer; a gate's sum then reads its columns there (row stride = the buffer's width)
// instead of a copy, and writes their gradient back there, when the sum is the product's only
// consumer. Same additions in the same order: the bits do not change.
extension Program {
    func linkFusedReads(_ list: [Instruction], protected: Set<Int>) {
        var uses = [Int](repeating: 0, count: graph.nodes.count)
        for node in graph.nodes { for o in node.operands { uses[o] += 1 } }
        var member: [Int: (FusedProducts, Int)] = [:]   // node → (fused product, member index)
        for case let f as FusedProducts in list { for (k, m) in f.members.enumerated() { member[m.node] = (f, k) } }
        for case let sum as FusedSum in list {
            // Only sums that run the row-wise kernel (every addend full-shape or a broadcast row).
            let shape = graph.nodes[sum.node].shape
            guard sum.addends.allSatisfy({ graph.nodes[$0].shape.cols == shape.cols && [shape.rows, 1].contains(graph.nodes[$0].shape.rows) })
            else { continue }
            for (i, id) in sum.addends.enumerated() {
                guard let (f, k) = member[id], uses[id] == 1, !protected.contains(id), placement[id].storage == .scratch,
                      f.members[k].out.rows == sum.out.rows, f.members[k].out.cols == sum.out.cols, !f.direct[k] else { continue }
                f.direct[k] = true
                sum.views[i] = FusedSum.View(values: f.outputs + f.offsets[k], stride: f.width, product: f, offset: f.offsets[k])
            }
        }
    }
}

/// `y = f(((a₀ + a₁) + a₂) + …)` for an activation f (σ, tanh) or none, addends broadcasting
/// (biases). Reverse: p = g ⊙ f′(y) (reusing y), then every addend's gradient += p.
final class FusedSum: Instruction {
    let activation: Primitive?
    /// The addends' node ids.
    let addends: [Int]
    private let pre: UnsafeMutablePointer<Double>
    /// An addend read in place from a fused product's output (see `linkFusedReads`).
    struct View {
        var values: UnsafeMutablePointer<Double>
        var stride: Int
        unowned(unsafe) var product: FusedProducts   // the program owns both; no reference counting in the time loop
        var offset: Int
    }
    /// Per addend, its view or nil (behind a pointer: read at every step, set only while the
    /// program is built).
    let views: UnsafeMutableBufferPointer<View?>
    /// Per addend, this step: its first element and its row stride (0 for a broadcast row).
    private let bases: UnsafeMutablePointer<UnsafeMutablePointer<Double>>
    private let strides: UnsafeMutablePointer<Int>

    init(node: Int, activation: Primitive?, addends: [Int], operands: [Slot], out: Slot) {
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

    override var isRowwise: Bool { true }
    /// Whether the prepared step runs the row kernel (every addend full-shape, a broadcast row
    /// or a view; see `rowLayout`) rather than the general broadcasting one.
    private var rowKernel = false

    override func prepare(_ t: Int, _ count: Int, gradients: Bool) {
        let o = out.arg(t, count)
        current = (o, out.gradArg(t, count))
        for i in operands.indices {
            args[i] = operands[i].arg(t, count)
            if gradients { grads[i] = operands[i].gradArg(t, count) }
        }
        if !gradients { rowKernel = rowLayout(rows: o.rows, cols: o.cols) }
    }

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
        case .sigmoid?: FastMath.sigmoid(inPlace: y + r.lowerBound * n, r.count * n)
        case .tanh?: FastMath.tanh(inPlace: y + r.lowerBound * n, r.count * n)
        default: break
        }
    }

    /// p = g ⊙ f′(y) (reusing y) and the full-shape addends' gradients, rows `r`.
    override func backwardRows(_ r: Range<Int>) {
        let (o, g) = current
        guard let d = g.p else { return }
        let p: UnsafeMutablePointer<Double> = activation == nil ? d : pre
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
        current.gradient.p != nil && UnsafeBufferPointer(start: grads, count: operands.count).contains { $0.rows != current.value.rows && $0.p != nil }
    }

    override var tailSplitsByColumns: Bool {
        let o = current.value
        return UnsafeBufferPointer(start: grads, count: operands.count).allSatisfy { ga in
            ga.rows == o.rows || ga.p == nil || (ga.rows == 1 && ga.cols == o.cols)
        }
    }

    override func backwardTail(columns cs: Range<Int>) {
        let o = current.value
        guard let d = current.gradient.p else { return }
        let p: UnsafeMutablePointer<Double> = activation == nil ? d : pre
        for ga in UnsafeBufferPointer(start: grads, count: operands.count) where ga.rows != o.rows {
            if let da = ga.p { Elementwise.addColumnSums(into: da, of: p, rows: o.rows, cols: o.cols, columns: cs) }
        }
    }

    /// The broadcast addends' gradients when they are not all biases, on one thread.
    override func broadcastTail() {
        let (o, g) = current
        guard let d = g.p else { return }
        let p: UnsafeMutablePointer<Double> = activation == nil ? d : pre
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

// Running a step's chain of row-wise instructions with one hand-off. After the fused product,
// an LSTM step is seven row-wise instructions (four gates, c', tanh c', h'); split one by one
// they would cost seven hand-offs and seven waits a step, in each direction. Rows r of each
// depend only on rows r of the ones before, so one
// split serves the whole chain: each core runs every instruction on its half of the rows,
// then the reverse pass's tails (the biases' column sums) run after. Same kernels, same
// order for every element: the bits do not change.
extension Program {
    /// Replaces runs of two or more consecutive row-wise step instructions with the same row
    /// count (at least two rows) by `RowSection`s.
    func groupRowwise(_ list: [Instruction]) -> [Instruction] {
        var result = [Instruction](), run = [Instruction]()
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
final class RowSection: Instruction {
    let members: [Instruction]
    private let rows: Int, width: Int

    /// The members that have a gradient, in reverse order: those the reverse pass runs.
    private let active: [Instruction]

    init(_ members: [Instruction]) {
        self.members = members
        active = members.filter { $0.out.gradBase != nil }.reversed()
        rows = members[0].out.rows
        width = members.reduce(0) { $0 + $1.out.cols }
        let last = members.last!
        super.init(node: last.node, op: last.op, operands: last.operands, out: last.out)
    }

    override var isRowwise: Bool { false }
    override func beginForward() { for m in members { m.beginForward() } }
    override func beginBackward() { for m in members { m.beginBackward() } }
    override func endBlock() { for m in members { m.endBlock() } }
    override func endBackward() { for m in members { m.endBackward() } }

    override func run(from t: Int, count: Int) throws {
        for m in members { m.prepare(t, count, gradients: false) }
        let members = self.members
        Parallel.rows(rows, cols: width) { r in for m in members { m.forwardRows(r) } }
    }

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
