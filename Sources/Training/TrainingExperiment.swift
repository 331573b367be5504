import Foundation
import TOMLKit

/// An experiment file of kind `train` (`Experiments/*.toml`): a grid of training runs and
/// the report of their results. Format:
///
///     name = "forgetting"
///     kind = "train"
///     [defaults]              # any setting below, a value or a list (an axis of the grid)
///     hidden = 128
///     seed = [1, 2, 3]
///     [[grid]]                # each block: the product of its lists, over the defaults
///     task = ["adding", "copy"]
///     cell = ["rnn", "gru"]
///     length = [10, 25, 50]
///     [quick]                 # overrides for `gatelab run --quick` (a slice that fits)
///
/// Settings: task, cell, length, hidden, layers, batch, updates, eval_every, eval_size,
/// optimizer, lr, momentum, clip (0: none), forget_bias (a number or "default"), seed,
/// profile_every.
public struct TrainingExperiment {
    /// The experiment's name (its output folder under Notes/).
    public var name: String
    /// Its description.
    public var description: String?
    /// The full grid.
    public var points: [TrainingConfiguration]
    /// The `--quick` grid.
    public var quickPoints: [TrainingConfiguration]
    /// The file it was read from.
    public var file: String

    /// The kind declared in the TOML text `source` (nil when absent or not TOML).
    public static func kind(of source: String) -> String? {
        (try? TOMLTable(string: source))?["kind"]?.string
    }

    /// Reads and validates an experiment file of kind `train`.
    /// - Throws: `TrainingError.badConfiguration` as `FILE: key: message`.
    public init(contentsOf path: String) throws {
        guard let data = FileManager.default.contents(atPath: path), let source = String(data: data, encoding: .utf8) else {
            throw TrainingError.badConfiguration("\(path): cannot read the file")
        }
        try self.init(source: source, file: path)
    }

    /// Parses `source` (named `file` in messages).
    public init(source: String, file: String) throws {
        func fail(_ key: String, _ m: String) -> TrainingError { .badConfiguration("\(file): \(key): \(m)") }
        let table: TOMLTable
        do { table = try TOMLTable(string: source) } catch { throw TrainingError.badConfiguration("\(file): not valid TOML: \(error)") }
        for key in table.keys where !["name", "kind", "description", "defaults", "grid", "quick"].contains(key) {
            throw fail(key, "unknown key")
        }
        guard let n = table["name"]?.string, !n.isEmpty, n.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) }) else {
            throw fail("name", "missing or not a folder name")
        }
        guard table["kind"]?.string == "train" else { throw fail("kind", "expected kind = \"train\"") }
        name = n
        description = table["description"]?.string
        self.file = file
        let defaults = try Self.axes(table["defaults"]?.table, "defaults", fail)
        let quick = try Self.axes(table["quick"]?.table, "quick", fail)
        guard let blocks = table["grid"]?.array, !blocks.isEmpty else { throw fail("grid", "no [[grid]] block: the grid is empty") }
        var full = [TrainingConfiguration](), fast = [TrainingConfiguration]()
        for (i, b) in blocks.enumerated() {
            let path = "grid[\(i + 1)]"
            guard let t = b.table else { throw fail(path, "expected a table") }
            let block = try Self.axes(t, path, fail)
            let merged = defaults.merging(block) { $1 }
            full += try Self.product(merged, path, fail)
            fast += try Self.product(merged.merging(quick) { $1 }, path + " with [quick]", fail)
        }
        points = full
        quickPoints = Self.unique(fast)
        guard Set(full.map(\.id)).count == full.count else { throw fail("grid", "a run is listed twice") }
    }

    static let keys = ["task", "cell", "length", "hidden", "layers", "batch", "updates", "eval_every", "eval_size", "optimizer",
                       "lr", "momentum", "clip", "forget_bias", "seed", "profile_every"]

    /// A table's settings, each as a list of values.
    static func axes(_ t: TOMLTable?, _ path: String, _ fail: (String, String) -> TrainingError) throws -> [String: [TOMLValue]] {
        guard let t else { return [:] }
        var out = [String: [TOMLValue]]()
        for key in t.keys {
            guard keys.contains(key) else { throw fail("\(path).\(key)", "unknown setting; valid: \(keys.joined(separator: ", "))") }
            let v = t[key]!.tomlValue
            if let a = v.array { out[key] = Array(a).map(\.tomlValue) } else { out[key] = [v] }
            if out[key]!.isEmpty { throw fail("\(path).\(key)", "empty list") }
        }
        return out
    }

    /// Every configuration of the product of `axes`' lists.
    static func product(_ axes: [String: [TOMLValue]], _ path: String, _ fail: (String, String) -> TrainingError) throws -> [TrainingConfiguration] {
        var configs = [TrainingConfiguration()]
        for key in keys {          // a fixed order, so that the grid's order is the file's meaning, not a hash's
            guard let values = axes[key] else { continue }
            var next = [TrainingConfiguration]()
            for c in configs {
                for v in values {
                    var d = c
                    try set(&d, key, v, "\(path).\(key)", fail)
                    next.append(d)
                }
            }
            configs = next
        }
        for c in configs {
            do { try c.validate() } catch { throw fail(path, "\(error)") }
        }
        return configs
    }

    static func set(_ c: inout TrainingConfiguration, _ key: String, _ v: TOMLValue, _ p: String, _ fail: (String, String) -> TrainingError) throws {
        func int() throws -> Int { guard let i = v.int else { throw fail(p, "expected an integer") }; return i }
        func double() throws -> Double {
            if let d = v.double { return d }
            if let i = v.int { return Double(i) }
            throw fail(p, "expected a number")
        }
        func string() throws -> String { guard let s = v.string else { throw fail(p, "expected a string") }; return s }
        switch key {
        case "task": c.task = try string()
        case "cell": c.cell = try string()
        case "length": c.length = try int()
        case "hidden": c.hidden = try int()
        case "layers": c.layers = try int()
        case "batch": c.batch = try int()
        case "updates": c.updates = try int()
        case "eval_every": c.evalEvery = try int()
        case "eval_size": c.evalSize = try int()
        case "optimizer":
            guard let o = OptimizerKind(rawValue: try string()) else { throw fail(p, "unknown optimizer; valid: adam, sgd, rmsprop") }
            c.optimizer = o
        case "lr": c.learningRate = try double()
        case "momentum": c.momentum = try double()
        case "clip": let x = try double(); c.clip = x > 0 ? x : nil
        case "forget_bias": c.forgetBias = v.string == "default" ? nil : try double()
        case "seed": c.seed = UInt64(try int())
        case "profile_every": c.profileEvery = try int()
        default: throw fail(p, "unknown setting")
        }
    }

    static func unique(_ cs: [TrainingConfiguration]) -> [TrainingConfiguration] {
        var seen = Set<String>()
        return cs.filter { seen.insert($0.id).inserted }
    }
}
