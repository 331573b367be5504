import GateLabProbe
import GateLabAutodiff
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabInterchange
import GateLabSupport

/// One probe run as stored: every parameter, the seed, the generator's name, the GateLab
/// version, the summaries and the curves — one JSON line in `RecordJSON`'s form (sorted
/// snake_case keys; −∞, ∞ and NaN as `"-inf"`, `"inf"`, `"nan"`), documented in
/// `Notes/formats.md`. Parameters and scalar summaries are top-level keys (one column each
/// in a data frame); the curves sit under `curves`, per layer, as in `gatelab probe --json`.
public struct ProbeRecord: Equatable, ExperimentRecord {
    /// The grid point's identifier (unique within an experiment; "" outside one).
    public var id: String
    /// The experiment's name ("" outside one).
    public var experiment: String
    /// The GateLab version that computed it.
    public var version: String
    /// The random generator's GSL name (always `mt19937`).
    public var generator: String
    /// The probe's parameters and seed.
    public var configuration: ProbeConfiguration
    /// The summaries.
    public var summary: ProbeSummary
    /// The curves by distance.
    public var curves: GradientCurves
    /// Float32 probes: what the unrescaled float32 reverse pass carries (nil in float64).
    public var carried: CarriedGradient?
    /// The record format (`RecordFormat`; nil in records written before formats were numbered).
    public var recordFormat: Int?
    /// A cell file's name in ids and reports (`CellLabels`: its declared name, unique in its
    /// grid); nil for a built-in cell, named by `cell`.
    public var cellName: String?
    /// The cell's name in labels: `cellName`, else the built-in name.
    public var cellLabel: String { cellName ?? configuration.cell }
    /// The content hash of each file the probe read (a cell file, a weights file), by path.
    public var inputs: [String: String]?

    /// The scalar summaries: the summary's, then, for a float32 probe, its underflow
    /// distances against the exact curve's (`CarriedGradient.scalars(exactH:)`).
    public var scalars: [SummaryScalar] { summary.scalars + (carried?.scalars(exactH: curves.topH) ?? []) }

    /// `version`, as every kind's record names it.
    public var gatelabVersion: String? { version }

    /// Creates a record.
    public init(id: String = "", experiment: String = "", version: String, configuration: ProbeConfiguration,
                result: ProbeResult) {
        self.id = id
        self.experiment = experiment
        self.version = version
        generator = "mt19937"
        self.configuration = configuration
        summary = result.summary
        curves = result.curves
        carried = result.carried
    }

    /// The loss, in words, as recorded with every result.
    public static let lossDefinition = "L = sum_b sum_j r[b][j] * h_T[b][j], r ~ N(0,1)/sqrt(H) drawn after the weights and inputs; distance k = T-1-t"

    /// The parameters as CSV cells, in column order (also the first columns of the summary CSVs).
    public var parameterCells: [(key: String, cell: String)] {
        let c = configuration
        let cells: [(key: String, cell: String)] = [("experiment", csvQuoted(experiment)), ("id", csvQuoted(id)), ("gatelab_version", csvQuoted(version)),
                ("rng", csvQuoted(generator)), ("cell", csvQuoted(c.cell)), ("steps", String(c.steps)),
                ("hidden", String(c.hiddenSize)), ("input_size", String(c.inputSize)), ("batch", String(c.batch)),
                ("layers", String(c.layers)), ("recurrent_init", csvQuoted(c.recurrentInitName)),
                ("bias_init", csvQuoted(c.biasInitName)), ("forget_bias", csvQuoted(c.forgetBias.description)),
                ("input_scale", csvNumber(c.inputScale)), ("seed", String(c.seed)),
                ("fit_max_distance", c.summary.fitMaxDistance.map(String.init) ?? ""),
                ("jacobian_samples", String(c.summary.jacobianSamples))]
        // Keys only some records have come last, so float64 tables keep their bytes.
        var more = [(key: String, cell: String)]()
        if let weights = c.weights { more += [(key: "weights", cell: csvQuoted(weights)), (key: "task_inputs", cell: c.taskInputs ? "true" : "false")] }
        if c.precision != .f64 { more.append((key: "precision", cell: c.precision.rawValue)) }
        return cells + more
    }

    /// The whole record as one JSON line (no trailing newline).
    public var jsonLine: String { (try? RecordJSON.line(self)) ?? "" }

    /// Reads a record written by `jsonLine`.
    /// - Throws: `ProbeError.invalidConfiguration` naming `context` and what is wrong.
    public init(jsonLine text: String, context: String) throws {
        do { self = try RecordJSON.decode(ProbeRecord.self, from: text) } catch let e as ProbeError {
            throw ProbeError.invalidConfiguration("\(context): \(e)")
        } catch {
            throw ProbeError.invalidConfiguration("\(context): not a probe record (\(error))")
        }
    }

    public static func == (a: ProbeRecord, b: ProbeRecord) -> Bool { a.jsonLine == b.jsonLine }

    // MARK: Codable

    enum Key: String, CodingKey {
        case experiment, id, gatelabVersion = "gatelab_version", rng, cell, steps, hidden, inputSize = "input_size", batch, layers
        case recurrentInit = "recurrent_init", biasInit = "bias_init", forgetBias = "forget_bias", inputScale = "input_scale", seed
        case fitMaxDistance = "fit_max_distance", jacobianSamples = "jacobian_samples", loss
        case decayRate = "decay_rate", decayRateSE = "decay_rate_se", decayIntercept = "decay_intercept"
        case decayFitFirst = "decay_fit_first", decayFitLast = "decay_fit_last", decayFitPoints = "decay_fit_points"
        case drop1e3 = "drop_1e3", drop1e6 = "drop_1e6", log10HT0 = "log10_h_t0", log10XT0 = "log10_x_t0"
        case xFirstOverLast = "x_first_over_last", decayRateC = "decay_rate_c", decayRateCSE = "decay_rate_c_se"
        case decayInterceptC = "decay_intercept_c", decayFitPointsC = "decay_fit_points_c", log10CT0 = "log10_c_t0"
        case recurrentWeights = "recurrent_weights", jacobians, curves, weights, taskInputs = "task_inputs"
        case precision, f32ZeroDistance = "f32_zero_distance", f32SubnormalDistance = "f32_subnormal_distance"
        case f32CarriedH = "f32_log10_h_carried"
        case recordFormat = "record_format", inputs, cellName = "cell_name"
    }

    public func encode(to encoder: Encoder) throws {
        var e = encoder.container(keyedBy: Key.self)
        let c = configuration, s = summary
        try e.encode(experiment, forKey: .experiment)
        try e.encode(id, forKey: .id)
        try e.encode(version, forKey: .gatelabVersion)
        try e.encode(generator, forKey: .rng)
        try e.encode(c.cell, forKey: .cell)
        try e.encode(c.steps, forKey: .steps)
        try e.encode(c.hiddenSize, forKey: .hidden)
        try e.encode(c.inputSize, forKey: .inputSize)
        try e.encode(c.batch, forKey: .batch)
        try e.encode(c.layers, forKey: .layers)
        try e.encode(c.recurrentInitName, forKey: .recurrentInit)
        try e.encode(c.biasInitName, forKey: .biasInit)
        try e.encode(c.forgetBias.description, forKey: .forgetBias)
        try e.encode(c.inputScale, forKey: .inputScale)
        try e.encode(c.seed, forKey: .seed)
        try e.encode(c.summary.fitMaxDistance, forKey: .fitMaxDistance)
        try e.encode(c.summary.jacobianSamples, forKey: .jacobianSamples)
        try e.encodeIfPresent(c.weights, forKey: .weights)   // only for saved networks: older records keep their bytes
        if c.taskInputs { try e.encode(true, forKey: .taskInputs) }
        if c.precision != .f64 { try e.encode(c.precision, forKey: .precision) }   // float64 records keep their bytes
        if let carried {
            try e.encode(carried.zeroDistance, forKey: .f32ZeroDistance)
            try e.encode(carried.subnormalDistance, forKey: .f32SubnormalDistance)
            try e.encode(carried.log10H, forKey: .f32CarriedH)
        }
        try e.encode(Self.lossDefinition, forKey: .loss)
        try e.encode(s.decay?.slope, forKey: .decayRate)
        try e.encode(s.decay?.standardError, forKey: .decayRateSE)
        try e.encode(s.decay?.intercept, forKey: .decayIntercept)
        try e.encode(s.decay?.firstDistance, forKey: .decayFitFirst)
        try e.encode(s.decay?.lastDistance, forKey: .decayFitLast)
        try e.encode(s.decay?.count, forKey: .decayFitPoints)
        try e.encode(s.drop1e3, forKey: .drop1e3)
        try e.encode(s.drop1e6, forKey: .drop1e6)
        try e.encode(s.log10HFirstStep, forKey: .log10HT0)
        try e.encode(s.log10XFirstStep, forKey: .log10XT0)
        try e.encode(s.log10XFirstOverLast, forKey: .xFirstOverLast)
        try e.encode(s.cellDecay?.slope, forKey: .decayRateC)
        try e.encode(s.cellDecay?.standardError, forKey: .decayRateCSE)
        try e.encode(s.cellDecay?.intercept, forKey: .decayInterceptC)
        try e.encode(s.cellDecay?.count, forKey: .decayFitPointsC)
        try e.encode(s.log10CFirstStep, forKey: .log10CT0)
        try e.encode(s.recurrentWeights, forKey: .recurrentWeights)
        try e.encode(s.jacobians, forKey: .jacobians)
        try e.encode(curves, forKey: .curves)
        try e.encodeIfPresent(recordFormat, forKey: .recordFormat)   // absent in older records, which keep their bytes
        try e.encodeIfPresent(inputs, forKey: .inputs)
        try e.encodeIfPresent(cellName, forKey: .cellName)
    }

    public init(from decoder: Decoder) throws {
        let d = try decoder.container(keyedBy: Key.self)
        id = try d.decode(String.self, forKey: .id)
        experiment = try d.decode(String.self, forKey: .experiment)
        version = try d.decode(String.self, forKey: .gatelabVersion)
        generator = try d.decode(String.self, forKey: .rng)
        let hidden = try d.decode(Int.self, forKey: .hidden)
        func initializer(_ key: Key) throws -> Initializer? {
            let name = try d.decode(String.self, forKey: key)
            return name == "pytorch-default" ? nil : try Initializer(parsing: name, hiddenSize: hidden)
        }
        var c = ProbeConfiguration.unset
        c.cell = try d.decode(String.self, forKey: .cell)
        (c.steps, c.hiddenSize) = (try d.decode(Int.self, forKey: .steps), hidden)
        (c.inputSize, c.batch) = (try d.decode(Int.self, forKey: .inputSize), try d.decode(Int.self, forKey: .batch))
        c.layers = try d.decode(Int.self, forKey: .layers)
        (c.recurrentInit, c.biasInit) = (try initializer(.recurrentInit), try initializer(.biasInit))
        c.forgetBias = try ForgetBiasSetting(parsing: try d.decode(String.self, forKey: .forgetBias))
        (c.inputScale, c.seed) = (try d.decode(Double.self, forKey: .inputScale), try d.decode(UInt64.self, forKey: .seed))
        c.summary = SummarySettings(fitMaxDistance: try d.decode(Int?.self, forKey: .fitMaxDistance),
                                    jacobianSamples: try d.decode(Int.self, forKey: .jacobianSamples))
        c.weights = try d.decodeIfPresent(String.self, forKey: .weights)
        c.taskInputs = try d.decodeIfPresent(Bool.self, forKey: .taskInputs) ?? false
        c.precision = try d.decodeIfPresent(Precision.self, forKey: .precision) ?? .f64
        configuration = try c.validated()
        recordFormat = try d.decodeIfPresent(Int.self, forKey: .recordFormat)
        inputs = try d.decodeIfPresent([String: String].self, forKey: .inputs)
        cellName = try d.decodeIfPresent(String.self, forKey: .cellName)
        if let log10H = try d.decodeIfPresent([Double].self, forKey: .f32CarriedH) {
            carried = CarriedGradient(log10H: log10H, zeroDistance: try d.decode(Int?.self, forKey: .f32ZeroDistance),
                                      subnormalDistance: try d.decode(Int?.self, forKey: .f32SubnormalDistance))
        }
        func fit(_ slope: Key, _ se: Key, _ intercept: Key, _ count: Key) throws -> DecayFit? {
            guard let s = try d.decode(Double?.self, forKey: slope) else { return nil }
            // The c fit uses the h fit's window.
            return DecayFit(slope: s, standardError: try d.decode(Double?.self, forKey: se),
                            intercept: try d.decode(Double.self, forKey: intercept),
                            firstDistance: try d.decode(Int.self, forKey: .decayFitFirst),
                            lastDistance: try d.decode(Int.self, forKey: .decayFitLast), count: try d.decode(Int.self, forKey: count))
        }
        curves = try d.decode(GradientCurves.self, forKey: .curves)
        summary = ProbeSummary(decay: try fit(.decayRate, .decayRateSE, .decayIntercept, .decayFitPoints),
                               drop1e3: try d.decode(Int?.self, forKey: .drop1e3), drop1e6: try d.decode(Int?.self, forKey: .drop1e6),
                               log10HFirstStep: try d.decode(Double.self, forKey: .log10HT0),
                               log10XFirstStep: try d.decode(Double.self, forKey: .log10XT0),
                               log10XFirstOverLast: try d.decode(Double.self, forKey: .xFirstOverLast),
                               cellDecay: try fit(.decayRateC, .decayRateCSE, .decayInterceptC, .decayFitPointsC),
                               log10CFirstStep: try d.decode(Double?.self, forKey: .log10CT0),
                               recurrentWeights: try d.decode([WeightSpectrum].self, forKey: .recurrentWeights),
                               jacobians: try d.decode([JacobianSample].self, forKey: .jacobians))
    }

    // MARK: CSV

    /// The curves as CSV: `id,distance,log10_h,log10_c,log10_x` (top layer; `log10_c` empty
    /// for cells without a cell state; −∞ written `-inf`).
    public var curvesCSV: String {
        var out = "id,distance,log10_h,log10_c,log10_x\n"
        let c = curves.topC
        for k in curves.topH.indices {
            out += "\(id),\(k),\(csvNumber(curves.topH[k])),\(c.map { csvNumber($0[k]) } ?? ""),\(csvNumber(curves.x[k]))\n"
        }
        return out
    }
}

extension GradientCurves: Codable {
    enum Key: String, CodingKey { case h = "log10_h_by_layer", c = "log10_c_by_layer", x = "log10_x" }

    /// `log10_h_by_layer` and `log10_c_by_layer` (one curve per layer, the top layer last;
    /// no curves for cells without a cell state) and `log10_x`, each indexed by the distance
    /// k = T − 1 − t: the same keys in experiment records and in `gatelab probe --json`.
    public func encode(to encoder: Encoder) throws {
        var e = encoder.container(keyedBy: Key.self)
        try e.encode(h, forKey: .h)
        try e.encode(c, forKey: .c)
        try e.encode(x, forKey: .x)
    }

    public init(from decoder: Decoder) throws {
        let d = try decoder.container(keyedBy: Key.self)
        self.init(h: try d.decode([[Double]].self, forKey: .h), c: try d.decode([[Double]].self, forKey: .c),
                  x: try d.decode([Double].self, forKey: .x))
    }
}
