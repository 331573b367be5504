import GateLabProbe
import Foundation
import GateLabGSL

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
