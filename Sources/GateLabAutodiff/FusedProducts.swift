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
//
// In float32 (where `Scalar.hasStepProduct`), the two per-step products of a batch of two rows
// or more run through `MatMul.stepProduct`, which reads the weights in place instead of
// repacking them at every call as sgemm does: forward from a transposed copy of the stacked
// weights made once per pass, backward from the stacked weights themselves.
import GateLabGSL

extension ProgramOf {
    /// Replaces groups of step products `a • W₁, a • W₂, …` (same `a`, each W a parameter) by
    /// one fused instruction placed where the first of them was.
    func fuseProducts(_ list: [Instruction<S>]) -> [Instruction<S>] {
        var groups: [Int: [Int]] = [:]   // left operand node → indices in list
        for (i, ins) in list.enumerated() {
            guard case .matmul(false, true) = ins.op else { continue }
            let operands = graph.nodes[ins.node].operands
            guard graph.nodes[operands[1]].op == .parameter, ins.out.gradBase != nil else { continue }
            groups[operands[0], default: []].append(i)
        }
        var replaced = [Int: Instruction<S>](), removed = Set<Int>()
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
final class FusedProducts<S: Scalar>: Instruction<S> {
    let members: [Instruction<S>]
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
    let weights: UnsafeMutablePointer<S>      // width × inner
    let weightGrad: UnsafeMutablePointer<S>   // width × inner
    /// The stacked weights transposed (inner × width), for `stepProduct`; nil when unused.
    let weightsT: UnsafeMutablePointer<S>?
    let outputs: UnsafeMutablePointer<S>      // rows × width
    let chunkGrads: UnsafeMutablePointer<S>   // chunk · rows × width
    let chunkInputs: UnsafeMutablePointer<S>  // chunk · rows × inner
    /// Members read in place by the one fused sum that consumes them (see `linkFusedReads`):
    /// their columns of `outputs` are not copied out, and that sum writes their gradient rows
    /// straight into `currentGradients`.
    var direct: [Bool] { didSet { state[1] = direct.contains(false) ? 0 : 1 } }
    /// Every member is read in place: the forward pass copies nothing out.
    var allDirect: Bool { state[1] != 0 }
    /// Where this step's gathered output gradients go (rows × width), during the reverse pass.
    var currentGradients: UnsafeMutablePointer<S> { chunkGrads + filled * rows * width }

    @_specialize(where S == Double) @_specialize(where S == Float)
    init(_ members: [Instruction<S>], block: Int) {
        self.members = members
        let first = members[0]
        rows = first.out.rows
        inner = first.operands[0].cols
        offsets = members.reduce(into: [0]) { $0.append($0.last! + $1.out.cols) }
        width = offsets.last!
        chunk = block
        weights = .allocate(capacity: width * inner)
        weightGrad = .allocate(capacity: width * inner)
        weightsT = S.hasStepProduct && rows >= 2 ? .allocate(capacity: width * inner) : nil
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
        weights.deallocate(); weightGrad.deallocate(); outputs.deallocate(); weightsT?.deallocate()
        chunkGrads.deallocate(); chunkInputs.deallocate(); state.deallocate()
    }

    /// Stacks the current weights (they may have changed since the last pass).
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func beginForward() {
        for (m, off) in zip(members, offsets) {
            (weights + off * inner).update(from: m.operands[1].base, count: m.out.cols * inner)
        }
        if let weightsT {   // in 16 × 16 tiles, so that neither side is walked with a long stride
            for j0 in stride(from: 0, to: width, by: 16) {
                for p0 in stride(from: 0, to: inner, by: 16) {
                    for j in j0..<Swift.min(j0 + 16, width) {
                        for p in p0..<Swift.min(p0 + 16, inner) { weightsT[p * width + j] = weights[j * inner + p] }
                    }
                }
            }
        }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
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

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func endBlock() { flush() }
    @_specialize(where S == Double) @_specialize(where S == Float)
    override func endBackward() { flush() }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func run(from t: Int, count: Int) throws {
        let a = operands[0].arg(t, count)
        if let weightsT {
            MatMul.stepProduct(rows, width, inner, a.p!, inner, weightsT, width, accumulate: false, outputs, width)
        } else {
            MatMul.product(false, true, rows, width, inner, a.p!, inner, weights, inner, beta: 0, outputs, width)
        }
        if allDirect { return }
        Parallel.rows(rows, cols: width) { range in
            for (k, (m, off)) in zip(members, offsets).enumerated() where !direct[k] {
                let o = m.out.arg(t, count), n = m.out.cols
                for r in range { (o.p! + r * n).update(from: outputs + r * width + off, count: n) }
            }
        }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    override func vjp(from t: Int, count: Int) {
        let outputGrad = chunkGrads + filled * rows * width
        let a = operands[0].arg(t, count), ga = operands[0].gradArg(t, count)
        let inputs = chunkInputs + filled * rows * inner
        func gather(_ range: Range<Int>) {
            for (k, (m, off)) in zip(members, offsets).enumerated() where !direct[k] {
                let g = m.out.gradArg(t, count), n = m.out.cols
                for r in range { (outputGrad + r * width + off).update(from: g.p! + r * n, count: n) }
            }
            (inputs + range.lowerBound * inner).update(from: a.p! + range.lowerBound * inner, count: range.count * inner)
        }
        if let da = ga.p, weightsT != nil, MatMul.splitsStepProductByRows(rows, inner, width) {
            // Each core gathers its row half and multiplies it at once: one hand-off, not two.
            Parallel.two { part in
                let range = Parallel.rowHalf(part, of: rows)
                gather(range)
                S.stepProduct(m: range.count, n: inner, k: width, a: outputGrad + range.lowerBound * width, lda: width,
                              b: weights, ldb: inner, c: da + range.lowerBound * inner, ldc: inner, accumulate: true)
            }
        } else {
            Parallel.rows(rows, cols: width) { gather($0) }
            if let da = ga.p {
                if weightsT != nil {
                    MatMul.stepProduct(rows, inner, width, outputGrad, width, weights, inner, accumulate: true, da, inner)
                } else {
                    MatMul.product(false, false, rows, inner, width, outputGrad, width, weights, inner, beta: 1, da, inner)
                }
            }
        }
        filled += 1
        precondition(filled <= chunk, "FusedProducts: more steps than a block")
    }
}
