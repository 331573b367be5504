import CellLanguage
import Cells
import Foundation
import GSLKit
import TOMLKit

/// An experiment definition (`Experiments/*.toml`), read and validated completely before
/// anything runs.
///
/// ```toml
/// name = "vanishing-gradients"   # required: names the output folder Notes/<name>/
/// kind = "probe"                 # required: "probe" (a later version adds "train")
/// description = "…"              # optional, quoted in the report
///
/// [defaults]                     # optional: values for every [[grid]] block
/// hidden = 32
/// steps = [100, 1000, 10000]     # every key takes one value or a list (a grid axis)
/// seeds = 5                      # seeds 1…5; or a list, seeds = [1, 2, 3]
///
/// [[grid]]                       # one Cartesian product; the experiment is the union of blocks
/// cell = "rnn"
/// recurrent_init = ["pytorch-default", "orthogonal(0.9)"]
///
/// [[grid]]
/// cell = "lstm"
/// forget_bias = [0, 1, "chrono"]
///
/// [quick]                        # optional: what `--quick` overrides (same keys)
/// steps = [100]
///
/// [output]                       # optional
/// dir = "Notes/vanishing-gradients"   # default Notes/<name> (Notes/<name>-quick with --quick)
/// figures = true                 # draw SVG figures with gnuplot (default true)
/// ```
///
/// Grid keys, which are also the column names of the results: `cell`, `steps`, `hidden`,
/// `input_size`, `batch`, `layers`, `recurrent_init`, `bias_init`, `forget_bias`,
/// `input_scale`, `seeds`, `fit_max_distance`, `jacobian_samples`. Precedence: built-in
/// defaults < `[defaults]` < the `[[grid]]` block < `[quick]` (with `--quick`). Without a
/// `[quick]` table, `--quick` keeps the first two seeds and the lengths ≤ 1000 (or the
/// shortest one).
public struct Experiment {
    /// The definition file.
    public var file: String
    /// `name`.
    public var name: String
    /// `kind` (`probe`).
    public var kind: String
    /// `description`, if given.
    public var description: String?
    /// `[output] dir`, if given.
    public var outputDirectory: String?
    /// `[output] figures` (default true).
    public var figures: Bool
    /// The full grid, in file order (blocks, then axes in `GridAxes.order`, seeds innermost).
    public var points: [GridPoint]
    /// The grid `--quick` runs.
    public var quickPoints: [GridPoint]

    /// The grid for `quick`.
    public func points(quick: Bool) -> [GridPoint] { quick ? quickPoints : points }

    /// The output folder: `[output] dir`, else `Notes/<name>`; with `quick`, `-quick` is appended.
    public func outputDirectory(quick: Bool) -> String {
        (outputDirectory ?? "Notes/\(name)") + (quick ? "-quick" : "")
    }

    /// Reads and validates `path`.
    /// - Throws: `ExperimentFileError` (file, line when known, key path, message).
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExperimentFileError(file: path, line: nil, keyPath: nil, message: "cannot read the file")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ExperimentFileError(file: path, line: nil, keyPath: nil, message: "not UTF-8 text")
        }
        try self.init(source: text, file: path)
    }

    /// Validates TOML `source` (named `file` in messages).
    /// - Throws: `ExperimentFileError` for a syntax error, an unknown key, a wrong type, an
    ///   unknown cell, initializer or forget bias, a value out of range, an empty grid, or a
    ///   grid point listed twice.
    public init(source: String, file: String) throws {
        let table: TOMLTable
        do { table = try TOMLTable(string: source) } catch let e as TOMLParseError {
            throw ExperimentFileError(file: file, line: e.source.begin.line, keyPath: nil, message: "not valid TOML: \(e.description)")
        }
        let r = TOMLReader(file: file, locator: TOMLLocator(source: source))
        try r.checkKeys(table, path: "", allowed: ["name", "kind", "description", "defaults", "grid", "quick", "output"])
        guard let nameValue = table["name"] else { throw r.error("name", "missing: give the experiment a name, e.g. name = \"my-experiment\"") }
        name = try r.string(nameValue, "name")
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }), !name.hasPrefix(".") else {
            throw r.error("name", "'\(name)' is not a usable folder name (letters, digits, '-', '_', '.')")
        }
        guard let kindValue = table["kind"] else { throw r.error("kind", "missing: this version runs kind = \"probe\"") }
        kind = try r.string(kindValue, "kind")
        guard kind == "probe" else { throw r.error("kind", "unknown kind '\(kind)'; this version runs kind = \"probe\"") }
        description = try table["description"].map { try r.string($0, "description") }

        outputDirectory = nil
        figures = true
        if let o = table["output"] {
            let t = try r.table(o, "output")
            try r.checkKeys(t, path: "output", allowed: ["dir", "figures"])
            if let d = t["dir"] {
                outputDirectory = try r.string(d, "output.dir")
                guard !outputDirectory!.isEmpty else { throw r.error("output.dir", "empty folder name") }
            }
            if let f = t["figures"] { figures = try r.bool(f, "output.figures") }
        }

        let defaults = try table["defaults"].map { try GridAxes(r.table($0, "defaults"), path: "defaults", reader: r) } ?? GridAxes()
        let quick = try table["quick"].map { try GridAxes(r.table($0, "quick"), path: "quick", reader: r) }
        guard let gridValue = table["grid"] else { throw r.error("grid", "no [[grid]] block: the grid is empty") }
        guard let blocks = gridValue.array, gridValue.type == .array else {
            throw r.error("grid", "expected [[grid]] blocks (an array of tables), got \(article(gridValue.type))")
        }
        guard !blocks.isEmpty else { throw r.error("grid", "no [[grid]] block: the grid is empty") }
        var full = [GridPoint](), fast = [GridPoint]()
        for (i, value) in blocks.enumerated() {
            let path = "grid[\(i + 1)]"
            let block = try GridAxes(r.table(value, path), path: path, reader: r)
            let merged = defaults.overridden(by: block)
            full += try merged.points(reader: r, block: block, blockPath: path)
            let quickAxes = quick.map { merged.overridden(by: $0) } ?? merged.quickDefault()
            fast += try quickAxes.points(reader: r, block: block, blockPath: path)
        }
        for (list, label) in [(full, ""), (fast, " (with --quick)")] {
            var seen = [String: String]()
            for p in list {
                if let other = seen[p.id] {
                    throw r.error(p.origin, "grid point \(p.id) is also produced by \(other)\(label); each point must be listed once")
                }
                seen[p.id] = p.origin
            }
        }
        self.file = file
        points = full
        quickPoints = fast
    }
}

/// One point of the grid: a seeded probe configuration.
public struct GridPoint: Sendable, Equatable {
    /// A readable identifier unique in the experiment, also the file name of its results
    /// (cell, T, H and seed always; other parameters when not at their defaults).
    public var id: String
    /// The probe to run.
    public var configuration: ProbeConfiguration
    /// The `[[grid]]` block it comes from (`grid[2]`), for messages.
    public var origin: String

    /// The configuration without its seed, as text: points that differ only in their seed
    /// share it (they are aggregated together).
    public var configurationKey: String { Self.key(configuration, includeSeed: false) }

    /// Creates a point for `configuration`.
    public init(configuration c: ProbeConfiguration, origin: String) {
        configuration = c
        self.origin = origin
        id = Self.key(c, includeSeed: true)
    }

    static func key(_ c: ProbeConfiguration, includeSeed: Bool) -> String {
        var parts = [c.cell, "T\(c.steps)", "H\(c.hiddenSize)"]
        if c.inputSize != 1 { parts.append("I\(c.inputSize)") }
        if c.batch != 1 { parts.append("B\(c.batch)") }
        if c.layers != 1 { parts.append("L\(c.layers)") }
        if c.recurrentInit != nil { parts.append("rec-\(c.recurrentInitName)") }
        if c.biasInit != nil { parts.append("bias-\(c.biasInitName)") }
        if c.forgetBias != .pytorchDefault { parts.append("fb-\(c.forgetBias)") }
        if c.inputScale != 1 { parts.append("xs\(formatNumber(c.inputScale))") }
        if let d = c.summary.fitMaxDistance { parts.append("fit\(d)") }
        if c.summary.jacobianSamples != 3 { parts.append("jac\(c.summary.jacobianSamples)") }
        if includeSeed { parts.append("seed\(c.seed)") }
        // File-name safe: `orthogonal(0.9)` → `orthogonal0.9`; other punctuation → `-`.
        let text = parts.joined(separator: "_").filter { $0 != "(" && $0 != ")" }
        return String(text.map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" })
    }
}

/// A malformed experiment file: one line naming the file, the line when known, and the key path.
public struct ExperimentFileError: Error, Equatable, CustomStringConvertible {
    /// The file.
    public var file: String
    /// The 1-based line, when known.
    public var line: Int?
    /// The key path (`grid[2].cell`; `[[grid]]` blocks counted from 1), when one is at fault.
    public var keyPath: String?
    /// What is wrong.
    public var message: String

    public var description: String {
        "\(file)" + (line.map { ":\($0)" } ?? "") + ": " + (keyPath.map { "\($0): " } ?? "") + message
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
    /// Where each key was last set (for messages).
    var origin: [String: String] = [:]

    static let keys = ["cell", "steps", "hidden", "input_size", "batch", "layers", "recurrent_init", "bias_init",
                       "forget_bias", "input_scale", "seeds", "fit_max_distance", "jacobian_samples"]

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
            let s = try r.string(v, p)
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
    /// steps, seeds (innermost).
    /// - Parameters:
    ///   - reader: for errors.
    ///   - block: the `[[grid]]` block alone (a forget bias it sets itself must
    ///   apply to every cell it lists).
    ///   - blockPath: the block's key path (`grid[2]`), for messages.
    func points(reader r: TOMLReader, block: GridAxes, blockPath: String) throws -> [GridPoint] {
        guard let cells = cell else { throw r.error(blockPath, "no cell: set cell in this block or in [defaults]") }
        guard let lengths = steps else { throw r.error(blockPath, "no steps: set steps (the length T) in this block or in [defaults]") }
        if let fb = block.forgetBias, fb != [.pytorchDefault] {
            for c in cells where !(BuiltinCells.named(c)!.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" }) {
                throw r.error(block.origin["forget_bias"]!, "forget_bias applies only to cells with a forget gate (lstm), not to '\(c)'")
            }
        }
        // The product, built axis by axis (outermost first) over partial settings.
        struct Setting {
            var cell = "", recurrent = "pytorch-default", bias = "pytorch-default"
            var forget = ForgetBiasSetting.pytorchDefault
            var hidden = 32, inputSize = 1, batch = 1, layers = 1, inputScale = 1.0
            var fit: Int?, jacobians = 3, steps = 1, seed: UInt64 = 1
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
        axis(lengths) { $0.steps = $1 }
        axis(seeds ?? [1]) { $0.seed = $1 }
        var out = [GridPoint]()
        for s in settings {
            let initializer = { (name: String) -> Initializer? in
                name == "pytorch-default" ? nil : try? Initializer(parsing: name, hiddenSize: s.hidden)
            }
            do {
                let config = try ProbeConfiguration(
                    cell: s.cell, steps: s.steps, hiddenSize: s.hidden, inputSize: s.inputSize, batch: s.batch, layers: s.layers,
                    recurrentInit: initializer(s.recurrent), biasInit: initializer(s.bias), forgetBias: s.forget,
                    inputScale: s.inputScale, seed: s.seed,
                    summary: SummarySettings(fitMaxDistance: s.fit, jacobianSamples: s.jacobians))
                out.append(GridPoint(configuration: config, origin: blockPath))
            } catch let e as ProbeError {
                let key = (e.description.contains("chrono") ? origin["forget_bias"] : nil) ?? blockPath
                throw r.error(key, e.description)
            }
        }
        return out
    }
}

/// Typed reads of TOML values, each failure an `ExperimentFileError` at the value's key path.
struct TOMLReader {
    let file: String
    let locator: TOMLLocator

    func error(_ path: String, _ message: String) -> ExperimentFileError {
        ExperimentFileError(file: file, line: locator.line(of: path), keyPath: path, message: message)
    }

    func checkKeys(_ t: TOMLTable, path: String, allowed: [String]) throws {
        for key in t.keys.sorted() where !allowed.contains(key) {
            let p = path.isEmpty ? key : "\(path).\(key)"
            throw error(p, "unknown key '\(key)'; valid keys here: \(allowed.joined(separator: ", "))")
        }
    }

    func table(_ v: TOMLValueConvertible, _ path: String) throws -> TOMLTable {
        guard v.type == .table, let t = v.table else { throw error(path, "expected a table, got \(article(v.type))") }
        return t
    }

    func string(_ v: TOMLValueConvertible, _ path: String) throws -> String {
        guard v.type == .string, let s = v.string else { throw error(path, "expected a string, got \(article(v.type))") }
        return s
    }

    func int(_ v: TOMLValueConvertible, _ path: String) throws -> Int {
        guard v.type == .int, let n = v.int else { throw error(path, "expected an integer, got \(article(v.type))") }
        return n
    }

    func number(_ v: TOMLValueConvertible, _ path: String) throws -> Double {
        if v.type == .int, let n = v.int { return Double(n) }
        guard v.type == .double, let x = v.double else { throw error(path, "expected a number, got \(article(v.type))") }
        return x
    }

    func bool(_ v: TOMLValueConvertible, _ path: String) throws -> Bool {
        guard v.type == .bool, let b = v.bool else { throw error(path, "expected true or false, got \(article(v.type))") }
        return b
    }
}

/// "an integer", "a string", … for messages.
func article(_ type: TOMLType) -> String {
    let name = type.description
    return ("aeiou".contains(name.first ?? "x") ? "an " : "a ") + name
}
