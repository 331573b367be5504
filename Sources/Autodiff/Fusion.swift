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
    var filled = 0
    let weights: UnsafeMutablePointer<Double>      // width × inner
    let weightGrad: UnsafeMutablePointer<Double>   // width × inner
    let outputs: UnsafeMutablePointer<Double>      // rows × width
    let chunkGrads: UnsafeMutablePointer<Double>   // chunk · rows × width
    let chunkInputs: UnsafeMutablePointer<Double>  // chunk · rows × inner

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
        super.init(node: first.node, op: first.op, operands: first.operands, out: first.out)
    }

    deinit {
        weights.deallocate(); weightGrad.deallocate(); outputs.deallocate()
        chunkGrads.deallocate(); chunkInputs.deallocate()
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
        Parallel.rows(rows, cols: width) { range in
            for (m, off) in zip(members, offsets) {
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
            for (m, off) in zip(members, offsets) {
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
}

/// `y = f(((a₀ + a₁) + a₂) + …)` for an activation f (σ, tanh) or none, addends broadcasting
/// (biases). Reverse: p = g ⊙ f′(y) (reusing y), then every addend's gradient += p.
final class FusedSum: Instruction {
    let activation: Primitive?
    /// The addends' node ids.
    let addends: [Int]
    private let pre: UnsafeMutablePointer<Double>

    init(node: Int, activation: Primitive?, addends: [Int], operands: [Slot], out: Slot) {
        self.activation = activation
        self.addends = addends
        pre = .allocate(capacity: out.rows * out.cols)
        super.init(node: node, op: activation ?? .add, operands: operands, out: out)
    }
    deinit { pre.deallocate() }

    override func run(from t: Int, count: Int) throws {
        let o = out.arg(t, count)
        // The instruction's preallocated operand views: no allocation inside the time loop.
        for i in operands.indices { args[i] = operands[i].arg(t, count) }
        let addends = args, m = operands.count
        Parallel.rows(o.rows, cols: o.cols) { r in
            let os = o.rows(r, of: o.rows)
            Elementwise.map(addends[0].rows(r, of: o.rows), addends[1].rows(r, of: o.rows), os) { $0 + $1 }
            for i in 2..<m { Elementwise.addInPlace(os, addends[i].rows(r, of: o.rows)) }
            switch activation {
            case .sigmoid?: FastMath.sigmoid(inPlace: os.p!, os.count)
            case .tanh?: FastMath.tanh(inPlace: os.p!, os.count)
            default: break
            }
        }
    }

    override func vjp(from t: Int, count: Int) {
        let (o, g) = (out.arg(t, count), out.gradArg(t, count))
        guard let d = g.p else { return }
        let p: UnsafeMutablePointer<Double> = activation == nil ? d : pre
        let gp = Arg(p: p, rows: o.rows, cols: o.cols)
        for i in operands.indices { grads[i] = operands[i].gradArg(t, count) }
        let grads = UnsafeBufferPointer(start: self.grads, count: operands.count)
        // p = g ⊙ f′(y), and the full-shape addends' gradients, row range by row range; the
        // broadcast addends (biases) sum over rows, so they are done after, on one thread.
        Parallel.rows(o.rows, cols: o.cols) { r in
            let (y, dd, pp) = (o.p! + r.lowerBound * o.cols, d + r.lowerBound * o.cols, p + r.lowerBound * o.cols)
            let n = r.count * o.cols
            switch activation {
            case .sigmoid?: for k in 0..<n { pp[k] = dd[k] * y[k] * (1 - y[k]) }
            case .tanh?: for k in 0..<n { pp[k] = dd[k] * (1 - y[k] * y[k]) }
            default: break
            }
            let gs = gp.rows(r, of: o.rows), os = o.rows(r, of: o.rows)
            for ga in grads where ga.rows == o.rows { Elementwise.accumulate(ga.rows(r, of: o.rows), gs, gs, os) { d, _ in d } }
        }
        // Bias gradients: column sums over the rows, split by columns (each column's sum keeps
        // its order, so its bits do not depend on the split).
        for ga in grads where ga.rows != o.rows {
            if ga.rows == 1 && ga.cols == o.cols, let da = ga.p {
                let (m, n) = (o.rows, o.cols)
                Parallel.columns(n, rows: m) { cs in
                    for r in 0..<m { let pr = p + r * n; for c in cs { da[c] += pr[c] } }
                }
            } else {
                Elementwise.accumulate(ga, gp, gp, o) { d, _ in d }
            }
        }
    }
}
