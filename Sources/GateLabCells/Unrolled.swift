import GateLabAutodiff
import Foundation

/// A network unrolled over `steps` time steps for a batch of `batch` sequences: one step of
/// every layer recorded once as a graph (the cell's equations), replayed by a `Program`.
///
/// Inputs are given step-major: `x[t][b][i]` flattened (T·B·I numbers), as in PyTorch's
/// `(seq, batch, feature)` layout.
///
/// Long sequences are checkpointed: when storing every step would exceed the memory budget,
/// the program holds one *segment* of `segment` steps; the forward pass keeps only the states
/// at segment boundaries, and the reverse pass recomputes each segment from its checkpoint
/// before differentiating it (one extra forward pass in all). Segments are whole numbers of
/// the program's blocks, so the gradients are bit-identical to those of the stored pass.
///
/// Generic in the scalar the program stores and computes in (`Unrolled` is float64; a float32
/// run is `UnrolledOf<Float>`). Weights, inputs, states and the gradients read back are
/// float64 at this interface: a float32 program rounds them once when they are loaded, and
/// its results widen exactly.
public final class UnrolledOf<S: GateLabAutodiff.Scalar> {
    /// The network (its weights are loaded into the program by `load(_:)`).
    public private(set) var network: RecurrentNetwork
    /// Sequences per batch (B).
    public let batch: Int
    /// Time steps (T).
    public let steps: Int
    /// Steps held in storage at once: `steps` when everything is stored, less when
    /// checkpointing.
    public let segment: Int
    /// The one-step graph.
    public let graph: Graph
    /// The executor replaying it (over `segment` steps): a `Program`, or a
    /// `ReferenceExecutor` (see `execution`).
    public let program: any Executor<S>
    /// Which executor replays the graph.
    public let execution: Execution
    /// The input leaf (B × I).
    public let input: Value
    /// State leaves per layer (the previous step's state), in the cell's `stateNames` order.
    public let states: [[Value]]
    /// New-state nodes per layer, same order; `next[L−1][0]` is the network's output h.
    public let next: [[Value]]
    /// Parameter leaves per layer, by name.
    public let parameters: [[String: Value]]
    /// Whether the reverse pass computes ∂L/∂x_t (a probe reads it; training and the
    /// benchmark, like PyTorch with `requires_grad=False` inputs, do not).
    public let computesInputGradients: Bool

    /// The memory budget used when none is given: 1 GiB.
    public static var defaultMemoryBudget: Int { UnrolledDefaults.memoryBudget }

    private var inputs: [Double] = []
    private var checkpoints: [[Tensor]] = []     // per segment: the states it starts from
    private var finalStates: [Tensor] = []
    private var loadedSegment: Int?
    private var inputGradients: [Double] = []

    /// Records one step of every layer and lays out storage.
    /// - Parameters:
    ///   - network: the network.
    ///   - batch: sequences per batch (B).
    ///   - steps: time steps (T).
    ///   - memoryBudget: bytes the unrolled storage may take (default 1 GiB); above it the
    ///     sequence is checkpointed.
    ///   - inputGradients: compute ∂L/∂x_t in the reverse pass (default); without it the
    ///     parameters' gradients are the same, bit for bit, and `Gradients.inputs` is empty.
    ///   - execution: the executor: the fast program (default) or the plain reference one.
    ///   - optimizations: the fast program's optimizations (all by default; tests turn them
    ///     off to check that they change no bit).
    /// - Throws: `UnrollError.budgetTooSmall` when not even one block fits.
    public init(network: RecurrentNetwork, batch: Int, steps: Int, memoryBudget: Int? = nil,
                inputGradients: Bool = true, execution: Execution = .fast, optimizations: Program.Options = .all) throws {
        self.network = network
        self.execution = execution
        computesInputGradients = inputGradients
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
            let n = cell.step(x: layerInput, state: s, below: k == 0 ? nil : next[k - 1], Parameters(p))
            if k > 0 { for (v, name) in zip(n, cell.stateNames) { v.named(name + "'" + suffix) } }
            states.append(s); next.append(n); parameters.append(p)
            layerInput = n[0]
        }
        self.states = states
        self.next = next
        self.parameters = parameters
        graph = g
        let pairs = zip(states.joined(), next.joined()).map { (state: $0, next: $1) }
        let keep = [next[network.layers - 1][0]]
        let withoutGradient = inputGradients ? [] : [input]

        // How many steps fit: measure a one-block program's storage per step.
        let block = Program.blockLength(rows: batch)
        let perStep = try execution.executor(S.self, graph: g, steps: max(2, min(block, steps)), recurrence: pairs, keep: keep, withoutGradient: withoutGradient, options: optimizations).bytesPerStep
        let budget = memoryBudget ?? UnrolledDefaults.memoryBudget
        if steps * perStep <= budget {
            segment = steps
        } else {
            let fixed = (inputGradients ? 2 : 1) * steps * batch * network.inputSize * 8   // x and ∂L/∂x, kept whole (as Doubles)
            let fitting = (budget - fixed) / perStep / block * block
            guard fitting >= block else {
                throw UnrollError.budgetTooSmall(budget: budget, needed: fixed + block * perStep)
            }
            segment = fitting
        }
        program = try execution.executor(S.self, graph: g, steps: segment, recurrence: pairs, keep: keep, withoutGradient: withoutGradient,
                                         options: optimizations)
        try load(network)
    }

    /// Whether the sequence is checkpointed (held one segment at a time).
    public var isCheckpointed: Bool { segment < steps }

    /// The steps of segment k.
    private func range(ofSegment k: Int) -> Range<Int> { (k * segment)..<min((k + 1) * segment, steps) }
    private var segmentCount: Int { (steps + segment - 1) / segment }

    /// The network's output value (top layer's new h).
    public var output: Value { next[network.layers - 1][0] }

    /// Loads `network`'s weights (same cell and sizes) into the program.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func load(_ network: RecurrentNetwork) throws {
        for k in 0..<network.layers {
            for (name, v) in parameters[k] { try program.set(v, network.weights[k][name]!) }
        }
        self.network = network
        loadedSegment = nil
    }

    /// Runs the forward pass.
    /// - Parameters:
    ///   - inputs: T·B·I numbers, step-major.
    ///   - initialState: per layer, one B × H tensor per state (h, and c for the LSTM); zeros
    ///     when nil.
    ///   - checkFinite: check every op's output for NaN or ±∞ and throw
    ///     `ProgramError.nonFinite` naming the op, the value and the (global) time step where
    ///     one first appears (slower; for diagnosing a diverged run).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func forward(inputs: [Double], initialState: [[Tensor]]? = nil, checkFinite: Bool = false) throws {
        let n = batch * network.inputSize
        guard inputs.count == steps * n else {
            throw AutodiffError.feedShape(name: "x", expected: Shape(steps * batch, network.inputSize), got: Shape(inputs.count / max(network.inputSize, 1), network.inputSize))
        }
        self.inputs = inputs
        var state = states.enumerated().flatMap { k, layer in
            layer.indices.map { j in initialState?[k][j] ?? Tensor(rows: batch, cols: network.hiddenSize) }
        }
        checkpoints = []
        for k in 0..<segmentCount {
            checkpoints.append(state)
            do { try run(segment: k, checkFinite: checkFinite) }
            catch let ProgramError.nonFinite(op, value, step, number, origin) {
                throw ProgramError.nonFinite(op: op, value: value, step: k * segment + step, number: number, origin: origin)
            }
            state = finalState(ofSegment: k)
        }
        finalStates = state
    }

    /// Loads segment k's inputs and starting states and runs it forward.
    @_specialize(where S == Double) @_specialize(where S == Float)
    private func run(segment k: Int, checkFinite: Bool = false) throws {
        let r = range(ofSegment: k), n = batch * network.inputSize
        var x = Array(inputs[(r.lowerBound * n)..<(r.upperBound * n)])
        if r.count < segment { x += [Double](repeating: 0, count: (segment - r.count) * n) }
        try program.setSequence(input, x)
        for (leaf, value) in zip(states.joined(), checkpoints[k]) { try program.set(leaf, value) }
        try program.forward(steps: 0..<r.count, checkFinite: checkFinite)
        loadedSegment = k
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    private func finalState(ofSegment k: Int) -> [Tensor] {
        states.joined().map { program.finalState($0, last: range(ofSegment: k).count - 1) }
    }

    /// Makes segment k's values present (recomputing it from its checkpoint if needed).
    private func ensureLoaded(_ k: Int) throws {
        if loadedSegment != k { try run(segment: k) }
    }

    /// The output h of the top layer at step t (B × H). When checkpointing, reading a step
    /// outside the segment in storage recomputes that segment.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func output(step t: Int) -> Tensor {
        // Recomputing a segment replays a forward pass that already succeeded on the same
        // inputs and weights, so it cannot fail here.
        do { try ensureLoaded(t / segment) } catch { preconditionFailure("recomputing segment \(t / segment): \(error)") }
        return program.value(of: output, step: t % segment)
    }

    /// The state entering step t (after step t − 1; the initial state for t = 0), per layer,
    /// per state. When checkpointing, reading a step outside the segment in storage
    /// recomputes that segment.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func state(enteringStep t: Int) -> [[Tensor]] {
        precondition((0..<steps).contains(t), "state(enteringStep:): step \(t) outside 0..<\(steps)")
        do { try ensureLoaded(t / segment) } catch { preconditionFailure("recomputing segment \(t / segment): \(error)") }
        return states.map { $0.map { program.value(of: $0, step: t % segment) } }
    }

    /// The states after the last step, per layer.
    public var finalState: [[Tensor]] {
        var i = 0
        return states.map { layer in layer.map { _ in defer { i += 1 }; return finalStates[i] } }
    }

    /// What the loss reads of the outputs.
    public enum Loss {
        /// ∂L/∂h_t of the top layer at every step: T·B·H numbers, step-major
        /// (for L = Σ_t Σ R_t ⊙ h_t, that is R itself).
        case everyStep([Double])
        /// ∂L/∂h_T of the top layer at the last step only: B·H numbers.
        case lastStep([Double])
        /// ∂L/∂h_t given by a closure of the step and h_t (nil: no loss at that step).
        case custom((Int, UnsafeMutableBufferPointer<S>) -> [Double]?)
    }

    /// Gradients of one reverse pass.
    public struct Gradients {
        /// ∂L/∂ each weight, per layer, by name.
        public var weights: [[String: Tensor]]
        /// ∂L/∂x_t: T·B·I numbers, step-major (empty when the unrolled network was built
        /// without input gradients).
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
    /// - Parameters:
    ///   - loss: what the loss reads of the outputs: the seeds ∂L/∂h_t of the top layer.
    ///   - recordStates: also return ∂L/∂h_t (and ∂L/∂c_t) for every step and layer.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func backward(_ loss: Loss, recordStates: Bool = false) throws -> Gradients {
        var stateGrads: [[[Tensor]]]? = recordStates ? Array(repeating: [], count: steps) : nil
        try reverse(loss, observe: recordStates ? { t, read in
            stateGrads![t] = self.next.map { layer in
                layer.map { v in Tensor(rows: v.shape.rows, cols: v.shape.cols, scalars: read(v).map { Double($0) }) }
            }
        } : nil)
        return Gradients(
            weights: try parameters.map { try $0.mapValues { try program.gradient(of: $0) } },
            inputs: inputGradients,
            initialState: try states.map { try $0.map { try program.gradient(of: $0) } },
            states: stateGrads)
    }

    /// Runs the reverse pass for `loss` without collecting the weights' gradients (read them
    /// from `program` afterwards): what a benchmark or a training step needs.
    /// - Parameters:
    ///   - loss: what the loss reads of the outputs: the seeds ∂L/∂h_t of the top layer.
    ///   - observe: called at each step t (last first) with a reader of that step's
    ///     complete gradients, e.g. of the new-state nodes `next`.
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func reverse(_ loss: Loss, observe: ((Int, (Value) -> UnsafeMutableBufferPointer<S>) -> Void)? = nil) throws {
        let out = output
        let bh = batch * network.hiddenSize
        try reverseSegments(seed: { s, t in
            let seed: ArraySlice<Double>?
            switch loss {
            case .everyStep(let r): seed = r[(t * bh)..<((t + 1) * bh)]
            case .lastStep(let r): seed = t == self.steps - 1 ? r[0..<bh] : nil
            case .custom(let f): seed = f(t, s.value(of: out)).map { $0[0..<bh] }
            }
            guard let seed else { return }
            let g = s.gradient(of: out)
            for (k, v) in zip(0..<bh, seed) { g[k] += S(v) }
        }, carried: observe.map { f in { s, t, _ in f(t, { s.gradient(of: $0) }) } })
    }

    /// The reverse pass over every segment, last first, each recomputed from its checkpoint
    /// when needed; closures receive global step numbers.
    @_specialize(where S == Double) @_specialize(where S == Float)
    private func reverseSegments(seed: (SeedsOf<S>, Int) throws -> Void,
                                 carried: ((SeedsOf<S>, Int, [UnsafeMutableBufferPointer<S>]) -> Void)?,
                                 afterSegment: ((Range<Int>) -> Void)? = nil) throws {
        let n = batch * network.inputSize
        inputGradients = computesInputGradients ? [Double](repeating: 0, count: steps * n) : []
        var incoming: [[Double]]? = nil
        for k in (0..<segmentCount).reversed() {
            let r = range(ofSegment: k)
            try ensureLoaded(k)
            try program.backward(count: r.count, incoming: incoming, accumulate: k != segmentCount - 1,
                                 seed: { try seed($0, r.lowerBound + $0.step) },
                                 carried: carried.map { f in { s, c in f(s, r.lowerBound + s.step, c) } })
            if computesInputGradients {
                inputGradients.replaceSubrange((r.lowerBound * n)..<(r.upperBound * n), with: program.sequenceGradient(of: input, count: r.count))
            }
            afterSegment?(r)
            incoming = try states.joined().map { try program.gradient(of: $0).scalars }
        }
    }
}

/// The float64 unrolled network.
public typealias Unrolled = UnrolledOf<Double>

/// Defaults shared by every precision.
public enum UnrolledDefaults {
    /// The memory budget used when none is given: 1 GiB.
    public static let memoryBudget = 1 << 30
}

/// Errors of unrolling.
public enum UnrollError: Error, CustomStringConvertible {
    /// The memory budget cannot hold even one block of steps.
    case budgetTooSmall(budget: Int, needed: Int)
    public var description: String {
        switch self {
        case let .budgetTooSmall(b, n):
            return "memory budget \(b / 1_048_576) MB is too small: at least \((n + 1_048_575) / 1_048_576) MB are needed"
        }
    }
}

extension UnrolledOf {
    /// log10 of gradient norms per step, measured without underflow.
    public struct LogGradientNorms: Sendable {
        /// log10‖∂L/∂h_t‖ (over the batch and units), `[layer][t]`; −∞ when exactly zero.
        /// (Layer-major: one array per layer, not one per step, so a million steps stay small.)
        public var h: [[Double]]
        /// log10‖∂L/∂c_t‖ for cells with a cell state (LSTM), `[layer][t]`; empty otherwise.
        public var c: [[Double]]
        /// log10‖∂L/∂x_t‖, `[t]` (empty when built without input gradients).
        public var x: [Double]
    }

    /// The reverse pass for a loss at the last step only, with the adjoint rescaled at every
    /// step so that it never underflows: after step t the gradients carried to step t − 1 are
    /// divided by their norm and the log10 of that norm is added to a running scale. Each
    /// recorded norm is the norm of the rescaled gradient plus the scale in force when it
    /// was computed, so log10‖∂L/∂h_t‖ stays exact (to rounding) even when ‖∂L/∂h_t‖ is
    /// 10^-5000, far below float64's range, where an ordinary reverse pass returns 0.
    /// Works through checkpointing (the scale carries over from segment to segment).
    ///
    /// The reverse pass is linear in the seed, which is what makes the rescaling exact; the
    /// parameter gradients it accumulates mix scales and are not meaningful here.
    /// - Parameter seed: ∂L/∂h_T of the top layer (B·H numbers).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func logGradientNorms(lastStepSeed seed: [Double]) throws -> LogGradientNorms {
        let bh = batch * network.hiddenSize, n = batch * network.inputSize
        let hasCell = network.cell.stateNames.count > 1
        let layers = network.layers
        var logH = [[Double]](repeating: [Double](repeating: 0, count: steps), count: layers)
        var logC = [[Double]](repeating: [Double](repeating: 0, count: hasCell ? steps : 0), count: layers)
        var logX = [Double](repeating: 0, count: steps)
        var scaleAt = [Double](repeating: 0, count: steps)   // log10 scale in force at step t
        var scale = 0.0
        let out = output
        try reverseSegments(seed: { s, t in
            guard t == self.steps - 1 else { return }
            let g = s.gradient(of: out)
            for k in 0..<bh { g[k] += S(seed[k]) }
        }, carried: { s, t, carries in
            scaleAt[t] = scale
            for l in 0..<layers {
                logH[l][t] = scale + log10Norm(s.gradient(of: self.next[l][0]))
                if hasCell { logC[l][t] = scale + log10Norm(s.gradient(of: self.next[l][1])) }
            }
            // Rescale what flows to step t − 1 by one common factor (all state gradients
            // together, so their ratios are kept).
            let norm = euclideanNorm(carries.joined().lazy.map { Double($0) })
            guard norm > 0, norm.isFinite else { return }
            for buffer in carries { for k in buffer.indices { buffer[k] = S(Double(buffer[k]) / norm) } }
            scale += Foundation.log10(norm)
        }, afterSegment: { r in
            guard self.computesInputGradients else { return }
            for t in r { logX[t] = scaleAt[t] + log10Norm(self.inputGradients[(t * n)..<((t + 1) * n)]) }
        })
        return LogGradientNorms(h: logH, c: hasCell ? logC : [], x: computesInputGradients ? logX : [])
    }
}

/// log10 of a vector's Euclidean norm (−∞ for a zero vector).
func log10Norm<C: Collection>(_ v: C) -> Double where C.Element == Double {
    let n = euclideanNorm(v)
    return n > 0 ? Foundation.log10(n) : -.infinity
}

/// The same for a vector of any precision (widened to float64 exactly).
func log10Norm<C: Collection>(_ v: C) -> Double where C.Element: GateLabAutodiff.Scalar {
    let n = euclideanNorm(v.lazy.map { Double($0) })
    return n > 0 ? Foundation.log10(n) : -.infinity
}
