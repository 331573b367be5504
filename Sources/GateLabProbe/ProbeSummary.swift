import GateLabCells
import Foundation
import GateLabGSL

/// The summaries of one probe run.
public struct ProbeSummary: Sendable, Equatable {
    /// The least-squares line through the top layer's log10‖∂L/∂h_t‖ against k; nil when
    /// the window holds fewer than two finite values.
    public var decay: DecayFit?
    /// The first distance k at which log10‖∂L/∂h_t‖ ≤ its value at k = 0 minus 3 (the norm
    /// has fallen by 10³); nil: not within T.
    public var drop1e3: Int?
    /// As `drop1e3`, for a fall by 10⁶.
    public var drop1e6: Int?
    /// Spectral norm and radius of every recurrent weight block `W_h*`, layer by layer.
    public var recurrentWeights: [WeightSpectrum]
    /// Singular values of the one-step state Jacobian at the sampled distances.
    public var jacobians: [JacobianSample]
    /// log10‖∂L/∂h_0‖ of the top layer: what reaches the first step (k = T − 1).
    public var log10HFirstStep: Double
    /// log10‖∂L/∂x_0‖: how much the first input still matters.
    public var log10XFirstStep: Double
    /// log10(‖∂L/∂x_0‖ / ‖∂L/∂x_{T−1}‖): how much less the first input matters than the last.
    public var log10XFirstOverLast: Double
    /// For the LSTM: the same fit for log10‖∂L/∂c_t‖ (top layer), the path the forget gate
    /// scales; nil for cells without a cell state.
    public var cellDecay: DecayFit?
    /// For the LSTM: log10‖∂L/∂c_0‖ of the top layer; nil for cells without a cell state.
    public var log10CFirstStep: Double?

    /// Summarizes `curves`.
    /// - Parameters:
    ///   - curves: the measured curves.
    ///   - network: the network (for the weight spectra).
    ///   - settings: the fit window and the number of Jacobian samples.
    ///   - jacobians: computes the Jacobian samples at the given distances.
    public init(curves: GradientCurves, network: RecurrentNetwork, settings: SummarySettings,
                jacobians: ([Int]) throws -> [JacobianSample]) throws {
        let h = curves.topH
        let last = min(h.count - 1, settings.fitMaxDistance ?? h.count - 1)
        decay = try DecayFit(curve: h, window: 0...max(0, last))
        drop1e3 = Self.dropDistance(h, decades: 3)
        drop1e6 = Self.dropDistance(h, decades: 6)
        log10HFirstStep = h[h.count - 1]
        log10XFirstStep = curves.x[curves.x.count - 1]
        log10XFirstOverLast = curves.x[curves.x.count - 1] - curves.x[0]
        if let c = curves.topC {
            cellDecay = try DecayFit(curve: c, window: 0...max(0, last))
            log10CFirstStep = c[c.count - 1]
        }
        recurrentWeights = try WeightSpectrum.all(of: network)
        self.jacobians = try jacobians(Self.sampleDistances(steps: h.count, count: settings.jacobianSamples))
    }

    /// Creates a summary from its parts (for reading stored results).
    public init(decay: DecayFit?, drop1e3: Int?, drop1e6: Int?, log10HFirstStep: Double, log10XFirstStep: Double,
                log10XFirstOverLast: Double, cellDecay: DecayFit? = nil, log10CFirstStep: Double? = nil,
                recurrentWeights: [WeightSpectrum], jacobians: [JacobianSample]) {
        self.decay = decay
        self.log10HFirstStep = log10HFirstStep
        self.log10XFirstStep = log10XFirstStep
        self.log10XFirstOverLast = log10XFirstOverLast
        self.cellDecay = cellDecay
        self.log10CFirstStep = log10CFirstStep
        self.drop1e3 = drop1e3
        self.drop1e6 = drop1e6
        self.recurrentWeights = recurrentWeights
        self.jacobians = jacobians
    }

    /// The first k with curve[k] ≤ curve[0] − decades, or nil.
    static func dropDistance(_ curve: [Double], decades: Double) -> Int? {
        guard let start = curve.first, start.isFinite else { return nil }
        return curve.firstIndex { $0 <= start - decades }
    }

    /// `count` distances evenly spaced over 0 … T − 1, rounded and without repeats.
    static func sampleDistances(steps: Int, count: Int) -> [Int] {
        guard count > 0 else { return [] }
        guard count > 1, steps > 1 else { return [0] }
        var out = [Int]()
        for i in 0..<count {
            let k = Int((Double(i) * Double(steps - 1) / Double(count - 1)).rounded())
            if out.last != k { out.append(k) }
        }
        return out
    }

    /// The largest singular value of the full one-step state Jacobian, averaged over the
    /// samples; nil without samples.
    public var meanJacobianNorm: Double? {
        jacobians.isEmpty ? nil : jacobians.map { $0.state[0] }.reduce(0, +) / Double(jacobians.count)
    }
}

/// The decay rate: the slope of log10‖∂L/∂h_t‖ against distance k by ordinary least
/// squares (GSL's `gsl_fit_linear`), in decades per step (negative when gradients vanish).
public struct DecayFit: Sendable, Equatable {
    /// Decades per step.
    public var slope: Double
    /// The slope's standard error from the scatter about the line (nil with two points,
    /// where the line is exact).
    public var standardError: Double?
    /// The fitted log10 norm at k = 0.
    public var intercept: Double
    /// The window's first and last distance.
    public var firstDistance: Int, lastDistance: Int
    /// Number of finite points fitted.
    public var count: Int

    /// Creates a fit from its parts (for reading stored results).
    public init(slope: Double, standardError: Double?, intercept: Double, firstDistance: Int, lastDistance: Int, count: Int) {
        self.slope = slope
        self.standardError = standardError
        self.intercept = intercept
        self.firstDistance = firstDistance
        self.lastDistance = lastDistance
        self.count = count
    }

    /// Fits the finite values of `curve` over `window`; nil with fewer than two of them.
    init?(curve: [Double], window: ClosedRange<Int>) throws {
        let ks = window.filter { curve[$0].isFinite }
        guard ks.count >= 2 else { return nil }
        let fit = try Statistics.linearFit(x: ks.map(Double.init), y: ks.map { curve[$0] })
        slope = fit.slope
        standardError = fit.slopeStandardError.isFinite ? fit.slopeStandardError : nil
        intercept = fit.intercept
        firstDistance = window.lowerBound
        lastDistance = window.upperBound
        count = ks.count
    }
}

/// The spectral norm σ_max and spectral radius ρ of one recurrent weight block.
public struct WeightSpectrum: Sendable, Equatable, Codable {
    enum CodingKeys: String, CodingKey { case layer, name, gate, spectralNorm = "spectral_norm", spectralRadius = "spectral_radius" }

    /// The layer.
    public var layer: Int
    /// The parameter's name in the cell's equations (`W_hh`, `W_hf`, …).
    public var name: String
    /// Its gate (`forget`, `update`, …; `hidden` for the tanh RNN).
    public var gate: String
    /// σ_max, the largest singular value.
    public var spectralNorm: Double
    /// ρ, the largest eigenvalue modulus.
    public var spectralRadius: Double

    /// Creates an entry from its parts.
    public init(layer: Int, name: String, gate: String, spectralNorm: Double, spectralRadius: Double) {
        self.layer = layer
        self.name = name
        self.gate = gate
        self.spectralNorm = spectralNorm
        self.spectralRadius = spectralRadius
    }

    /// Every `W_h*` block (role `.recurrentWeight`, H × H) of `network`, layer by layer in
    /// the cell's parameter order (LSTM: W_hi, W_hf, W_hg, W_ho; GRU: W_hr, W_hz, W_hn).
    public static func all(of network: RecurrentNetwork) throws -> [WeightSpectrum] {
        var out = [WeightSpectrum]()
        for k in 0..<network.layers {
            for spec in network.specs(layer: k) where spec.role == .recurrentWeight {
                let w = network.weights[k][spec.name]!
                out.append(WeightSpectrum(layer: k, name: spec.name, gate: spec.gate,
                                          spectralNorm: try LinearAlgebra.spectralNorm(rows: w.rows, cols: w.cols, w.scalars),
                                          spectralRadius: try LinearAlgebra.spectralRadius(n: w.rows, w.scalars)))
            }
        }
        return out
    }
}

/// The singular values of the one-step Jacobian at step t = T − 1 − distance.
public struct JacobianSample: Sendable, Equatable, Codable {
    enum CodingKeys: String, CodingKey { case distance, step, state = "state_singular_values", hh = "hh_singular_values" }

    /// Distance k from the loss.
    public var distance: Int
    /// The step t.
    public var step: Int
    /// Singular values (largest first) of ∂s_t/∂s_{t−1} for the *whole* state s of sequence
    /// 0 — every layer's h, and c for the LSTM (L·S·H × L·S·H): the map the gradient is
    /// multiplied by (transposed) at each step back.
    public var state: [Double]
    /// Singular values of ∂h_t/∂h_{t−1} of the top layer alone (H × H, other state held
    /// fixed); for a one-layer tanh RNN or GRU the same as `state`.
    public var hh: [Double]

    /// Creates a sample from its parts.
    public init(distance: Int, step: Int, state: [Double], hh: [Double]) {
        self.distance = distance
        self.step = step
        self.state = state
        self.hh = hh
    }
}

/// How the per-run summaries are taken.
public struct SummarySettings: Sendable, Equatable {
    /// The decay-rate fit uses distances k = 0 … min(T − 1, fitMaxDistance); nil: the whole
    /// curve, k = 0 … T − 1.
    public var fitMaxDistance: Int?
    /// Number of steps at which the one-step state Jacobian's singular values are computed,
    /// at distances evenly spaced from 0 to T − 1 (fewer when T is short).
    public var jacobianSamples: Int

    /// Creates the settings (defaults: fit over the whole curve, 3 Jacobian samples).
    public init(fitMaxDistance: Int? = nil, jacobianSamples: Int = 3) {
        self.fitMaxDistance = fitMaxDistance
        self.jacobianSamples = jacobianSamples
    }
}

/// Errors of the probe and the experiment runner: one line each, naming what is wrong.
public enum ProbeError: Error, Equatable, CustomStringConvertible {
    /// A probe setting is out of range or unknown.
    case invalidConfiguration(String)
    /// A numerical step failed (e.g. a non-finite weight reached the SVD).
    case numerical(String)
    /// A file could not be read or written.
    case io(path: String, message: String)

    public var description: String {
        switch self {
        case .invalidConfiguration(let m): return m
        case .numerical(let m): return m
        case let .io(path, m): return "\(path): \(m)"
        }
    }
}

/// One scalar summary of a run under a stable key (a CSV column name).
public struct SummaryScalar: Sendable, Equatable {
    /// Column name, e.g. `decay_rate`, `sigma_max_W_hf`, `jacobian_sigma_max_k0`.
    public var key: String
    /// For people, e.g. `σ_max(W_hf)`.
    public var label: String
    /// The value; nil when not defined (a fall not reached within T, a fit with too few points).
    public var value: Double?
}

extension ProbeSummary {
    /// The scalar summaries in a fixed order: decay rates (h, and c for the LSTM), the two
    /// fall distances, the log10 norms that reach the first step (h_0, c_0, x_0; nil when
    /// exactly zero), how much less the first input matters than the last, σ_max and
    /// ρ of every recurrent block, σ_max of the one-step state Jacobian at each sample.
    public var scalars: [SummaryScalar] {
        let layers = Set(recurrentWeights.map(\.layer)).count
        func suffix(_ layer: Int) -> String { layers > 1 ? "_l\(layer)" : "" }
        func finite(_ x: Double?) -> Double? { x.flatMap { $0.isFinite ? $0 : nil } }
        var out = [SummaryScalar(key: "decay_rate", label: "decay rate of ‖∂L/∂h_t‖ (log10/step)", value: decay?.slope)]
        if log10CFirstStep != nil {
            out.append(SummaryScalar(key: "decay_rate_c", label: "decay rate of ‖∂L/∂c_t‖ (log10/step)", value: cellDecay?.slope))
        }
        out += [SummaryScalar(key: "drop_1e3", label: "k where ‖∂L/∂h_t‖ fell by 10^3", value: drop1e3.map(Double.init)),
                SummaryScalar(key: "drop_1e6", label: "k where ‖∂L/∂h_t‖ fell by 10^6", value: drop1e6.map(Double.init)),
                SummaryScalar(key: "log10_h_t0", label: "log10‖∂L/∂h_0‖ (k = T−1)", value: finite(log10HFirstStep))]
        if log10CFirstStep != nil {
            out.append(SummaryScalar(key: "log10_c_t0", label: "log10‖∂L/∂c_0‖ (k = T−1)", value: finite(log10CFirstStep)))
        }
        out += [SummaryScalar(key: "log10_x_t0", label: "log10‖∂L/∂x_0‖ (k = T−1)", value: finite(log10XFirstStep)),
                SummaryScalar(key: "x_first_over_last", label: "log10(‖∂L/∂x_0‖ / ‖∂L/∂x_T−1‖)", value: finite(log10XFirstOverLast))]
        for w in recurrentWeights {
            out.append(SummaryScalar(key: "sigma_max_\(w.name)\(suffix(w.layer))", label: "σ_max(\(w.name)\(suffix(w.layer)))", value: w.spectralNorm))
            out.append(SummaryScalar(key: "rho_\(w.name)\(suffix(w.layer))", label: "ρ(\(w.name)\(suffix(w.layer)))", value: w.spectralRadius))
        }
        for j in jacobians {
            out.append(SummaryScalar(key: "jacobian_sigma_max_k\(j.distance)", label: "σ_max(∂s_t/∂s_{t−1}) at k = \(j.distance)", value: j.state.first))
        }
        return out
    }
}
