import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabSupport
import GateLabTasks

/// Everything that defines a training run; recorded with its result.
///
/// JSON keys are snake_case; the length T is `steps`, as in every experiment file.
public struct TrainingConfiguration: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case task, length = "steps", cell, hidden, layers, optimizer, learningRate = "lr", momentum, clip, schedule, batch, updates
        case evalEvery = "eval_every", evalSize = "eval_size", evalSeed = "eval_seed", seed, generator = "rng"
        case forgetBias = "forget_bias", chrono = "forget_bias_chrono", profileEvery = "profile_every", memoryBudgetMB = "memory_budget_mb"
        case precision, inputNoise = "input_noise", stopWhenSolved = "stop_when_solved"
    }

    /// Task name (see `Tasks.names`).
    public var task = "adding"
    /// The task's length parameter T.
    public var length = 50
    /// Cell name (see `BuiltinCells.names`) or the path of a `.cell` file.
    public var cell = "lstm"
    /// Units per layer.
    public var hidden = 128
    /// Stacked layers.
    public var layers = 1
    /// The optimizer.
    public var optimizer = OptimizerKind.adam
    /// Base learning rate.
    public var learningRate = 1e-3
    /// SGD momentum.
    public var momentum = 0.9
    /// Gradient-norm clipping threshold; nil: no clipping.
    public var clip: Double? = 1
    /// Learning-rate schedule.
    public var schedule = Schedule.constant
    /// Sequences per minibatch.
    public var batch = 32
    /// Budget of updates.
    public var updates = 3000
    /// Evaluate on the held-out set every this many updates (and at 0 and at the end).
    public var evalEvery = 100
    /// Held-out sequences (rounded up to whole batches); the same for every seed.
    public var evalSize = 256
    /// Seed of the held-out set (fixed, so that runs of a task and length share it).
    public var evalSeed: UInt64 = 20_160_101
    /// The run's seed: initialization from `seed`, training data from `seed + 1_000_000`.
    public var seed: UInt64 = 1
    /// GSL generator of every random source.
    public var generator = "mt19937"
    /// Forget-gate bias (cells with a forget gate); nil: PyTorch's default U(±1/√H).
    public var forgetBias: Double? = 1
    /// Chrono initialization of the forget (and input) gate biases (Tallec & Ollivier 2018)
    /// with T_max = the task's steps, instead of `forgetBias`; nil (not written in records,
    /// so older records keep their bytes) or true.
    public var chrono: Bool?
    /// `forgetBias` and `chrono` (the records' two keys) as the `forget_bias` setting reads them.
    public var forgetBiasSetting: ForgetBiasSetting {
        get { chrono == true ? .chrono : forgetBias.map { .constant($0) } ?? .pytorchDefault }
        set {
            switch newValue {
            case .pytorchDefault: (forgetBias, chrono) = (nil, nil)
            case .chrono: (forgetBias, chrono) = (nil, true)
            case .constant(let b): (forgetBias, chrono) = (b, nil)
            }
        }
    }
    /// Gradient profiles over time steps are recorded at update 0 and every this many updates
    /// (and at the end); 0: only at 0 and at the end.
    public var profileEvery = 1000
    /// The unrolled storage's budget in MB (longer sequences are checkpointed).
    public var memoryBudgetMB = 1024
    /// What the recurrent network computes in: nil for float64 (absent from records, which
    /// stay as before), `.f32` for float32. The readout and the optimizer are float64 either
    /// way (the weights' master copy; rounded to float32 when loaded, once per update).
    public var precision: Precision?
    /// The standard deviation of Gaussian noise added to every training input (not to the
    /// held-out or test sets), drawn from the training data's source after each batch; nil
    /// for none (absent from records, which stay as before). Greff et al. (2017) search it.
    public var inputNoise: Double?
    /// Whether training stops at the first evaluation that meets the task's criterion: nil
    /// for yes (absent from records, which stay as before), false to train the whole budget
    /// (a study compares the metric itself, which stopping would cap at the criterion).
    public var stopWhenSolved: Bool?

    /// Creates the defaults: modern adding problem, T = 50, LSTM of 128 units, Adam 1e-3,
    /// batch 32, clip 1, forget bias 1, 3000 updates, held-out MSE every 100 (calibrated so
    /// that PyTorch's LSTM solves T = 50 within the budget).
    public init() {}

    /// The seed of the training data's random source.
    public var dataSeed: UInt64 { seed &+ 1_000_000 }

    /// A short identifier, e.g. `adding_T50_lstm_H128_fb1_seed1`: a cell file by its declared
    /// name (`CellLabels.label`), never by its path.
    public var id: String { id(cellLabel: CellLabels.label(cell)) }

    /// The identifier with the cell named `cellLabel` (a grid makes the names of cell files
    /// that declare the same name unique: `CellLabels.unique`).
    public func id(cellLabel: String) -> String {
        var s = "\(task)_T\(length)_\(cellLabel)_H\(hidden)"
        if layers > 1 { s += "_L\(layers)" }
        if hasForgetGate { s += "_fb" + (chrono == true ? "chrono" : forgetBias.map { Self.number($0) } ?? "default") }
        if precision == .f32 { s += "_f32" }
        if let inputNoise { s += "_noise" + Self.number(inputNoise) }
        switch schedule {
        case .constant: break
        case .cosine: s += "_cosine"
        case let .step(every, factor): s += "_step\(every)x" + Self.number(factor)
        }
        s += "_seed\(seed)"
        return fileSafeID(s)
    }

    /// Whether the cell has a forget-gate bias the forget-bias setting acts on.
    var hasForgetGate: Bool {
        (try? BuiltinCells.resolve(cell))?.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" } ?? false
    }

    static func number(_ x: Double) -> String { idNumber(x) }

    /// Checks ranges and names.
    /// - Throws: `TrainingError.badConfiguration` naming the first bad value.
    public func validate() throws {
        // Each setting's own check (its row of `TrainingSettings`), then what joins settings.
        do { try TrainingSettings.table.validate(self) } catch let p as SettingProblem { throw TrainingError.badConfiguration(p.message) }
        _ = try Tasks.make(task, length: length)   // the task at this length
        guard (1...(1 << 30)).contains(memoryBudgetMB) else {
            throw TrainingError.badConfiguration("memory budget must be between 1 MB and \(1 << 30) MB, got \(memoryBudgetMB)")
        }
    }
}

/// Errors of training set-up.
public enum TrainingError: Error, Equatable, CustomStringConvertible {
    /// A configuration value out of range or unknown.
    case badConfiguration(String)
    /// A task whose targets the loss cannot take.
    case badTask(String)
    /// A checkpoint that cannot be used.
    case badCheckpoint(path: String, message: String)
    public var description: String {
        switch self {
        case .badConfiguration(let m): return m
        case .badTask(let m): return m
        case let .badCheckpoint(p, m): return "checkpoint \(p): \(m)"
        }
    }
}
