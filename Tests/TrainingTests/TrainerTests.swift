import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabExperiments
import GateLabGradCheck
import GateLabGSL
import Testing
@testable import GateLabTraining

/// The model's gradients, the optimizers, divergence handling and exact resuming.
@Suite struct TrainerTests {
    /// A tiny run: fast in debug builds.
    func tiny(_ task: String = "adding", length: Int = 6, cell: String = "lstm") -> TrainingConfiguration {
        var c = TrainingConfiguration()
        c.task = task; c.length = length; c.cell = cell
        c.hidden = 4; c.batch = 4; c.updates = 20; c.evalEvery = 5; c.evalSize = 8; c.profileEvery = 10
        c.learningRate = 1e-2
        return c
    }

    /// The whole model (cell layers + readout + loss) against central differences.
    func gradientCheck(_ c: TrainingConfiguration) throws {
        let trainer = try Trainer(c)
        let batch = trainer.task.batch(size: c.batch, using: try RandomSource(seed: 3))
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
        #expect(report.passed, "\(c.task) \(c.cell): \(report.table())")
    }

    @Test func gradientsOfMSEWithSequencesOfDifferentLengths() throws {
        var c = tiny("adding-hs", length: 20, cell: "lstm")
        c.layers = 2; c.hidden = 3; c.batch = 3
        try gradientCheck(c)
    }

    @Test func gradientsOfCrossEntropyAtEveryStep() throws {
        var c = tiny("copy", length: 2, cell: "gru")
        c.hidden = 3; c.batch = 2
        try gradientCheck(c)
    }

    @Test func gradientCheckCatchesAWrongReadoutGradient() throws {
        let c = tiny("adding", length: 5, cell: "rnn")
        let trainer = try Trainer(c)
        let batch = trainer.task.batch(size: c.batch, using: try RandomSource(seed: 3))
        let model = trainer.model
        var (_, gradients) = try model.lossAndGradient(batch)
        gradients[gradients.count - 1][0] *= 1.5          // a wrong ∂L/∂b_y
        let start = model.parameters
        let tensors = model.parameterNames.indices.map {
            CheckedTensor(name: model.parameterNames[$0], rows: model.parameterShapes[$0].rows, cols: model.parameterShapes[$0].cols,
                          values: start[$0], analyticGradient: gradients[$0])
        }
        let report = try GradientChecker().check(tensors) { values in
            model.parameters = values
            return try model.lossAndGradient(batch).loss
        }
        #expect(!report.passed)
    }

    @Test func optimizersFollowPyTorchsRules() {
        var p: [[Double]] = [[1, -2]]
        var adam = Optimizer(kind: .adam)
        adam.update(&p, gradients: [[0.5, -3]], rate: 0.1)
        // First Adam step: m̂ = g, v̂ = g², so θ moves by −η·sign(g) (to ε).
        #expect(abs(p[0][0] - 0.9) < 1e-7 && abs(p[0][1] + 1.9) < 1e-7)
        var q: [[Double]] = [[1]]
        var sgd = Optimizer(kind: .sgd)
        sgd.update(&q, gradients: [[2]], rate: 0.1)     // v = 2, θ = 0.8
        sgd.update(&q, gradients: [[2]], rate: 0.1)     // v = 0.9·2 + 2 = 3.8, θ = 0.42
        #expect(abs(q[0][0] - 0.42) < 1e-12)
        var r: [[Double]] = [[1]]
        var rms = Optimizer(kind: .rmsprop)
        rms.update(&r, gradients: [[2]], rate: 0.01)    // v = 0.01·4, θ = 1 − 0.01·2/0.2
        #expect(abs(r[0][0] - 0.9) < 1e-7)
    }

    @Test func schedulesAndClipping() {
        #expect(Schedule.constant.rate(base: 0.1, update: 50) == 0.1)
        #expect(abs(Schedule.step(every: 10, factor: 0.5).rate(base: 0.1, update: 25) - 0.025) < 1e-15)
        #expect(abs(Schedule.cosine(updates: 100).rate(base: 0.1, update: 50) - 0.05) < 1e-12)
        #expect(Schedule.cosine(updates: 100).rate(base: 0.1, update: 100) < 1e-15)
        var g: [[Double]] = [[3], [4]]
        #expect(clipGradientNorm(&g, maxNorm: 1) == 5)
        #expect(abs(euclideanNormOf(g) - 1) < 1e-6)
        var h: [[Double]] = [[0.3], [0.4]]
        clipGradientNorm(&h, maxNorm: 1)
        #expect(h == [[0.3], [0.4]])
        var n: [[Double]] = [[.nan]]
        #expect(clipGradientNorm(&n, maxNorm: 1).isNaN)
    }

    @Test func resumedRunIsBitIdentical() throws {
        var c = tiny("adding", length: 6, cell: "gru")
        c.updates = 23
        let whole = try Trainer(c)
        let expected = try whole.run()
        let path = NSTemporaryDirectory() + "gatelab-train-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try Trainer(c)
        try first.run(checkpoint: path, checkpointEvery: 4, stopAfter: 11)
        #expect(first.record.updates == 11)
        let resumed = try Trainer(resumingFrom: path, configuration: c)
        var got = try resumed.run(checkpoint: path, checkpointEvery: 4)
        got.seconds = expected.seconds
        #expect(got == expected)
        #expect(resumed.model.parameters == whole.model.parameters)
        #expect(expected.updates == 23 && expected.evaluations.map(\.update) == [0, 5, 10, 15, 20, 23])
        #expect(expected.profiles.map(\.update) == [0, 10, 20, 23])
        #expect(expected.profiles[0].log10GradientH.count == 6)
        // Another configuration refuses the checkpoint.
        var other = c
        other.seed = 2
        #expect(throws: TrainingError.self) { try Trainer(resumingFrom: path, configuration: other) }
    }

    /// A float32 run (issue #18): the same bits across two runs and after an interrupted run is
    /// resumed from its checkpoint; its record says f32 and differs from the float64 run's.
    @Test func float32RunIsDeterministicAndResumesBitIdentical() throws {
        var c = tiny("adding", length: 6, cell: "lstm")
        c.updates = 23
        c.precision = .f32
        let whole = try Trainer(c)
        let expected = try whole.run()
        var again = try Trainer(c).run()
        again.seconds = expected.seconds
        #expect(again == expected)
        let path = NSTemporaryDirectory() + "gatelab-train-f32-\(getpid()).json"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let first = try Trainer(c)
        try first.run(checkpoint: path, checkpointEvery: 4, stopAfter: 11)
        let resumed = try Trainer(resumingFrom: path, configuration: c)
        var got = try resumed.run(checkpoint: path, checkpointEvery: 4)
        got.seconds = expected.seconds
        #expect(got == expected)
        #expect(resumed.model.parameters == whole.model.parameters)
        // The float64 run of the same configuration refuses the float32 checkpoint, and ends
        // elsewhere (the recurrence rounded to float32 at every step).
        var double = c
        double.precision = nil
        #expect(throws: TrainingError.self) { try Trainer(resumingFrom: path, configuration: double) }
        let f64 = try Trainer(double)
        _ = try f64.run()
        #expect(f64.model.parameters != whole.model.parameters)
        #expect(c.id.hasSuffix("_f32_seed1") && !double.id.contains("f32"))
    }

    /// The training figures show every seed: a line per cell at the median over seeds with a
    /// band from the smallest to the largest, not seed 1 alone; every cell in each panel.
    @Test func trainingCurvesAreTheMedianOverSeedsWithABand() throws {
        var records = [TrainingRecord]()
        for cell in ["rnn", "gru"] {
            for seed: UInt64 in 1...3 {
                var c = tiny("adding", length: 6, cell: cell)
                c.seed = seed
                records.append(try Trainer(c).run())
            }
        }
        let figures = TrainingReport.figures(records)
        let curves = try #require(figures.first { $0.file == "figures/curves-adding.svg" })
        #expect(curves.title.contains("3 seeds") && !curves.caption.contains("seed 1"))
        let layout = curves.layout
        #expect(layout.panels.count == 1)
        let series = layout.panels[0].series
        #expect(series.map(\.title) == ["rnn", "gru", "baseline"])
        #expect(series[0].band && series[1].band && layout.colors[0][0] != layout.colors[0][1])
        // At update 5: the median of the three seeds' held-out losses, the band their range.
        let atFive = records.filter { $0.configuration.cell == "gru" }.map { r in r.evaluations.first { $0.update == 5 }!.loss }.sorted()
        let point = try #require(series[1].points.first { $0.x == 5 })
        #expect(point.y == atFive[1] && point.low == atFive[0] && point.high == atFive[2])
        // The profiles: one panel per cell, each line over the seeds too.
        let profiles = try #require(figures.first { $0.file == "figures/profiles-adding-T6.svg" })
        #expect(profiles.panels.map(\.title) == ["rnn", "gru"] && profiles.panels.allSatisfy { $0.series.allSatisfy { $0.band } })
    }

    @Test func nonFiniteWeightsStopTheRunAndNameTheirPlace() throws {
        let c = tiny("adding", length: 6, cell: "rnn")
        let trainer = try Trainer(c)
        trainer.model.network.weights[0]["b_ih"]![0, 1] = .nan
        let record = try trainer.run()
        #expect(record.diverged && !record.solved)
        #expect(record.updates == 0)
        let message = try #require(record.divergence)
        #expect(message.hasPrefix("update 1: nan first appears in"), "\(message)")
        #expect(message.contains("time step 0"), "\(message)")
        let json = try record.json()           // NaN ≠ NaN, so compare the text
        #expect(try TrainingRecord(json: json).json() == json)
        #expect(json.contains("\"diverged\":true"))
    }

    @Test func trainingBeatsTheBaselineOnAShortAddingProblem() throws {
        var c = tiny("adding", length: 5, cell: "lstm")
        c.hidden = 8; c.batch = 16; c.updates = 300; c.evalEvery = 50; c.evalSize = 64; c.profileEvery = 0
        let record = try Trainer(c).run()
        let first = record.evaluations.first!.loss, last = record.finalLoss!
        #expect(first > 0.1)
        #expect(last < 0.5 * record.baseline, "held-out MSE \(first) → \(last), baseline \(record.baseline)")
        #expect(record.trainLoss.count == record.updates && record.gradientNorm.count == record.updates)
    }

    /// A configuration built in code is checked by the same rows as a file's or the command
    /// line's values, with the same messages after the key.
    @Test func codeBuiltConfigurationsPassTheSettingsRows() throws {
        let cases: [(String, (inout TrainingConfiguration) -> Void)] = [
            ("momentum: must be in [0, 1), got 1.5", { $0.momentum = 1.5 }),
            ("lr: must be a positive number, got 0", { $0.learningRate = 0 }),
            ("hidden: must be a positive integer, got 0", { $0.hidden = 0 }),
            ("updates: must be an integer ≥ 0, got -1", { $0.updates = -1 }),
            ("clip: must be a finite number ≥ 0 (0: no clipping), got -1", { $0.clip = -1 }),
            ("forget_bias: must be finite, got nan", { $0.forgetBias = .nan }),
            ("input_noise: must be a finite number ≥ 0 (the noise's standard deviation), got inf", { $0.inputNoise = .infinity }),
            ("seeds: a seed must be between 0 and 4294967295, got 4294967296", { $0.seed = 1 << 32 }),
            ("schedule: a step schedule needs EVERY ≥ 1 and a positive FACTOR, got step:0:0.5", { $0.schedule = .step(every: 0, factor: 0.5) }),
        ]
        for (message, spoil) in cases {
            var c = TrainingConfiguration()
            spoil(&c)
            #expect(throws: TrainingError.badConfiguration(message)) { try c.validate() }
        }
        try TrainingConfiguration().validate()
        // The same row refuses the same value read from text, with the same message.
        var c = TrainingConfiguration()
        #expect(throws: SettingProblem("must be in [0, 1), got 1.5")) {
            try TrainingSettings.table.set("momentum", .number(1.5), in: &c, context: .commandLine)
        }
    }

    @Test func badSettingsAreRefusedWithAMessage() {
        var c = TrainingConfiguration()
        c.cell = "nope"
        #expect(throws: TrainingError.badConfiguration("cell: unknown cell 'nope'; valid cells: rnn, lstm, gru, gru_reset_before, or the path of a .cell file")) { try c.validate() }
        c = TrainingConfiguration(); c.learningRate = -1
        #expect(throws: TrainingError.self) { try c.validate() }
        c = TrainingConfiguration(); c.task = "sorting"
        #expect(throws: (any Error).self) { try c.validate() }
    }
}

@Suite("Training a cell written as a file")
struct CellFileTrainingTests {
    @Test func aCellFileTrainsAndIsGradientChecked() throws {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Cells/mgu.cell").path
        var c = TrainingConfiguration()
        c.task = "adding"; c.length = 6; c.cell = path
        c.hidden = 4; c.batch = 4; c.updates = 20; c.evalEvery = 5; c.evalSize = 8; c.profileEvery = 10
        c.learningRate = 1e-2
        try c.validate()
        #expect(!c.id.contains("/"), "ids are file-name safe: \(c.id)")
        try TrainerTests().gradientCheck(c)
        let record = try Trainer(c).run()
        #expect(record.evaluations.count >= 2 && record.evaluations.allSatisfy { $0.loss.isFinite })
    }
}
