import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabTasks
import GateLabGSL
import GateLabSupport

/// One point of the held-out learning curve.
public struct EvaluationPoint: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey {
        case update, loss, fractionCorrect = "fraction_correct", testLoss = "test_loss", testFractionCorrect = "test_fraction_correct"
    }

    /// Updates taken when evaluated.
    public var update: Int
    /// Held-out loss (mean over targets): the validation split's, for a task that has one.
    public var loss: Double
    /// Fraction of scored held-out targets judged correct (of the task's judgements: see
    /// `ForgettingTask.score`).
    public var fractionCorrect: Double
    /// The test split's loss, for a task with a fixed test split (nil, and absent from the
    /// record, otherwise).
    public var testLoss: Double? = nil
    /// The test split's fraction correct, for a task with a fixed test split.
    public var testFractionCorrect: Double? = nil
}

/// The gradient profile over time steps at one update.
public struct GradientProfile: Codable, Sendable, Equatable {
    enum CodingKeys: String, CodingKey { case update, log10GradientH = "log10_gradient_h" }

    /// Updates taken.
    public var update: Int
    /// log10‖∂(Σ y)/∂h_t‖ of the top layer, t = 0 ..< T (see `SequenceModel.gradientProfile`).
    public var log10GradientH: [Double]
}

/// What a training run recorded: its configuration, outcome and curves.
///
/// Stored as one JSON line in `RecordJSON`'s form (sorted snake_case keys; NaN and ±∞ as
/// `"nan"`, `"inf"`, `"-inf"`), documented in `Notes/formats.md`.
public struct TrainingRecord: Codable, Sendable, Equatable, ExperimentRecord {
    enum CodingKeys: String, CodingKey {
        case configuration, id, experiment, generator = "rng", initSeed = "init_seed", dataSeed = "data_seed", evalSeed = "eval_seed"
        case solved, solvedAtUpdate = "solved_at_update", diverged, divergence, updates, criterion, baseline
        case baselineDescription = "baseline_description", finalLoss = "final_loss", finalFractionCorrect = "final_fraction_correct"
        case evaluations, trainLoss = "train_loss", gradientNorm = "gradient_norm", profiles, parameterCount = "parameter_count"
        case seconds, gatelabVersion = "gatelab_version", recordFormat = "record_format", inputs, cellName = "cell_name"
        case finalTestLoss = "final_test_loss", finalTestFractionCorrect = "final_test_fraction_correct"
    }

    /// The configuration.
    public var configuration: TrainingConfiguration
    /// The run's identifier (`TrainingConfiguration.id`).
    public var id: String
    /// The experiment's name ("" outside one).
    public var experiment = ""
    /// GSL generator of every random source, and the seeds of initialization, training data
    /// and the held-out set.
    public var generator: String
    /// Initialization seed.
    public var initSeed: UInt64
    /// Training-data seed.
    public var dataSeed: UInt64
    /// Held-out-set seed.
    public var evalSeed: UInt64
    /// Whether the held-out results met the task's criterion.
    public var solved = false
    /// The update at whose evaluation the criterion was first met.
    public var solvedAtUpdate: Int?
    /// Whether a NaN or ±∞ stopped the run.
    public var diverged = false
    /// Where the NaN or ±∞ first appeared (update, time step, op).
    public var divergence: String?
    /// Updates taken.
    public var updates = 0
    /// The task's criterion, in words.
    public var criterion: String
    /// The memoryless baseline loss.
    public var baseline: Double
    /// The baseline, in words.
    public var baselineDescription: String
    /// The last held-out loss.
    public var finalLoss: Double?
    /// The last held-out fraction correct.
    public var finalFractionCorrect: Double?
    /// The last test-split loss (tasks with a fixed test split; absent otherwise).
    public var finalTestLoss: Double?
    /// The last test-split fraction correct (tasks with a fixed test split; absent otherwise).
    public var finalTestFractionCorrect: Double?
    /// Held-out evaluations.
    public var evaluations: [EvaluationPoint] = []
    /// Training-batch loss per update (before the update).
    public var trainLoss: [Double] = []
    /// Gradient norm per update, before clipping.
    public var gradientNorm: [Double] = []
    /// Gradient profiles over time steps at a few updates.
    public var profiles: [GradientProfile] = []
    /// Trainable scalars.
    public var parameterCount = 0
    /// Wall-clock seconds of training (summed over resumed pieces; not part of the result).
    public var seconds = 0.0
    /// The GateLab version that computed it, when run as part of an experiment grid (nil in
    /// records written before versions were recorded): a grid reuses, and `gatelab merge`
    /// reports on, only records of its own version.
    public var gatelabVersion: String?
    /// The record format (`RecordFormat`; nil in records written before formats were numbered).
    public var recordFormat: Int?
    /// A cell file's name in ids and reports (`CellLabels`: its declared name, unique in its
    /// grid); nil for a built-in cell, named by `configuration.cell`.
    public var cellName: String?
    /// The content hash of each file the run read (a cell file, a task's data files), by path.
    public var inputs: [String: String]?
    /// `seconds`.
    public var computeSeconds: Double? { seconds }

    /// The record as one JSON line (`RecordJSON`).
    public func json(pretty: Bool = false) throws -> String { try RecordJSON.line(self, pretty: pretty) }

    /// Reads a record written by `json()`.
    public init(json: String) throws { self = try RecordJSON.decode(TrainingRecord.self, from: json) }

    init(configuration c: TrainingConfiguration, task: any ForgettingTask) {
        configuration = c; id = c.id; generator = c.generator
        cellName = BuiltinCells.builtin(c.cell) == nil ? CellLabels.label(c.cell) : nil
        initSeed = c.seed; dataSeed = c.dataSeed; evalSeed = c.evalSeed
        criterion = task.criterion; baseline = task.baseline; baselineDescription = task.baselineDescription
    }
}

/// A resumable training state: weights, optimizer, the data generator's state, counters and
/// curves so far. Written atomically; resuming from it gives bit-identical results.
public struct TrainingCheckpoint: Codable {
    enum CodingKeys: String, CodingKey { case record, parameters, optimizer, dataState = "data_state", cell, checksum }

    /// The record so far (configuration, curves, counters).
    public var record: TrainingRecord
    /// Parameters, in `SequenceModel.parameterNames` order.
    public var parameters: [[Double]]
    /// Optimizer settings and moments.
    public var optimizer: Optimizer
    /// The training-data source's state (`RandomSource.stateBytes()`).
    public var dataState: [UInt8]
    /// What the cell was when the run started (`Trainer.cellIdentity`): a built-in cell's name,
    /// or the checksum of the cell file's text, so that resuming after the file was edited is
    /// refused rather than silently mixing two cells in one run.
    public var cell: String?
    /// Read only, from checkpoints written before they were sealed like point files: the
    /// checksum they kept as a key of their own (`SealedLine` now adds it as the last key).
    public var checksum: String?

    /// The file's text: one JSON line sealed with its checksum (`SealedLine`, as point files
    /// and trial checkpoints are).
    func text() throws -> String {
        var unsealed = self
        unsealed.checksum = nil
        return SealedLine.seal(try RecordJSON.line(unsealed))
    }

    /// Reads a checkpoint file's text, and whether its checksum matches its content (nil: it
    /// has none).
    /// - Throws: the decoder's error for text that is not a checkpoint.
    static func read(_ text: String) throws -> (checkpoint: TrainingCheckpoint, intact: Bool?) {
        let (body, intact) = SealedLine.unseal(text.trimmingCharacters(in: .newlines))
        var k = try RecordJSON.decode(TrainingCheckpoint.self, from: body)
        if intact != nil { return (k, intact) }
        // Written before checkpoints were sealed: the checksum of the line without its own key.
        guard let stored = k.checksum else { return (k, nil) }
        k.checksum = nil
        return (k, (try? Files.checksum(Array(RecordJSON.line(k).utf8))) == stored)
    }
}
