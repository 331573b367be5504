import Cells
import Foundation
import GSLKit
import Interchange

/// One probe run as stored: every parameter, the seed, the generator's name, the GateLab
/// version, the summaries and the curves. Its JSON form is one line with keys in a fixed
/// order (`jsonLine`), which `init(jsonLine:)` reads back exactly.
public struct ProbeRecord: Equatable {
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
    }

    /// The loss, in words, as recorded with every result.
    public static let lossDefinition = "L = sum_b sum_j r[b][j] * h_T[b][j], r ~ N(0,1)/sqrt(H) drawn after the weights and inputs; distance k = T-1-t"

    // MARK: JSON

    /// The parameters as ordered JSON fields (also the columns of the summary CSVs).
    public var parameterFields: [(String, OrderedJSON)] {
        let c = configuration
        return [("experiment", .string(experiment)), ("id", .string(id)), ("gatelab_version", .string(version)),
                ("rng", .string(generator)), ("cell", .string(c.cell)), ("steps", .integer(c.steps)),
                ("hidden", .integer(c.hiddenSize)), ("input_size", .integer(c.inputSize)), ("batch", .integer(c.batch)),
                ("layers", .integer(c.layers)), ("recurrent_init", .string(c.recurrentInitName)),
                ("bias_init", .string(c.biasInitName)), ("forget_bias", .string(c.forgetBias.description)),
                ("input_scale", .number(c.inputScale)), ("seed", .integer(Int(c.seed))),
                ("fit_max_distance", .integer(c.summary.fitMaxDistance)), ("jacobian_samples", .integer(c.summary.jacobianSamples))]
    }

    /// The whole record as one JSON line (no trailing newline).
    public var jsonLine: String { json.text }

    /// The whole record as ordered JSON.
    public var json: OrderedJSON {
        let s = summary
        var curveFields: [(String, OrderedJSON)] = [
            ("log10_h", .numbers(curves.topH)),
            ("log10_c", curves.topC.map { .numbers($0) } ?? .null),
            ("log10_x", .numbers(curves.x))]
        if curves.h.count > 1 {
            curveFields.append(("log10_h_by_layer", .array(curves.h.map { .numbers($0) })))
            if !curves.c.isEmpty { curveFields.append(("log10_c_by_layer", .array(curves.c.map { .numbers($0) }))) }
        }
        let fields: [(String, OrderedJSON)] = parameterFields + [
            ("loss", .string(Self.lossDefinition)),
            ("decay_rate", .number(s.decay?.slope)), ("decay_rate_se", .number(s.decay?.standardError)),
            ("decay_intercept", .number(s.decay?.intercept)),
            ("decay_fit_first", .integer(s.decay?.firstDistance)), ("decay_fit_last", .integer(s.decay?.lastDistance)),
            ("decay_fit_points", .integer(s.decay?.count)),
            ("drop_1e3", .integer(s.drop1e3)), ("drop_1e6", .integer(s.drop1e6)),
            ("log10_h_t0", .number(s.log10HFirstStep)), ("log10_x_t0", .number(s.log10XFirstStep)),
            ("x_first_over_last", .number(s.log10XFirstOverLast)),
            ("decay_rate_c", .number(s.cellDecay?.slope)), ("decay_rate_c_se", .number(s.cellDecay?.standardError)),
            ("decay_intercept_c", .number(s.cellDecay?.intercept)), ("decay_fit_points_c", .integer(s.cellDecay?.count)),
            ("log10_c_t0", .number(s.log10CFirstStep)),
            ("recurrent_weights", .array(s.recurrentWeights.map {
                .object([("layer", .integer($0.layer)), ("name", .string($0.name)), ("gate", .string($0.gate)),
                         ("spectral_norm", .number($0.spectralNorm)), ("spectral_radius", .number($0.spectralRadius))])
            })),
            ("jacobians", .array(s.jacobians.map {
                .object([("distance", .integer($0.distance)), ("step", .integer($0.step)),
                         ("state_singular_values", .numbers($0.state)), ("hh_singular_values", .numbers($0.hh))])
            })),
            ("curves", .object(curveFields)),
        ]
        return OrderedJSON.object(fields)
    }

    /// Reads a record written by `jsonLine`.
    /// - Throws: `ProbeError.invalidConfiguration` naming the field that is missing or malformed.
    public init(jsonLine text: String, context: String) throws {
        let value: JSONValue
        do { value = try JSONValue(parsing: text) } catch {
            throw ProbeError.invalidConfiguration("\(context): not valid JSON (\(error))")
        }
        let f = try JSONFields(value, context: context)
        func int(_ key: String) throws -> Int? {
            guard let x = try f.number(key) else { return nil }
            guard x == x.rounded(), Swift.abs(x) < 1e15 else { throw ProbeError.invalidConfiguration("\(context): '\(key)' is not an integer") }
            return Int(x)
        }
        func required<T>(_ key: String, _ v: T?) throws -> T {
            guard let v else { throw ProbeError.invalidConfiguration("\(context): '\(key)' is missing") }
            return v
        }
        id = try f.string("id")
        experiment = try f.string("experiment")
        version = try f.string("gatelab_version")
        generator = try f.string("rng")
        let hidden = try required("hidden", try int("hidden"))
        let recurrentName = try f.string("recurrent_init"), biasName = try f.string("bias_init")
        do {
            configuration = try ProbeConfiguration(
                cell: try f.string("cell"), steps: try required("steps", try int("steps")), hiddenSize: hidden,
                inputSize: try required("input_size", try int("input_size")), batch: try required("batch", try int("batch")),
                layers: try required("layers", try int("layers")),
                recurrentInit: recurrentName == "pytorch-default" ? nil : try Initializer(parsing: recurrentName, hiddenSize: hidden),
                biasInit: biasName == "pytorch-default" ? nil : try Initializer(parsing: biasName, hiddenSize: hidden),
                forgetBias: try ForgetBiasSetting(parsing: try f.string("forget_bias")),
                inputScale: try required("input_scale", try f.number("input_scale")),
                seed: UInt64(try required("seed", try int("seed"))),
                summary: SummarySettings(fitMaxDistance: try int("fit_max_distance"),
                                         jacobianSamples: try required("jacobian_samples", try int("jacobian_samples"))))
        } catch let e as ProbeError {
            throw ProbeError.invalidConfiguration("\(context): \(e)")
        } catch {
            throw ProbeError.invalidConfiguration("\(context): \(error)")
        }
        let c = try f.object("curves")
        let top = try c.logCurve("log10_h")
        let byLayer = c.dict["log10_h_by_layer"] != nil ? try c.logCurves("log10_h_by_layer") : [top]
        var cCurves = [[Double]]()
        if c.dict["log10_c_by_layer"] != nil {
            cCurves = try c.logCurves("log10_c_by_layer")
        } else if case .array? = c.dict["log10_c"] {
            cCurves = [try c.logCurve("log10_c")]
        }
        var decay: DecayFit?, cellDecay: DecayFit?
        if let slope = try f.number("decay_rate") {
            decay = DecayFit(slope: slope, standardError: try f.number("decay_rate_se"),
                             intercept: try required("decay_intercept", try f.number("decay_intercept")),
                             firstDistance: try required("decay_fit_first", try int("decay_fit_first")),
                             lastDistance: try required("decay_fit_last", try int("decay_fit_last")),
                             count: try required("decay_fit_points", try int("decay_fit_points")))
        }
        if let slope = try f.number("decay_rate_c") {
            // The c fit uses the h fit's window.
            cellDecay = DecayFit(slope: slope, standardError: try f.number("decay_rate_c_se"),
                                 intercept: try required("decay_intercept_c", try f.number("decay_intercept_c")),
                                 firstDistance: try required("decay_fit_first", try int("decay_fit_first")),
                                 lastDistance: try required("decay_fit_last", try int("decay_fit_last")),
                                 count: try required("decay_fit_points_c", try int("decay_fit_points_c")))
        }
        let weights = try f.array("recurrent_weights").map { v -> WeightSpectrum in
            let w = try JSONFields(v, context: "\(context).recurrent_weights")
            guard let layer = try w.number("layer"), let norm = try w.number("spectral_norm"), let radius = try w.number("spectral_radius") else {
                throw ProbeError.invalidConfiguration("\(context): incomplete recurrent_weights entry")
            }
            return WeightSpectrum(layer: Int(layer), name: try w.string("name"), gate: try w.string("gate"),
                                  spectralNorm: norm, spectralRadius: radius)
        }
        let jacobians = try f.array("jacobians").map { v -> JacobianSample in
            let j = try JSONFields(v, context: "\(context).jacobians")
            guard let d = try j.number("distance"), let t = try j.number("step") else {
                throw ProbeError.invalidConfiguration("\(context): incomplete jacobians entry")
            }
            return JacobianSample(distance: Int(d), step: Int(t), state: try j.logCurve("state_singular_values"),
                                  hh: try j.logCurve("hh_singular_values"))
        }
        summary = ProbeSummary(decay: decay, drop1e3: try int("drop_1e3"), drop1e6: try int("drop_1e6"),
                               log10HFirstStep: try f.number("log10_h_t0") ?? -.infinity,
                               log10XFirstStep: try f.number("log10_x_t0") ?? -.infinity,
                               log10XFirstOverLast: try f.number("x_first_over_last") ?? .nan,
                               cellDecay: cellDecay,
                               log10CFirstStep: cCurves.isEmpty ? nil : try f.number("log10_c_t0") ?? -.infinity,
                               recurrentWeights: weights, jacobians: jacobians)
        curves = GradientCurves(h: byLayer, c: cCurves, x: try c.logCurve("log10_x"))
    }

    public static func == (a: ProbeRecord, b: ProbeRecord) -> Bool { a.jsonLine == b.jsonLine }

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

/// A number in a CSV cell: shortest round-trip form, `-inf`/`inf` for infinities, empty for nil or NaN.
func csvNumber(_ x: Double?) -> String {
    guard let x, !x.isNaN else { return "" }
    if x.isInfinite { return x < 0 ? "-inf" : "inf" }
    return x.description
}
