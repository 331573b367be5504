import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL
import GateLabInterchange
import Testing
@testable import GateLabTasks
@testable import GateLabTraining

/// The chorales task: its committed data file, the Bernoulli readout's loss and gradient, the
/// frame accuracy, the fixed held-out splits, a short training run and bad input.
@Suite struct ChoralesTests {
    /// The committed data file, from the source tree (the tests may run from anywhere).
    static let file = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(Chorales.dataFile).path
    /// `Data/chorales/README.md`'s SHA-256 of the file.
    static let sha256 = "ce6cc98756e3bcd3ecb69895f9123dffffa9392d410295afb00968d83149c259"
    static let ln2 = Foundation.log(2.0)

    @Test func theDataFileIsTheCommittedOne() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: Self.file))
        #expect(SHA256.hex(bytes) == Self.sha256)
        let data = try ChoraleData.load(Self.file)
        #expect(data.chorales.count == 400)
        #expect(data.indices(.train).count == 239 && data.indices(.validation).count == 80 && data.indices(.test).count == 81)
        #expect(data.chorales.map(\.count).reduce(0, +) == 22395)
        #expect(data.chorales.map(\.count).min() == 24 && data.chorales.map(\.count).max() == 229)
        #expect(data.names.count == data.chorales.count && data.names.first == "bwv1.6")
        #expect(data.metadata["music21_version"] == "10.5.1")
        // Four voices: 1 … 4 keys sound in a frame (a rest in every voice only at a fermata's
        // pause, if ever); every key within the 88.
        let counts = data.chorales.joined().map(\.count)
        #expect(counts.allSatisfy { (0...4).contains($0) })
        #expect(Double(counts.filter { $0 >= 3 }.count) > 0.95 * Double(counts.count))
        #expect(data.chorales.joined().joined().allSatisfy { (0..<88).contains($0) })
        // The versions of one chorale (bwv18.5-lz, bwv18.5-w) are in one split.
        let byName = Dictionary(uniqueKeysWithValues: zip(data.names, data.splits))
        #expect(byName["bwv18.5-lz"] != nil && byName["bwv18.5-lz"] == byName["bwv18.5-w"])
    }

    @Test func taskShapesPiecesAndBaselines() throws {
        let whole = try Chorales(length: 1000, dataFile: Self.file)
        #expect(whole.steps == 228 && whole.longestChorale == 228)
        #expect(whole.pieceCount(.train) == 239 && whole.pieceCount(.validation) == 80 && whole.pieceCount(.test) == 81)
        #expect(whole.inputSize == 88 && whole.loss == .bernoulli(outputs: 88) && !whole.hasCriterion)
        #expect(whole.dataFiles == [Self.file])
        // The memoryless baseline (training frequencies) is far below predicting 1/2.
        #expect(whole.baseline > 5 && whole.baseline < 88 * Self.ln2 / 2, "\(whole.baseline)")
        // Pieces of at most T steps cover every step of every chorale once.
        let cut = try Chorales(length: 16, dataFile: Self.file)
        #expect(cut.steps == 16)
        let data = cut.data
        for split in ChoraleData.Split.allCases {
            let steps = data.indices(split).map { data.chorales[$0].count - 1 }
            #expect(cut.pieces[split]!.map(\.count).reduce(0, +) == steps.reduce(0, +))
            #expect(cut.pieceCount(split) == steps.map { ($0 + 15) / 16 }.reduce(0, +))
        }
    }

    @Test func batchesAreNextStepPredictionWithoutPadding() throws {
        let task = try Chorales(length: 40, dataFile: Self.file)
        let batch = task.batch(size: 6, using: try RandomSource(seed: 5))
        #expect(batch.steps == 40 && batch.inputSize == 88)
        #expect(batch.targetCount == batch.lengths.reduce(0, +))
        for targets in batch.targets {
            #expect(targets.rows == (0..<6).filter { batch.lengths[$0] > targets.step })
            for (j, b) in targets.rows.enumerated() where targets.step + 1 < batch.lengths[b] {
                // The target of step t is the input of step t + 1.
                #expect((0..<88).allSatisfy { targets.values[j * 88 + $0] == batch[targets.step + 1, b, $0] })
            }
        }
        for b in 0..<6 { #expect((batch.lengths[b]..<40).allSatisfy { t in (0..<88).allSatisfy { batch[t, b, $0] == 0 } }) }
        #expect(task.batch(size: 6, using: try RandomSource(seed: 5)) == batch)
        // The held-out set is the whole split, in order, the last batch's spare rows empty.
        let held = try #require(task.heldOut(.validation, batchSize: 32))
        #expect(held.count == (task.pieceCount(.validation) + 31) / 32)
        #expect(held.map(\.targetCount).reduce(0, +) == task.pieces[.validation]!.map(\.count).reduce(0, +))
        let spare = held.count * 32 - task.pieceCount(.validation)
        #expect(held.last!.lengths.suffix(spare).allSatisfy { $0 == 0 })
        #expect(task.heldOut(.test, batchSize: 32)!.map(\.targetCount).reduce(0, +) == task.pieces[.test]!.map(\.count).reduce(0, +))
        // Generated tasks keep their seeded held-out set and have no data files.
        let adding = try AddingProblem(length: 10)
        #expect(adding.heldOut(.validation, batchSize: 4) == nil && adding.dataFiles.isEmpty && adding.hasCriterion)
        #expect(adding.score(prediction: [1.0], value: [1.05], label: -1) == (1, 1))
    }

    /// The readout's loss for bias `bias` (weights 0, so y = bias for every row) and targets.
    func readoutLoss(bias: [Double], rows: [Int], values: [Double], batch: Int, total: Int) throws -> Double {
        let k = bias.count
        let readout = try Readout(batch: batch, hiddenSize: 1, loss: .bernoulli(outputs: k))
        try readout.load(weight: Tensor(rows: k, cols: 1), bias: Tensor(rows: 1, cols: k, scalars: bias))
        return try readout.forward(hidden: Tensor(rows: batch, cols: 1), StepTargets(step: 0, rows: rows, values: values), total: total)
    }

    @Test func bernoulliNLLOfKnownOutputs() throws {
        // σ(0) = 1/2 for every key: 88 ln 2 per step, whatever the targets.
        let rng = try RandomSource(seed: 1)
        let targets = (0..<(3 * 88)).map { _ in rng.uniform() < 0.1 ? 1.0 : 0.0 }
        let half = try readoutLoss(bias: [Double](repeating: 0, count: 88), rows: [0, 1, 2], values: targets, batch: 3, total: 3)
        #expect(abs(half - 88 * Self.ln2) < 1e-12)
        // By hand: y = (2, −1, 800, −800) against z = (1, 0, 0, 1): −ln σ(2) − ln(1 − σ(−1)) + 800 + 800.
        let byHand = Foundation.log(1 + Foundation.exp(-2.0)) + Foundation.log(1 + Foundation.exp(-1.0)) + 1600
        let one = try readoutLoss(bias: [2, -1, 800, -800], rows: [0], values: [1, 0, 0, 1], batch: 1, total: 1)
        #expect(abs(one - byHand) < 1e-12, "\(one) vs \(byHand)")
        // A row without a target (padding) counts for nothing; the step's share is 1/total.
        let padded = try readoutLoss(bias: [2, -1, 800, -800], rows: [1], values: [1, 0, 0, 1], batch: 3, total: 4)
        #expect(abs(padded - byHand / 4) < 1e-12)
    }

    @Test func frameAccuracyCountsTruePositivesOverTPFPFN() throws {
        let task = try Chorales(length: 8, dataFile: Self.file)
        // Keys 0 hit, 1 missed (FN), 2 false alarm (FP), 3 right rest; y = 0 (σ = 1/2) is off.
        #expect(task.score(prediction: [1, -1, 2, -3, 0], value: [1, 1, 0, 0, 1], label: -1) == (1, 4))
        #expect(task.score(prediction: [-1, -2], value: [0, 0], label: -1) == (0, 0))   // a silent frame adds nothing
        #expect(task.isCorrect(prediction: [3, -1], value: [1, 0], label: -1))
        #expect(!task.isCorrect(prediction: [3, 1], value: [1, 0], label: -1))
        // Summed over frames, not averaged per frame: (1 + 3) / (4 + 3), not (1/4 + 3/3) / 2.
        let model = try SequenceModel(cell: try BuiltinCells.resolve("lstm"), inputSize: 88, hiddenSize: 2, layers: 1, loss: .bernoulli(outputs: 88),
                                      batch: 2, steps: 1, initialization: .init(forgetBias: nil), rng: try RandomSource(seed: 1))
        model.readoutWeight = Tensor(rows: 88, cols: 2)
        var bias = [Double](repeating: -5, count: 88)
        bias[0] = 5; bias[2] = 5; bias[3] = 5
        model.readoutBias = Tensor(rows: 1, cols: 88, scalars: bias)
        var batch = TaskBatch(size: 2, steps: 1, inputSize: 88)
        var values = [Double](repeating: 0, count: 2 * 88)
        values[0] = 1; values[1] = 1                    // row 0: keys 0, 1 → TP 1, FN 1, FP 2 (keys 2, 3)
        values[88 + 0] = 1; values[88 + 2] = 1; values[88 + 3] = 1   // row 1: keys 0, 2, 3 → TP 3
        batch.targets = [StepTargets(step: 0, rows: [0, 1], values: values)]
        let r = try model.evaluate(batch, score: task.score)
        #expect(r.correct == 4 && r.scored == 7)
    }

    @Test func bernoulliReadoutGradientMatchesFiniteDifferences() throws {
        // Logits near 0 (exactly 0 for the zero start of row 0), moderate and large; rows
        // without a target among them.
        let (b, h, k) = (3, 2, 5)
        let readout = try Readout(batch: b, hiddenSize: h, loss: .bernoulli(outputs: k))
        let rng = try RandomSource(seed: 4)
        let hidden = Tensor(rows: b, cols: h, scalars: [0, 0] + rng.uniformArray(count: (b - 1) * h, low: -3, high: 3))
        let step = StepTargets(step: 0, rows: [0, 2], values: [1, 0, 1, 0, 0, 0, 1, 1, 0, 1])
        for (weights, biases) in [([Double](repeating: 0, count: k * h), [Double](repeating: 0, count: k)),
                                  (rng.uniformArray(count: k * h, low: -2, high: 2), rng.uniformArray(count: k, low: -1, high: 1)),
                                  (rng.uniformArray(count: k * h, low: -30, high: 30), rng.uniformArray(count: k, low: -1, high: 1))] {
            func loss(_ w: [Double], _ c: [Double]) throws -> Double {
                try readout.load(weight: Tensor(rows: k, cols: h, scalars: w), bias: Tensor(rows: 1, cols: k, scalars: c))
                return try readout.forward(hidden: hidden, step, total: 3)
            }
            _ = try loss(weights, biases)
            let g = try readout.backward()
            let report = try GradientChecker().check([
                CheckedTensor(name: "W_y", rows: k, cols: h, values: weights, analyticGradient: g.weight.scalars),
                CheckedTensor(name: "b_y", rows: 1, cols: k, values: biases, analyticGradient: g.bias.scalars),
            ]) { values in try loss(values[0], values[1]) }
            #expect(report.passed, "\(report.table())")
            // ∂L/∂y = (σ(y) − z)/N for a row with a target: at y = 0, (1/2 − z)/3.
            if weights.allSatisfy({ $0 == 0 }) {
                let expected = (0..<k).map { (0.5 - step.values[$0]) / 3 + (0.5 - step.values[k + $0]) / 3 }
                #expect(zip(g.bias.scalars, expected).allSatisfy { abs($0 - $1) < 1e-15 }, "\(g.bias.scalars) vs \(expected)")
            }
        }
    }

    @Test func wholeModelGradientWithPiecesOfDifferentLengths() throws {
        var c = TrainingConfiguration()
        c.task = "chorales"; c.length = 5; c.cell = "gru"; c.hidden = 3; c.batch = 3
        let trainer = try Trainer(c)
        // Pieces of several lengths: the last pieces of chorales are shorter.
        let task = trainer.task as! Chorales
        let short = task.pieces[.train]!.filter { $0.count < 5 }
        let batch = task.batch(of: [short[0], task.pieces[.train]![0], short[1]], size: 3)
        #expect(batch.lengths.contains { $0 < 5 })
        let model = trainer.model
        let (_, gradients) = try model.lossAndGradient(batch)
        let start = model.parameters
        let tensors = zip(model.parameterNames, zip(model.parameterShapes, zip(start, gradients))).map { name, rest in
            CheckedTensor(name: name, rows: rest.0.rows, cols: rest.0.cols, values: rest.1.0, analyticGradient: rest.1.1)
        }
        let report = try GradientChecker().check(tensors) { values in
            model.parameters = values
            return try model.lossAndGradient(batch).loss
        }
        model.parameters = start
        #expect(report.passed, "\(report.table())")
    }

    @Test func shortTrainingBeatsPredictingOneHalf() throws {
        var c = TrainingConfiguration()
        c.task = "chorales"; c.length = 24; c.cell = "lstm"; c.hidden = 16; c.batch = 16
        c.updates = 40; c.evalEvery = 40; c.learningRate = 3e-2; c.profileEvery = 0
        let trainer = try Trainer(c)
        let record = try trainer.run()
        let first = record.evaluations.first!, last = record.evaluations.last!
        #expect(!record.solved && !record.diverged && record.updates == 40 && record.criterion.hasPrefix("none"))
        // Near 88 ln 2 before training; well below it, and below the start, after 40 updates.
        #expect(abs(first.loss - 88 * Self.ln2) < 10, "\(first.loss)")
        #expect(last.loss < 0.5 * 88 * Self.ln2 && last.loss < first.loss, "validation NLL \(first.loss) → \(last.loss)")
        let test = try #require(last.testLoss)
        #expect(test < 0.5 * 88 * Self.ln2 && record.finalTestLoss == test && record.finalTestFractionCorrect == last.testFractionCorrect)
        #expect((0...1).contains(last.fractionCorrect))
        // The record reads back, with its test results.
        let json = try record.json()
        #expect(json.contains("\"final_test_loss\"") && json.contains("\"test_loss\""))
        #expect(try TrainingRecord(json: json) == record)
        // The same run again: the same numbers (the held-out splits are fixed, the batches seeded).
        var again = try Trainer(c).run()
        again.seconds = record.seconds
        #expect(again == record)
    }

    @Test func generatedTasksRecordNoTestKeys() throws {
        var c = TrainingConfiguration()
        c.task = "adding"; c.length = 5; c.hidden = 3; c.batch = 4; c.updates = 2; c.evalEvery = 1; c.evalSize = 8
        let record = try Trainer(c).run()
        let json = try record.json()
        #expect(!json.contains("test_"), "\(json)")
    }

    @Test func badInputIsOneLineNamingTheFile() throws {
        let missing = NSTemporaryDirectory() + "gatelab-no-chorales-\(getpid()).npz"
        let error = #expect(throws: TaskError.self) { try Chorales(length: 10, dataFile: missing) }
        #expect(error?.description == "task chorales: data file \(missing) not found")
        #expect(throws: TaskError.badParameter(task: "chorales", message: "length must be ≥ 1, got 0")) { try Chorales(length: 0, dataFile: Self.file) }
        // A file that is an archive but not a chorale set: the key at fault is named.
        let bad = NSTemporaryDirectory() + "gatelab-bad-chorales-\(getpid()).npz"
        defer { try? FileManager.default.removeItem(atPath: bad) }
        for (arrays, message) in [
            ([NamedArray(name: "pitches", shape: [3, 1], values: [60, 62, 64]), NamedArray(name: "split", shape: [1], values: [0])],
             "\(bad): key 'offsets': missing"),
            ([NamedArray(name: "pitches", shape: [3, 1], values: [60, 62, 64]), NamedArray(name: "offsets", shape: [2], values: [0, 3]),
              NamedArray(name: "split", shape: [1], values: [0])], "\(bad): key 'split': no chorale in the validation split"),
            ([NamedArray(name: "pitches", shape: [3, 1], values: [60, 6, 64]), NamedArray(name: "offsets", shape: [4], values: [0, 1, 2, 3]),
              NamedArray(name: "split", shape: [3], values: [0, 1, 2])], "\(bad): key 'offsets': chorale 0 has fewer than 2 frames (offsets 0 … 1)"),
            ([NamedArray(name: "pitches", shape: [6, 1], values: [60, 6, 64, 1, 2, 3]), NamedArray(name: "offsets", shape: [4], values: [0, 2, 4, 6]),
              NamedArray(name: "split", shape: [3], values: [0, 1, 2])], "\(bad): key 'pitches': frame 1 holds 6.0, not a MIDI number of the 88 keys (21 … 108) or 0"),
        ] {
            try? FileManager.default.removeItem(atPath: bad)
            try ArrayArchive(arrays: arrays).write(to: bad)
            let e = #expect(throws: TaskError.self) { try Chorales(length: 10, dataFile: bad) }
            #expect(e?.description == "task chorales: \(message)")
            #expect(e?.description.contains("\n") == false)
        }
        // Not an archive at all.
        try Data("not a zip".utf8).write(to: URL(fileURLWithPath: bad))
        let e = #expect(throws: TaskError.self) { try Chorales(length: 10, dataFile: bad) }
        #expect(e?.description.hasPrefix("task chorales: \(bad): not an .npz file") == true, "\(String(describing: e))")
    }
}
