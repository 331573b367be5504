import GateLabTasks
import GateLabSupport
import Foundation
import GateLabGSL
import GateLabExperiments

/// A test taken during or after training.
public struct Milestone: Codable, Equatable, Sendable {
    /// What was reached, e.g. `ST1`, `ST2`, `n_seq<140`, `final`.
    public var name: String
    /// Training sequences (CERG: streams) presented until then.
    public var sequences: Int
    /// Test sequences judged wrong.
    public var wrong: Int
    /// Test sequences.
    public var testCount: Int
    /// Mean over test sequences, target steps and output units of (t − y)² (nil for CERG).
    public var testMSE: Double?

    enum CodingKeys: String, CodingKey {
        case name, sequences, wrong, testCount = "test_count", testMSE = "test_mse"
    }
}

/// One point of a trial's learning curve: how the training sequences (CERG: streams) of one
/// interval went, read off training itself — no test is taken for it, so the trial's random
/// stream and numbers are the same with or without the curve.
public struct LearningCurvePoint: Codable, Equatable, Sendable {
    /// Training sequences (streams) presented up to the interval's end.
    public var sequences: Int
    /// Training sequences (streams) in the interval.
    public var count: Int
    /// Of them, those judged wrong by the correctness rule as they were trained on (CERG:
    /// streams stopped by an error before the cap).
    public var wrong: Int
    /// Mean over the interval's target steps and outputs of (t − y)² during training (nil for CERG).
    public var trainingMSE: Double?
    /// CERG: the mean length (symbols) of the interval's training streams (nil elsewhere).
    public var meanStreamLength: Double?

    enum CodingKeys: String, CodingKey {
        case sequences, count, wrong, trainingMSE = "training_mse", meanStreamLength = "mean_stream_length"
    }
}

/// The learning curve of a trial as it trains: one `LearningCurvePoint` every `every`
/// training sequences (streams), and the last, shorter interval when the trial stops.
struct LearningCurve: Codable, Equatable, Sendable {
    /// The spacing: the budget / 100 (at least 1), so every trial has at most about 100 points.
    var every: Int
    var points: [LearningCurvePoint] = []
    var count = 0, wrong = 0, squared = 0.0, values = 0, steps = 0

    init(budget: Int) { every = max(1, budget / 100) }

    /// Counts one training sequence (stream); closes the interval at a multiple of `every`.
    mutating func add(sequences: Int, correct: Bool, squared s: Double, values v: Int, steps n: Int, stream: Bool) {
        count += 1
        if !correct { wrong += 1 }
        squared += s
        values += v
        steps += n
        if sequences % every == 0 { close(at: sequences, stream: stream) }
    }

    /// Closes the open interval (if it has any sequence).
    mutating func close(at sequences: Int, stream: Bool) {
        guard count > 0 else { return }
        points.append(LearningCurvePoint(sequences: sequences, count: count, wrong: wrong,
                                         trainingMSE: stream || values == 0 ? nil : squared / Double(values),
                                         meanStreamLength: stream ? Double(steps) / Double(count) : nil))
        (count, wrong, squared, values, steps) = (0, 0, 0, 0, 0)
    }
}

/// The result of one trial.
public struct TrialRecord: Codable, Equatable, Sendable {
    /// The experiment that ran the trial ("" outside one, e.g. `gatelab train --preset`).
    public var experiment = ""
    /// The grid point's identifier ("" outside an experiment).
    public var id = ""
    /// The GateLab version that computed it (nil: not recorded).
    public var gatelabVersion: String?
    /// The preset's name.
    public var preset: String
    /// The variant's name.
    public var variant: String
    /// The seed of the trial's `RandomSource` (mt19937).
    public var seed: UInt64
    /// Every parameter of the trial.
    public var parameters: PresetParameters
    /// Whether the stopping criterion was met within the budget.
    public var solved: Bool
    /// Training sequences (CERG: streams) presented until the trial stopped.
    public var sequences: Int
    /// Time steps of training.
    public var trainingSteps: Int
    /// Wrong sequences in the final test.
    public var wrong: Int
    /// Size of the final test.
    public var testCount: Int
    /// Mean squared error of the final test (nil for CERG).
    public var testMSE: Double?
    /// Every test taken (ST1/ST2, Exp. 5's two n_seq points, the final test).
    public var milestones: [Milestone]
    /// CERG: `perfect`, `good` (mean error-free test-stream length > 1000) or `rest`.
    public var cergOutcome: String?
    /// CERG: mean error-free length of the last test's streams.
    public var meanTestStreamLength: Double?
    /// Wall-clock seconds of the trial (not part of any bit-identity check).
    public var seconds: Double
    /// The record format (`RecordFormat`; nil in records written before formats were numbered).
    public var recordFormat: Int?
    /// The learning curve: how training went, every budget / 100 training sequences (streams)
    /// (`LearningCurvePoint`); nil in records written before trials kept one.
    public var curve: [LearningCurvePoint]?

    enum CodingKeys: String, CodingKey {
        case preset, variant, seed, parameters, solved, sequences, trainingSteps = "training_steps", wrong
        case testCount = "test_count", testMSE = "test_mse", milestones, cergOutcome = "cerg_outcome"
        case meanTestStreamLength = "mean_test_stream_length", seconds
        case experiment, id, gatelabVersion = "gatelab_version", recordFormat = "record_format", curve
    }

    /// Reads a record as written now or by GateLab 0.3.0 (camelCase `parameters`,
    /// `LegacyKeyDecoder`).
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        experiment = try c.decodeIfPresent(String.self, forKey: .experiment) ?? ""
        id = try c.decodeIfPresent(String.self, forKey: .id) ?? ""
        gatelabVersion = try c.decodeIfPresent(String.self, forKey: .gatelabVersion)
        preset = try c.decode(String.self, forKey: .preset)
        variant = try c.decode(String.self, forKey: .variant)
        seed = try c.decode(UInt64.self, forKey: .seed)
        do {
            parameters = try c.decode(PresetParameters.self, forKey: .parameters)
        } catch {
            parameters = try PresetParameters(from: LegacyKeyDecoder.trialParameters(try c.superDecoder(forKey: .parameters)))
        }
        solved = try c.decode(Bool.self, forKey: .solved)
        sequences = try c.decode(Int.self, forKey: .sequences)
        trainingSteps = try c.decode(Int.self, forKey: .trainingSteps)
        wrong = try c.decode(Int.self, forKey: .wrong)
        testCount = try c.decode(Int.self, forKey: .testCount)
        testMSE = try c.decodeIfPresent(Double.self, forKey: .testMSE)
        milestones = try c.decode([Milestone].self, forKey: .milestones)
        cergOutcome = try c.decodeIfPresent(String.self, forKey: .cergOutcome)
        meanTestStreamLength = try c.decodeIfPresent(Double.self, forKey: .meanTestStreamLength)
        seconds = try c.decode(Double.self, forKey: .seconds)
        recordFormat = try c.decodeIfPresent(Int.self, forKey: .recordFormat)
        curve = try c.decodeIfPresent([LearningCurvePoint].self, forKey: .curve)
    }

    /// A record of the given fields (`gatelabVersion`, `experiment` and `id` are set by the
    /// runner).
    public init(preset: String, variant: String, seed: UInt64, parameters: PresetParameters, solved: Bool,
                sequences: Int, trainingSteps: Int, wrong: Int, testCount: Int, testMSE: Double?,
                milestones: [Milestone], cergOutcome: String?, meanTestStreamLength: Double?, seconds: Double) {
        (self.preset, self.variant, self.seed, self.parameters, self.solved) = (preset, variant, seed, parameters, solved)
        (self.sequences, self.trainingSteps, self.wrong, self.testCount, self.testMSE) = (sequences, trainingSteps, wrong, testCount, testMSE)
        (self.milestones, self.cergOutcome, self.meanTestStreamLength, self.seconds) = (milestones, cergOutcome, meanTestStreamLength, seconds)
    }
}

extension TrialRecord {
    /// Training sequences presented before the net was judged correct, in a solved trial of the
    /// two readings of Exp. 2c's criterion, so that they can be compared: with a frozen test
    /// (`StoppingCriterion.frozenTest`) the sequences at its first passing test, i.e. the
    /// stop; with the running window (`successiveCorrect(count:)`) the stop minus `count`, the
    /// sequences before the window of correct training sequences that ended the trial (the
    /// window needs `count` sequences after the net has become correct, the frozen test none).
    /// nil for an unsolved trial and under every other criterion.
    public var sequencesUntilCorrect: Int? {
        guard solved else { return nil }
        switch parameters.criterion {
        case .frozenTest: return sequences
        case .successiveCorrect(let count): return sequences - count
        default: return nil
        }
    }
}
