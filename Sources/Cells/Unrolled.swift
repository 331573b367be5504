import Autodiff
import Foundation

/// A network unrolled over `steps` time steps for a batch of `batch` sequences: one step of
/// every layer recorded once as a graph (the cell's equations), replayed by a `Program`.
///
/// Inputs are given step-major: `x[t][b][i]` flattened (T·B·I numbers), as in PyTorch's
/// `(seq, batch, feature)` layout.
public final class Unrolled {
    /// The network (its weights are loaded into the program by `load(_:)`).
    public private(set) var network: RecurrentNetwork
    /// Sequences per batch (B).
    public let batch: Int
    /// Time steps (T).
    public let steps: Int
    /// The one-step graph.
    public let graph: Graph
    /// The program replaying it.
    public let program: Program
    /// The input leaf (B × I).
    public let input: Value
    /// State leaves per layer (the previous step's state), in the cell's `stateNames` order.
    public let states: [[Value]]
    /// New-state nodes per layer, same order; `next[L−1][0]` is the network's output h.
    public let next: [[Value]]
    /// Parameter leaves per layer, by name.
    public let parameters: [[String: Value]]

    /// Records one step of every layer and lays out storage for `steps` steps.
    public init(network: RecurrentNetwork, batch: Int, steps: Int) throws {
        self.network = network
        self.batch = batch
        self.steps = steps
        let g = Graph()
        let cell = network.cell
        input = g.input("x", rows: batch, cols: network.inputSize)
        var layerInput = input
        var states = [[Value]](), next = [[Value]](), parameters = [[String: Value]]()
        for k in 0..<network.layers {
            let suffix = k == 0 ? "" : ".l\(k)"
            let p = Dictionary(uniqueKeysWithValues: network.specs(layer: k).map { ($0.name, g.parameter($0.name + suffix, rows: $0.rows, cols: $0.cols)) })
            let s = cell.stateNames.map { g.input($0 + suffix, rows: batch, cols: network.hiddenSize) }
            let n = cell.step(x: layerInput, state: s, Parameters(p))
            if k > 0 { for (v, name) in zip(n, cell.stateNames) { v.named(name + "'" + suffix) } }
            states.append(s); next.append(n); parameters.append(p)
            layerInput = n[0]
        }
        self.states = states
        self.next = next
        self.parameters = parameters
        graph = g
        let pairs = zip(states.joined(), next.joined()).map { (state: $0, next: $1) }
        program = try Program(graph: g, steps: steps, recurrence: pairs, keep: [next[network.layers - 1][0]])
        try load(network)
    }

    /// The network's output value (top layer's new h).
    public var output: Value { next[network.layers - 1][0] }

    /// Loads `network`'s weights (same cell and sizes) into the program.
    public func load(_ network: RecurrentNetwork) throws {
        for k in 0..<network.layers {
            for (name, v) in parameters[k] { try program.set(v, network.weights[k][name]!) }
        }
        self.network = network
    }

    /// Runs the forward pass.
    /// - Parameters:
    ///   - inputs: T·B·I numbers, step-major.
    ///   - initialState: per layer, one B × H tensor per state (h, and c for the LSTM); zeros
    ///     when nil.
    public func forward(inputs: [Double], initialState: [[Tensor]]? = nil) throws {
        try program.setSequence(input, inputs)
        for k in 0..<network.layers {
            for (j, s) in states[k].enumerated() {
                try program.set(s, initialState?[k][j] ?? Tensor(rows: batch, cols: network.hiddenSize))
            }
        }
        try program.forward()
    }

    /// The output h of the top layer at step t (B × H).
    public func output(step t: Int) -> Tensor { program.value(of: output, step: t) }

    /// The states after the last step, per layer.
    public var finalState: [[Tensor]] { states.map { $0.map { program.finalState($0) } } }

    /// What the loss reads of the outputs.
    public enum Loss {
        /// ∂L/∂h_t of the top layer at every step: T·B·H numbers, step-major
        /// (for L = Σ_t Σ R_t ⊙ h_t, that is R itself).
        case everyStep([Double])
        /// ∂L/∂h_T of the top layer at the last step only: B·H numbers.
        case lastStep([Double])
        /// ∂L/∂h_t given by a closure per step (nil: no loss at that step).
        case custom((Int) -> [Double]?)
    }

    /// Gradients of one reverse pass.
    public struct Gradients {
        /// ∂L/∂ each weight, per layer, by name.
        public var weights: [[String: Tensor]]
        /// ∂L/∂x_t: T·B·I numbers, step-major.
        public var inputs: [Double]
        /// ∂L/∂ the initial state, per layer, per state.
        public var initialState: [[Tensor]]
        /// When asked for: ∂L/∂ state after step t, `[t][layer][state]` (the total derivative
        /// through every later step).
        public var states: [[[Tensor]]]?

        /// ‖∂L/∂x_t‖ over (b, i) for each step.
        public func inputNorms(batch: Int, inputSize: Int) -> [Double] {
            let n = batch * inputSize
            return (0..<(inputs.count / n)).map { euclideanNorm(inputs[($0 * n)..<(($0 + 1) * n)]) }
        }
    }

    /// Runs the reverse pass for `loss` (after `forward`) and collects the gradients.
    /// - Parameter recordStates: also return ∂L/∂h_t (and ∂L/∂c_t) for every step and layer.
    public func backward(_ loss: Loss, recordStates: Bool = false) throws -> Gradients {
        var stateGrads: [[[Tensor]]]? = recordStates ? Array(repeating: [], count: steps) : nil
        try reverse(loss, observe: recordStates ? { t, read in
            stateGrads![t] = self.next.map { layer in
                layer.map { v in Tensor(rows: v.shape.rows, cols: v.shape.cols, scalars: Array(read(v))) }
            }
        } : nil)
        return Gradients(
            weights: try parameters.map { try $0.mapValues { try program.gradient(of: $0) } },
            inputs: try (0..<steps).flatMap { try program.gradient(of: input, step: $0).scalars },
            initialState: try states.map { try $0.map { try program.gradient(of: $0) } },
            states: stateGrads)
    }

    /// Runs the reverse pass for `loss` without collecting anything (read gradients from
    /// `program` afterwards): what a benchmark or a training step needs.
    /// - Parameter observe: called at each step t (last first) with a reader of that step's
    ///   complete gradients, e.g. of the new-state nodes `next`.
    public func reverse(_ loss: Loss, observe: ((Int, (Value) -> UnsafeMutableBufferPointer<Double>) -> Void)? = nil) throws {
        let out = output
        let bh = batch * network.hiddenSize
        try program.backward(seed: { s in
            let seed: ArraySlice<Double>?
            switch loss {
            case .everyStep(let r): seed = r[(s.step * bh)..<((s.step + 1) * bh)]
            case .lastStep(let r): seed = s.step == self.steps - 1 ? r[0..<bh] : nil
            case .custom(let f): seed = f(s.step).map { $0[0..<bh] }
            }
            guard let seed else { return }
            let g = s.gradient(of: out)
            for (k, v) in zip(0..<bh, seed) { g[k] += v }
        }, carried: observe.map { f in { s, _ in f(s.step, { s.gradient(of: $0) }) } })
    }
}

extension Unrolled {
    /// log10 of gradient norms per step, measured without underflow.
    public struct LogGradientNorms: Sendable {
        /// log10‖∂L/∂h_t‖ (over the batch and units), `[t][layer]`; −∞ when exactly zero.
        public var h: [[Double]]
        /// log10‖∂L/∂c_t‖ for cells with a cell state (LSTM), `[t][layer]`; empty otherwise.
        public var c: [[Double]]
        /// log10‖∂L/∂x_t‖, `[t]`.
        public var x: [Double]
    }

    /// The reverse pass for a loss at the last step only, with the adjoint rescaled at every
    /// step so that it never underflows: after step t the gradients carried to step t − 1 are
    /// divided by their norm and the log10 of that norm is added to a running scale. Each
    /// recorded norm is the norm of the rescaled gradient plus the scale in force when it
    /// was computed, so log10‖∂L/∂h_t‖ stays exact (to rounding) even when ‖∂L/∂h_t‖ is
    /// 10^-5000, far below float64's range, where an ordinary reverse pass returns 0.
    ///
    /// The reverse pass is linear in the seed, which is what makes the rescaling exact; the
    /// parameter gradients it accumulates mix scales and are not meaningful here.
    /// - Parameter seed: ∂L/∂h_T of the top layer (B·H numbers).
    public func logGradientNorms(lastStepSeed seed: [Double]) throws -> LogGradientNorms {
        let bh = batch * network.hiddenSize
        let hasCell = network.cell.stateNames.count > 1
        var logH = [[Double]](repeating: [], count: steps), logC = [[Double]](repeating: [], count: steps)
        var scaleAt = [Double](repeating: 0, count: steps)   // log10 scale in force at step t
        var scale = 0.0
        let out = output
        try program.backward(seed: { s in
            guard s.step == self.steps - 1 else { return }
            let g = s.gradient(of: out)
            for k in 0..<bh { g[k] += seed[k] }
        }, carried: { s, carries in
            let t = s.step
            scaleAt[t] = scale
            logH[t] = self.next.map { scale + log10Norm(s.gradient(of: $0[0])) }
            if hasCell { logC[t] = self.next.map { scale + log10Norm(s.gradient(of: $0[1])) } }
            // Rescale what flows to step t − 1 by one common factor (all state gradients
            // together, so their ratios are kept).
            let norm = euclideanNorm(carries.joined())
            guard norm > 0, norm.isFinite else { return }
            for buffer in carries { for k in buffer.indices { buffer[k] /= norm } }
            scale += Foundation.log10(norm)
        })
        let x = (0..<steps).map { t -> Double in
            let g = (try? program.gradient(of: input, step: t).scalars) ?? []
            return scaleAt[t] + log10Norm(g)
        }
        return LogGradientNorms(h: logH, c: hasCell ? logC : [], x: x)
    }
}

/// log10 of a vector's Euclidean norm (−∞ for a zero vector).
func log10Norm<C: Collection>(_ v: C) -> Double where C.Element == Double {
    let n = euclideanNorm(v)
    return n > 0 ? Foundation.log10(n) : -.infinity
}
