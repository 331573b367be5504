import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import GateLabSupport
import GateLabTasks

/// The settings of a training run, one row each: the keys of `kind = "train"` and
/// `kind = "study"` experiment files, the options of `gatelab train`, the grid's axes (in this
/// order, outermost first), and where each lands in `TrainingConfiguration` (whose fields the
/// records store). A new setting is one row here, a field of the configuration, and its
/// option in `gatelab train` (a test checks that the command and this table agree).
public enum TrainingSettings {
    /// The table.
    public static let table = SettingsTable<TrainingConfiguration>([
        Setting("task", flag: "--task", help: "The task: \(Tasks.names.joined(separator: ", ")).", current: { $0.task }, check: { c in
            guard Tasks.names.contains(c.task) || (try? Tasks.make(c.task, length: 1000)) != nil else {
                throw SettingProblem("unknown task '\(c.task)'\(didYouMean(c.task.lowercased(), among: Tasks.names)); valid tasks: \(Tasks.names.joined(separator: ", "))")
            }
        }) { v, c, _ in
            c.task = try v.string().lowercased()
        },
        Setting("cell", flag: "--cell", help: "The cell: \(BuiltinCells.names.joined(separator: ", ")), or the path of a .cell file.",
                current: { $0.cell }, check: { c in
            do { _ = try BuiltinCells.resolve(c.cell) }   // a built-in name or a cell file
            catch let e as UnknownCellError { throw SettingProblem(e.message) }
            catch { throw SettingProblem("\(error)") }
        }) { v, c, context in
            var name = try v.string()
            if BuiltinCells.builtin(name) != nil {
                name = name.lowercased()
            } else if name.hasSuffix(".cell") || name.contains("/") {
                name = try context.path(name)   // a file's path keeps its case
            }
            c.cell = name
        },
        .integer("steps", aliases: ["length"], flag: "--length", help: "The task's length parameter T.", least: 1, \.length),
        .integer("hidden", flag: "--hidden", help: "Units per layer.", least: 1, \.hidden),
        .integer("layers", flag: "--layers", help: "Stacked layers.", least: 1, \.layers),
        .integer("batch", flag: "--batch", help: "Sequences per minibatch.", least: 1, \.batch),
        .integer("updates", flag: "--updates", help: "Budget of updates.", least: 0, \.updates),
        .integer("eval_every", flag: "--eval-every", help: "Evaluate on the held-out set every N updates.", least: 1, \.evalEvery),
        .integer("eval_size", flag: "--eval-size",
                 help: "Held-out sequences (rounded up to whole batches; chorales: always its whole validation split).", least: 1, \.evalSize),
        .choice("optimizer", flag: "--optimizer", help: "Optimizer: adam, sgd (momentum --momentum) or rmsprop.", noun: "optimizer",
                OptimizerKind.allCases.map { ($0.rawValue, $0) }, current: { $0.optimizer.rawValue }) { $1.optimizer = $0 },
        Setting("lr", flag: "--lr", help: "Learning rate.", current: { idNumber($0.learningRate) }, check: { c in
            guard c.learningRate.isFinite, c.learningRate > 0 else { throw SettingProblem("must be a positive number, got \(formatNumber(c.learningRate))") }
        }) { v, c, _ in
            c.learningRate = try v.number()
        },
        Setting("momentum", flag: "--momentum", help: "SGD momentum, in [0, 1).", current: { idNumber($0.momentum) }, check: { c in
            guard c.momentum.isFinite, (0..<1).contains(c.momentum) else { throw SettingProblem("must be in [0, 1), got \(formatNumber(c.momentum))") }
        }) { v, c, _ in
            c.momentum = try v.number()
        },
        // 0 means no clipping (nil in the configuration).
        Setting("clip", flag: "--clip", help: "Gradient-norm clipping threshold (0: none).", current: { $0.clip.map(idNumber) ?? "0" }, check: { c in
            if let x = c.clip, !(x.isFinite && x > 0) { throw SettingProblem("must be a finite number ≥ 0 (0: no clipping), got \(formatNumber(x))") }
        }) { v, c, _ in
            let x = try v.number()
            c.clip = x == 0 ? nil : x
        },
        Setting("forget_bias", flag: "--forget-bias",
                help: "Forget-gate bias (cells with a forget gate): a number, chrono (Tallec & Ollivier 2018, T_max = the task's steps) or default (PyTorch's U(±1/√H)).",
                current: { $0.forgetBiasSetting.description }, check: { c in
            if let b = c.forgetBias, !b.isFinite { throw SettingProblem("must be finite, got \(formatNumber(b))") }
        }) { v, c, _ in
            c.forgetBiasSetting = try ForgetBiasSetting(v)
        },
        // Absent means none: records without noise keep their bytes.
        Setting("input_noise", flag: "--input-noise",
                help: "Standard deviation of Gaussian noise added to every training input (not to the held-out set); 0: none.",
                current: { $0.inputNoise.map(idNumber) ?? "0" }, check: { c in
            if let x = c.inputNoise, !(x.isFinite && x > 0) {
                throw SettingProblem("must be a finite number ≥ 0 (the noise's standard deviation), got \(formatNumber(x))")
            }
        }) { v, c, _ in
            let x = try v.number()
            c.inputNoise = x == 0 ? nil : x
        },
        // Absent means true: records keep their bytes.
        Setting("stop_when_solved", flag: "--stop-when-solved",
                help: "Stop at the first evaluation that meets the task's criterion (true), or train the whole budget (false).",
                current: { $0.stopWhenSolved == false ? "false" : "true" }) { v, c, _ in
            c.stopWhenSolved = try v.bool() ? nil : false
        },
        // Absent means f64: float64 records keep their bytes.
        .choice("precision", flag: "--precision",
                help: "Working precision: f64 (double) or f32 (single; weights, inputs and states rounded once when loaded).",
                noun: "precision", Precision.allCases.map { ($0.rawValue, $0) }, current: { ($0.precision ?? .f64).rawValue }) {
            $1.precision = $0 == .f64 ? nil : $0
        },
        Setting("seeds", aliases: ["seed"], flag: "--seed",
                help: "The run's seed: initialization from it, training data from seed + 1000000 (GSL's MT19937).",
                current: { String($0.seed) }, check: { c in
            guard c.seed <= UInt32.max else { throw SettingProblem("a seed must be between 0 and \(UInt32.max), got \(c.seed)") }
        }) { v, c, _ in
            let n = try v.int()
            guard n >= 0 else { throw SettingProblem("a seed must be between 0 and \(UInt32.max), got \(n)") }
            c.seed = UInt64(n)
        },
        .integer("profile_every", flag: "--profile-every",
                 help: "Record the gradient profile over time steps every N updates (0: at the start and end only).", least: 0, \.profileEvery),
        // After `updates`: a cosine schedule anneals over the budget.
        Setting("schedule", flag: "--schedule", help: "Learning-rate schedule: constant, step:EVERY:FACTOR, or cosine (over the updates).",
                current: { $0.schedule.name }, check: { c in
            switch c.schedule {
            case .constant: break
            case let .step(every, factor):
                guard every >= 1, factor.isFinite, factor > 0 else { throw SettingProblem("a step schedule needs EVERY ≥ 1 and a positive FACTOR, got \(c.schedule.name)") }
            case .cosine(let n): guard n >= 1 else { throw SettingProblem("a cosine schedule needs ≥ 1 update, got \(n)") }
            }
        }) { v, c, _ in
            c.schedule = try Schedule(parsing: try v.string(), updates: c.updates)
        },
    ], base: TrainingConfiguration())
}

extension Schedule {
    /// The schedule as written: constant, cosine or step:EVERY:FACTOR.
    public var name: String {
        switch self {
        case .constant: "constant"
        case .cosine: "cosine"
        case let .step(every, factor): "step:\(every):\(idNumber(factor))"
        }
    }

    /// Reads `text` (constant, cosine, step:EVERY:FACTOR); cosine anneals over `updates`.
    /// - Throws: `SettingProblem` for anything else.
    public init(parsing text: String, updates: Int) throws {
        let parts = text.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.first {
        case "constant" where parts.count == 1: self = .constant; return
        case "cosine" where parts.count == 1: self = .cosine(updates: max(updates, 1)); return
        case "step" where parts.count == 3:
            if let every = Int(parts[1]), let factor = Double(parts[2]), every >= 1, factor > 0, factor.isFinite {
                self = .step(every: every, factor: factor); return
            }
        default: break
        }
        throw SettingProblem("bad schedule '\(text)'; use constant, cosine, or step:EVERY:FACTOR (e.g. step:1000:0.5)")
    }
}
