import GateLabProbe
import GateLabAutodiff
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabSupport

/// An experiment's results grouped by configuration (every parameter but the seed), with
/// their seed aggregates and the two tidy CSV tables.
struct ResultTables {
    /// Points that differ only in their seed.
    struct Group {
        /// `GridPoint.configurationKey`.
        var key: String
        /// A short name for tables and figure legends (`lstm, forget bias 1`).
        var label: String
        /// The configuration of its first seed.
        var configuration: ProbeConfiguration
        /// The records, in seed order.
        var records: [ProbeRecord]
        /// Their summaries over seeds.
        var aggregate: SeedAggregate
    }

    /// Every record, in grid order.
    let records: [ProbeRecord]
    /// The groups, in order of first appearance.
    let groups: [Group]

    init(records: [ProbeRecord], points: [GridPoint]) throws {
        self.records = records
        var order = [String](), members = [String: [ProbeRecord]]()
        for (r, p) in zip(records, points) {
            if members[p.configurationKey] == nil { order.append(p.configurationKey) }
            members[p.configurationKey, default: []].append(r)
        }
        let configs = order.map { members[$0]![0].configuration }
        groups = try order.map { key in
            let rs = members[key]!
            return Group(key: key, label: Self.label(rs[0].configuration, cell: rs[0].cellLabel, among: configs), configuration: rs[0].configuration,
                         records: rs, aggregate: try SeedAggregate(scalars: rs.map(\.scalars)))
        }
    }

    /// The cell, then every parameter (but T and the seed) that varies across the experiment
    /// and is not at its default here; sizes are shown whenever they vary.
    /// - Parameter cell: the cell's name (`ProbeRecord.cellLabel`: a cell file's declared name).
    static func label(_ c: ProbeConfiguration, cell: String, among all: [ProbeConfiguration]) -> String {
        func varies<T: Hashable>(_ f: (ProbeConfiguration) -> T) -> Bool { Set(all.map(f)).count > 1 }
        var parts = [cell]
        // A saved network is named by its file (gru.u250.npz: after 250 updates).
        if let w = c.weights { parts.append((w as NSString).lastPathComponent + (c.taskInputs ? " on task inputs" : "")) }
        if varies(\.hiddenSize) { parts.append("H = \(c.hiddenSize)") }
        if varies(\.inputSize) { parts.append("I = \(c.inputSize)") }
        if varies(\.batch) { parts.append("B = \(c.batch)") }
        if varies(\.layers) { parts.append("L = \(c.layers)") }
        if varies(\.recurrentInitName), let r = c.recurrentInit {
            // GateLabGSL names a gain of 1 `orthogonal`; say it, since 0.9 and 1.1 are spelled out.
            parts.append(r == .orthogonal(gain: 1) ? "orthogonal(1)" : c.recurrentInitName)
        }
        if varies(\.biasInitName), c.biasInit != nil { parts.append("biases \(c.biasInitName)") }
        if varies({ $0.forgetBias.description }), c.forgetBias != .pytorchDefault {
            parts.append("forget bias \(c.forgetBias)")
        }
        if varies(\.inputScale) { parts.append("x scale \(formatNumber(c.inputScale))") }
        if varies({ $0.summary.fitMaxDistance ?? -1 }) { parts.append("fit k ≤ \(c.summary.fitMaxDistance.map(String.init) ?? "T−1")") }
        if varies(\.precision), c.precision != .f64 { parts.append("float32") }
        if varies(\.summary.jacobianSamples) { parts.append("\(c.summary.jacobianSamples) Jacobian samples") }
        return parts.joined(separator: ", ")
    }

    /// The lengths T in the experiment, shortest first.
    var lengths: [Int] { Array(Set(groups.map(\.configuration.steps))).sorted() }

    // MARK: CSV

    /// One row per point: its parameters, configuration key and label, then every scalar
    /// summary (the union of all cells' columns; empty where a cell has none).
    var pointsCSV: String {
        var scalarKeys = [String]()
        for r in records { for s in r.scalars where !scalarKeys.contains(s.key) { scalarKeys.append(s.key) } }
        let paramKeys = parameterKeys
        var lines = [(paramKeys + ["configuration", "label", "decay_rate_se", "decay_fit_first", "decay_fit_last"] + scalarKeys).joined(separator: ",")]
        let labelOf = Dictionary(uniqueKeysWithValues: groups.map { ($0.key, $0.label) })
        for r in records {
            let key = GridPoint.key(r.configuration, cell: r.cellLabel, includeSeed: false)
            let scalars = Dictionary(uniqueKeysWithValues: r.scalars.map { ($0.key, $0.value) })
            let cells = Self.cells(r, keys: paramKeys)
                + [csvQuoted(key), csvQuoted(labelOf[key] ?? ""), csvNumber(r.summary.decay?.standardError),
                   r.summary.decay.map { String($0.firstDistance) } ?? "", r.summary.decay.map { String($0.lastDistance) } ?? ""]
                + scalarKeys.map { csvNumber(scalars[$0] ?? nil) }
            lines.append(cells.joined(separator: ","))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The parameter columns: every record's `parameterCells` keys, in order of first
    /// appearance (keys only some records have, such as `weights` or `precision`, come last).
    var parameterKeys: [String] {
        var keys = [String]()
        for r in records { for k in r.parameterCells.map(\.key) where !keys.contains(k) { keys.append(k) } }
        return keys
    }

    /// A record's parameter cells under `keys` (empty where it has no such parameter).
    static func cells(_ r: ProbeRecord, keys: [String]) -> [String] {
        let cells = Dictionary(uniqueKeysWithValues: r.parameterCells.map { ($0.key, $0.cell) })
        return keys.map { cells[$0] ?? "" }
    }

    /// Long format: one row per configuration and scalar summary, with the seed statistics.
    var summaryCSV: String {
        let skip: Set = ["id", "seed", "gatelab_version", "rng"]
        let paramKeys = parameterKeys.filter { !skip.contains($0) }
        var lines = [(paramKeys + ["configuration", "label", "summary", "seeds", "defined", "mean", "ci95_half_width", "min", "max"]).joined(separator: ",")]
        for g in groups {
            let params = Self.cells(g.records[0], keys: paramKeys)
            for row in g.aggregate.rows {
                lines.append((params + [csvQuoted(g.key), csvQuoted(g.label), row.key, String(row.count), String(row.defined),
                                        csvNumber(row.mean), csvNumber(row.halfWidth), csvNumber(row.min), csvNumber(row.max)])
                    .joined(separator: ","))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }
}
