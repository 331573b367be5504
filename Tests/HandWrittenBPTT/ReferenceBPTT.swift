#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import GateLabReproductions
import GateLabTasks

/// A plain unrolled forward pass and reverse pass (backpropagation through time) over one
/// sequence, written independently of `TruncatedRTRL`: per-step records in arrays, one loop per
/// equation, indices through `Architecture`'s accessors.
///
/// The tests' hand-written check of the two learning rules (the product computes neither this
/// way):
/// - `.full`: the exact gradient of L = ½ Σ_t Σ_k (t_k − y_k)² over the sequence (the paper's
///   error with its factor 2 dropped), checked against central finite differences and the
///   engine's `FullGradient`;
/// - `.truncated`: the same reverse pass in which every y^u(t−1) entering a net input is a
///   constant (its incoming error is dropped), so that only the cell states s carry error
///   through time — the quantity that H&S 1997's truncated RTRL computes forward, and the
///   independent check of `TruncatedRTRL`.
public enum ReferenceBPTT {
    /// Which gradient the reverse pass computes.
    public enum Mode: Sendable {
        /// Error flows through every recurrent connection.
        case full
        /// Error flows back in time only through s (H&S 1997 App. A.1's truncation).
        case truncated
    }

    /// A reverse pass's result.
    public struct Result: Sendable {
        /// −∂L/∂w (the descent direction, like `TruncatedRTRL.gradient`).
        public var descent: [Double]
        /// The outputs y^k(t) of every step.
        public var outputs: [[Double]]
        /// L = ½ Σ over target steps and outputs of (t − y)².
        public var loss: Double
    }

    struct Record {
        var z: [Double], o: [Double]
        var yIn: [Double], yOut: [Double], yPhi: [Double]
        var netC: [Double], sPrev: [Double], s: [Double], yc: [Double], yk: [Double]
    }

    static func f(_ x: Double) -> Double { 1 / (1 + exp(-x)) }

    /// The forward pass from zero activations, recording every step.
    static func forward(_ a: Architecture, _ w: [Double], _ sequence: TaskSequence, _ decay: Double) -> [Record] {
        var records: [Record] = []
        var ycPrev = [Double](repeating: 0, count: a.cells)
        var gatesPrev = [Double](repeating: 0, count: a.blocks * a.gatesPerBlock)
        var s = [Double](repeating: 0, count: a.cells)
        func net(_ offset: Int, start: Int, _ source: [Double]) -> Double {
            var sum = 0.0
            for m in start..<source.count { sum += w[offset + m - start] * source[m] }
            return sum
        }
        for t in 0..<sequence.length {
            let x = Array(sequence.inputs[(t * a.inputs)..<((t + 1) * a.inputs)])
            let z = [1.0] + x + ycPrev + (a.gatesFeedUnits ? gatesPrev : [])
            let yIn = (0..<a.blocks).map { f(net(a.inputGateOffset($0), start: a.gateStart, z)) }
            let yOut = (0..<a.blocks).map { f(net(a.outputGateOffset($0), start: a.gateStart, z)) }
            let yPhi = (0..<a.blocks).map { a.forgetGates ? f(net(a.forgetGateOffset($0), start: a.gateStart, z)) : 1.0 }
            let netC = (0..<a.cells).map { net(a.cellOffset($0), start: a.cellStart, z) }
            let sPrev = s
            var yc = [Double](repeating: 0, count: a.cells)
            for c in 0..<a.cells {
                let j = c / a.cellsPerBlock
                s[c] = decay * yPhi[j] * sPrev[c] + yIn[j] * (4 * f(netC[c]) - 2)
                yc[c] = yOut[j] * (2 * f(s[c]) - 1)
            }
            let o = [1.0] + yc + (a.outputShortcuts ? x : [])
            let yk = (0..<a.outputs).map { f(net(a.outputOffset($0), start: a.outputStart, o)) }
            records.append(Record(z: z, o: o, yIn: yIn, yOut: yOut, yPhi: yPhi, netC: netC, sPrev: sPrev, s: s,
                                  yc: yc, yk: yk))
            ycPrev = yc
            gatesPrev = yIn + yOut + (a.forgetGates ? yPhi : [])
        }
        return records
    }

    /// L = ½ Σ (t − y)² over the target steps, by a forward pass only.
    /// - Parameters:
    ///   - architecture: The network.
    ///   - weights: Its weights.
    ///   - sequence: The sequence (activations start at zero).
    ///   - stateDecay: The CEC self-weight d.
    public static func loss(architecture: Architecture, weights: [Double], sequence: TaskSequence, stateDecay: Double = 1) -> Double {
        let records = forward(architecture, weights, sequence, stateDecay)
        var loss = 0.0
        for t in 0..<sequence.length where sequence.hasTarget[t] {
            for k in 0..<architecture.outputs {
                let e = sequence.targets[t * architecture.outputs + k] - records[t].yk[k]
                loss += 0.5 * e * e
            }
        }
        return loss
    }

    /// The forward pass and the reverse pass over one sequence, from zero activations.
    /// - Parameters:
    ///   - a: The network.
    ///   - w: Its weights (held fixed over the sequence).
    ///   - sequence: The sequence.
    ///   - d: The CEC self-weight.
    ///   - mode: Full or truncated gradient.
    public static func run(architecture a: Architecture, weights w: [Double], sequence: TaskSequence,
                           stateDecay d: Double = 1, mode: Mode) -> Result {
        let records = forward(a, w, sequence, d)
        var grad = [Double](repeating: 0, count: w.count)   // ∂L/∂w
        var loss = 0.0
        var dsNext = [Double](repeating: 0, count: a.cells)     // ∂L/∂s(t) arriving from s(t+1)
        var dzNext = [Double](repeating: 0, count: a.sourceCount) // ∂L/∂z(t+1) (full mode only)
        for t in stride(from: sequence.length - 1, through: 0, by: -1) {
            let r = records[t]
            // Output units: ∂L/∂net_k = (y − t) f'(net_k).
            var dNetK = [Double](repeating: 0, count: a.outputs)
            if sequence.hasTarget[t] {
                for k in 0..<a.outputs {
                    let e = r.yk[k] - sequence.targets[t * a.outputs + k]
                    loss += 0.5 * e * e
                    dNetK[k] = e * r.yk[k] * (1 - r.yk[k])
                    for m in a.outputStart..<r.o.count { grad[a.outputOffset(k) + m - a.outputStart] += dNetK[k] * r.o[m] }
                }
            }
            // Cell outputs: from the outputs of this step, and (full) from the next step's z.
            var dyc = [Double](repeating: 0, count: a.cells)
            for c in 0..<a.cells {
                for k in 0..<a.outputs { dyc[c] += w[a.outputOffset(k) + 1 + c - a.outputStart] * dNetK[k] }
                if mode == .full { dyc[c] += dzNext[a.sourceIndexOfCell(c)] }
            }
            var dNetC = [Double](repeating: 0, count: a.cells)
            var dNetGate = [[Double]](repeating: [Double](repeating: 0, count: a.blocks), count: 3)
            for j in 0..<a.blocks {
                var dyGate = [0.0, 0.0, 0.0]   // input, output, forget gate activations
                if mode == .full && a.gatesFeedUnits {
                    for kind in 0..<a.gatesPerBlock { dyGate[kind] = dzNext[a.sourceIndexOfGate(kind: kind, block: j)] }
                }
                for v in 0..<a.cellsPerBlock {
                    let c = j * a.cellsPerBlock + v
                    let hs = 2 * f(r.s[c]) - 1
                    let hPrime = 2 * f(r.s[c]) * (1 - f(r.s[c]))
                    dyGate[1] += dyc[c] * hs
                    let ds = dsNext[c] + dyc[c] * r.yOut[j] * hPrime
                    let gNet = 4 * f(r.netC[c]) - 2, gPrime = 4 * f(r.netC[c]) * (1 - f(r.netC[c]))
                    dyGate[0] += ds * gNet
                    dyGate[2] += ds * d * r.sPrev[c]
                    dNetC[c] = ds * r.yIn[j] * gPrime
                    dsNext[c] = ds * d * r.yPhi[j]
                }
                dNetGate[0][j] = dyGate[0] * r.yIn[j] * (1 - r.yIn[j])
                dNetGate[1][j] = dyGate[1] * r.yOut[j] * (1 - r.yOut[j])
                dNetGate[2][j] = a.forgetGates ? dyGate[2] * r.yPhi[j] * (1 - r.yPhi[j]) : 0
            }
            // Weight gradients of cells and gates, and (full) the error on z(t), i.e. on y(t−1).
            var rows: [(offset: Int, start: Int, dNet: Double)] = (0..<a.cells).map { (a.cellOffset($0), a.cellStart, dNetC[$0]) }
            for j in 0..<a.blocks {
                rows.append((a.inputGateOffset(j), a.gateStart, dNetGate[0][j]))
                rows.append((a.outputGateOffset(j), a.gateStart, dNetGate[1][j]))
                if a.forgetGates { rows.append((a.forgetGateOffset(j), a.gateStart, dNetGate[2][j])) }
            }
            var dz = [Double](repeating: 0, count: a.sourceCount)
            for row in rows {
                for m in row.start..<a.sourceCount {
                    grad[row.offset + m - row.start] += row.dNet * r.z[m]
                    dz[m] += w[row.offset + m - row.start] * row.dNet
                }
            }
            // Truncated: y^u(t−1) entering a net input is a constant, so no error reaches it.
            dzNext = mode == .full ? dz : [Double](repeating: 0, count: a.sourceCount)
        }
        return Result(descent: grad.map { -$0 }, outputs: records.map(\.yk), loss: loss)
    }
}
