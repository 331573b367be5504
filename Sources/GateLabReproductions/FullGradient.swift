import GateLabTasks

/// The FULL gradient (BPTT through every recurrent connection, no truncation) over flat buffers:
/// the fast form of `ReferenceBPTT.run(mode: .full)`, used when a preset asks for
/// `gradient = .full`. The forward pass is `TruncatedRTRL.kernel` itself (its traces are simply
/// not used); each step's activations are copied into `history`, then one reverse loop runs.
/// O(W) per step; memory grows with the sequence length.
extension TruncatedRTRL {
    /// Values kept per step for the reverse pass, in this order: z(t) (with y(t−1)), y^in, y^out,
    /// y^φ, g(net_c), σ(s_c), s_c, y^c, o(t), y^k.
    private var recordSize: Int { o.zCount + 3 * o.blocks + 4 * o.cells + o.oCount + o.nOut }

    /// Runs one sequence from zero activations, checks every target step under `rule`, puts the
    /// full-gradient descent direction (−∂L/∂w, L = ½Σ(t − y)²) into `gradient`, and, if
    /// `learningRate` is given, changes the weights by α times it at the end of the sequence.
    /// - Parameters:
    ///   - sequence: The sequence.
    ///   - rule: When a target step is correct.
    ///   - learningRate: α, or nil to leave the weights (and the direction in `gradient`).
    ///   - history: A scratch buffer, grown as needed (reuse it across calls).
    public mutating func runFullGradient(_ sequence: TaskSequence, rule: CorrectnessRule, learningRate: Double?,
                                         history: inout [Double]) -> SequenceOutcome {
        resetActivations()
        let r = recordSize, n = o
        let needed = r * sequence.length + 2 * n.zCount + 2 * n.cells + n.nOut
        if history.count < needed { history = [Double](repeating: 0, count: needed) }
        var outcome = SequenceOutcome(correct: true, finalError: 0, squaredErrorSum: 0, targetSteps: 0)
        let decay = stateDecay
        weights.withUnsafeMutableBufferPointer { wb in
            state.withUnsafeMutableBufferPointer { ab in
                gradient.withUnsafeMutableBufferPointer { gb in
                    history.withUnsafeMutableBufferPointer { hb in
                        sequence.inputs.withUnsafeBufferPointer { xb in
                            sequence.targets.withUnsafeBufferPointer { tb in
                                sequence.legal.withUnsafeBufferPointer { lb in
                                    let w = wb.baseAddress!, a = ab.baseAddress!, g = gb.baseAddress!, h = hb.baseAddress!
                                    for i in 0..<gb.count { g[i] = 0 }
                                    // Forward, recording every step.
                                    for t in 0..<sequence.length {
                                        let rec = h + t * r
                                        let x = xb.baseAddress! + t * n.nIn
                                        for i in 0..<n.zCount { rec[i] = a[n.z + i] }
                                        for i in 0..<n.nIn { rec[1 + i] = x[i] }
                                        TruncatedRTRL.kernel(n, decay, w, a, g, x, nil)
                                        // y^in, y^out, y^φ and g(net), σ(s), s, y^c lie in this order in
                                        // the arena too, then o and y^k (see `Offsets`).
                                        var p = n.zCount
                                        TruncatedRTRL.copy(a + n.yIn, rec + p, n.blocks); p += n.blocks
                                        TruncatedRTRL.copy(a + n.yOut, rec + p, n.blocks); p += n.blocks
                                        TruncatedRTRL.copy(a + n.yPhi, rec + p, n.blocks); p += n.blocks
                                        TruncatedRTRL.copy(a + n.gNet, rec + p, n.cells); p += n.cells
                                        TruncatedRTRL.copy(a + n.sigS, rec + p, n.cells); p += n.cells
                                        TruncatedRTRL.copy(a + n.s, rec + p, n.cells); p += n.cells
                                        TruncatedRTRL.copy(a + n.yc, rec + p, n.cells); p += n.cells
                                        TruncatedRTRL.copy(a + n.out, rec + p, n.oCount); p += n.oCount
                                        TruncatedRTRL.copy(a + n.yk, rec + p, n.nOut)
                                        guard sequence.hasTarget[t] else { continue }
                                        let target = tb.baseAddress! + t * n.nOut, y = a + n.yk
                                        var e2 = 0.0
                                        for k in 0..<n.nOut { let e = target[k] - y[k]; e2 += e * e }
                                        outcome.finalError = e2
                                        outcome.squaredErrorSum += e2
                                        outcome.targetSteps += 1
                                        if !rule.holds(y, target, lb.isEmpty ? nil : lb.baseAddress! + t * n.nOut, n.nOut) {
                                            outcome.correct = false
                                        }
                                    }
                                    TruncatedRTRL.reverse(n, decay, w, g, h, r, sequence, tb.baseAddress!,
                                                          scratch: h + r * sequence.length)
                                    if let alpha = learningRate {
                                        for i in 0..<wb.count { w[i] += alpha * g[i]; g[i] = 0 }
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

    @inline(__always) static func copy(_ from: UnsafeMutablePointer<Double>, _ to: UnsafeMutablePointer<Double>, _ count: Int) {
        for i in 0..<count { to[i] = from[i] }
    }

    /// One gate row of the reverse pass: ∂L/∂w_row += dNet · z, ∂L/∂z += w_row · dNet.
    @inline(__always) static func gateRow(_ row: Int, _ dNet: Double, _ count: Int, _ w: UnsafeMutablePointer<Double>,
                                          _ g: UnsafeMutablePointer<Double>, _ z: UnsafeMutablePointer<Double>,
                                          _ dz: UnsafeMutablePointer<Double>) {
        for m in 0..<count {
            g[row + m] -= dNet * z[m]
            dz[m] += w[row + m] * dNet
        }
    }

    /// The reverse pass over the recorded steps; leaves −∂L/∂w in `g`.
    private static func reverse(_ n: Offsets, _ d: Double, _ w: UnsafeMutablePointer<Double>, _ g: UnsafeMutablePointer<Double>,
                                _ h: UnsafeMutablePointer<Double>, _ r: Int, _ sequence: TaskSequence,
                                _ targets: UnsafePointer<Double>, scratch: UnsafeMutablePointer<Double>) {
        // Scratch: dz (∂L/∂z(t)), dzNext (∂L/∂z(t+1)), dsNext (∂L/∂s(t) via s(t+1)), dyc, dNetK.
        let dz = scratch, dzNext = scratch + n.zCount, dsNext = dzNext + n.zCount
        let dyc = dsNext + n.cells, dNetK = dyc + n.cells
        for i in 0..<(2 * n.zCount + 2 * n.cells + n.nOut) { scratch[i] = 0 }
        // Offsets inside a record.
        let rIn = n.zCount, rOut = rIn + n.blocks, rPhi = rOut + n.blocks
        let rG = rPhi + n.blocks, rSig = rG + n.cells, rS = rSig + n.cells, rYc = rS + n.cells
        let rO = rYc + n.cells, rYk = rO + n.oCount
        let zGate = n.gateStart, zCell = n.cellStart
        for t in stride(from: sequence.length - 1, through: 0, by: -1) {
            let rec = h + t * r
            for k in 0..<n.nOut { dNetK[k] = 0 }
            if sequence.hasTarget[t] {
                for k in 0..<n.nOut {
                    let y = rec[rYk + k]
                    dNetK[k] = (y - targets[t * n.nOut + k]) * y * (1 - y)
                    let gk = g + n.wK + k * n.outRow
                    for m in 0..<n.outRow { gk[m] -= dNetK[k] * rec[rO + n.outStart + m] }
                }
            }
            for c in 0..<n.cells {
                var sum = dzNext[1 + n.nIn + c]
                for k in 0..<n.nOut { sum += w[n.wK + k * n.outRow + 1 + c - n.outStart] * dNetK[k] }
                dyc[c] = sum
            }
            for i in 0..<n.zCount { dz[i] = 0 }
            let gateBase = 1 + n.nIn + n.cells
            for j in 0..<n.blocks {
                let yIn = rec[rIn + j], yOut = rec[rOut + j], yPhi = rec[rPhi + j]
                var dyIn = 0.0, dyOut = 0.0, dyPhi = 0.0
                if n.gatesFeed {
                    dyIn = dzNext[gateBase + j]
                    dyOut = dzNext[gateBase + n.blocks + j]
                    if n.forget { dyPhi = dzNext[gateBase + 2 * n.blocks + j] }
                }
                for v in 0..<n.perBlock {
                    let c = j * n.perBlock + v
                    let sig = rec[rSig + c]
                    let sPrev = t > 0 ? h[(t - 1) * r + rS + c] : 0
                    dyOut += dyc[c] * (2 * sig - 1)
                    let ds = dsNext[c] + dyc[c] * yOut * 2 * sig * (1 - sig)
                    let gNet = rec[rG + c], gSig = (gNet + 2) / 4
                    dyIn += ds * gNet
                    dyPhi += ds * d * sPrev
                    let dNetC = ds * yIn * 4 * gSig * (1 - gSig)
                    dsNext[c] = ds * d * yPhi
                    let row = n.wCell + c * n.cellRow
                    for m in 0..<n.cellRow {
                        g[row + m] -= dNetC * rec[zCell + m]
                        dz[zCell + m] += w[row + m] * dNetC
                    }
                }
                gateRow(n.wIn + j * n.gateRow, dyIn * yIn * (1 - yIn), n.gateRow, w, g, rec + zGate, dz + zGate)
                gateRow(n.wOut + j * n.gateRow, dyOut * yOut * (1 - yOut), n.gateRow, w, g, rec + zGate, dz + zGate)
                if n.forget { gateRow(n.wPhi + j * n.gateRow, dyPhi * yPhi * (1 - yPhi), n.gateRow, w, g, rec + zGate, dz + zGate) }
            }
            for i in 0..<n.zCount { dzNext[i] = dz[i] }
        }
    }
}
