import Foundation
import GateLabGSL

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

/// A summary across seeds: the mean with its two-sided 95% Student-t confidence interval
/// (`Statistics.meanConfidenceInterval`), and the range.
public struct AggregateRow: Sendable, Equatable, Codable {
    /// JSON keys: key, label, seeds, defined, mean, ci95_half_width, min, max.
    enum CodingKeys: String, CodingKey { case key, label, count = "seeds", defined, mean, halfWidth = "ci95_half_width", min, max }

    /// The scalar's key.
    public var key: String
    /// The scalar's label.
    public var label: String
    /// Number of seeds.
    public var count: Int
    /// Seeds where the value is defined.
    public var defined: Int
    /// The mean, when every seed has a value.
    public var mean: Double?
    /// The confidence interval's half-width, when every seed of at least two has a value.
    public var halfWidth: Double?
    /// The smallest and largest defined value.
    public var min: Double?, max: Double?
}

/// Summaries of one configuration aggregated over its seeds.
public struct SeedAggregate: Sendable, Equatable {
    /// One row per scalar, in `ProbeSummary.scalars` order.
    public var rows: [AggregateRow]

    /// Aggregates `summaries` (one per seed, same configuration).
    /// - Throws: `ProbeError.invalidConfiguration` when `summaries` is empty.
    public init(_ summaries: [ProbeSummary]) throws {
        try self.init(scalars: summaries.map(\.scalars))
    }

    /// Aggregates runs given as their scalars (one list per seed, same configuration), in the
    /// first run's order (`ProbeRecord.scalars`: the summary's, and a float32 probe's underflow
    /// distances).
    /// - Throws: `ProbeError.invalidConfiguration` when `all` is empty.
    public init(scalars all: [[SummaryScalar]]) throws {
        guard let first = all.first else { throw ProbeError.invalidConfiguration("no runs to aggregate") }
        rows = try first.map { s in
            let values = all.map { run in run.first { $0.key == s.key }?.value }
            let defined = values.compactMap { $0 }
            var row = AggregateRow(key: s.key, label: s.label, count: values.count, defined: defined.count,
                                   mean: nil, halfWidth: nil, min: defined.min(), max: defined.max())
            if defined.count == values.count {
                if defined.count >= 2 {
                    let ci = try Statistics.meanConfidenceInterval(defined, level: 0.95)
                    row.mean = ci.mean
                    row.halfWidth = ci.halfWidth
                } else {
                    row.mean = defined[0]
                }
            }
            return row
        }
    }

    /// The row for `key`.
    public subscript(key: String) -> AggregateRow? { rows.first { $0.key == key } }
}

extension AggregateRow {
    /// For tables: `-0.04583 ± 0.0012`, `245` (one seed), or, when some seeds have no
    /// value, `not within T` / `not within T in 2 of 5 seeds (others 130–190)`.
    public var text: String {
        if let mean {
            return halfWidth.map { "\(displayNumber(mean)) ± \(displayNumber($0, digits: 2))" } ?? displayNumber(mean)
        }
        if defined == 0 { return count == 1 ? "not within T" : "not within T (all \(count) seeds)" }
        let others = min == max ? displayNumber(min!) : "\(displayNumber(min!))–\(displayNumber(max!))"
        return "not within T in \(count - defined) of \(count) seeds (others \(others))"
    }
}

/// A number for tables: `digits` significant digits (`-0.04583`, `245`, `1.2e-07`),
/// integers in full.
public func displayNumber(_ x: Double, digits: Int = 4) -> String {
    guard x.isFinite else { return x.isNaN ? "nan" : (x < 0 ? "-inf" : "inf") }
    if x == x.rounded(), Swift.abs(x) < 1e7 { return String(Int(x)) }
    return String(format: "%.\(digits)g", x)
}
