import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabTasks
import GateLabGSL
import GateLabSupport

/// Trains a cell network plus readout on a task: minibatches from a seeded source, gradient
/// clipping, an optimizer and schedule, held-out evaluation every N updates, stopping on the
/// task's criterion or the budget, divergence caught and located, checkpoints to resume from.
public final class Trainer {
    /// The configuration.
    public let configuration: TrainingConfiguration
    /// The task.
    public let task: any ForgettingTask
    /// The model (its weights change as training goes).
    public let model: SequenceModel
    /// The record so far.
    public private(set) var record: TrainingRecord
    /// The optimizer and its state.
    public private(set) var optimizer: Optimizer
    let data: RandomSource
    /// The held-out set: the task's fixed validation split, or batches drawn from `evalSeed`.
    let heldOut: [TaskBatch]
    /// The task's fixed test split, if it has one.
    let testSet: [TaskBatch]?
    /// The cell's identity, recorded in checkpoints (`cellIdentity(_:)`).
    let cellIdentity: String

    /// Sets up a fresh run: the model initialized from `seed`, the data source seeded with
    /// `dataSeed`, the held-out set drawn from `evalSeed`.
    /// - Throws: `TrainingError.badConfiguration` for bad values; errors of set-up.
    /// - Parameters:
    ///   - c: the run's configuration (validated first).
    ///   - execution: the executor of the unrolled network (not part of the record:
    ///     both give the same run, to rounding).
    public init(_ c: TrainingConfiguration, execution: Execution = .fast) throws {
        try c.validate()
        configuration = c
        let task = try Tasks.make(c.task, length: c.length)
        self.task = task
        let cell = try BuiltinCells.resolve(c.cell)
        cellIdentity = try Self.cellIdentity(c.cell)
        // Parameters, gradients, two optimizer moments and a working copy: 5 doubles, 40 bytes,
        // per scalar. Counted from the cell's specs before anything is allocated.
        do {
            try RecurrentNetwork.checkFits(cell: cell, named: c.cell, inputSize: task.inputSize, hiddenSize: c.hidden, layers: c.layers,
                                           copies: 5, budgetMB: c.memoryBudgetMB)
        } catch let e as NetworkSizeError { throw TrainingError.badConfiguration(e.description) }
        // The training batch and the held-out set, as doubles: counted before they are drawn.
        let heldOutBatches = c.evalSize / c.batch + 1
        let dataBytes = Double(task.steps) * Double(task.inputSize + 1) * Double(c.batch) * Double(heldOutBatches + 1) * 8
        guard dataBytes <= Double(c.memoryBudgetMB) * 1048576 else {
            throw TrainingError.badConfiguration("the task's data (\(task.steps) steps × batch \(c.batch), \(heldOutBatches) held-out batches) needs "
                + "\(String(format: "%.0f", dataBytes / 1048576)) MB, more than the memory budget of \(c.memoryBudgetMB) MB")
        }
        let initRNG = try RandomSource(seed: c.seed, generator: c.generator)
        model = try SequenceModel(cell: cell, inputSize: task.inputSize, hiddenSize: c.hidden, layers: c.layers, loss: task.loss,
                                  batch: c.batch, steps: task.steps,
                                  initialization: .init(forgetBias: c.chrono == true ? .chrono(maxSteps: Double(task.steps))
                                                                                      : c.forgetBias.map { .constant($0) }),
                                  rng: initRNG, memoryBudget: c.memoryBudgetMB << 20, execution: execution,
                                  precision: c.precision ?? .f64)
        data = try RandomSource(seed: c.dataSeed, generator: c.generator)
        if let fixed = task.heldOut(.validation, batchSize: c.batch) {
            heldOut = fixed   // a data set's validation split: every sequence of it, not eval-size draws
        } else {
            let evalRNG = try RandomSource(seed: c.evalSeed, generator: c.generator)
            heldOut = (0..<((c.evalSize - 1) / c.batch + 1)).map { _ in task.batch(size: c.batch, using: evalRNG) }
        }
        testSet = task.heldOut(.test, batchSize: c.batch)
        var o = Optimizer(kind: c.optimizer)
        o.momentum = c.momentum
        optimizer = o
        record = TrainingRecord(configuration: c, task: task)
        record.parameterCount = model.parameters.reduce(0) { $0 + $1.count }
    }

    /// Sets up a run resumed from a checkpoint file.
    /// - Throws: `TrainingError.badCheckpoint` when the file cannot be read or was written for
    ///   another configuration.
    public convenience init(resumingFrom path: String, configuration c: TrainingConfiguration, execution: Execution = .fast) throws {
        try self.init(c, execution: execution)
        let bytes: [UInt8]
        do { bytes = try Files.contents(of: path) } catch {
            throw TrainingError.badCheckpoint(path: path, message: "cannot read the file (\(error))")
        }
        let checkpoint: TrainingCheckpoint, intact: Bool?
        do { (checkpoint, intact) = try TrainingCheckpoint.read(String(decoding: bytes, as: UTF8.self)) } catch {
            throw TrainingError.badCheckpoint(path: path, message: "not a training checkpoint (\(error))")
        }
        try Self.validate(checkpoint, intact: intact, configuration: c, cell: try Self.cellIdentity(c.cell),
                          parameterCounts: model.parameters.map(\.count)).map { throw TrainingError.badCheckpoint(path: path, message: $0) }
        do { try self.data.restore(stateBytes: checkpoint.dataState) } catch {
            throw TrainingError.badCheckpoint(path: path, message: "\(error)")
        }
        model.parameters = checkpoint.parameters
        optimizer = checkpoint.optimizer
        record = checkpoint.record
    }

    /// Starts from saved weights instead of the seeded initialization (`gatelab train
    /// --weights`): the recurrent layers, and the readout when given.
    /// - Throws: `TrainingError.badConfiguration` naming what does not fit: the cell's
    ///   parameters, the sizes, the readout's shape.
    public func start(from network: RecurrentNetwork, readout: (weight: Tensor, bias: Tensor)?) throws {
        let mine = model.network
        guard network.inputSize == mine.inputSize, network.hiddenSize == mine.hiddenSize, network.layers == mine.layers else {
            throw TrainingError.badConfiguration("the saved network has input_size \(network.inputSize), hidden_size \(network.hiddenSize), "
                + "num_layers \(network.layers); this run needs \(mine.inputSize), \(mine.hiddenSize), \(mine.layers)")
        }
        for k in 0..<mine.layers {
            let want = mine.specs(layer: k).map { "\($0.name) \($0.rows)×\($0.cols)" }
            let have = network.specs(layer: k).map { "\($0.name) \($0.rows)×\($0.cols)" }
            guard want == have else {
                throw TrainingError.badConfiguration("the saved network's cell \(network.cell.name) has parameters \(have.joined(separator: ", ")); "
                    + "this run's \(mine.cell.name) has \(want.joined(separator: ", "))")
            }
        }
        model.network.weights = network.weights
        if let readout {
            guard readout.weight.shape == model.readoutWeight.shape, readout.bias.shape == model.readoutBias.shape else {
                throw TrainingError.badConfiguration("the saved readout is \(readout.weight.rows)×\(readout.weight.cols); this task needs "
                    + "\(model.readoutWeight.rows)×\(model.readoutWeight.cols)")
            }
            model.readoutWeight = readout.weight
            model.readoutBias = readout.bias
        }
    }

    /// What names the cell of configuration value `cell` in a checkpoint: a built-in cell's
    /// name, or `file:` and the checksum of the cell file's text.
    static func cellIdentity(_ cell: String) throws -> String {
        if BuiltinCells.builtin(cell) != nil { return "builtin:" + cell.lowercased() }
        do { return "file:" + Files.checksum(try Files.contents(of: cell)) } catch {
            throw TrainingError.badConfiguration("\(error)")
        }
    }

    /// Why `checkpoint` (whose checksum matched its content: `intact`; nil: it had none)
    /// cannot resume a run of `c` (nil: it can). Every value is checked
    /// against the configuration and against the others, so that a damaged or edited file that
    /// still parses is refused with a reason instead of crashing or training on nonsense.
    static func validate(_ k: TrainingCheckpoint, intact: Bool?, configuration c: TrainingConfiguration, cell: String,
                         parameterCounts: [Int]) -> String? {
        guard let intact else { return "has no checksum (written by an older GateLab, or edited); start afresh without --resume" }
        guard intact else { return "is damaged: its checksum does not match its content; start afresh without --resume" }
        let r = k.record, o = k.optimizer
        guard r.configuration == c, r.id == c.id else {
            return "written for run \(r.id) with other settings; use the same options as that run"
        }
        guard k.cell == cell else {
            return "written for another cell (\(k.cell ?? "unrecorded")) than \(c.cell) is now (\(cell)): the cell file was edited; start afresh without --resume"
        }
        guard k.parameters.map(\.count) == parameterCounts else { return "parameter shapes do not match the model" }
        guard k.parameters.allSatisfy({ $0.allSatisfy(\.isFinite) }) else { return "a parameter is not finite" }
        guard (0...c.updates).contains(r.updates) else { return "updates \(r.updates) is outside 0…\(c.updates)" }
        guard r.trainLoss.count == r.updates, r.gradientNorm.count == r.updates else {
            return "its curves have \(r.trainLoss.count) and \(r.gradientNorm.count) points for \(r.updates) updates"
        }
        guard !r.diverged else { return "records a diverged run" }
        guard o.kind == c.optimizer, o.momentum == c.momentum else { return "optimizer \(o.kind.rawValue) does not match \(c.optimizer.rawValue)" }
        guard o.beta1 == 0.9, o.beta2 == 0.999, o.alpha == 0.99, o.epsilon == 1e-8 else { return "optimizer constants were changed" }
        guard o.step == r.updates else { return "optimizer step \(o.step) does not match updates \(r.updates)" }
        let expected = o.step == 0 ? [] : parameterCounts
        guard o.first.map(\.count) == expected, o.second.map(\.count) == expected else {
            return "optimizer moments have shapes \(o.first.map(\.count)) and \(o.second.map(\.count)), not \(expected)"
        }
        guard o.first.allSatisfy({ $0.allSatisfy(\.isFinite) }), o.second.allSatisfy({ $0.allSatisfy { $0.isFinite && $0 >= 0 } }) else {
            return "optimizer moments are not finite (or a second moment is negative)"
        }
        guard k.dataState.contains(where: { $0 != 0 }) else { return "the data generator's state is all zero" }
        return nil
    }

    /// The held-out loss and fraction correct of the current weights (and the test split's,
    /// for a task that has one).
    public func evaluate() throws -> EvaluationPoint {
        let held = try evaluate(heldOut)
        var point = EvaluationPoint(update: record.updates, loss: held.loss, fractionCorrect: held.fractionCorrect)
        if let testSet {
            let test = try evaluate(testSet)
            point.testLoss = test.loss
            point.testFractionCorrect = test.fractionCorrect
        }
        return point
    }

    /// The loss and fraction correct of the current weights on `batches` (a study's test set),
    /// at the current update.
    public func evaluate(on batches: [TaskBatch]) throws -> EvaluationPoint {
        let r = try evaluate(batches)
        return EvaluationPoint(update: record.updates, loss: r.loss, fractionCorrect: r.fractionCorrect)
    }

    /// The loss (mean over every target of `batches`) and fraction correct (the task's
    /// judgements, summed over the batches) of the current weights.
    func evaluate(_ batches: [TaskBatch]) throws -> (loss: Double, fractionCorrect: Double) {
        var lossSum = 0.0, targets = 0, scored = 0, correct = 0
        for batch in batches where batch.targetCount > 0 {
            let r = try model.evaluate(batch, score: task.score)
            lossSum += r.loss * Double(batch.targetCount)
            targets += batch.targetCount; scored += r.scored; correct += r.correct
        }
        return (lossSum / Double(targets), scored > 0 ? Double(correct) / Double(scored) : 0)
    }

    /// Runs until the task is solved (unless `stopWhenSolved` is false), the budget is spent, or a NaN or ±∞ appears.
    /// - Parameters:
    ///   - checkpoint: write a checkpoint here (atomically) every `checkpointEvery` updates
    ///     and when stopping.
    ///   - checkpointEvery: updates between checkpoints.
    ///   - stopAfter: stop (with a checkpoint) after this many updates of this call, as if
    ///     the run had been killed there: for tests of resuming.
    ///   - progress: called after each evaluation.
    ///   - afterUpdate: called after each update with the updates taken (to save snapshots).
    /// - Returns: the record.
    @discardableResult
    public func run(checkpoint: String? = nil, checkpointEvery: Int = 500, stopAfter: Int? = nil,
                    progress: ((EvaluationPoint) -> Void)? = nil, afterUpdate: ((Int) throws -> Void)? = nil) throws -> TrainingRecord {
        let c = configuration
        guard checkpointEvery >= 1 else { throw TrainingError.badConfiguration("checkpoint-every must be ≥ 1, got \(checkpointEvery)") }
        var clock = DispatchTime.now().uptimeNanoseconds
        func tick() {
            let now = DispatchTime.now().uptimeNanoseconds
            record.seconds += Double(now - clock) / 1e9
            clock = now
        }
        if record.updates == 0 && record.evaluations.isEmpty {
            try observe(progress)
            try profileIfDue(force: true)
        }
        var taken = 0
        while record.updates < c.updates && !(record.solved && c.stopWhenSolved != false) && !record.diverged {
            if let stopAfter, taken >= stopAfter { break }
            var batch = task.batch(size: c.batch, using: data)
            if let noise = c.inputNoise, noise > 0 {
                // From the data source, after the batch: resumable from its state, and no
                // draw at all without noise, so noiseless runs keep their streams.
                for k in batch.inputs.indices { batch.inputs[k] += data.gaussian(standardDeviation: noise) }
            }
            var (loss, gradients) = try model.lossAndGradient(batch)
            let norm = clipGradientNorm(&gradients, maxNorm: c.clip)
            guard loss.isFinite && norm.isFinite else {
                let place = try model.locateNonFinite(batch) ?? "the forward pass is finite; \(loss.isFinite ? "the gradient" : "the loss") is not (backward pass)"
                record.diverged = true
                record.divergence = "update \(record.updates + 1): \(place)"
                record.trainLoss.append(loss); record.gradientNorm.append(norm)
                break
            }
            var parameters = model.parameters
            optimizer.update(&parameters, gradients: gradients, rate: c.schedule.rate(base: c.learningRate, update: record.updates))
            model.parameters = parameters
            record.updates += 1
            taken += 1
            record.trainLoss.append(loss)
            record.gradientNorm.append(norm)
            if record.updates % c.evalEvery == 0 || record.updates == c.updates { try observe(progress) }
            try profileIfDue(force: (record.solved && c.stopWhenSolved != false) || record.updates == c.updates)
            if let checkpoint, record.updates % checkpointEvery == 0 { tick(); try write(checkpoint: checkpoint) }
            try afterUpdate?(record.updates)
        }
        tick()
        if let checkpoint, !record.diverged { try write(checkpoint: checkpoint) }
        return record
    }

    private func observe(_ progress: ((EvaluationPoint) -> Void)?) throws {
        let e = try evaluate()
        record.evaluations.append(e)
        record.finalLoss = e.loss
        record.finalFractionCorrect = e.fractionCorrect
        record.finalTestLoss = e.testLoss
        record.finalTestFractionCorrect = e.testFractionCorrect
        if !record.solved && task.isSolved(loss: e.loss, fractionCorrect: e.fractionCorrect) {
            record.solved = true
            record.solvedAtUpdate = record.updates
        }
        progress?(e)
    }

    private func profileIfDue(force: Bool) throws {
        let every = configuration.profileEvery
        guard force || (every > 0 && record.updates % every == 0) else { return }
        guard record.profiles.last?.update != record.updates else { return }
        record.profiles.append(GradientProfile(update: record.updates, log10GradientH: try model.gradientProfile(heldOut[0])))
    }

    /// Writes the current state to `path` atomically (a temporary file renamed into place).
    public func write(checkpoint path: String) throws {
        let state = TrainingCheckpoint(record: record, parameters: model.parameters, optimizer: optimizer, dataState: data.stateBytes(),
                                       cell: cellIdentity)
        do { try Files.write(try state.text(), to: path) } catch {
            throw TrainingError.badCheckpoint(path: path, message: "cannot write (\(FileError.reason(error)))")
        }
    }
}
