import GateLabProbe
import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabSupport
import GateLabInterchange
import TOMLKit

/// Experiments of kind `probe`: a grid of probe configurations (`GradientProbe`), one record
/// per seeded configuration, and a report of decay rates, figures, weight spectra and
/// Jacobians.
///
/// Grid keys, which are also the column names of the results: the rows of `ProbeSettings`,
/// `seeds = N` standing for the seeds 1…N. Precedence: built-in
/// defaults < `[defaults]` < the `[[grid]]` block < `[quick]` (with `--quick`). Without a
/// `[quick]` table, `--quick` keeps the first two seeds and the lengths ≤ 1000 (or the
/// shortest one).
public enum ProbeKind: ExperimentKind {
    public static let name = "probe"
    public static let noun = "grid point"

    public static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                            reader r: TOMLReader) throws -> (full: [GridPoint], quick: [GridPoint]) {
        let defaults = try defaults.map { try axes($0, "defaults", r) } ?? [:]
        let quick = try quick.map { try axes($0, "quick", r) }
        var full = [GridPoint](), fast = [GridPoint]()
        for (table, path) in blocks {
            let block = try axes(table, path, r)
            let merged = defaults.merging(block) { $1 }
            full += try points(merged, block: block, path, r)
            fast += try points(quick.map { merged.merging($0) { $1 } } ?? quickDefault(merged), block: block, path, r)
        }
        // Cell files by their declared names, unique across the file's grids (`CellLabels`).
        let labels = CellLabels.unique((full + fast).map(\.configuration.cell))
        return (full.map { $0.labelled(labels[$0.configuration.cell]!) }, fast.map { $0.labelled(labels[$0.configuration.cell]!) })
    }

    /// A table's settings, each as a list of (value, key path).
    static func axes(_ t: TOMLTable, _ path: String, _ r: TOMLReader) throws -> [String: [(TOMLValueConvertible, String)]] {
        let table = ProbeSettings.table
        return try r.axes(t, path, keys: table.keys, aliases: table.aliases, unknown: table.unknownKey)
    }

    /// `--quick` without a `[quick]` table: the first two seeds, the lengths ≤ 1000 (or the shortest).
    static func quickDefault(_ axes: [String: [(TOMLValueConvertible, String)]]) -> [String: [(TOMLValueConvertible, String)]] {
        var q = axes
        if let seeds = axes["seeds"] { q["seeds"] = Array(seeds.prefix(2)) }
        if let steps = axes["steps"] {
            let short = steps.filter { ($0.0.int ?? 0) <= 1000 }
            q["steps"] = short.isEmpty ? [steps.min { ($0.0.int ?? 0) < ($1.0.int ?? 0) }!] : short
        }
        return q
    }

    /// The points of one block: the product of `axes` (`SettingsTable.product`), each
    /// configuration checked (`ProbeConfiguration.checked()`), those the checks make equal once.
    /// - Parameters:
    ///   - axes: the block's lists over `[defaults]` (and `[quick]`).
    ///   - block: the block's own lists (a forget bias it sets itself must apply to every cell it lists).
    ///   - path: the block's key path (`grid[2]`), for messages.
    static func points(_ axes: [String: [(TOMLValueConvertible, String)]], block: [String: [(TOMLValueConvertible, String)]],
                       _ path: String, _ r: TOMLReader) throws -> [GridPoint] {
        // Where `key` was set, without a list index (`grid[1].forget_bias`).
        func place(_ key: String) -> String? {
            guard let p = axes[key]?.first?.1 else { return nil }
            if let dot = p.lastIndex(of: "."), let bracket = p.lastIndex(of: "["), bracket > dot { return String(p[..<bracket]) }
            return p
        }
        if axes["weights"] != nil {
            for key in ProbeSettings.keysOfSavedNetworks {
                if let p = place(key) { throw r.error(p, "\(key) comes from the weights files; drop it where weights is set") }
            }
        } else {
            guard axes["cell"] != nil else { throw r.error(path, "no cell: set cell in this block or in [defaults]") }
        }
        let onTaskOnly = axes["task_inputs"]?.allSatisfy { $0.0.bool == true } == true
        guard axes["steps"] != nil || onTaskOnly else { throw r.error(path, "no steps: set steps (the length T) in this block or in [defaults]") }
        var out = [GridPoint](), seen = Set<String>(), given = Set<String>()
        for c in try ProbeSettings.table.product(axes, base: .unset, path: path, reader: r) {
            // Two values of one list that mean the same (1 and "1") would be one point twice.
            let raw = GridPoint.key(c, cell: c.cell, includeSeed: true)
            guard given.insert(c.cell + "\u{0}" + raw).inserted else {
                throw r.error(path, "two values of one list give the same point (\(raw)); list each once")
            }
            if block["forget_bias"] != nil, c.forgetBias != .pytorchDefault, !c.hasForgetGate {
                throw r.error(place("forget_bias")!, "forget_bias applies only to cells with a forget gate (lstm), not to '\(c.cell)'")
            }
            let checked: ProbeConfiguration
            do { checked = try c.checked() } catch let e as ProbeError {
                let key = e.description.contains("chrono") ? "forget_bias" : e.description.contains("task") ? "task_inputs" : "weights"
                throw r.error(place(key) ?? path, e.description)
            }
            let point = GridPoint(configuration: checked, origin: path)
            // The id names a cell file by its declared name, which two files may share.
            if seen.insert(checked.cell + "\u{0}" + point.id).inserted { out.append(point) }
        }
        return out
    }

    public static func configurationKey(_ point: GridPoint) -> String { point.configurationKey }


    /// Estimated cost of a point in multiply-adds: the unrolled passes, plus one one-step
    /// reverse pass per state component for each Jacobian sample.
    public static func work(_ point: GridPoint) -> Double {
        let c = point.configuration
        // A saved network's cell is the file's (its cell file may be gone).
        guard let cell = (try? BuiltinCells.resolve(c.cell)) ?? c.weights.flatMap({ try? SavedModel.read($0).network.cell }) else { return 1 }
        let perStep = Double(cell.gateCount * c.hiddenSize * (c.hiddenSize + c.inputSize) * c.layers * c.batch)
        let jacobianSteps = Double(c.summary.jacobianSamples * cell.stateNames.count * c.hiddenSize * c.layers)
        return perStep * (Double(c.steps) + jacobianSteps)
    }

    /// The weights file of a saved network (which holds its cell, a `.cell` one's text
    /// included), else the cell file (a built-in cell reads none).
    public static func inputFiles(_ point: GridPoint) throws -> [String] {
        let c = point.configuration
        if let weights = c.weights { return [weights] }
        return BuiltinCells.builtin(c.cell) == nil ? [c.cell] : []
    }

    public static func run(_ point: GridPoint, experiment: String, version: String) throws -> ProbeRecord {
        var record = ProbeRecord(id: point.id, experiment: experiment, version: version, configuration: point.configuration,
                                 result: try GradientProbe.run(point.configuration))
        record.cellName = BuiltinCells.builtin(point.configuration.cell) == nil ? point.cellLabel : nil
        return record
    }

    public static func mismatch(_ record: ProbeRecord, _ point: GridPoint) -> String? {
        record.configuration == point.configuration ? nil
            : "other parameters than the grid's (\(GridPoint.key(record.configuration, includeSeed: true)))"
    }

    public static func curvesCSV(_ record: ProbeRecord) -> String { record.curvesCSV }

    /// `points.csv`, `summary.csv`, the figures and `report.md` (see `ReportWriter`).
    public static func writeReport(_ records: [ProbeRecord], points: [GridPoint], context: ReportContext) throws -> [String] {
        let tables = try ResultTables(records: records, points: points)
        try Files.write(tables.pointsCSV, to: context.directory + "/points.csv")
        try Files.write(tables.summaryCSV, to: context.directory + "/summary.csv")
        return try ReportWriter(context: context, tables: tables).write()
    }
}

/// An experiment file of kind `probe`.
public typealias ProbeExperiment = Experiment<ProbeKind>

/// One point of the grid: a seeded probe configuration.
public struct GridPoint: ExperimentPoint, Equatable {
    /// A readable identifier unique in the experiment, also the file name of its results
    /// (cell, T, H and seed always; other parameters when not at their defaults).
    public var id: String
    /// The probe to run.
    public var configuration: ProbeConfiguration
    /// The `[[grid]]` block it comes from (`grid[2]`), for messages.
    public var origin: String
    /// The cell's name in ids and reports (`CellLabels`: a cell file's declared name).
    public private(set) var cellLabel: String

    /// The configuration without its seed, as text: points that differ only in their seed
    /// share it (they are aggregated together).
    public var configurationKey: String { Self.key(configuration, cell: cellLabel, includeSeed: false) }

    /// Creates a point for `configuration`, its cell named by `CellLabels.label`.
    public init(configuration c: ProbeConfiguration, origin: String) {
        configuration = c
        self.origin = origin
        cellLabel = CellLabels.label(c.cell)
        id = Self.key(c, cell: cellLabel, includeSeed: true)
    }

    /// The same point with its cell named `label`.
    func labelled(_ label: String) -> GridPoint {
        var p = self
        p.cellLabel = label
        p.id = Self.key(configuration, cell: label, includeSeed: true)
        return p
    }

    static func key(_ c: ProbeConfiguration, includeSeed: Bool) -> String {
        key(c, cell: CellLabels.label(c.cell), includeSeed: includeSeed)
    }

    static func key(_ c: ProbeConfiguration, cell: String, includeSeed: Bool) -> String {
        var parts = [cell, "T\(c.steps)", "H\(c.hiddenSize)"]
        if c.inputSize != 1 { parts.append("I\(c.inputSize)") }
        if c.batch != 1 { parts.append("B\(c.batch)") }
        if c.layers != 1 { parts.append("L\(c.layers)") }
        if c.recurrentInit != nil { parts.append("rec-\(c.recurrentInitName)") }
        if c.biasInit != nil { parts.append("bias-\(c.biasInitName)") }
        switch c.forgetBias {
        case .pytorchDefault: break
        case .constant(let b): parts.append("fb-" + idNumber(b))
        case .chrono: parts.append("fb-chrono")
        }
        if c.inputScale != 1 { parts.append("xs" + idNumber(c.inputScale)) }
        if let d = c.summary.fitMaxDistance { parts.append("fit\(d)") }
        if c.summary.jacobianSamples != 3 { parts.append("jac\(c.summary.jacobianSamples)") }
        if let w = c.weights {   // the file's name without its extension: gru.u0.npz → w-gru.u0
            parts.append("w-" + ((w as NSString).lastPathComponent as NSString).deletingPathExtension)
            if c.taskInputs { parts.append("task") }
        }
        if c.precision != .f64 { parts.append(c.precision.rawValue) }
        if includeSeed { parts.append("seed\(c.seed)") }
        // File-name safe: `orthogonal(0.9)` → `orthogonal0.9`; other punctuation → `-`.
        let text = parts.joined(separator: "_").filter { $0 != "(" && $0 != ")" }
        return fileSafeID(text)
    }
}
