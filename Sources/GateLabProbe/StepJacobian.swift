import GateLabAutodiff
import GateLabCells
import GateLabGSL

/// The one-step Jacobian J = ∂s_t/∂s_{t−1} of a network's whole state s (every layer's h,
/// and c for the LSTM) for sequence 0 of a batch, at step t of a forward pass.
///
/// Computed through the graph, not by hand: a one-step `Unrolled` of the same network is
/// started from the state that entered step t and fed x_t; row i of J is the gradient of
/// state component i with respect to the initial state, one reverse pass per row (N passes
/// of one step, N = L·S·H).
///
/// State components are ordered layer by layer, then by the cell's `stateNames` (h, c),
/// then by unit.
public struct StepJacobian {
    /// The step t (0-based; s_{−1} is the initial state).
    public let step: Int
    /// N, the state size L·S·H.
    public let size: Int
    /// J, N × N row-major: `matrix[i * size + j]` = ∂s_t[i]/∂s_{t−1}[j].
    public let matrix: [Double]
    /// The positions of the top layer's h in the state vector.
    public let topHidden: Range<Int>

    /// Computes J at step `t` of `unrolled`, which must have run its forward pass on `setup`.
    /// - Parameters:
    ///   - unrolled: the probed network after `forward` (its state leaves hold the state
    ///     entering each step).
    ///   - setup: the inputs and initial state that forward pass used.
    ///   - t: the step, 0 ≤ t < T.
    public init<Sc: GateLabAutodiff.Scalar>(after unrolled: UnrolledOf<Sc>, setup: ProbeSetup, step t: Int) throws {
        precondition((0..<setup.steps).contains(t), "StepJacobian: step \(t) outside 0..<\(setup.steps)")
        let network = setup.network
        let (L, S, H, I, B) = (network.layers, network.cell.stateNames.count, network.hiddenSize, network.inputSize, setup.batch)
        // The state entering step t, row 0 (sequence 0).
        let enteringAll = unrolled.state(enteringStep: t)
        let entering: [[Tensor]] = (0..<L).map { k in
            (0..<S).map { j in Tensor(rows: 1, cols: H, scalars: Array(enteringAll[k][j].scalars[0..<H])) }
        }
        let x = Array(setup.inputs[(t * B * I)..<(t * B * I + I)])
        let one = try UnrolledOf<Sc>(network: network, batch: 1, steps: 1, execution: setup.execution)
        try one.forward(inputs: x, initialState: entering)
        let n = L * S * H
        var matrix = [Double](repeating: 0, count: n * n)
        for k in 0..<L {
            for j in 0..<S {
                for u in 0..<H {
                    let row = (k * S + j) * H + u
                    let target = one.next[k][j]
                    try one.program.backward(seed: { $0.gradient(of: target)[u] += 1 })
                    for k2 in 0..<L {
                        for j2 in 0..<S {
                            let g = try one.program.gradient(of: one.states[k2][j2]).scalars
                            let col = (k2 * S + j2) * H
                            for v in 0..<H { matrix[row * n + col + v] = g[v] }
                        }
                    }
                }
            }
        }
        step = t
        size = n
        self.matrix = matrix
        let top = (L - 1) * S * H
        topHidden = top..<(top + H)
    }

    /// The H × H block ∂h_t/∂h_{t−1} of the top layer, row-major.
    public var hiddenBlock: [Double] {
        topHidden.flatMap { i in topHidden.map { j in matrix[i * size + j] } }
    }

    /// The singular values of J and of its top-layer h block.
    /// - Parameter distance: the distance T − 1 − t, recorded in the sample.
    /// - Throws: `ProbeError.numerical` if J has a non-finite entry.
    public func sample(distance: Int) throws -> JacobianSample {
        guard matrix.allSatisfy(\.isFinite) else {
            throw ProbeError.numerical("the one-step Jacobian at step \(step) has a non-finite entry")
        }
        let h = topHidden.count
        return JacobianSample(distance: distance, step: step,
                              state: try LinearAlgebra.singularValues(rows: size, cols: size, matrix),
                              hh: try LinearAlgebra.singularValues(rows: h, cols: h, hiddenBlock))
    }
}
