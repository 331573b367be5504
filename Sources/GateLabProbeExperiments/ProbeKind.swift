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
/// Grid keys, which are also the column names of the results: `cell`, `steps`, `hidden`,
/// `input_size`, `batch`, `layers`, `recurrent_init`, `bias_init`, `forget_bias`,
/// `input_scale`, `seeds`, `fit_max_distance`, `jacobian_samples`, `precision` (`"f64"`, the
/// default, or `"f32"`). Precedence: built-in
/// defaults < `[defaults]` < the `[[grid]]` block < `[quick]` (with `--quick`). Without a
/// `[quick]` table, `--quick` keeps the first two seeds and the lengths ≤ 1000 (or the
/// shortest one).
public enum ProbeKind: ExperimentKind {
    public static let name = "probe"
    public static let noun = "grid point"

    public static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                            reader r: TOMLReader) throws -> (full: [GridPoint], quick: [GridPoint]) {
        let defaults = try defaults.map { try GridAxes($0, path: "defaults", reader: r) } ?? GridAxes()
        let quick = try quick.map { try GridAxes($0, path: "quick", reader: r) }
        var full = [GridPoint](), fast = [GridPoint]()
        for (table, path) in blocks {
            let block = try GridAxes(table, path: path, reader: r)
            let merged = defaults.overridden(by: block)
            full += try merged.points(reader: r, block: block, blockPath: path)
            let quickAxes = quick.map { merged.overridden(by: $0) } ?? merged.quickDefault()
            fast += try quickAxes.points(reader: r, block: block, blockPath: path)
        }
        // Cell files by their declared names, unique across the file's grids (`CellLabels`).
        let labels = CellLabels.unique((full + fast).map(\.configuration.cell))
        return (full.map { $0.labelled(labels[$0.configuration.cell]!) }, fast.map { $0.labelled(labels[$0.configuration.cell]!) })
    }

    public static func configurationKey(_ point: GridPoint) -> String { point.configurationKey }


    /// Estimated cost of a point in multiply-adds: the unrolled passes, plus one one-step
    /// reverse pass per state component for each Jacobian sample.
    public static func work(_ point: GridPoint) -> Double {
        let c = point.configuration
        let cell = BuiltinCells.named(c.cell)!
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


extension GridAxes {
    /// The points of saved networks: one per file, length, input scale and seed; the cell and
    /// sizes are the file's, so the keys that would set them are refused.
    func savedPoints(_ files: [(path: String, cell: String, hidden: Int, inputSize: Int, layers: Int, taskSteps: Int?)],
                     reader r: TOMLReader, blockPath: String) throws -> [GridPoint] {
        for key in ["cell", "hidden", "input_size", "layers", "recurrent_init", "bias_init", "forget_bias"] {
            if let place = origin[key] { throw r.error(place, "\(key) comes from the weights files; drop it where weights is set") }
        }
        let modes = taskInputs ?? [false]
        if modes.contains(true), let bad = files.first(where: { $0.taskSteps == nil }) {
            throw r.error(origin["task_inputs"] ?? blockPath, "\(bad.path) records no task (task_inputs needs files saved by gatelab train)")
        }
        guard modes.allSatisfy({ $0 }) || steps != nil else {
            throw r.error(blockPath, "no steps: set steps (the length T) in this block or in [defaults]")
        }
        var out = [GridPoint]()
        for f in files {
          for onTask in modes {
            // On the task's inputs the length is the task's, and the input scale does not apply.
            let lengths = onTask ? [f.taskSteps!] : steps!
            for scale in onTask ? [1] : inputScale ?? [1] {
                for fit in fitMaxDistance.map({ $0.map(Optional.some) }) ?? [nil] {
                    for jacobians in jacobianSamples ?? [3] {
                        for T in lengths {
                            for seed in seeds ?? [1] {
                                do {
                                    var c = try ProbeConfiguration(cell: f.cell, steps: T, hiddenSize: f.hidden, inputSize: f.inputSize,
                                                                   batch: batch?.first ?? 1, layers: f.layers, inputScale: scale, seed: seed,
                                                                   summary: SummarySettings(fitMaxDistance: fit, jacobianSamples: jacobians))
                                    c.weights = f.path
                                    c.taskInputs = onTask
                                    for p in precision ?? [.f64] {
                                        c.precision = p
                                        out.append(GridPoint(configuration: c, origin: blockPath))
                                    }
                                } catch let e as ProbeError { throw r.error(origin["weights"] ?? blockPath, e.description) }
                            }
                        }
                    }
                }
            }
          }
        }
        return out
    }
}

/// The values of the grid keys in one table (`[defaults]`, a `[[grid]]` block, `[quick]`):
/// each key unset, or a list of values (one value is a list of one).
struct GridAxes {
    var cell: [String]?
    var steps: [Int]?, hidden: [Int]?, inputSize: [Int]?, batch: [Int]?, layers: [Int]?
    var recurrentInit: [String]?, biasInit: [String]?
    var forgetBias: [ForgetBiasSetting]?
    var inputScale: [Double]?
    var seeds: [UInt64]?
    var fitMaxDistance: [Int]?, jacobianSamples: [Int]?
    /// Saved networks (paths relative to the experiment file), each with its cell and sizes.
    var weights: [(path: String, cell: String, hidden: Int, inputSize: Int, layers: Int, taskSteps: Int?)]?
    /// With `weights`: probe on the task's inputs (true), on x ~ N(0, s²) (false), or both.
    var taskInputs: [Bool]?
    /// The precisions to run in (`"f64"`, `"f32"`); unset: f64.
    var precision: [Precision]?
    /// Where each key was last set (for messages).
    var origin: [String: String] = [:]

    static let keys = ["cell", "steps", "hidden", "input_size", "batch", "layers", "recurrent_init", "bias_init",
                       "forget_bias", "input_scale", "seeds", "fit_max_distance", "jacobian_samples", "weights", "task_inputs", "precision"]

    init() {}

    init(_ t: TOMLTable, path: String, reader r: TOMLReader) throws {
        try r.checkKeys(t, path: path, allowed: Self.keys)
        func list<T>(_ key: String, _ one: (TOMLValueConvertible, String) throws -> T) throws -> [T]? {
            guard let v = t[key] else { return nil }
            origin[key] = "\(path).\(key)"
            let values: [T]
            if v.type == .array, let a = v.array {
                values = try a.enumerated().map { try one($1, "\(path).\(key)[\($0 + 1)]") }
            } else {
                values = [try one(v, "\(path).\(key)")]
            }
            guard !values.isEmpty else { throw r.error("\(path).\(key)", "empty list: the grid would have no points") }
            return values
        }
        func positive(_ limit: Int) -> (TOMLValueConvertible, String) throws -> Int {
            { v, p in
                let n = try r.int(v, p)
                guard (1...limit).contains(n) else { throw r.error(p, "must be between 1 and \(limit), got \(n)") }
                return n
            }
        }
        cell = try list("cell") { v, p in
            var s = try r.string(v, p)
            if BuiltinCells.builtin(s) == nil, s.hasSuffix(".cell") || s.contains("/") { s = try r.cellPath(s, at: p) }
            do { return try BuiltinCells.resolve(s).name }   // a built-in name or a cell file
            catch { throw r.error(p, "\(error)") }
        }
        steps = try list("steps", positive(1_000_000))
        hidden = try list("hidden", positive(4096))
        inputSize = try list("input_size", positive(4096))
        batch = try list("batch", positive(4096))
        layers = try list("layers", positive(64))
        let initializer = { (v: TOMLValueConvertible, p: String) throws -> String in
            let s = try r.string(v, p)
            do { return try Initializer(parsing: s, hiddenSize: 1).description } catch {
                throw r.error(p, "unknown initializer '\(s)'; valid: \(Initializer.validNames.joined(separator: ", "))")
            }
        }
        recurrentInit = try list("recurrent_init", initializer)
        biasInit = try list("bias_init", initializer)
        forgetBias = try list("forget_bias") { v, p in
            switch v.type {
            case .int: return .constant(Double(v.int!))
            case .double:
                guard v.double!.isFinite else { throw r.error(p, "must be finite") }
                return .constant(v.double!)
            case .string:
                do { return try ForgetBiasSetting(parsing: v.string!) } catch { throw r.error(p, "\(error)") }
            default: throw r.error(p, "expected a number, \"chrono\" or \"default\", got \(article(v.type))")
            }
        }
        inputScale = try list("input_scale") { v, p in
            let x = try r.number(v, p)
            guard x >= 0, x.isFinite else { throw r.error(p, "must be a finite number ≥ 0, got \(x)") }
            return x
        }
        if let v = t["seeds"] {
            origin["seeds"] = "\(path).seeds"
            if v.type == .int {
                let n = v.int!
                guard (1...100_000).contains(n) else {
                    throw r.error("\(path).seeds", n == 0 ? "0 seeds: the grid would have no points" : "must be between 1 and 100000, got \(n)")
                }
                seeds = (1...UInt64(n)).map { $0 }
            } else {
                seeds = try list("seeds") { v, p in
                    let n = try r.int(v, p)
                    guard n >= 0, n <= Int(UInt32.max) else { throw r.error(p, "a seed must be between 0 and \(UInt32.max), got \(n)") }
                    return UInt64(n)
                }
                if Set(seeds!).count != seeds!.count { throw r.error("\(path).seeds", "a seed is listed twice") }
            }
        }
        fitMaxDistance = try list("fit_max_distance", positive(1_000_000))
        weights = try list("weights") { v, p in
            let given = try r.string(v, p)
            let path = r.path(given)
            do {
                let model = try SavedModel.read(path)
                let n = model.network
                let steps = (try? ProbeSetup.task(of: model, file: path))?.steps
                return (path, model.metadata["cell"] ?? n.cell.name, n.hiddenSize, n.inputSize, n.layers, steps)
            } catch { throw r.error(p, "\(error)") }
        }
        taskInputs = try list("task_inputs") { v, p in try r.bool(v, p) }
        precision = try list("precision") { v, p in
            let s = try r.string(v, p)
            guard let precision = Precision(rawValue: s) else { throw r.error(p, "unknown precision '\(s)'; use \"f64\" or \"f32\"") }
            return precision
        }
        jacobianSamples = try list("jacobian_samples") { v, p in
            let n = try r.int(v, p)
            guard (0...1000).contains(n) else { throw r.error(p, "must be between 0 and 1000, got \(n)") }
            return n
        }
    }

    /// These values, with every key `other` sets replaced by `other`'s.
    func overridden(by other: GridAxes) -> GridAxes {
        var m = self
        m.cell = other.cell ?? cell
        m.steps = other.steps ?? steps
        m.hidden = other.hidden ?? hidden
        m.inputSize = other.inputSize ?? inputSize
        m.batch = other.batch ?? batch
        m.layers = other.layers ?? layers
        m.recurrentInit = other.recurrentInit ?? recurrentInit
        m.biasInit = other.biasInit ?? biasInit
        m.forgetBias = other.forgetBias ?? forgetBias
        m.inputScale = other.inputScale ?? inputScale
        m.seeds = other.seeds ?? seeds
        m.fitMaxDistance = other.fitMaxDistance ?? fitMaxDistance
        m.jacobianSamples = other.jacobianSamples ?? jacobianSamples
        m.weights = other.weights ?? weights
        m.taskInputs = other.taskInputs ?? taskInputs
        m.precision = other.precision ?? precision
        m.origin.merge(other.origin) { _, new in new }
        return m
    }

    /// `--quick` without a `[quick]` table: the first two seeds, the lengths ≤ 1000 (or the shortest).
    func quickDefault() -> GridAxes {
        var q = self
        if let s = seeds { q.seeds = Array(s.prefix(2)) }
        if let t = steps { q.steps = t.filter { $0 <= 1000 }.isEmpty ? [t.min()!] : t.filter { $0 <= 1000 } }
        return q
    }

    /// The Cartesian product, in the order cell, recurrent_init, bias_init, forget_bias,
    /// hidden, input_size, batch, layers, input_scale, fit_max_distance, jacobian_samples,
    /// precision, steps, seeds (innermost).
    /// - Parameters:
    ///   - reader: for errors.
    ///   - block: the `[[grid]]` block alone (a forget bias it sets itself must
    ///   apply to every cell it lists).
    ///   - blockPath: the block's key path (`grid[2]`), for messages.
    func points(reader r: TOMLReader, block: GridAxes, blockPath: String) throws -> [GridPoint] {
        if let weights { return try savedPoints(weights, reader: r, blockPath: blockPath) }
        guard let cells = cell else { throw r.error(blockPath, "no cell: set cell in this block or in [defaults]") }
        guard let lengths = steps else { throw r.error(blockPath, "no steps: set steps (the length T) in this block or in [defaults]") }
        if let fb = block.forgetBias, fb != [.pytorchDefault] {
            for c in cells where !(BuiltinCells.named(c)!.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" }) {
                throw r.error(block.origin["forget_bias"]!, "forget_bias applies only to cells with a forget gate (lstm), not to '\(c)'")
            }
        }
        try r.checkGridSize([cells.count, recurrentInit?.count ?? 1, biasInit?.count ?? 1, forgetBias?.count ?? 1, hidden?.count ?? 1,
                             inputSize?.count ?? 1, batch?.count ?? 1, layers?.count ?? 1, inputScale?.count ?? 1,
                             fitMaxDistance?.count ?? 1, jacobianSamples?.count ?? 1, precision?.count ?? 1, lengths.count, seeds?.count ?? 1], blockPath)
        // The product, built axis by axis (outermost first) over partial settings.
        struct Setting {
            var cell = "", recurrent = "pytorch-default", bias = "pytorch-default"
            var forget = ForgetBiasSetting.pytorchDefault
            var hidden = 32, inputSize = 1, batch = 1, layers = 1, inputScale = 1.0
            var fit: Int?, jacobians = 3, steps = 1, seed: UInt64 = 1
            var precision = Precision.f64
        }
        var settings = [Setting()]
        func axis<T>(_ values: [T], _ assign: (inout Setting, T) -> Void) {
            settings = settings.flatMap { s in values.map { v in var n = s; assign(&n, v); return n } }
        }
        axis(cells) { $0.cell = $1 }
        axis(recurrentInit ?? ["pytorch-default"]) { $0.recurrent = $1 }
        axis(biasInit ?? ["pytorch-default"]) { $0.bias = $1 }
        // Cells without a forget gate ignore the setting: one point, not one per value.
        settings = settings.flatMap { s -> [Setting] in
            let hasForget = BuiltinCells.named(s.cell)!.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" }
            return (hasForget ? (forgetBias ?? [.pytorchDefault]) : [.pytorchDefault]).map { var n = s; n.forget = $0; return n }
        }
        axis(hidden ?? [32]) { $0.hidden = $1 }
        axis(inputSize ?? [1]) { $0.inputSize = $1 }
        axis(batch ?? [1]) { $0.batch = $1 }
        axis(layers ?? [1]) { $0.layers = $1 }
        axis(inputScale ?? [1]) { $0.inputScale = $1 }
        axis(fitMaxDistance.map { $0.map(Optional.some) } ?? [nil]) { $0.fit = $1 }
        axis(jacobianSamples ?? [3]) { $0.jacobians = $1 }
        axis(precision ?? [.f64]) { $0.precision = $1 }
        axis(lengths) { $0.steps = $1 }
        axis(seeds ?? [1]) { $0.seed = $1 }
        var out = [GridPoint]()
        for s in settings {
            let initializer = { (name: String) -> Initializer? in
                name == "pytorch-default" ? nil : try? Initializer(parsing: name, hiddenSize: s.hidden)
            }
            do {
                var config = try ProbeConfiguration(
                    cell: s.cell, steps: s.steps, hiddenSize: s.hidden, inputSize: s.inputSize, batch: s.batch, layers: s.layers,
                    recurrentInit: initializer(s.recurrent), biasInit: initializer(s.bias), forgetBias: s.forget,
                    inputScale: s.inputScale, seed: s.seed,
                    summary: SummarySettings(fitMaxDistance: s.fit, jacobianSamples: s.jacobians))
                config.precision = s.precision
                out.append(GridPoint(configuration: config, origin: blockPath))
            } catch let e as ProbeError {
                let key = (e.description.contains("chrono") ? origin["forget_bias"] : nil) ?? blockPath
                throw r.error(key, e.description)
            }
        }
        return out
    }
}

