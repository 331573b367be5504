import GateLabTasks
import GateLabSupport
import Foundation
import GateLabGSL
import GateLabExperiments

/// One trial of a preset: initialisation, on-line training until the criterion or the budget,
/// and the tests. Everything random comes from one mt19937 `RandomSource` seeded with `seed`,
/// drawn in this order: the initial weights, the fixed data sets (Exp. 3's 256 test sequences;
/// Exp. 1's training and test strings unless the preset draws them from one of its
/// `dataSetPairs`, `dataSource`), then training and test sequences as they are needed. The one
/// exception: a frozen test (`StoppingCriterion.frozenTest`) draws its sequences from a second
/// source of its own (`testSource`), so that its tests leave the training stream untouched.
///
/// A trial is `Codable`: its saved form holds weights, traces, activations, the generator's
/// state and every counter, so a resumed trial continues bit for bit (`checkpoint`, `resume`).
public struct Trial: Codable {
    /// The preset's name.
    public let preset: String
    /// The variant's name.
    public let variant: String
    /// The seed.
    public let seed: UInt64
    /// The trial's parameters.
    public let parameters: PresetParameters
    var random: RandomSource
    /// The frozen test's own source of test sequences (`testSource`); nil under every other
    /// criterion (and then absent from the checkpoint, whose bytes stay as they were).
    var testRandom: RandomSource?
    /// The network the trial trains, with its learning state.
    public internal(set) var network: TrialNetwork
    /// Training sequences (CERG: streams) presented so far.
    public private(set) var sequences = 0
    /// Training time steps so far.
    public private(set) var trainingSteps = 0
    /// Whether the trial has stopped (solved, or out of budget).
    public private(set) var finished = false
    /// Whether the stopping criterion was met.
    public private(set) var solved = false
    /// Tests taken so far.
    public private(set) var milestones: [Milestone] = []
    /// The learning curve so far (nil: resumed from a checkpoint written before trials kept one).
    var curve: LearningCurve?
    // Correctness and final error E of the most recent training sequences (a ring).
    var recentCorrect: [Bool] = []
    var recentError: [Double] = []
    var ringNext = 0
    var ringFilled = 0
    var recentWrong = 0
    var successiveCorrect = 0
    var nextNSeq = 0
    var st1Reached = false
    var trainingSet: [TaskSequence] = []
    var testSet: [TaskSequence] = []
    var buffer: TaskSequence
    var lastMeanStreamLength: Double?
    var lastTestStreamLengths: [Int] = []
    // Exps. 2a/2b's sequential construction (`ErrorStall`), while the cells are still to be
    // added: the summed training error of the current block, and the previous block's mean.
    var stallBlockError: Double?
    var stallPreviousMean: Double?
    /// The engine's full gradient for this trial's network, built when first needed (not part
    /// of the trial's state).
    var fullGradient: FullGradient?
    /// Scratch for its descent direction.
    var descent: [Double] = []

    enum CodingKeys: String, CodingKey {
        case preset, variant, seed, parameters, random, testRandom, network, sequences, trainingSteps, finished, solved, milestones, curve
        case recentCorrect, recentError, ringNext, ringFilled, recentWrong, successiveCorrect, nextNSeq, st1Reached
        case trainingSet, testSet, buffer, lastMeanStreamLength, lastTestStreamLengths, stallBlockError, stallPreviousMean
    }

    /// Starts a trial: draws the initial weights and the fixed data sets.
    /// - Parameters:
    ///   - preset: A name from `Presets.names`.
    ///   - variant: One of its variants (nil: the default one).
    ///   - seed: The seed of the trial's random source.
    ///   - parameters: Parameters replacing the preset's (e.g. with `gradient = .full`), or nil.
    /// - Throws: `ReproductionError` for an unknown preset or an unsupported option.
    public init(preset: String, variant: String? = nil, seed: UInt64, parameters: PresetParameters? = nil) throws {
        let found = try Presets.parameters(preset, variant: variant)
        let p = parameters ?? found
        self.preset = preset
        self.variant = variant ?? Presets.all.first { $0.name == preset }!.defaultVariant
        self.seed = seed
        self.parameters = p
        curve = LearningCurve(budget: p.budget)
        if p.task == .continualReber && p.gradient == .full {
            throw ReproductionError.unsupported("full BPTT is not defined on an unbounded stream (CERG); use the truncated gradient")
        }
        let rng = try RandomSource(seed: seed)
        random = rng
        if p.gradient == .full && p.network == nil {
            // Built now, so that a network the cell files cannot express (a state decay, forget
            // gates with gate feeds) is refused here, with the reason, not at the first sequence.
            fullGradient = try FullGradient(architecture: p.architecture, stateDecay: p.stateDecay)
        }
        if case .tanhRNN(let hidden) = p.network {
            guard p.task != .continualReber && p.task != .embeddedReber else {
                throw ReproductionError.unsupported("the tanh-RNN control is defined for the tasks with one target at the sequence end (Exps. 2c–6)")
            }
            let a = p.architecture
            let count = TanhRNNControl.weightCount(inputs: a.inputs, hidden: hidden, outputs: a.outputs)
            // Its weights uniform in the preset's interval, drawn where the LSTM's would be.
            network = .tanhRNN(TanhRNNControl(inputs: a.inputs, hidden: hidden, outputs: a.outputs,
                                       weights: rng.uniformArray(count: count, low: -p.initialisation.range, high: p.initialisation.range)))
        } else {
            var lstm = TruncatedRTRL(architecture: p.architecture, weights: p.initialisation.weights(for: p.architecture, using: rng),
                                     stateDecay: p.stateDecay)
            // Exps. 2a/2b: the cells are added later (`ErrorStall`); the tanh-RNN control has
            // none to add.
            if let stall = p.addCellsWhenErrorStalls {
                guard stall.window >= 1 else { throw ReproductionError.unsupported("the error-stall window must be at least 1 sequence, got \(stall.window)") }
                lstm.cellsActive = false
            }
            network = .lstm(lstm)
        }
        buffer = TaskSequence(inputSize: p.architecture.inputs, outputSize: p.architecture.outputs)
        switch p.criterion {
        case .successiveCorrect, .perfectStreams: break
        case .frozenTest(let count, let every):
            guard count >= 1, every >= 1 else {
                throw ReproductionError.unsupported("a frozen test needs at least 1 test sequence every at least 1 training sequence, got \(count) every \(every)")
            }
            guard p.task != .continualReber else {
                throw ReproductionError.unsupported("a frozen test runs sequences with a target at their end; the continual stream is judged by its test streams")
            }
            testRandom = try Trial.testSource(seed: seed)
        case .st3(_, let window), .nSeq(_, let window):
            recentCorrect = [Bool](repeating: true, count: window)
            recentError = [Double](repeating: 0, count: window)
        case .st1st2(let size, _, _), .st1st2Tolerant(let size, _, _, _):
            let task = p.task.generator!
            testSet = (0..<size).map { _ in task.sample(using: rng) }
        case .trainingAndTestSetCorrect:
            let task = EmbeddedReberTask()
            let (training, test) = EmbeddedReberTask.dataSets(using: try p.dataSetPairs.map { try Trial.dataSource(seed: seed, pairs: $0) } ?? rng)
            func coded(_ s: [Reber.Symbol]) -> TaskSequence {
                var sequence = TaskSequence(inputSize: 7, outputSize: 7)
                task.code(s, into: &sequence)
                return sequence
            }
            trainingSet = training.map(coded)
            testSet = test.map(coded)
        }
    }

    /// The generator of a trial's fixed data sets when the preset has `dataSetPairs` = n
    /// (Exp. 1: 3 pairs × 10 initialisations, §5.1): pair k = 1 + (seed − 1) mod n (seed 0: pair
    /// n), drawn by GSL's `ranlxd2` seeded with k — another algorithm than the trials' mt19937,
    /// so the data never repeat a trial's weight stream.
    /// - Parameters:
    ///   - seed: The trial's seed.
    ///   - pairs: n, at least 1.
    public static func dataSource(seed: UInt64, pairs: Int) throws -> RandomSource {
        precondition(pairs >= 1, "at least one data pair")
        return try RandomSource(seed: dataPair(seed: seed, pairs: pairs), generator: "ranlxd2")
    }

    /// The source of a frozen test's sequences (`StoppingCriterion.frozenTest`): GSL's `taus2`
    /// seeded with the trial's seed — another algorithm than the trials' mt19937, so the test
    /// sequences are neither the trial's own training sequences nor another seed's, and drawing
    /// them leaves the training stream as it is. (`taus2` keeps the seed's low 32 bits and
    /// takes seed 0 as 1, so seeds 0 and 1 share their test sequences.)
    /// - Parameter seed: The trial's seed.
    public static func testSource(seed: UInt64) throws -> RandomSource {
        try RandomSource(seed: seed, generator: "taus2")
    }

    /// The name of a frozen test's milestones.
    public static let frozenTestName = "frozen-test"

    /// The data pair k of `dataSource`.
    public static func dataPair(seed: UInt64, pairs: Int) -> UInt64 { 1 + (seed + UInt64(pairs) - 1) % UInt64(pairs) }

    /// Trains until the trial stops or `limit` more training sequences (streams) have been
    /// presented.
    /// - Parameter limit: The most sequences to present in this call.
    public mutating func train(atMost limit: Int = .max) {
        var presented = 0
        while !finished && presented < limit {
            if parameters.task == .continualReber { trainOneStream() } else { trainOneSequence() }
            presented += 1
            if !finished && sequences >= parameters.budget { finished = true }
        }
    }

    /// Runs the trial to its end and returns its record (with the final test).
    public mutating func run() -> TrialRecord {
        let start = ContinuousClock.now
        train()
        var record = finalRecord()
        let elapsed = ContinuousClock.now - start
        record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return record
    }

    /// The trial's saved form: one JSON line sealed with its checksum (`SealedLine`, as the
    /// grid's point files), so that a damaged or hand-edited checkpoint is refused on resume
    /// instead of resuming a different trial. Resuming it continues bit for bit.
    public func checkpoint() throws -> Data {
        Data(SealedLine.seal(String(decoding: try JSONEncoder().encode(self), as: UTF8.self)).utf8)
    }

    /// A trial restored from `checkpoint()`.
    /// - Parameter data: The saved form.
    /// - Throws: `ReproductionError.damagedCheckpoint` when the checksum is missing or does not
    ///   match; a decoding error when the sealed content is not a trial.
    public static func resume(from data: Data) throws -> Trial {
        let (body, intact) = SealedLine.unseal(String(decoding: data, as: UTF8.self).trimmingCharacters(in: .newlines))
        // A cell training's checkpoint (sealed the same way, or older and unsealed) is named as one.
        if let keys = try? JSONDecoder().decode(TopLevelKeys.self, from: Data(body.utf8)).keys,
           keys.isSuperset(of: ["record", "optimizer", "data_state"]) {
            throw ReproductionError.damagedCheckpoint("is the checkpoint of a cell's training (`gatelab train --task … --cell …`), "
                + "not of a preset's trial: resume it with that command's options, without --preset")
        }
        guard let intact else {
            throw ReproductionError.damagedCheckpoint("has no checksum: it is not a trial checkpoint of this GateLab (the format of trial checkpoints changed in 0.3.0's last revision); start afresh without --resume")
        }
        guard intact else {
            throw ReproductionError.damagedCheckpoint("its checksum does not match its content (edited by hand, or damaged); start afresh without --resume")
        }
        let trial = try JSONDecoder().decode(Trial.self, from: Data(body.utf8))
        try trial.validate()
        return trial
    }

    /// Checks a decoded trial against a fresh one of the same preset, variant, seed and
    /// parameters, so that a checkpoint edited and resealed by hand cannot make training index
    /// out of range or resume another network: the network's kind, architecture and sizes,
    /// finite weights and activations, counters that are not negative, the recent-sequence
    /// window's length, position and wrong count, the fixed data sets (drawn from the seed,
    /// so they must be the seed's), the sequence buffer's sizes.
    /// - Throws: `ReproductionError.damagedCheckpoint` naming the first inconsistency.
    func validate() throws {
        let fresh = try Trial(preset: preset, variant: variant, seed: seed, parameters: parameters)
        func require(_ ok: Bool, _ what: String) throws {
            if !ok { throw ReproductionError.damagedCheckpoint("its content is not a consistent trial: \(what)") }
        }
        switch (network, fresh.network) {
        case let (.lstm(a), .lstm(b)):
            try require(a.architecture == b.architecture && a.stateDecay == b.stateDecay && a.weights.count == b.weights.count
                        && a.gradient.count == b.gradient.count && a.state.count == b.state.count,
                        "the network is not the preset's (architecture, state decay or sizes)")
            try require(a.weights.allSatisfy(\.isFinite) && a.gradient.allSatisfy(\.isFinite) && a.state.allSatisfy(\.isFinite),
                        "a weight, gradient or activation is not finite")
        case let (.tanhRNN(a), .tanhRNN(b)):
            try require(a.inputs == b.inputs && a.hidden == b.hidden && a.outputs == b.outputs && a.weights.count == b.weights.count,
                        "the network is not the preset's (sizes)")
            try require(a.weights.allSatisfy(\.isFinite), "a weight is not finite")
        default:
            try require(false, "another kind of network than the preset's")
        }
        try require(sequences >= 0 && trainingSteps >= 0 && successiveCorrect >= 0 && nextNSeq >= 0, "a negative counter")
        try require(recentCorrect.count == fresh.recentCorrect.count && recentError.count == fresh.recentError.count,
                    "the window of recent sequences has \(recentCorrect.count) flags and \(recentError.count) errors, the criterion's \(fresh.recentCorrect.count)")
        try require(recentCorrect.isEmpty ? ringNext == 0 && ringFilled == 0
                        : (0..<recentCorrect.count).contains(ringNext) && (0...recentCorrect.count).contains(ringFilled),
                    "the position in the window of recent sequences is out of range")
        try require(recentWrong == recentCorrect.lazy.filter { !$0 }.count, "the count of recent wrong sequences does not match the window")
        try require(recentError.allSatisfy(\.isFinite), "a recent error is not finite")
        try require(trainingSet == fresh.trainingSet && testSet == fresh.testSet, "the fixed training or test set is not the seed's")
        try require(testRandom?.generatorName == fresh.testRandom?.generatorName && testRandom?.seed == fresh.testRandom?.seed,
                    "the source of the frozen test's sequences is not the criterion's (present, its algorithm and seed)")
        try require(buffer.inputSize == fresh.buffer.inputSize && buffer.outputSize == fresh.buffer.outputSize, "the sequence buffer has other sizes")
    }

    // MARK: Training

    mutating func trainOneSequence() {
        let rng = random
        if parameters.task == .embeddedReber {
            buffer = trainingSet[rng.integer(below: trainingSet.count)]
        } else {
            parameters.task.generator!.generate(into: &buffer, using: rng)
        }
        let outcome: SequenceOutcome
        let (rule, rate, sequence) = (parameters.correctness, parameters.learningRate, buffer)
        switch parameters.gradient {
        case _ where network.isTanhRNN:
            outcome = fullGradientStep()
        case .truncated where parameters.weightUpdate == .sequenceEnd:
            outcome = network.withLSTM { net in
                defer { net.applyUpdate(learningRate: rate) }
                return net.run(sequence, rule: rule, timing: .accumulate)
            }
        case .truncated:
            outcome = network.withLSTM { $0.run(sequence, rule: rule, timing: .everyTargetStep(learningRate: rate)) }
        case .full:
            outcome = fullGradientStep()
        }
        sequences += 1
        trainingSteps += buffer.length
        curve?.add(sequences: sequences, correct: outcome.correct, squared: outcome.squaredErrorSum,
                   values: outcome.targetSteps * parameters.architecture.outputs, steps: buffer.length, stream: false)
        if !recentCorrect.isEmpty {
            if !recentCorrect[ringNext] { recentWrong -= 1 }
            recentCorrect[ringNext] = outcome.correct
            recentError[ringNext] = outcome.finalError
            if !outcome.correct { recentWrong += 1 }
            ringNext = (ringNext + 1) % recentCorrect.count
            ringFilled = min(ringFilled + 1, recentCorrect.count)
        }
        successiveCorrect = outcome.correct ? successiveCorrect + 1 : 0
        addCellsIfErrorStalled(outcome)
        checkCriterion()
    }

    /// Exps. 2a/2b's sequential construction: while the cells are still to be added, sums the
    /// training error E of each block of `ErrorStall.window` sequences and adds the cells after
    /// the first block whose mean has not fallen by at least `relativeFall` from the block
    /// before (a "cells added" milestone, without a test, records when).
    mutating func addCellsIfErrorStalled(_ outcome: SequenceOutcome) {
        guard let stall = parameters.addCellsWhenErrorStalls, network.lstm?.cellsActive == false else { return }
        let sum = (stallBlockError ?? 0) + outcome.squaredErrorSum
        guard sequences % stall.window == 0 else { stallBlockError = sum; return }
        let mean = sum / Double(stall.window)
        stallBlockError = 0
        if let previous = stallPreviousMean, !(mean <= previous * (1 - stall.relativeFall)) {
            network.withLSTM { $0.cellsActive = true }
            milestones.append(Milestone(name: "cells added", sequences: sequences, wrong: 0, testCount: 0, testMSE: nil))
            (stallBlockError, stallPreviousMean) = (nil, nil)
        } else {
            stallPreviousMean = mean
        }
    }

    /// Full BPTT over the sequence by the engine (`FullGradient`); the weights change once, at
    /// its end (also in Exp. 1, where the truncated rule changes them every step).
    mutating func fullGradientStep() -> SequenceOutcome {
        let (rule, rate, sequence) = (parameters.correctness, parameters.learningRate, buffer)
        let engine = fullGradientEngine()
        let weights = network.weights
        if descent.count != weights.count { descent = [Double](repeating: 0, count: weights.count) }
        let outcome = descent.withUnsafeMutableBufferPointer { d in
            engineResult { try engine.run(weights: weights, sequence: sequence, rule: rule, descent: d) }
        }
        network.update { w in for i in w.indices { w[i] += rate * descent[i] } }
        return outcome
    }

    /// The engine's full gradient for this trial's network (built once).
    mutating func fullGradientEngine() -> FullGradient {
        if let engine = fullGradient { return engine }
        let engine: FullGradient
        switch network {
        case .tanhRNN(let net): engine = FullGradient(control: net)
        case .lstm(let net): engine = engineResult { try FullGradient(architecture: net.architecture, stateDecay: net.stateDecay) }
        }
        fullGradient = engine
        return engine
    }

    mutating func checkCriterion() {
        switch parameters.criterion {
        case .trainingAndTestSetCorrect(let every):
            guard sequences % every == 0 else { return }
            if evaluate(trainingSet).wrong == 0 && evaluate(testSet).wrong == 0 { solved = true; finished = true }
        case .successiveCorrect(let count):
            if successiveCorrect >= count { solved = true; finished = true }
        case .st1st2(_, let threshold, let every):
            checkST1ST2(fewerWrongThan: 1, meanAbsoluteError: threshold, every: every)
        case .st1st2Tolerant(_, let allowed, let threshold, let every):
            checkST1ST2(fewerWrongThan: allowed, meanAbsoluteError: threshold, every: every)
        case .st3(let threshold, let window):
            guard ringFilled == window && recentWrong == 0 else { return }
            if recentError.reduce(0, +) / Double(window) < threshold { solved = true; finished = true }
        case .nSeq(let levels, let window):
            while ringFilled == window && nextNSeq < levels.count && recentWrong < levels[nextNSeq] {
                let (wrong, mse) = test(count: parameters.testCount)
                milestones.append(Milestone(name: "n_seq<\(levels[nextNSeq])", sequences: sequences, wrong: wrong,
                                            testCount: parameters.testCount, testMSE: mse))
                nextNSeq += 1
            }
            if nextNSeq == levels.count { solved = true; finished = true }
        case .frozenTest(let count, let every):
            guard sequences % every == 0 else { return }
            let (wrong, mse) = test(count: count, using: testRandom)
            milestones.append(Milestone(name: Trial.frozenTestName, sequences: sequences, wrong: wrong, testCount: count, testMSE: mse))
            if wrong == 0 { solved = true; finished = true }
        case .perfectStreams:
            break
        }
    }

    /// ST1 (fewer than `fewerWrongThan` of the fixed test set misclassified; 1 in Exps. 3a and
    /// 3c, 6 in 3b) and ST2 (ST1 and the mean absolute test error below `meanAbsoluteError`),
    /// checked every `every` training sequences.
    mutating func checkST1ST2(fewerWrongThan: Int, meanAbsoluteError threshold: Double, every: Int) {
        guard sequences % every == 0 else { return }
        let (wrong, mse, meanAbsolute) = evaluate(testSet)
        guard wrong < fewerWrongThan else { return }
        if !st1Reached {
            st1Reached = true
            milestones.append(Milestone(name: "ST1", sequences: sequences, wrong: wrong, testCount: testSet.count, testMSE: mse))
        }
        if meanAbsolute < threshold {
            milestones.append(Milestone(name: "ST2", sequences: sequences, wrong: wrong, testCount: testSet.count, testMSE: mse))
            solved = true
            finished = true
        }
    }

    // MARK: Testing

    /// A forward pass over `sequence` without learning, from zero activations: the LSTM's own
    /// (`TruncatedRTRL`'s), the control's through the engine (`FullGradient`).
    mutating func testOne(_ sequence: TaskSequence) -> SequenceOutcome {
        let rule = parameters.correctness
        guard network.isTanhRNN else { return network.withLSTM { $0.run(sequence, rule: rule, timing: .none) } }
        let engine = fullGradientEngine(), weights = network.weights
        return engineResult { try engine.run(weights: weights, sequence: sequence, rule: rule, descent: nil) }
    }

    /// Forward passes over fixed sequences: how many are wrong, the MSE, and (single-output
    /// tasks only, i.e. Exp. 3) the mean absolute error at the sequence end. Errors are against
    /// the noise-free targets where the targets are noisy (Exp. 3c).
    mutating func evaluate(_ sequences: [TaskSequence]) -> (wrong: Int, mse: Double, meanAbsolute: Double) {
        var wrong = 0, squared = 0.0, absolute = 0.0, count = 0
        let n = parameters.architecture.outputs
        for sequence in sequences {
            let outcome = testOne(sequence)
            if !outcome.correct { wrong += 1 }
            squared += outcome.squaredErrorSum
            count += outcome.targetSteps * n
            if n == 1 { absolute += outcome.finalError.squareRoot() }
        }
        return (wrong, squared / Double(count), absolute / Double(sequences.count))
    }

    /// A test on `count` fresh random sequences: wrong count and MSE.
    /// - Parameters:
    ///   - count: The test sequences.
    ///   - source: Where they are drawn from: the trial's own stream (nil, after training or at
    ///     Exp. 5's levels), or the frozen test's (`testRandom`).
    mutating func test(count: Int, using source: RandomSource? = nil) -> (wrong: Int, mse: Double) {
        let task = parameters.task.generator!
        let rng = source ?? random
        var wrong = 0, squared = 0.0, values = 0
        for _ in 0..<count {
            task.generate(into: &buffer, using: rng)
            let outcome = testOne(buffer)
            if !outcome.correct { wrong += 1 }
            squared += outcome.squaredErrorSum
            values += outcome.targetSteps * parameters.architecture.outputs
        }
        return (wrong, squared / Double(values))
    }

    mutating func finalRecord() -> TrialRecord {
        var final: Milestone
        var outcome: String?
        if parameters.task == .continualReber {
            guard case .perfectStreams(let streams, let length, let every) = parameters.criterion else {
                preconditionFailure("the continual stream is judged by perfect streams")
            }
            if lastTestStreamLengths.isEmpty || (!solved && sequences % every != 0) {
                (lastTestStreamLengths, lastMeanStreamLength) = testStreams(streams, length: length)
            }
            outcome = solved ? "perfect" : (lastMeanStreamLength ?? 0) > 1000 ? "good" : "rest"
            // wrong = test streams with an error before `length` symbols.
            final = Milestone(name: solved ? "perfect" : "final", sequences: sequences,
                              wrong: lastTestStreamLengths.filter { $0 < length }.count, testCount: streams, testMSE: nil)
            if !solved { milestones.append(final) }
        } else if parameters.task == .embeddedReber {
            let (wrong, mse, _) = evaluate(testSet)
            final = Milestone(name: "final (test set)", sequences: sequences, wrong: wrong, testCount: testSet.count, testMSE: mse)
            milestones.append(final)
        } else if case .nSeq = parameters.criterion, solved {
            final = milestones.last!
        } else if case .frozenTest = parameters.criterion, let last = milestones.last, last.name == Trial.frozenTestName, last.sequences == sequences {
            // Solved: the passing test. Out of budget at a test: that test, not a second one of
            // the same weights.
            final = last
        } else {
            // A frozen-test trial's final test draws from its test stream too.
            let (wrong, mse) = test(count: parameters.testCount, using: testRandom)
            final = Milestone(name: "final", sequences: sequences, wrong: wrong, testCount: parameters.testCount, testMSE: mse)
            milestones.append(final)
        }
        curve?.close(at: sequences, stream: parameters.task == .continualReber)
        var record = TrialRecord(preset: preset, variant: variant, seed: seed, parameters: parameters, solved: solved,
                                 sequences: sequences, trainingSteps: trainingSteps, wrong: final.wrong, testCount: final.testCount,
                                 testMSE: final.testMSE, milestones: milestones, cergOutcome: outcome,
                                 meanTestStreamLength: lastMeanStreamLength, seconds: 0)
        record.curve = curve?.points
        return record
    }

    // MARK: The continual stream (Gers 2000)

    /// One training stream: α back to its start value, activations reset, then one symbol per
    /// step with a weight change after every step, until the first incorrect prediction (whose
    /// update is still applied [interp]) or the cap. With `resetAtStringStart` the activations
    /// are also reset at every embedded string's leading B (the external-reset baseline).
    mutating func trainOneStream() {
        let rng = random
        var stream = ContinualReberStream()
        var alpha = parameters.learningRate
        var input = [Double](repeating: 0, count: 7), target = [Double](repeating: 0, count: 7)
        guard case .absolute(let beta) = parameters.correctness else { return }
        let (cap, resetAtStringStart, decay) = (parameters.trainingStreamCap, parameters.resetAtStringStart, parameters.alphaDecayPerStep)
        let steps = network.withLSTM { net in
            net.resetActivations()
            var steps = 0
            for step in 0..<cap {
                let next = stream.next(using: rng)
                if resetAtStringStart && next.startsString && step > 0 { net.resetActivations() }
                let correct = net.streamStep(input: next.input, legalMask: next.legalMask, beta: beta, learn: true,
                                             inputBuffer: &input, targetBuffer: &target)
                net.applyUpdate(learningRate: alpha)
                if let decay { alpha *= decay }
                steps += 1
                if !correct { break }
            }
            return steps
        }
        trainingSteps += steps
        sequences += 1
        curve?.add(sequences: sequences, correct: steps == cap, squared: 0, values: 0, steps: steps, stream: true)
        if case .perfectStreams(let streams, let length, let every) = parameters.criterion, sequences % every == 0 {
            let (lengths, mean) = testStreams(streams, length: length)
            (lastTestStreamLengths, lastMeanStreamLength) = (lengths, mean)
            if lengths.allSatisfy({ $0 == length }) {
                milestones.append(Milestone(name: "perfect", sequences: sequences, wrong: 0, testCount: streams, testMSE: nil))
                solved = true
                finished = true
            }
        }
    }

    /// Test streams (fresh, from the trial's generator [interp]): each from reset activations,
    /// no learning, stopped at the first error or at `length`; returns the error-free lengths.
    mutating func testStreams(_ count: Int, length: Int) -> (lengths: [Int], mean: Double) {
        let rng = random
        var input = [Double](repeating: 0, count: 7), target = [Double](repeating: 0, count: 7)
        guard case .absolute(let beta) = parameters.correctness else { return ([], 0) }
        let resetAtStringStart = parameters.resetAtStringStart
        let lengths: [Int] = network.withLSTM { net in
            (0..<count).map { _ in
                var stream = ContinualReberStream()
                net.resetActivations()
                var correctSteps = 0
                while correctSteps < length {
                    let next = stream.next(using: rng)
                    if resetAtStringStart && next.startsString && correctSteps > 0 { net.resetActivations() }
                    guard net.streamStep(input: next.input, legalMask: next.legalMask, beta: beta, learn: false,
                                         inputBuffer: &input, targetBuffer: &target) else { break }
                    correctSteps += 1
                }
                return correctSteps
            }
        }
        return (lengths, Double(lengths.reduce(0, +)) / Double(count))
    }
}

/// The network a trial trains, with its learning state: the papers' LSTM (`TruncatedRTRL`,
/// which also runs the full gradient) or the tanh-RNN control. A trial holds only the one it
/// trains.
public enum TrialNetwork: Codable {
    /// The LSTM of H&S 1997 or Gers et al. 2000.
    case lstm(TruncatedRTRL)
    /// The tanh-RNN control (`PresetParameters.network`).
    case tanhRNN(TanhRNNControl)

    /// The LSTM, or nil in a tanh-RNN control trial.
    public var lstm: TruncatedRTRL? { if case .lstm(let net) = self { net } else { nil } }
    /// The tanh RNN, or nil in an LSTM trial.
    public var tanhRNN: TanhRNNControl? { if case .tanhRNN(let net) = self { net } else { nil } }
    /// Whether this is the tanh-RNN control.
    var isTanhRNN: Bool { if case .tanhRNN = self { true } else { false } }

    /// Runs `body` on the LSTM in place. The enum is consumed while `body` runs, so the
    /// LSTM's arrays are referenced once and change without being copied.
    mutating func withLSTM<R>(_ body: (inout TruncatedRTRL) -> R) -> R {
        switch consume self {
        case .lstm(var net):
            defer { self = .lstm(net) }
            return body(&net)
        case .tanhRNN(let net):
            self = .tanhRNN(net)
            preconditionFailure("the tanh-RNN control trial has no LSTM")
        }
    }

    /// The network's flat weights.
    var weights: [Double] {
        switch self {
        case .lstm(let net): net.weights
        case .tanhRNN(let net): net.weights
        }
    }

    /// Changes the network's flat weights in place.
    mutating func update(_ body: (inout [Double]) -> Void) {
        switch consume self {
        case .lstm(var net):
            body(&net.weights)
            self = .lstm(net)
        case .tanhRNN(var net):
            body(&net.weights)
            self = .tanhRNN(net)
        }
    }
}

/// The result of a call into the engine that cannot fail for a network `FullGradient` built
/// itself (a failure is a bug in GateLab, reported as such).
func engineResult<R>(_ body: () throws -> R) -> R {
    do { return try body() } catch { preconditionFailure("GateLab bug: the full gradient's engine failed: \(error)") }
}

/// The keys of a JSON object, whatever their values (to tell one kind of file from another).
struct TopLevelKeys: Decodable {
    struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init?(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }
    let keys: Set<String>
    init(from decoder: Decoder) throws { keys = Set(try decoder.container(keyedBy: Key.self).allKeys.map(\.stringValue)) }
}
