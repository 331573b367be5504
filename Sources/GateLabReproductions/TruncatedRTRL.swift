#if canImport(Glibc)
import GateLabTasks
import Glibc
#else
import Darwin
#endif

/// The LSTM of H&S 1997 / Gers et al. 2000 with its learning rule: the forward pass and the
/// **truncated** gradient of App. A.1 (eqs. 16–28) carried forward as traces, O(W) per step,
/// memory independent of the sequence length.
///
/// Forward (App. A.1; f logistic, g = 4f − 2, h = 2f − 1; d = `stateDecay`, φ ≡ 1 without
/// forget gates):
/// ```
/// y^in_j = f(w_in_j · z)   y^out_j = f(w_out_j · z)   y^φj = f(w_φj · z)
/// s_c(t) = d·y^φj·s_c(t−1) + y^in_j · g(w_c · z)       y^c = y^out_j · h(s_c)
/// y^k    = f(w_k · o)      with z = [1, x(t), y^c(t−1), y^gates(t−1)], o = [1, y^c(t), x(t)]
/// ```
/// Errors, factor 2 dropped as the paper writes them (so they are −∂/∂ of ½Σ(t − y)²):
/// ```
/// e_k = f'(net_k)(t_k − y_k)                         Δw_{k,m}     ∝ e_k · o_m
/// δ_c = Σ_k w_{k,c} e_k
/// e_out_j = f'(net_out_j) · Σ_v h(s_c) δ_c            Δw_{out_j,m} ∝ e_out_j · z_m
/// e_s_c = y^out_j · h'(s_c) · δ_c
/// Δw_{c,m} ∝ e_s_c · ∂s_c/∂w_{c,m}      Δw_{in_j,m} ∝ Σ_v e_s_c · ∂s_c/∂w_{in_j,m}   (and φ_j)
/// ```
/// Traces (eqs. 24–28; the forget-gate form of gers2000.md §4), zero at each reset:
/// ```
/// ∂s_c/∂w_{c,m}    ← d·y^φ · ∂s_c/∂w_{c,m}    + g'(net_c) · y^in_j      · z_m
/// ∂s_c/∂w_{in_j,m} ← d·y^φ · ∂s_c/∂w_{in_j,m} + g(net_c)  · f'(net_in_j) · z_m
/// ∂s_c/∂w_{φj,m}   ← d·y^φ · ∂s_c/∂w_{φj,m}   + d·s_c(t−1) · f'(net_φj)  · z_m
/// ```
/// `gradient` accumulates these Δw/α terms (the descent direction); `applyUpdate` adds α times
/// it to the weights and clears it.
///
/// Exps. 2a/2b's net (`Architecture.connectivityB`): no output gate (y^out ≡ 1), g = f, h the
/// identity, z = [1, x(t)]; so y^c = s_c, e_s_c = δ_c, the cell traces use g'(net_c) = f'(net_c),
/// and no output-gate weights exist to change. Before its cells are added (`cellsActive` false,
/// Exps. 2a/2b's sequential construction) the net is the output units alone: the cells' outputs
/// stay 0 and their and their gates' weights do not change.
public struct TruncatedRTRL: Sendable {
    /// The network.
    public let architecture: Architecture
    /// The weights, in `Architecture`'s layout.
    public var weights: [Double]
    /// The accumulated descent direction (−∂E/∂w under truncation) since the last update.
    public var gradient: [Double]
    /// All activations, states and traces (layout in `Offsets`).
    var state: [Double]
    /// d: the CEC's self-weight (1.0; 0.9 for the state-decay baseline of Gers 2000).
    public let stateDecay: Double
    /// Whether the memory cells take part (false until Exps. 2a/2b's sequential construction
    /// adds them; true in every other trial).
    public var cellsActive = true
    let o: Offsets
    /// Room for the step's lists of sources that may be nonzero (`SparseSources`), not part of
    /// the learner's state.
    var scratch: [Int]
    /// Whether steps with one-hot inputs may run over their nonzero sources only
    /// (`SparseSources`: the same bits); false runs every step densely (for the tests).
    public var skipsZeroInputs = true

    /// Offsets of every quantity inside `state`, and the constants of the step loop.
    struct Offsets: Sendable {
        let nIn, blocks, perBlock, cells, nOut, zCount, oCount: Int
        let cellStart, gateStart, outStart, cellRow, gateRow, outRow: Int
        let forget, gatesFeed, shortcuts: Bool
        /// Exps. 2a/2b's net: no output gates, g = f, h = identity, no recurrent sources in z.
        let layered: Bool
        /// Gate rows per block, in the order input, output, forget gates.
        let gateKinds: Int
        let wCell, wIn, wOut, wPhi, wK: Int
        let z, s, yIn, yOut, yPhi, fpIn, fpOut, fpPhi, gNet, sigS, yc, out, yk, ek, tCell, tIn, tPhi, count: Int

        init(_ a: Architecture) {
            (nIn, blocks, perBlock, cells, nOut) = (a.inputs, a.blocks, a.cellsPerBlock, a.cells, a.outputs)
            (zCount, oCount) = (a.sourceCount, a.outputSourceCount)
            (cellStart, gateStart, outStart) = (a.cellStart, a.gateStart, a.outputStart)
            (cellRow, gateRow, outRow) = (a.cellRow, a.gateRow, a.outputRow)
            (forget, gatesFeed, shortcuts) = (a.forgetGates, a.gatesFeedUnits, a.outputShortcuts)
            layered = a.isConnectivityB
            gateKinds = a.gatesPerBlock
            precondition(!layered || !forget, "the connectivity-B net has no forget gates")
            wCell = a.cellOffset(0)
            wIn = a.inputGateOffset(0)
            wOut = a.outputGateOffset(0)
            wPhi = a.forgetGates ? a.forgetGateOffset(0) : 0
            wK = a.outputOffset(0)
            // The kernel computes all gates' net inputs in one `rowDots` over consecutive rows
            // (input, output, then forget gates), into yIn, yOut, yPhi laid out the same way.
            precondition(wOut == wIn + blocks * gateRow && (!forget || wPhi == wOut + blocks * gateRow),
                         "the gates' weight rows must follow one another (input, output, forget)")
            var next = 0
            func take(_ n: Int) -> Int { defer { next += n }; return next }
            z = take(zCount); s = take(cells)
            yIn = take(blocks); yOut = take(blocks); yPhi = take(blocks)
            fpIn = take(blocks); fpOut = take(blocks); fpPhi = take(blocks)
            gNet = take(cells); sigS = take(cells); yc = take(cells)
            out = take(oCount); yk = take(nOut); ek = take(nOut)
            tCell = take(cells * cellRow); tIn = take(cells * gateRow)
            tPhi = take(a.forgetGates ? cells * gateRow : 0)
            count = next
        }
    }

    /// A learner with the given weights and all activations, states and traces at zero.
    /// - Parameters:
    ///   - architecture: The network.
    ///   - weights: W weights in the architecture's layout.
    ///   - stateDecay: The CEC self-weight d (1.0 except for Gers 2000's decay baseline).
    public init(architecture: Architecture, weights: [Double], stateDecay: Double = 1.0) {
        precondition(weights.count == architecture.weightCount, "expected \(architecture.weightCount) weights")
        self.architecture = architecture
        self.weights = weights
        self.gradient = [Double](repeating: 0, count: weights.count)
        self.stateDecay = stateDecay
        self.o = Offsets(architecture)
        self.state = [Double](repeating: 0, count: o.count)
        self.scratch = [Int](repeating: 0, count: SparseSources.capacity(o))
        resetActivations()
    }

    /// Sets every activation, state and trace to zero (the start of a sequence, §5).
    public mutating func resetActivations() {
        state.withUnsafeMutableBufferPointer { a in
            for i in 0..<a.count { a[i] = 0 }
            a[o.z] = 1   // the bias unit
        }
    }

    /// The output activations y^k of the last step.
    public var outputs: ArraySlice<Double> { state[o.yk..<(o.yk + o.nOut)] }

    /// The cell states s_c after the last step.
    public var cellStates: ArraySlice<Double> { state[o.s..<(o.s + o.cells)] }

    /// Adds α times the accumulated descent direction to the weights and clears it.
    /// - Parameter learningRate: α.
    public mutating func applyUpdate(learningRate: Double) {
        weights.withUnsafeMutableBufferPointer { w in
            gradient.withUnsafeMutableBufferPointer { g in
                for i in 0..<w.count { w[i] += learningRate * g[i]; g[i] = 0 }
            }
        }
    }

    /// Runs one step: input x(t), then, if `target` is given, adds this step's truncated
    /// descent direction to `gradient`.
    /// - Parameters:
    ///   - input: `inputs` values.
    ///   - target: `outputs` target values, or nil for a step without error.
    public mutating func step(input: UnsafePointer<Double>, target: UnsafePointer<Double>?) {
        let offsets = o
        let decay = stateDecay
        let active = cellsActive, skip = skipsZeroInputs
        weights.withUnsafeMutableBufferPointer { w in
            state.withUnsafeMutableBufferPointer { a in
                gradient.withUnsafeMutableBufferPointer { g in
                    scratch.withUnsafeMutableBufferPointer { nz in
                        TruncatedRTRL.kernel(offsets, decay, w.baseAddress!, a.baseAddress!, g.baseAddress!, input, target,
                                             cellsActive: active, scratch: skip ? nz.baseAddress! : nil)
                    }
                }
            }
        }
    }

    @inline(__always) static func sigmoid(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    @inline(__always) static func dot(_ w: UnsafeMutablePointer<Double>, _ x: UnsafeMutablePointer<Double>, _ n: Int) -> Double {
        var sum = 0.0
        for m in 0..<n { sum += w[m] * x[m] }
        return sum
    }

    /// `rows` consecutive rows of n weights (starting at `w`), each dotted with `x`, into
    /// `out`: four rows at a time, each in its own accumulator summed in `dot`'s order (so
    /// every sum is bit-identical to `dot`'s), which lets the four dependent chains of
    /// additions overlap instead of running one after another.
    @inline(__always) static func rowDots(_ w: UnsafeMutablePointer<Double>, _ rows: Int, _ n: Int,
                                          _ x: UnsafeMutablePointer<Double>, into out: UnsafeMutablePointer<Double>) {
        var r = 0
        while r + 4 <= rows {
            let w0 = w + r * n, w1 = w0 + n, w2 = w1 + n, w3 = w2 + n
            var s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
            for m in 0..<n {
                let xm = x[m]
                s0 += w0[m] * xm; s1 += w1[m] * xm; s2 += w2[m] * xm; s3 += w3[m] * xm
            }
            out[r] = s0; out[r + 1] = s1; out[r + 2] = s2; out[r + 3] = s3
            r += 4
        }
        while r < rows { out[r] = dot(w + r * n, x, n); r += 1 }
    }

    /// One step over raw buffers (no allocation, no dispatch per unit).
    ///
    /// With `learning` false (testing) the step is forward only: no traces and no errors, so
    /// `target` must be nil. The activations, states and outputs are the same expressions in
    /// the same order as when learning, hence bit-identical; only the traces in `a` are left
    /// as they were (every caller resets them before the next learning step).
    ///
    /// With `cellsActive` false (Exps. 2a/2b before their cells are added) phase 2 and the
    /// cells' errors are skipped: the cells' outputs keep the 0 of the last reset.
    @inline(__always) @discardableResult
    static func kernel(_ o: Offsets, _ decay: Double, _ w: UnsafeMutablePointer<Double>, _ a: UnsafeMutablePointer<Double>,
                       _ g: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ target: UnsafePointer<Double>?,
                       learning: Bool = true, cellsActive: Bool = true, scratch: UnsafeMutablePointer<Int>?) -> SparseSources {
        // One copy of the loops per network kind, each with its kind a constant: the 1997/2000
        // nets' step does not test for Exps. 2a/2b's net at every cell.
        if o.layered {
            return stepLoops(o, decay, w, a, g, x, target, learning: learning, cellsActive: cellsActive, layered: true, scratch: scratch)
        } else {
            return stepLoops(o, decay, w, a, g, x, target, learning: learning, cellsActive: cellsActive, layered: false, scratch: scratch)
        }
    }

    /// `kernel`'s loops, for Exps. 2a/2b's net when `layered` (no output gate, g = f, h the
    /// identity), else for the 1997/2000 nets. Returns the step's source lists.
    @inline(__always)
    static func stepLoops(_ o: Offsets, _ decay: Double, _ w: UnsafeMutablePointer<Double>, _ a: UnsafeMutablePointer<Double>,
                          _ g: UnsafeMutablePointer<Double>, _ x: UnsafePointer<Double>, _ target: UnsafePointer<Double>?,
                          learning: Bool, cellsActive: Bool, layered: Bool, scratch: UnsafeMutablePointer<Int>?) -> SparseSources {
        assert(learning || target == nil, "a forward-only step has no error")
        let z = a + o.z
        // Phase 1: the current input onto the input units (z already holds y(t−1)).
        for i in 0..<o.nIn { z[1 + i] = x[i] }
        let zGate = z + o.gateStart
        let zCell = z + o.cellStart
        // One-hot inputs (Exps. 1, 2, 6, CERG): the sums and traces run over the sources that
        // may be nonzero only, with the same result bits (`SparseSources`).
        let lists = scratch.map { SparseSources(o, x, $0) } ?? SparseSources()
        let sparse = lists.sparse
        if cellsActive {
            // Phase 2a: gates, from z(t). Their rows lie one after another (input gates, output
            // gates, forget gates), as do yIn, yOut, yPhi: the net inputs go there first.
            if sparse {
                SparseSources.rowDots(w + o.wIn, o.blocks * o.gateKinds, o.gateRow, zGate, lists.gate, lists.gateCount, into: a + o.yIn)
            } else {
                rowDots(w + o.wIn, o.blocks * o.gateKinds, o.gateRow, zGate, into: a + o.yIn)
            }
            for j in 0..<o.blocks {
                let yi = sigmoid(a[o.yIn + j])
                a[o.yIn + j] = yi; a[o.fpIn + j] = yi * (1 - yi)
                // No output gate (Exps. 2a/2b): y^out ≡ 1.
                let yo = layered ? 1 : sigmoid(a[o.yOut + j])
                a[o.yOut + j] = yo; a[o.fpOut + j] = yo * (1 - yo)
                if o.forget {
                    let yf = sigmoid(a[o.yPhi + j])
                    a[o.yPhi + j] = yf; a[o.fpPhi + j] = yf * (1 - yf)
                } else {
                    a[o.yPhi + j] = 1
                }
            }
            // The cells' net inputs (into gNet, which then receives g(net_c)).
            if sparse {
                SparseSources.rowDots(w + o.wCell, o.cells, o.cellRow, zCell, lists.cell, lists.cellCount, into: a + o.gNet)
            } else {
                rowDots(w + o.wCell, o.cells, o.cellRow, zCell, into: a + o.gNet)
            }
            // Phase 2b: cells (CEC) and their traces, which use the same z(t) (y^m(t−1)).
            for j in 0..<o.blocks {
                let yi = a[o.yIn + j], yo = a[o.yOut + j], keep = decay * a[o.yPhi + j]
                let fpi = a[o.fpIn + j], fpf = a[o.fpPhi + j]
                for v in 0..<o.perBlock {
                    let c = j * o.perBlock + v
                    let sg = sigmoid(a[o.gNet + c])
                    // g = 4f − 2 ∈ [−2, 2]; Exps. 2a/2b: g = f ∈ [0, 1].
                    let gn = layered ? sg : 4 * sg - 2, gp = layered ? sg * (1 - sg) : 4 * sg * (1 - sg)
                    let sp = a[o.s + c]
                    let sn = keep * sp + yi * gn
                    let ss = sigmoid(sn)
                    a[o.s + c] = sn; a[o.gNet + c] = gn; a[o.sigS + c] = ss
                    // h = 2f − 1 ∈ [−1, 1]; Exps. 2a/2b: h the identity.
                    a[o.yc + c] = layered ? yo * sn : yo * (2 * ss - 1)
                    guard learning else { continue }
                    let aCell = gp * yi, aIn = gn * fpi
                    let tc = a + o.tCell + c * o.cellRow, ti = a + o.tIn + c * o.gateRow
                    if keep == 1 && sparse {
                        // A zero source adds ±0 to a trace that is never −0: skipping it keeps the bits.
                        for q in 0..<lists.cellCount { let m = lists.cell[q]; tc[m] += aCell * zCell[m] }
                        for q in 0..<lists.gateCount { let m = lists.gate[q]; ti[m] += aIn * zGate[m] }
                    } else if keep == 1 {
                        for m in 0..<o.cellRow { tc[m] += aCell * zCell[m] }
                        for m in 0..<o.gateRow { ti[m] += aIn * zGate[m] }
                    } else {
                        for m in 0..<o.cellRow { tc[m] = keep * tc[m] + aCell * zCell[m] }
                        for m in 0..<o.gateRow { ti[m] = keep * ti[m] + aIn * zGate[m] }
                    }
                    if o.forget {
                        let aPhi = decay * sp * fpf
                        let tp = a + o.tPhi + c * o.gateRow
                        for m in 0..<o.gateRow { tp[m] = keep * tp[m] + aPhi * zGate[m] }
                    }
                }
            }
        }
        // Phase 3: output units read the same step's cells (and, with shortcuts, the inputs).
        let out = a + o.out
        out[0] = 1
        for c in 0..<o.cells { out[1 + c] = a[o.yc + c] }
        if o.shortcuts { for i in 0..<o.nIn { out[1 + o.cells + i] = x[i] } }
        let outSource = out + o.outStart
        if sparse {
            SparseSources.rowDots(w + o.wK, o.nOut, o.outRow, outSource, lists.output, lists.outputCount, into: a + o.yk)
        } else {
            rowDots(w + o.wK, o.nOut, o.outRow, outSource, into: a + o.yk)
        }
        for k in 0..<o.nOut { a[o.yk + k] = sigmoid(a[o.yk + k]) }
        // Errors and the truncated descent direction (eqs. 16–28, factor 2 dropped).
        if let target {
            // δ_c = Σ_k w_{k,c} e_k is read before any weight of this step changes (the caller
            // applies the update after the step).
            for k in 0..<o.nOut {
                let y = a[o.yk + k]
                let e = y * (1 - y) * (target[k] - y)
                a[o.ek + k] = e
                let gk = g + o.wK + k * o.outRow
                if sparse {
                    for q in 0..<lists.outputCount { let m = lists.output[q]; gk[m] += e * outSource[m] }
                } else {
                    for m in 0..<o.outRow { gk[m] += e * outSource[m] }
                }
            }
            for j in 0..<o.blocks where cellsActive {
                var outGateSum = 0.0
                let yo = a[o.yOut + j]
                for v in 0..<o.perBlock {
                    let c = j * o.perBlock + v
                    var delta = 0.0
                    for k in 0..<o.nOut { delta += w[o.wK + k * o.outRow + 1 + c - o.outStart] * a[o.ek + k] }
                    let ss = a[o.sigS + c]
                    outGateSum += (2 * ss - 1) * delta
                    // e_s = y^out · h'(s) · δ; Exps. 2a/2b: y^out ≡ 1, h' ≡ 1.
                    let es = layered ? delta : yo * (2 * ss * (1 - ss)) * delta
                    let gc = g + o.wCell + c * o.cellRow, tc = a + o.tCell + c * o.cellRow
                    for m in 0..<o.cellRow { gc[m] += es * tc[m] }
                    let gi = g + o.wIn + j * o.gateRow, ti = a + o.tIn + c * o.gateRow
                    for m in 0..<o.gateRow { gi[m] += es * ti[m] }
                    if o.forget {
                        let gf = g + o.wPhi + j * o.gateRow, tp = a + o.tPhi + c * o.gateRow
                        for m in 0..<o.gateRow { gf[m] += es * tp[m] }
                    }
                }
                guard !layered else { continue }   // no output gate
                let eOut = a[o.fpOut + j] * outGateSum
                let go = g + o.wOut + j * o.gateRow
                if sparse {
                    for q in 0..<lists.gateCount { let m = lists.gate[q]; go[m] += eOut * zGate[m] }
                } else {
                    for m in 0..<o.gateRow { go[m] += eOut * zGate[m] }
                }
            }
        }
        // End of the step: y(t) becomes the y(t−1) that the next step's gates and cells read
        // (not in Exps. 2a/2b's net, whose z holds the inputs only).
        guard !layered else { return lists }
        for c in 0..<o.cells { z[1 + o.nIn + c] = a[o.yc + c] }
        if o.gatesFeed {
            let base = 1 + o.nIn + o.cells
            for j in 0..<o.blocks {
                z[base + j] = a[o.yIn + j]
                z[base + o.blocks + j] = a[o.yOut + j]
                if o.forget { z[base + 2 * o.blocks + j] = a[o.yPhi + j] }
            }
        }
        return lists
    }

    /// w += α·g and g = 0 after a step whose gradient was added over `lists` with g zero
    /// before: every cell and gate row (their traces are dense), but of the output rows only
    /// the listed sources, the only entries that can be nonzero. The others would add
    /// α · (+0) to weights that are never −0, so the bits are those of the dense update.
    @inline(__always)
    static func applyUpdate(_ o: Offsets, _ lists: SparseSources, _ w: UnsafeMutablePointer<Double>,
                            _ g: UnsafeMutablePointer<Double>, rate: Double) {
        for i in 0..<o.wK { w[i] += rate * g[i]; g[i] = 0 }
        for k in 0..<o.nOut {
            let row = o.wK + k * o.outRow
            for q in 0..<lists.outputCount { let i = row + lists.output[q]; w[i] += rate * g[i]; g[i] = 0 }
        }
    }
}


/// When a sequence is correct (Table 11's "correct if").
public enum CorrectnessRule: Codable, Equatable, Hashable, Sendable {
    /// ABS(β): at every target step the absolute error of every output unit is below β.
    case absolute(Double)
    /// ABS(β) "at sequence end" (Exp. 2b): only the last target step is judged, where the
    /// absolute error of every output unit must be below β; the earlier steps (unpredictable
    /// random symbols) still carry targets for learning.
    case absoluteAtSequenceEnd(Double)
    /// Exp. 1: with n legal successors, their n output units are the n most active
    /// (every legal unit's output exceeds every illegal unit's) [interp].
    case legalAreLargest

    // snake_case keys in records: {"absolute": {"threshold": 0.04}}, {"legal_are_largest": {}}.
    enum CodingKeys: String, CodingKey {
        case absolute, legalAreLargest = "legal_are_largest", absoluteAtSequenceEnd = "absolute_at_sequence_end"
    }
    enum AbsoluteCodingKeys: String, CodingKey { case _0 = "threshold" }
    enum AbsoluteAtSequenceEndCodingKeys: String, CodingKey { case _0 = "threshold" }

    /// Whether target step `t` is judged, `lastTargetStep` being the sequence's last step with
    /// a target: every target step, except under `absoluteAtSequenceEnd`.
    @inline(__always)
    public func judges(step t: Int, lastTargetStep: Int) -> Bool {
        if case .absoluteAtSequenceEnd = self { return t == lastTargetStep }
        return true
    }

    /// Whether the outputs `y` are correct against `target` (and `legal`, for Exp. 1).
    @inline(__always)
    public func holds(_ y: UnsafeMutablePointer<Double>, _ target: UnsafePointer<Double>, _ legal: UnsafePointer<Double>?, _ n: Int) -> Bool {
        switch self {
        case .absolute(let beta), .absoluteAtSequenceEnd(let beta):
            for k in 0..<n where !(abs(target[k] - y[k]) < beta) { return false }
            return true
        case .legalAreLargest:
            guard let legal else { return false }
            var lowestLegal = Double.infinity, highestIllegal = -Double.infinity
            for k in 0..<n {
                if legal[k] != 0 { lowestLegal = min(lowestLegal, y[k]) } else { highestIllegal = max(highestIllegal, y[k]) }
            }
            return lowestLegal > highestIllegal
        }
    }
}

/// What a pass over one sequence does with the error.
public enum UpdateTiming: Equatable, Sendable {
    /// Forward only (testing): no error is propagated.
    case none
    /// Accumulate the truncated descent direction over the sequence into `gradient`; no update.
    case accumulate
    /// Change the weights after every step that has a target (Exp. 1, CERG; for end-only
    /// targets this is one update at the end of the sequence).
    case everyTargetStep(learningRate: Double)
}

/// The result of one pass over a sequence.
public struct SequenceOutcome: Equatable, Sendable {
    /// Every target step was correct under the rule.
    public var correct: Bool
    /// E = Σ_k (t_k − y_k)² at the last target step (the paper's E(t), factor 2 kept).
    public var finalError: Double
    /// Σ over target steps and outputs of (t − y)².
    public var squaredErrorSum: Double
    /// Number of target steps.
    public var targetSteps: Int

    /// An outcome with these values.
    public init(correct: Bool, finalError: Double, squaredErrorSum: Double, targetSteps: Int) {
        (self.correct, self.finalError, self.squaredErrorSum, self.targetSteps) = (correct, finalError, squaredErrorSum, targetSteps)
    }
}

extension TruncatedRTRL {
    /// Runs one sequence from zero activations (§5: activations are reset after each
    /// sequence), checking every target step under `rule`.
    /// - Parameters:
    ///   - sequence: The sequence.
    ///   - rule: When a target step is correct.
    ///   - timing: Whether and when the weights change.
    public mutating func run(_ sequence: TaskSequence, rule: CorrectnessRule, timing: UpdateTiming) -> SequenceOutcome {
        resetActivations()
        let offsets = o, decay = stateDecay, active = cellsActive, skip = skipsZeroInputs
        let nOut = o.nOut, nIn = o.nIn
        let lastTarget = sequence.hasTarget.lastIndex(of: true) ?? -1
        // Judged against the noise-free targets where the targets are noisy (Exp. 3c).
        let judged = sequence.expected ?? sequence.targets
        var outcome = SequenceOutcome(correct: true, finalError: 0, squaredErrorSum: 0, targetSteps: 0)
        let computeGradient = timing != .none
        var rate = 0.0
        if case .everyTargetStep(let alpha) = timing { rate = alpha }
        weights.withUnsafeMutableBufferPointer { wb in
            state.withUnsafeMutableBufferPointer { ab in
                gradient.withUnsafeMutableBufferPointer { gb in
                    sequence.inputs.withUnsafeBufferPointer { xb in
                        sequence.targets.withUnsafeBufferPointer { tb in
                          judged.withUnsafeBufferPointer { jb in
                            sequence.legal.withUnsafeBufferPointer { lb in
                              scratch.withUnsafeMutableBufferPointer { nzb in
                                let w = wb.baseAddress!, a = ab.baseAddress!, g = gb.baseAddress!
                                let nz = skip ? nzb.baseAddress! : nil
                                // Whether g is all zero, so that a sparse step's update may
                                // visit only what the step added to (true after every update).
                                var gradientClear = rate != 0 && !gb.contains { $0 != 0 }
                                for t in 0..<sequence.length {
                                    let hasTarget = sequence.hasTarget[t]
                                    let target = tb.baseAddress! + t * nOut
                                    let lists = TruncatedRTRL.kernel(offsets, decay, w, a, g, xb.baseAddress! + t * nIn,
                                                         hasTarget && computeGradient ? target : nil, learning: computeGradient,
                                                         cellsActive: active, scratch: nz)
                                    guard hasTarget else { continue }
                                    let y = a + offsets.yk, expected = jb.baseAddress! + t * nOut
                                    var e2 = 0.0
                                    for k in 0..<nOut { let e = expected[k] - y[k]; e2 += e * e }
                                    outcome.finalError = e2
                                    outcome.squaredErrorSum += e2
                                    outcome.targetSteps += 1
                                    if rule.judges(step: t, lastTargetStep: lastTarget),
                                       !rule.holds(y, expected, lb.isEmpty ? nil : lb.baseAddress! + t * nOut, nOut) {
                                        outcome.correct = false
                                    }
                                    if rate != 0 {
                                        if gradientClear && lists.sparse && offsets.shortcuts {
                                            TruncatedRTRL.applyUpdate(offsets, lists, w, g, rate: rate)
                                        } else {
                                            for i in 0..<wb.count { w[i] += rate * g[i]; g[i] = 0 }
                                        }
                                        gradientClear = true
                                    }
                                }
                              }
                            }
                          }
                        }
                    }
                }
            }
        }
        return outcome
    }
}

extension TruncatedRTRL: Codable {
    enum CodingKeys: String, CodingKey { case architecture, weights, gradient, state, stateDecay, cellsActive }

    /// Restores a learner saved mid-trial: weights, accumulated gradient, activations, states
    /// and traces.
    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        architecture = try container.decode(Architecture.self, forKey: .architecture)
        weights = try container.decode([Double].self, forKey: .weights)
        gradient = try container.decode([Double].self, forKey: .gradient)
        state = try container.decode([Double].self, forKey: .state)
        stateDecay = try container.decode(Double.self, forKey: .stateDecay)
        cellsActive = try container.decodeIfPresent(Bool.self, forKey: .cellsActive) ?? true
        o = Offsets(architecture)
        scratch = [Int](repeating: 0, count: SparseSources.capacity(o))
        guard weights.count == architecture.weightCount, gradient.count == weights.count, state.count == o.count else {
            throw DecodingError.dataCorruptedError(forKey: .state, in: container,
                                                   debugDescription: "buffer sizes do not match the architecture")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(architecture, forKey: .architecture)
        try container.encode(weights, forKey: .weights)
        try container.encode(gradient, forKey: .gradient)
        try container.encode(state, forKey: .state)
        try container.encode(stateDecay, forKey: .stateDecay)
        // Written only while the cells are still to be added (Exps. 2a/2b), so that every other
        // trial's checkpoint is as before.
        if !cellsActive { try container.encode(cellsActive, forKey: .cellsActive) }
    }
}

extension TruncatedRTRL {
    /// Runs one step of the continual stream: `input` is a symbol index (one-hot), the target
    /// marks the symbols of `legalMask`; returns whether every output's error is below β.
    /// The caller applies the update (`applyUpdate`) when learning.
    mutating func streamStep(input: Int, legalMask: Int, beta: Double, learn: Bool,
                             inputBuffer: inout [Double], targetBuffer: inout [Double]) -> Bool {
        for i in 0..<inputBuffer.count { inputBuffer[i] = i == input ? 1 : 0 }
        for k in 0..<targetBuffer.count { targetBuffer[k] = (legalMask >> k) & 1 == 1 ? 1 : 0 }
        let offsets = o, decay = stateDecay, skip = skipsZeroInputs
        return weights.withUnsafeMutableBufferPointer { wb in
            state.withUnsafeMutableBufferPointer { ab in
                gradient.withUnsafeMutableBufferPointer { gb in
                    inputBuffer.withUnsafeBufferPointer { xb in
                        targetBuffer.withUnsafeBufferPointer { tb in
                          scratch.withUnsafeMutableBufferPointer { nz in
                            TruncatedRTRL.kernel(offsets, decay, wb.baseAddress!, ab.baseAddress!, gb.baseAddress!,
                                                 xb.baseAddress!, learn ? tb.baseAddress! : nil, learning: learn,
                                                 scratch: skip ? nz.baseAddress! : nil)
                            return CorrectnessRule.absolute(beta).holds(ab.baseAddress! + offsets.yk, tb.baseAddress!, nil, offsets.nOut)
                          }
                        }
                    }
                }
            }
        }
    }
}

/// The sources of one step that may be nonzero, for nets with one-hot inputs.
///
/// A row's net input Σ_m w_m z_m summed over these sources only, in the same ascending order,
/// has the same bits as the sum over all of them: every skipped term is w_m · 0 = ±0, and adding
/// ±0 to a sum that starts at +0 and is never −0 (a sum of nonzero terms that cancels exactly
/// is +0) leaves it unchanged. The same holds for the traces (zero at each reset) and the
/// gradient (zero after each update) that the step adds z_m-proportional terms to. Only the
/// input units are skipped where their value is 0; the bias, cells and gates are always listed.
struct SparseSources {
    /// The gate rows' sources (indices into z + gateStart), the cell rows' (z + cellStart) and
    /// the output rows' (out + outStart), ascending.
    private(set) var gate, cell, output: UnsafeMutablePointer<Int>
    private(set) var gateCount, cellCount, outputCount: Int

    /// Whether the step's inputs are sparse enough for the lists to pay (at least
    /// `minimumInputs` inputs, at most a quarter of them nonzero); the lists are empty and not
    /// read when not.
    private(set) var sparse: Bool

    /// Below this many inputs the dense step is as fast: Exps. 1 and 6 and CERG (7 or 8 one-hot
    /// inputs) measured no faster with the lists; Exps. 2a–2c (54 – 1 004) are 2 – 4× faster.
    static let minimumInputs = 16

    /// The scratch a step needs.
    static func capacity(_ o: TruncatedRTRL.Offsets) -> Int { o.nIn + o.gateRow + o.cellRow + o.outRow }

    /// No lists: every step dense.
    @inline(__always) init() {
        let none = UnsafeMutablePointer<Int>(bitPattern: MemoryLayout<Int>.alignment)!
        (gate, cell, output) = (none, none, none)
        (gateCount, cellCount, outputCount) = (0, 0, 0)
        sparse = false
    }

    /// The lists for input `x`, in `scratch` (`capacity` entries).
    @inline(__always) init(_ o: TruncatedRTRL.Offsets, _ x: UnsafePointer<Double>, _ scratch: UnsafeMutablePointer<Int>) {
        self.init()
        guard o.nIn >= SparseSources.minimumInputs else { return }
        // The nonzero inputs, found eight at a time: ±0 has no bit set but the sign.
        let inputs = scratch, most = o.nIn / 4
        var set = 0, i = 0
        x.withMemoryRebound(to: UInt64.self, capacity: o.nIn) { bits in
            while i < o.nIn && set <= most {
                let end = min(i + 8, o.nIn)
                var any: UInt64 = 0
                for k in i..<end { any |= bits[k] }
                if any & 0x7FFF_FFFF_FFFF_FFFF != 0 {
                    for k in i..<end where x[k] != 0 { inputs[set] = k; set += 1 }
                }
                i = end
            }
        }
        guard set <= most else { return }
        sparse = true
        // z = [1, x, y^c, y^gates]: the input x_i is at 1 + i.
        func zList(start: Int, length: Int, into list: UnsafeMutablePointer<Int>) -> Int {
            var n = 0
            if start == 0 { list[n] = 0; n += 1 }
            for q in 0..<set where 1 + inputs[q] >= start { list[n] = 1 + inputs[q] - start; n += 1 }
            for m in max(start, 1 + o.nIn)..<(start + length) { list[n] = m - start; n += 1 }
            return n
        }
        gate = scratch + o.nIn
        gateCount = zList(start: o.gateStart, length: o.gateRow, into: gate)
        cell = gate + o.gateRow
        cellCount = zList(start: o.cellStart, length: o.cellRow, into: cell)
        // out = [1, y^c, x (with shortcuts)].
        output = cell + o.cellRow
        var n = 0
        for m in o.outStart..<(1 + o.cells) { output[n] = m - o.outStart; n += 1 }
        if o.shortcuts {
            for q in 0..<set { output[n] = 1 + o.cells + inputs[q] - o.outStart; n += 1 }
        }
        outputCount = n
    }

    /// `rows` consecutive rows of n weights (from `w`), each dotted with `x` over the listed
    /// sources, into `out`: the same bits as `TruncatedRTRL.rowDots`.
    @inline(__always) static func rowDots(_ w: UnsafeMutablePointer<Double>, _ rows: Int, _ n: Int, _ x: UnsafeMutablePointer<Double>,
                                          _ list: UnsafeMutablePointer<Int>, _ count: Int, into out: UnsafeMutablePointer<Double>) {
        for r in 0..<rows {
            let wr = w + r * n
            var sum = 0.0
            for q in 0..<count { let m = list[q]; sum += wr[m] * x[m] }
            out[r] = sum
        }
    }
}
