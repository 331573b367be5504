import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabSupport
import GateLabTasks
import TOMLKit

/// Experiments of kind `study`: variant studies in the design of Greff et al. (2017, "LSTM: A
/// Search Space Odyssey") and Jozefowicz et al. (2015). Every cell gets the same random
/// hyperparameter search: the samples are drawn once from the study's seed and shared by every
/// cell (a paired design), each (cell, sample) is one training run, and the report compares
/// the cells on the distributions of their test metric, with tests (`StudyReport`).
///
///     name = "my-study"
///     kind = "study"
///     [defaults]                     # what every [[grid]] block (task) shares
///     cells = ["lstm", "../Cells/lstm-cifg.cell", "../Cells/mgu.cell"]
///     baseline = "lstm"              # one of the cells
///     samples = 50                   # hyperparameter samples (1…10000), shared by the cells
///     seed = 1                       # the study's seed: the samples, the runs' seeds
///     updates = 2000                 # any fixed setting of kind `train`
///     [defaults.search]              # a distribution per searched setting
///     lr = {log_uniform = [1e-4, 1e-1]}
///     hidden = {log_uniform_int = [16, 128]}
///     momentum = {uniform = [0, 0.99]}
///     optimizer = {choice = ["sgd", "adam"]}
///     [[grid]]                       # one block per task
///     task = "adding"
///     steps = 100
///     [quick]                        # overrides for --quick (fewer samples, fewer updates)
///     samples = 4
///
/// Every setting of kind `train` but `cell` and `seeds` can be fixed, and every one but
/// `task`, `steps` and `precision` searched; a searched setting overrides a fixed one.
public enum StudyKind: ExperimentKind {
    public static let name = "study"
    public static let noun = "trial"

    /// The most samples a study may draw per task.
    public static let largestSampleCount = 10_000
    /// The seed of the generated test set, fixed and other than the held-out set's
    /// (`TrainingConfiguration.evalSeed`), so that early stopping on the held-out set does
    /// not select on the test set.
    public static let testSeed: UInt64 = 20_170_101

    /// The study's own keys.
    static let studyKeys = ["cells", "baseline", "samples", "seed", "search", "label"]
    /// The `train` settings a study fixes (`cell` and `seeds` are the study's; the schedule is
    /// not a study setting: a cosine schedule's length would have to follow a searched budget).
    static let fixedKeys = TrainingKind.keys.filter { !["cell", "seeds", "schedule"].contains($0) }
    /// The `train` settings a study can search.
    static let searchableKeys = TrainingKind.keys.filter { !["task", "cell", "steps", "seeds", "precision", "schedule"].contains($0) }

    public static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                            reader r: TOMLReader) throws -> (full: [StudyPoint], quick: [StudyPoint]) {
        let defaults = try defaults.map { try settings($0, "defaults", r) } ?? Settings()
        let quick = try quick.map { try settings($0, "quick", r) } ?? Settings()
        var full = [StudyPoint](), fast = [StudyPoint]()
        for (table, path) in blocks {
            let merged = defaults.overridden(by: try settings(table, path, r))
            full += try points(merged, path, r)
            fast += try points(merged.overridden(by: quick), path, r)
        }
        return (full, fast)
    }

    /// One table's keys: the study's own, the fixed settings, and the search's distributions.
    struct Settings {
        var values = [String: (TOMLValueConvertible, String)]()
        var search = [String: (Distribution, String)]()

        func overridden(by other: Settings) -> Settings {
            Settings(values: values.merging(other.values) { $1 }, search: search.merging(other.search) { $1 })
        }
    }

    static func settings(_ t: TOMLTable, _ path: String, _ r: TOMLReader) throws -> Settings {
        var s = Settings()
        let known = studyKeys + fixedKeys + ["length"]
        for key in t.keys.sorted() {
            let p = "\(path).\(key)"
            guard known.contains(key) else {
                throw r.error(p, "unknown key '\(key)'\(didYouMean(key, among: known)); valid keys here: \((studyKeys + fixedKeys).joined(separator: ", "))")
            }
            let name = key == "length" ? "steps" : key
            guard s.values[name] == nil else { throw r.error(p, "'length' and 'steps' are both given") }
            let v = t[key]!
            if key == "search" {
                let table = try r.table(v, p)
                for hp in table.keys.sorted() {
                    let hpPath = "\(p).\(hp)"
                    guard searchableKeys.contains(hp) else {
                        throw r.error(hpPath, "unknown hyperparameter '\(hp)'\(didYouMean(hp, among: searchableKeys)); searchable: \(searchableKeys.joined(separator: ", "))")
                    }
                    s.search[hp] = (try Distribution(table[hp]!, hpPath, r), hpPath)
                }
                continue
            }
            if v.type == .array, key != "cells" {
                throw r.error(p, "a study takes one value here; search a setting under [search], or give each value its own [[grid]] block")
            }
            s.values[name] = (v, p)
        }
        return s
    }

    /// A search distribution.
    enum Distribution {
        case logUniform(Double, Double), uniform(Double, Double)
        case logUniformInt(Int, Int), uniformInt(Int, Int)
        case choice([StudyValue.Value])

        static let names = ["log_uniform", "uniform", "log_uniform_int", "uniform_int", "choice"]

        init(_ v: TOMLValueConvertible, _ p: String, _ r: TOMLReader) throws {
            guard v.type == .table, let t = v.table, t.keys.count == 1, let kind = t.keys.first else {
                throw r.error(p, "expected one distribution, e.g. {log_uniform = [1e-4, 1e-1]}; valid: \(Self.names.joined(separator: ", "))")
            }
            guard Self.names.contains(kind) else {
                throw r.error(p, "unknown distribution '\(kind)'\(didYouMean(kind, among: Self.names)); valid: \(Self.names.joined(separator: ", "))")
            }
            let value = t[kind]!
            guard value.type == .array, let list = value.array else { throw r.error(p, "\(kind) takes a list, e.g. \(kind) = [1, 10]") }
            let items = Array(list)
            if kind == "choice" {
                guard !items.isEmpty else { throw r.error(p, "an empty choice: give at least one value") }
                self = .choice(try items.map { item in
                    switch item.type {
                    case .int: return .integer(item.int!)
                    case .double: return .number(item.double!)
                    case .string: return .text(item.string!)
                    case .bool: return .flag(item.bool!)
                    default: throw r.error(p, "a choice takes numbers, strings or booleans, got \(article(item.type))")
                    }
                })
                return
            }
            guard items.count == 2 else { throw r.error(p, "\(kind) takes a range [low, high], got \(items.count) values") }
            let integer = kind.hasSuffix("_int")
            let bounds = try items.map { item -> Double in
                if integer { return Double(try r.int(item, p)) }
                let x = try r.number(item, p)
                guard x.isFinite else { throw r.error(p, "the range's bounds must be finite, got \(x)") }
                return x
            }
            let (a, b) = (bounds[0], bounds[1])
            guard a != b else { throw r.error(p, "an empty range [\(formatNumber(a)), \(formatNumber(b))]: give low < high, or fix the setting outside [search]") }
            guard a < b else { throw r.error(p, "an inverted range [\(formatNumber(a)), \(formatNumber(b))]: give low < high") }
            if kind.hasPrefix("log_") {
                guard a > 0 else { throw r.error(p, "a log-uniform range must lie above 0, got [\(formatNumber(a)), \(formatNumber(b))]") }
            }
            switch kind {
            case "log_uniform": self = .logUniform(a, b)
            case "uniform": self = .uniform(a, b)
            case "log_uniform_int": self = .logUniformInt(Int(a), Int(b))
            default: self = .uniformInt(Int(a), Int(b))
            }
        }

        /// One draw from `rng`.
        func draw(_ rng: RandomSource) -> StudyValue.Value {
            switch self {
            case let .logUniform(a, b): return .number(Foundation.exp(rng.uniform(Foundation.log(a), Foundation.log(b))))
            case let .uniform(a, b): return .number(rng.uniform(a, b))
            case let .logUniformInt(a, b):
                // Log-uniform over [a, b + 1), rounded down: each integer k gets log((k+1)/k)'s share.
                let x = Int(Foundation.exp(rng.uniform(Foundation.log(Double(a)), Foundation.log(Double(b) + 1))).rounded(.down))
                return .integer(Swift.min(b, Swift.max(a, x)))
            case let .uniformInt(a, b): return .integer(a + rng.integer(below: b - a + 1))
            case .choice(let values): return values[rng.integer(below: values.count)]
            }
        }

        /// How the importance fit reads the setting: on a log scale, linear, or as categories.
        var scale: StudyValue.Scale {
            switch self {
            case .logUniform, .logUniformInt: return .log
            case .uniform, .uniformInt: return .linear
            case .choice(let values): return values.allSatisfy { if case .text = $0 { return false }; if case .flag = $0 { return false }; return true } && Set(values).count > 4 ? .linear : .categorical
            }
        }

        var text: String {
            switch self {
            case let .logUniform(a, b): return "log-uniform [\(formatNumber(a)), \(formatNumber(b))]"
            case let .uniform(a, b): return "uniform [\(formatNumber(a)), \(formatNumber(b))]"
            case let .logUniformInt(a, b): return "log-uniform integer [\(a), \(b)]"
            case let .uniformInt(a, b): return "uniform integer [\(a), \(b)]"
            case .choice(let values): return "one of {" + values.map(\.text).joined(separator: ", ") + "}"
            }
        }
    }

    /// The points of one task block: every cell at every sample.
    static func points(_ s: Settings, _ path: String, _ r: TOMLReader) throws -> [StudyPoint] {
        func required(_ key: String, _ example: String) throws -> (TOMLValueConvertible, String) {
            guard let v = s.values[key] else { throw r.error("\(path).\(key)", "missing: give \(key) = \(example) here or in [defaults]") }
            return v
        }
        // The cells, each by its name: a built-in name, or the name a .cell file declares.
        let (cellsValue, cellsPath) = try required("cells", "[\"lstm\", \"../Cells/lstm-cifg.cell\"]")
        guard cellsValue.type == .array, let list = cellsValue.array, !Array(list).isEmpty else {
            throw r.error(cellsPath, "expected a non-empty list of cells (built-in names or .cell files)")
        }
        var cells = [(name: String, cell: String)]()
        for (k, v) in Array(list).enumerated() {
            var c = TrainingConfiguration()
            try TrainingKind.set(&c, "cell", v, "\(cellsPath)[\(k + 1)]", r)
            guard !cells.contains(where: { $0.cell == c.cell }) else { throw r.error("\(cellsPath)[\(k + 1)]", "cell '\(c.cell)' is listed twice") }
            cells.append((uniqueName(label(of: c.cell), among: cells.map(\.name)), c.cell))
        }
        let (baselineValue, baselinePath) = try required("baseline", "\"\(cells[0].name)\"")
        let baselineName = try r.string(baselineValue, baselinePath)
        func notAmong() -> ExperimentError {
            r.error(baselinePath, "baseline '\(baselineName)' is not among the cells (\(cells.map(\.name).joined(separator: ", "))); name one of them")
        }
        // A cell's name, or the same built-in name or file as one of `cells`.
        var baseline = cells.first { $0.name == baselineName }
        if baseline == nil {
            var resolved = TrainingConfiguration()
            do { try TrainingKind.set(&resolved, "cell", baselineValue, baselinePath, r) } catch { throw notAmong() }
            baseline = cells.first { $0.cell == resolved.cell }
        }
        guard let baseline else { throw notAmong() }
        let (samplesValue, samplesPath) = try required("samples", "50")
        let samples = try r.int(samplesValue, samplesPath)
        guard (1...largestSampleCount).contains(samples) else {
            throw r.error(samplesPath, "must be between 1 and \(largestSampleCount) (samples per cell), got \(samples)")
        }
        let (seedValue, seedPath) = try required("seed", "1")
        let seed = try r.int(seedValue, seedPath)
        guard seed >= 0, seed <= Int(UInt32.max) else { throw r.error(seedPath, "a seed must be between 0 and \(UInt32.max), got \(seed)") }
        try r.checkGridSize([cells.count, samples], path)
        guard !s.search.isEmpty else { throw r.error(path, "no [search]: give at least one distribution, e.g. lr = {log_uniform = [1e-4, 1e-1]}") }

        // The fixed settings, through `train`'s one setter; a study trains with gradient
        // profiles only at the start and the end unless told otherwise.
        var base = TrainingConfiguration()
        base.profileEvery = 0
        for key in fixedKeys where s.search[key] == nil {
            guard let (v, p) = s.values[key] else { continue }
            try TrainingKind.set(&base, key, v, p, r)
        }
        let task = base.task.lowercased()
        let label = try s.values["label"].map { v, p -> String in
            let l = try r.string(v, p)
            guard !l.isEmpty, safeName(l) == l else { throw r.error(p, "'\(l)' is not usable in file names (letters, digits, '-', '_', '.'; no leading '.', no '..')") }
            return l
        } ?? safeName("\(task)-T\(base.length)")

        // The samples: drawn once from the study's seed, in the order of the searched names,
        // then the runs' seed; every cell trains on every sample (paired).
        let rng = try RandomSource(seed: UInt64(seed))
        let searched = s.search.keys.sorted()
        var out = [StudyPoint]()
        var drawn = [(values: [StudyValue], configuration: TrainingConfiguration)]()
        for _ in 0..<samples {
            var c = base
            var values = [StudyValue]()
            for key in searched {
                let (distribution, p) = s.search[key]!
                let value = distribution.draw(rng)
                try TrainingKind.set(&c, key, value.toml, p, r)
                values.append(StudyValue(key: key, value: value, scale: distribution.scale))
            }
            c.seed = UInt64(1 + rng.integer(below: Int(Int32.max)))
            drawn.append((values, c))
        }
        let space = searched.map { "\($0) ~ \(s.search[$0]!.0.text)" }
        for cell in cells {
            for (i, sample) in drawn.enumerated() {
                var c = sample.configuration
                c.cell = cell.cell
                do { try c.validate() } catch { throw r.error(path, "sample \(i + 1), cell \(cell.name): \(error)") }
                out.append(StudyPoint(id: "\(label)_\(cell.name)_s\(String(format: "%04d", i + 1))", origin: path, study: label, cell: cell.name,
                                      baseline: cell.cell == baseline.cell, sample: i + 1, values: sample.values, configuration: c,
                                      space: space, studySeed: UInt64(seed)))
            }
        }
        return out
    }

    /// A cell's label: a built-in name as given, a cell file's declared `cell NAME`.
    static func label(of cell: String) -> String {
        if BuiltinCells.builtin(cell) != nil { return safeName(cell.lowercased()) }
        if let file = try? BuiltinCells.resolve(cell) as? LanguageCell { return safeName(file.declaredName) }
        return safeName(((cell as NSString).lastPathComponent as NSString).deletingPathExtension)
    }

    /// `s` made usable in file names: letters, digits, '-', '_', '.'; no leading '.'; no '..'.
    static func safeName(_ s: String) -> String {
        var out = String(s.map { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) ? $0 : "-" })
        while out.contains("..") { out = out.replacingOccurrences(of: "..", with: "-") }
        while out.hasPrefix(".") { out.removeFirst() }
        return out.isEmpty ? "cell" : out
    }

    /// `name`, or `name-2`, `name-3`, … when taken.
    static func uniqueName(_ name: String, among taken: [String]) -> String {
        guard taken.contains(name) else { return name }
        var k = 2
        while taken.contains("\(name)-\(k)") { k += 1 }
        return "\(name)-\(k)"
    }

    public static func configurationKey(_ point: StudyPoint) -> String { point.id }

    public static func work(_ point: StudyPoint) -> Double { TrainingKind.work(TrainingPoint(configuration: point.configuration, origin: point.origin)) }

    /// The cell file (a built-in cell reads none) and the task's data files, as a `train` run's.
    public static func inputFiles(_ point: StudyPoint) throws -> [String] {
        try TrainingKind.inputFiles(TrainingPoint(configuration: point.configuration, origin: point.origin))
    }

    /// Trains the point's configuration, evaluating the test set whenever the held-out loss
    /// reaches a new best (early stopping's choice), and records the outcome; a diverged run
    /// is a result.
    public static func run(_ point: StudyPoint, experiment: String, version: String) throws -> StudyRecord {
        let c = point.configuration
        let trainer = try Trainer(c)
        let test = try testSet(trainer.task, configuration: c)
        var best: (validation: Double, update: Int, test: EvaluationPoint)?
        var failure: Error?
        let training = try trainer.run(progress: { e in
            guard e.loss.isFinite, e.loss < (best?.validation ?? .infinity) else { return }
            do { best = (e.loss, e.update, try trainer.evaluate(on: test)) } catch { failure = error }
        })
        if let failure { throw failure }
        var record = StudyRecord(id: point.id, experiment: experiment, gatelabVersion: version, study: point.study, cell: point.cell,
                                 baseline: point.baseline, sample: point.sample, values: point.values, testSeed: testSeed, training: training)
        record.training.experiment = experiment
        record.training.gatelabVersion = version
        record.bestValidation = best?.validation
        record.bestUpdate = best?.update
        record.finalValidation = training.evaluations.last?.loss
        record.test = best?.test.loss
        record.testFractionCorrect = best?.test.fractionCorrect
        return record
    }

    /// The test set: the task's own test split when it has one, else `evalSize` sequences
    /// drawn from `testSeed`.
    static func testSet(_ task: any ForgettingTask, configuration c: TrainingConfiguration) throws -> [TaskBatch] {
        if let split = task.heldOut(.test, batchSize: c.batch) { return split }
        let rng = try RandomSource(seed: testSeed, generator: c.generator)
        return (0..<((c.evalSize - 1) / c.batch + 1)).map { _ in task.batch(size: c.batch, using: rng) }
    }

    public static func mismatch(_ record: StudyRecord, _ point: StudyPoint) -> String? {
        if record.training.configuration != point.configuration { return "other settings than the study's" }
        if record.values != point.values || record.sample != point.sample { return "another hyperparameter sample than the study's" }
        if record.cell != point.cell || record.study != point.study || record.baseline != point.baseline { return "another cell or task than the study's" }
        return nil
    }

    public static func curvesCSV(_ record: StudyRecord) -> String { record.training.curveCSV }

    public static func writeReport(_ records: [StudyRecord], points: [StudyPoint], context: ReportContext) throws -> [String] {
        try StudyReport.write(records, points: points, context: context)
    }
}

/// One hyperparameter's value in a sample.
public struct StudyValue: Codable, Sendable, Hashable {
    /// A drawn value: a number, an integer, a string or a boolean.
    public enum Value: Hashable, Sendable {
        case number(Double), integer(Int), text(String), flag(Bool)

        /// As the experiment file would give it, for `TrainingKind.set`.
        var toml: TOMLValueConvertible {
            switch self {
            case .number(let x): return x
            case .integer(let n): return n
            case .text(let s): return s
            case .flag(let b): return b
            }
        }

        /// The value as a number (nil for text and booleans).
        public var number: Double? {
            switch self {
            case .number(let x): return x
            case .integer(let n): return Double(n)
            default: return nil
            }
        }

        /// The value for people and CSV files.
        public var text: String {
            switch self {
            case .number(let x): return formatNumber(x)
            case .integer(let n): return String(n)
            case .text(let s): return s
            case .flag(let b): return b ? "true" : "false"
            }
        }
    }

    /// How the importance fit reads the hyperparameter.
    public enum Scale: String, Codable, Sendable {
        /// Its logarithm (log-uniform draws).
        case log
        /// Its value.
        case linear
        /// One level per value.
        case categorical
    }

    enum CodingKeys: String, CodingKey { case key, number, integer, text, flag, scale }

    /// The training setting (`lr`, `hidden`, …).
    public var key: String
    /// The drawn value.
    public var value: Value
    /// How the importance fit reads it.
    public var scale: Scale

    /// A value; see the properties.
    public init(key: String, value: Value, scale: Scale) {
        self.key = key; self.value = value; self.scale = scale
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        key = try c.decode(String.self, forKey: .key)
        scale = try c.decode(Scale.self, forKey: .scale)
        if let x = try c.decodeIfPresent(Double.self, forKey: .number) { value = .number(x) }
        else if let n = try c.decodeIfPresent(Int.self, forKey: .integer) { value = .integer(n) }
        else if let s = try c.decodeIfPresent(String.self, forKey: .text) { value = .text(s) }
        else { value = .flag(try c.decode(Bool.self, forKey: .flag)) }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(key, forKey: .key)
        try c.encode(scale, forKey: .scale)
        switch value {
        case .number(let x): try c.encode(x, forKey: .number)
        case .integer(let n): try c.encode(n, forKey: .integer)
        case .text(let s): try c.encode(s, forKey: .text)
        case .flag(let b): try c.encode(b, forKey: .flag)
        }
    }
}

/// One trial of a study: a cell trained at one hyperparameter sample of one task.
public struct StudyPoint: ExperimentPoint, Equatable {
    /// `<task label>_<cell>_s<sample>`, e.g. `adding-T100_lstm_s0007`.
    public var id: String
    /// The `[[grid]]` block (task) it comes from.
    public var origin: String
    /// The task's label (`label`, else `<task>-T<steps>`).
    public var study: String
    /// The cell's name (a built-in name, or the name a cell file declares).
    public var cell: String
    /// Whether the cell is the study's baseline.
    public var baseline: Bool
    /// The sample's number, from 1.
    public var sample: Int
    /// The sample's values, by setting name.
    public var values: [StudyValue]
    /// The run's complete settings (the sample applied to the fixed ones).
    public var configuration: TrainingConfiguration
    /// The search space in words (`lr ~ log-uniform [1e-06, 0.01]`), for the report.
    public var space: [String]
    /// The study's seed.
    public var studySeed: UInt64
}

/// What a trial recorded: the sample, the whole training record (its configuration, curves
/// and outcome), and the metrics the study compares.
public struct StudyRecord: ExperimentRecord, Codable, Equatable, Sendable {
    enum CodingKeys: String, CodingKey {
        case id, experiment, gatelabVersion = "gatelab_version", study, cell, baseline, sample, values, testSeed = "test_seed"
        case training, bestValidation = "best_validation", bestUpdate = "best_update", finalValidation = "final_validation"
        case test, testFractionCorrect = "test_fraction_correct"
        case recordFormat = "record_format", inputs
    }

    public var id: String
    public var experiment: String
    public var gatelabVersion: String?
    /// The task's label.
    public var study: String
    /// The cell's name.
    public var cell: String
    /// Whether the cell is the baseline.
    public var baseline: Bool
    /// The sample's number, from 1.
    public var sample: Int
    /// The sample's values.
    public var values: [StudyValue]
    /// The generated test set's seed (`StudyKind.testSeed`).
    public var testSeed: UInt64
    /// The training run's record.
    public var training: TrainingRecord
    /// The lowest finite held-out loss, and the update it was reached at.
    public var bestValidation: Double?
    public var bestUpdate: Int?
    /// The last held-out loss.
    public var finalValidation: Double?
    /// The test loss and fraction correct at the best held-out evaluation (early stopping).
    public var test: Double?
    public var testFractionCorrect: Double?
    /// The record format (`RecordFormat.current`), set by the runner.
    public var recordFormat: Int?
    /// The content hash of the cell file and the task's data files, by path; set by the
    /// runner, which computes the trial again when one of them changes.
    public var inputs: [String: String]?

    init(id: String, experiment: String, gatelabVersion: String?, study: String, cell: String, baseline: Bool, sample: Int,
         values: [StudyValue], testSeed: UInt64, training: TrainingRecord) {
        self.id = id; self.experiment = experiment; self.gatelabVersion = gatelabVersion; self.study = study; self.cell = cell
        self.baseline = baseline; self.sample = sample; self.values = values; self.testSeed = testSeed; self.training = training
    }

    /// The metric the study compares: the test loss at the best held-out evaluation, +∞ for
    /// a run that diverged (or never had a finite held-out loss).
    public var metric: Double {
        guard !training.diverged, let test, test.isFinite else { return .infinity }
        return test
    }
}
