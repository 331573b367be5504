import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import Foundation
import GateLabTasks
import GateLabGSL
import GateLabInterchange

/// What a probe runs on: a network with its weights, the inputs, the initial state, and the
/// loss's readout of the top layer's last output h_T.
///
/// The loss is L = Σ_b Σ_j readout[b][j] · h_T[b][j], a loss at the last step only, so
/// ∂L/∂h_T = readout and every earlier gradient is what survives the trip back through time.
public struct ProbeSetup {
    /// The network with its weights.
    public var network: RecurrentNetwork
    /// Sequences per batch B.
    public var batch: Int
    /// Sequence length T.
    public var steps: Int
    /// x, T·B·I numbers step-major.
    public var inputs: [Double]
    /// The initial state per layer, per state (h, and c for the LSTM); nil: zeros.
    public var initialState: [[Tensor]]?
    /// ∂L/∂h_T of the top layer, B·H numbers.
    public var readout: [Double]
    /// Bytes the unrolled sequence may take before it is checkpointed (nil: `Unrolled`'s
    /// default). Results are bit-identical either way.
    public var memoryBudget: Int?
    /// The unrolled network's executor.
    public var execution = Execution.fast
    /// The precision the network is unrolled in (f64 by default; f32 rounds the weights,
    /// inputs and readout once when they are loaded).
    public var precision = Precision.f64

    /// Creates a setup from explicit parts (sizes are checked).
    /// - Throws: `ProbeError.invalidConfiguration` when the inputs or readout have the wrong length.
    public init(network: RecurrentNetwork, batch: Int, steps: Int, inputs: [Double],
                initialState: [[Tensor]]? = nil, readout: [Double]) throws {
        guard batch >= 1, steps >= 1 else { throw ProbeError.invalidConfiguration("batch and steps must be at least 1") }
        guard inputs.count == steps * batch * network.inputSize else {
            throw ProbeError.invalidConfiguration("expected T·B·I = \(steps * batch * network.inputSize) inputs, got \(inputs.count)")
        }
        guard readout.count == batch * network.hiddenSize else {
            throw ProbeError.invalidConfiguration("expected B·H = \(batch * network.hiddenSize) readout weights, got \(readout.count)")
        }
        self.network = network
        self.batch = batch
        self.steps = steps
        self.inputs = inputs
        self.initialState = initialState
        self.readout = readout
    }

    /// The task a saved network was trained on (its file's `task` and `length`).
    /// - Throws: `CaseFileError` naming the file when it records no task or another input size.
    public static func task(of model: SavedModel, file: String) throws -> any ForgettingTask {
        guard let name = model.metadata["task"] else {
            throw CaseFileError(file: file, key: "task", message: "missing: task inputs need a file saved by gatelab train (task and length)")
        }
        // A `length` that is there but not a length is named as such, not as a missing task.
        guard let text = model.metadata["length"] else {
            throw CaseFileError(file: file, key: "length", message: "missing: task inputs need the task's length (the file records task \(name))")
        }
        guard let length = Int(text), length > 0 else {
            throw CaseFileError(file: file, key: "length", message: "expected a positive integer, got '\(text)'")
        }
        let task = try Tasks.make(name, length: length)
        guard task.inputSize == model.network.inputSize else {
            throw CaseFileError(file: file, key: "input_size", message: "\(model.network.inputSize), but task \(name) has \(task.inputSize) inputs")
        }
        return task
    }

    /// The setup of a reference case (`shared/reference/README.md` format): its weights,
    /// inputs and initial state, and as readout the last step's row of R, so the loss is
    /// Σ_b,j R[T−1][b][j] · h_T[b][j].
    public init(referenceCase rc: ReferenceCase) throws {
        let bh = rc.batch * rc.network.hiddenSize
        try self.init(network: rc.network, batch: rc.batch, steps: rc.steps, inputs: rc.x,
                      initialState: rc.initialState, readout: Array(rc.r[((rc.steps - 1) * bh)..<(rc.steps * bh)]))
    }
}

/// log10 gradient norms by distance k = T − 1 − t from the loss, where steps are numbered
/// t = 0 … T − 1 and h_t is the output of step t (so k = 0 is h_T, the value the loss reads).
public struct GradientCurves: Sendable, Equatable {
    /// log10‖∂L/∂h_t‖ (over batch and units), `[layer][k]`; −∞ where the gradient is exactly 0.
    public var h: [[Double]]
    /// log10‖∂L/∂c_t‖ for the LSTM's cell state, `[layer][k]`; empty for other cells.
    public var c: [[Double]]
    /// log10‖∂L/∂x_t‖ (over batch and features), `[k]`.
    public var x: [Double]

    /// Curves with these values (see the properties).
    public init(h: [[Double]], c: [[Double]], x: [Double]) { (self.h, self.c, self.x) = (h, c, x) }

    /// The top layer's log10‖∂L/∂h_t‖ by distance: the curve the summaries use.
    public var topH: [Double] { h[h.count - 1] }
    /// The top layer's log10‖∂L/∂c_t‖ by distance, if the cell has a cell state.
    public var topC: [Double]? { c.last }
}

/// What a float32 network's reverse pass carries without rescaling: the top layer's
/// ‖∂L/∂h_t‖ as an ordinary float32 backward pass computes it, which (unlike the rescaled,
/// exact curve) underflows to subnormal numbers and then to exactly 0 a finite number of steps
/// back.
public struct CarriedGradient: Sendable, Equatable {
    /// log10‖∂L/∂h_t‖ of the top layer as carried, by distance k = T − 1 − t; −∞ where it is
    /// exactly 0.
    public var log10H: [Double]
    /// The first distance k at which ‖∂L/∂h_t‖ is exactly 0 (nil: never within T steps).
    public var zeroDistance: Int?
    /// The first distance k at which the largest |∂L/∂h_t[b][j]| is below 2^-126, float32's
    /// smallest normal number (subnormal, or 0; nil: never within T steps).
    public var subnormalDistance: Int?

    /// Creates the record of a carried curve.
    public init(log10H: [Double], zeroDistance: Int?, subnormalDistance: Int?) {
        self.log10H = log10H
        self.zeroDistance = zeroDistance
        self.subnormalDistance = subnormalDistance
    }
}

extension CarriedGradient {
    /// log10 of float32's smallest normal number, 2^-126 ≈ 1.18e-38.
    public static let log10SmallestNormal = -126 * Foundation.log10(2.0)
    /// log10 of float32's smallest subnormal number, 2^-149 ≈ 1.4e-45.
    public static let log10SmallestSubnormal = -149 * Foundation.log10(2.0)

    /// The underflow distances as scalar summaries, beside where the exact curve `exactH`
    /// (log10‖∂L/∂h_t‖ by distance) falls below 2^-126 and 2^-149, and the exact log10 norm
    /// where the carried gradient first is 0.
    public func scalars(exactH: [Double]) -> [SummaryScalar] {
        let below = { (bound: Double) in exactH.firstIndex { $0 < bound }.map(Double.init) }
        return [SummaryScalar(key: "f32_subnormal_distance", label: "float32: k where the largest |∂L/∂h_t| is subnormal", value: subnormalDistance.map(Double.init)),
                SummaryScalar(key: "f32_zero_distance", label: "float32: k where ‖∂L/∂h_t‖ is exactly 0", value: zeroDistance.map(Double.init)),
                SummaryScalar(key: "exact_below_2e-126", label: "exact: k where ‖∂L/∂h_t‖ < 2^-126", value: below(Self.log10SmallestNormal)),
                SummaryScalar(key: "exact_below_2e-149", label: "exact: k where ‖∂L/∂h_t‖ < 2^-149", value: below(Self.log10SmallestSubnormal)),
                SummaryScalar(key: "exact_log10_h_at_f32_zero", label: "exact log10‖∂L/∂h_t‖ where float32's is first 0", value: zeroDistance.map { exactH[$0] })]
    }
}

/// One probe's output: the curves and their summaries.
public struct ProbeResult {
    /// The curves by distance.
    public var curves: GradientCurves
    /// The summaries.
    public var summary: ProbeSummary
    /// Float32 probes only: what the unrescaled float32 reverse pass carries.
    public var carried: CarriedGradient?
}

/// Measures how the gradient of a last-step loss decays back through time, past float64
/// underflow (via `Unrolled.logGradientNorms(lastStepSeed:)`), and summarizes it.
public enum GradientProbe {
    /// Runs a probe on `setup`: forward pass, one rescaled reverse pass, summaries; in float32
    /// also one ordinary (unrescaled) reverse pass, whose top-layer norms are `carried`.
    /// - Parameters:
    ///   - setup: network, inputs, initial state, readout, precision.
    ///   - settings: the fit window and the number of Jacobian samples.
    public static func run(_ setup: ProbeSetup, settings: SummarySettings = SummarySettings()) throws -> ProbeResult {
        switch setup.precision {
        case .f64: return try run(setup, settings: settings, in: Double.self)
        case .f32:
            var result = try run(setup, settings: settings, in: Float.self)
            let unrolled = try UnrolledOf<Float>(network: setup.network, batch: setup.batch, steps: setup.steps,
                                                 memoryBudget: setup.memoryBudget, inputGradients: false, execution: setup.execution)
            try unrolled.forward(inputs: setup.inputs, initialState: setup.initialState)
            result.carried = try carriedGradient(unrolled, readout: setup.readout)
            return result
        }
    }

    static func run<S: GateLabAutodiff.Scalar>(_ setup: ProbeSetup, settings: SummarySettings, in _: S.Type) throws -> ProbeResult {
        let unrolled = try UnrolledOf<S>(network: setup.network, batch: setup.batch, steps: setup.steps, memoryBudget: setup.memoryBudget, execution: setup.execution)
        try unrolled.forward(inputs: setup.inputs, initialState: setup.initialState)
        let curves = try measureCurves(unrolled, readout: setup.readout)
        let summary = try ProbeSummary(curves: curves, network: setup.network, settings: settings) { distances in
            try distances.map { k in try StepJacobian(after: unrolled, setup: setup, step: setup.steps - 1 - k).sample(distance: k) }
        }
        return ProbeResult(curves: curves, summary: summary)
    }

    /// The top layer's ‖∂L/∂h_t‖ as an ordinary reverse pass of `unrolled` (after its forward
    /// pass) carries it, without rescaling, for the loss with ∂L/∂h_T = readout; and where it
    /// first becomes subnormal and exactly 0.
    static func carriedGradient<S: GateLabAutodiff.Scalar>(_ unrolled: UnrolledOf<S>, readout: [Double]) throws -> CarriedGradient {
        let T = unrolled.steps
        var logH = [Double](repeating: 0, count: T)
        var largest = [S](repeating: 0, count: T)
        let top = unrolled.output
        try unrolled.reverse(.lastStep(readout)) { t, read in
            let g = read(top)
            let norm = euclideanNorm(g.lazy.map { Double($0) })   // widened exactly, so subnormals keep their value
            logH[T - 1 - t] = norm > 0 ? Foundation.log10(norm) : -.infinity
            largest[T - 1 - t] = g.reduce(S(0)) { Swift.max($0, Swift.abs($1)) }
        }
        return CarriedGradient(log10H: logH, zeroDistance: largest.firstIndex { $0 == 0 },
                               subnormalDistance: largest.firstIndex { $0 < S.leastNormalMagnitude })
    }

    /// The curves of `unrolled` (after its forward pass) for the loss with ∂L/∂h_T = readout.
    static func measureCurves<S: GateLabAutodiff.Scalar>(_ unrolled: UnrolledOf<S>, readout: [Double]) throws -> GradientCurves {
        let T = unrolled.steps, L = unrolled.network.layers
        let logs = try unrolled.logGradientNorms(lastStepSeed: readout)
        let byDistance = { (perLayer: [[Double]], layer: Int) -> [Double] in perLayer[layer].reversed() }
        return GradientCurves(h: (0..<L).map { byDistance(logs.h, $0) },
                              c: logs.c.isEmpty ? [] : (0..<L).map { byDistance(logs.c, $0) },
                              x: (0..<T).map { logs.x[T - 1 - $0] })
    }
}
