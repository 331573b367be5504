import ArgumentParser
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabSupport
import GateLabTasks
import GateLabInterchange
import GateLabProbe
import GateLabProbeExperiments
import GateLabTraining

/// `gatelab train`: one training run of a cell network plus linear readout on a
/// long-time-lag task, until the task's criterion is met or the budget of updates is spent.
struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a cell on a long-time-lag task (adding, copy, …) and report whether it solves it.",
        discussion: """
            Tasks: adding (modern form: U[0,1] values, one marker per half, target X1 + X2, \
            MSE, solved at held-out MSE < 0.01, baseline 1/6), adding-hs (Hochreiter & \
            Schmidhuber 1997 Exp. 4, solved when every held-out sequence is within 0.04), copy \
            (Arjovsky et al. 2016, baseline 10 ln 8/(T + 20)), recall, agreement, temporal-order \
            (H&S Exp. 6a), chorales (Bach chorales as 88-key piano rolls, JSB-style: predict the next \
            quarter note's keys, Bernoulli NLL per step, frame accuracy; trained for the whole \
            budget; evaluated on the fixed validation and test splits; needs \
            Data/chorales/chorales.npz from the clone). Initialization from --seed, training data from seed + 1000000, a \
            fixed held-out set (mt19937). Exit codes: 0 the run finished (solved or not: see \
            'solved'), 1 it diverged (a NaN or infinity, located by update, time step and op), \
            2 bad options or an unusable checkpoint. With --preset NAME instead of --task/--cell: \
            one trial of a paper's own set-up (Hochreiter & Schmidhuber 1997, Gers et al. 2000; \
            the presets and their variants are listed under --preset and --variant below), with \
            --variant, --seed, --length, --lr, --budget, --gradient, --weight-update, --network, \
            --json, --checkpoint/--resume (every --checkpoint-every training sequences). Its \
            record has an id (as a reproduction grid names the trial) and a learning curve \
            ('curve': the training sequences' errors every budget/100 sequences). On a terminal, \
            training shows a progress line on stderr (not with --json).
            """)

    // The run's settings: one row each in `TrainingSettings` (help, check, default, where it
    // lands), which experiment files read too. Unset options keep the table's defaults.

    @Option(help: ArgumentHelp(TrainingSettings.table.settings[0].help + " Required unless --preset is given."))
    var task: String?

    @OptionGroup var cellOption: OptionalCellOption
    var cell: String { cellOption.cell ?? "" }

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--length").replacingOccurrences(of: " (default: 50)", with: "")
                               + " Required unless --preset is given (with --preset: overrides the preset's T where it has one)."))
    var length: Int?

    @OptionGroup var presetOptions: PresetOptions

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--hidden")))
    var hidden: Int?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--layers")))
    var layers: Int?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--optimizer")))
    var optimizer: String?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--lr") + "; with --preset: the preset's α."))
    var lr: Double?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--momentum")))
    var momentum: Double?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--clip")))
    var clip: Double?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--schedule")))
    var schedule: String?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--batch")))
    var batch: Int?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--updates")))
    var updates: Int?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--eval-every")))
    var evalEvery: Int?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--eval-size")))
    var evalSize: Int?

    @Option(name: .customLong("seed"), help: ArgumentHelp(TrainingSettings.table.help(flag: "--seed")))
    var seedOption: UInt64?
    var seed: UInt64 { seedOption ?? 1 }

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--forget-bias") + " A warning on stderr when the cell has no forget gate."))
    var forgetBias: String?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--input-noise")))
    var inputNoise: Double?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--profile-every")))
    var profileEvery: Int?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--stop-when-solved"), valueName: "true|false"))
    var stopWhenSolved: String?

    @Option(help: ArgumentHelp(TrainingSettings.table.help(flag: "--precision"), valueName: "f64|f32"))
    var precision: String?

    /// The typed settings, by flag, as the table reads them.
    var givenSettings: [String: SettingValue] {
        var given = [String: SettingValue]()
        func put(_ flag: String, _ value: SettingValue?) { if let value { given[flag] = value } }
        put("--task", task.map { .string($0) })
        put("--cell", cellOption.cell.map { .string($0) })
        put("--length", length.map { .int($0) })
        put("--hidden", hidden.map { .int($0) })
        put("--layers", layers.map { .int($0) })
        put("--optimizer", optimizer.map { .string($0) })
        put("--lr", lr.map { .number($0) })
        put("--momentum", momentum.map { .number($0) })
        put("--clip", clip.map { .number($0) })
        put("--schedule", schedule.map { .string($0) })
        put("--batch", batch.map { .int($0) })
        put("--updates", updates.map { .int($0) })
        put("--eval-every", evalEvery.map { .int($0) })
        put("--eval-size", evalSize.map { .int($0) })
        put("--seed", seedOption.map { .int(Int(clamping: $0)) })   // above Int.max: refused as out of range all the same
        put("--forget-bias", forgetBias.map { .string($0) })
        put("--input-noise", inputNoise.map { .number($0) })
        put("--profile-every", profileEvery.map { .int($0) })
        put("--stop-when-solved", stopWhenSolved.map { .string($0) })
        put("--precision", precision.map { .string($0) })
        return given
    }

    /// The run's configuration: the table's defaults with the typed settings.
    func trainingConfiguration() throws -> TrainingConfiguration {
        do {
            let c = try TrainingSettings.table.configuration(givenSettings)
            try c.validate()
            return c
        } catch let e as SettingProblem { throw ValidationError(e.message) }
        catch let e as TaskError { throw ValidationError(e.description) }
        catch let e as TrainingError { throw ValidationError(e.description) }
    }

    @Flag(help: "Print the run's record as JSON (with 'solved', 'diverged', curves) instead of text.")
    var json = false

    @Option(help: "Checkpoint file, written atomically every --checkpoint-every updates and at the end.")
    var checkpoint: String?

    @Option(name: .customLong("checkpoint-every"), help: "Updates between checkpoints.")
    var checkpointEvery = 500

    @Flag(help: "Resume from --checkpoint (same options as the interrupted run).")
    var resume = false

    @Option(help: "Also write the record (JSON) to this file.")
    var output: String?

    @Option(help: "Write the trained network and readout to this file at the end: .json (PyTorch state_dict layout), .npz or .safetensors.")
    var save: String?

    @Option(name: .customLong("save-every"), help: "Also save a snapshot at the start and every N updates, to --save's name with .u<N> before the extension (lstm.u0.npz, lstm.u500.npz).")
    var saveEvery: Int?

    @Option(help: "Start from this saved network (.json, .npz, .safetensors) instead of the seeded initialization; its readout too, if it has one.")
    var weights: String?

    func validate() throws {
        if presetOptions.preset != nil { return try PresetTraining.validate(self) }
        guard task != nil, cellOption.cell != nil, length != nil else {
            throw ValidationError("give --task, --cell and --length (or --preset NAME for a paper's set-up)")
        }
        try refuseIneffective(["--variant", "--budget", "--gradient", "--weight-update", "--network"],
                              "without --preset (they choose among a paper's set-ups; the number of updates is --updates)")
        if checkpoint == nil { try refuseIneffective(["--checkpoint-every"], "without --checkpoint FILE") }
        try CellLookup.validate(cell)
        _ = try trainingConfiguration()
        if resume && checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
        if let save {
            guard ArrayArchive.Format(path: save) != nil else {
                throw ValidationError("--save \(save): unknown model file format; use .json, .npz or .safetensors")
            }
            try Files.checkOutputFile(save, what: "--save")
        }
        if let saveEvery {
            guard save != nil else { throw ValidationError("--save-every needs --save FILE") }
            guard saveEvery >= 1 else { throw ValidationError("--save-every must be at least 1, got \(saveEvery)") }
        }
        guard checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be ≥ 1, got \(checkpointEvery)") }
        if let checkpoint { try Files.checkOutputFile(checkpoint, what: "--checkpoint") }
        if let output { try Files.checkOutputFile(output, what: "--output") }
        try Files.checkDistinctOutputs([("--save", save), ("--checkpoint", checkpoint), ("--output", output),
                                        ("--save-every's first snapshot", saveEvery == nil ? nil : save.map { Self.snapshotPath($0, update: 0) })])
    }

    @OptionGroup var execution: ExecutionOptions

    /// `lstm.npz` → `lstm.u500.npz`: the name of `--save-every`'s snapshot after `update` updates.
    static func snapshotPath(_ path: String, update: Int) -> String {
        let ext = (path as NSString).pathExtension
        return String(path.dropLast(ext.count + 1)) + ".u\(update)." + ext
    }

    /// Saves the trainer's network and readout with the run's metadata.
    func write(_ trainer: Trainer, to path: String) throws {
        let c = trainer.configuration
        let hasForgetGate = trainer.model.network.specs(layer: 0).contains { $0.gate == "forget" }
        let initialization = weights.map { "from \($0)" }
            ?? "pytorch-default, seed \(c.seed)" + (hasForgetGate ? c.chrono == true ? ", forget bias chrono" : c.forgetBias.map { ", forget bias \(Self.number($0))" } ?? "" : "")
        let metadata = [
            "cell": c.cell, "gatelab_version": GateLabVersion.current, "task": c.task, "length": String(c.length),
            "steps": String(trainer.task.steps), "updates": String(trainer.record.updates), "initialization": initialization,
            "seed": String(c.seed), "run": c.id,
        ]
        try SavedModel(network: trainer.model.network, readout: (trainer.model.readoutWeight, trainer.model.readoutBias),
                       metadata: metadata).write(to: path)
    }

    /// The gradient profiles as text: one row per recorded update, log10‖∂(Σ y)/∂h_t‖ at a few
    /// distances k = T − 1 − t from the last step (the whole curves are in --output and --json).
    static func profileTable(_ profiles: [GradientProfile]) -> String {
        let T = profiles[0].log10GradientH.count
        let ks = Array(Set([0, 1, 5, 10, 25, 50, 100, 200, 500, 1000, T / 2, T - 1].filter { $0 < T })).sorted()
        var rows = [["update"] + ks.map { "k = \($0)" }]
        for p in profiles {
            rows.append(["\(p.update)"] + ks.map { displayNumber(p.log10GradientH[T - 1 - $0]) })
        }
        return "gradient profile log10‖∂(Σ y)/∂h_t‖ by distance k = T − 1 − t, per recorded update (--profile-every):\n"
            + alignedTable(rows, rightAligned: Set(0..<rows[0].count))
    }

    static func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : String(x) }

    func run() throws {
        if presetOptions.preset != nil {
            guard precision == nil || precision == "f64" else { throw ValidationError("--precision \(precision!) does not apply to --preset (a paper's own network runs in f64)") }
            return try PresetTraining.run(self)
        }
        guard task != nil, length != nil else { throw ValidationError("give --task, --cell and --length") }
        let c = try trainingConfiguration()

        if let forgetBias, let cell = try? CellLookup.cell(self.cell),
           !cell.parameters(inputSize: 1, hiddenSize: 1).contains(where: { $0.gate == "forget" }) {
            warn("--forget-bias \(forgetBias) has no effect: \(self.cell) has no forget gate")
        }
        let trainer: Trainer
        if resume, let checkpoint {
            warnIneffective(["--weights"], because: "--resume continues from the checkpoint's weights")
            // A missing checkpoint is an error, not a silent fresh start: a typo in the path
            // would otherwise throw away the interrupted run's work without a word.
            guard FileManager.default.fileExists(atPath: checkpoint) else {
                throw ValidationError("--resume: no checkpoint at \(checkpoint); run without --resume to start afresh")
            }
            trainer = try Trainer(resumingFrom: checkpoint, configuration: c, execution: execution.execution)
        } else {
            trainer = try Trainer(c, execution: execution.execution)
            if let weights {
                warnIneffective(["--forget-bias"], because: "--weights gives the starting weights")
                let saved = try SavedModel.read(weights)
                do { try trainer.start(from: saved.network, readout: saved.readout) } catch let e as TrainingError {
                    throw ValidationError("\(weights): \(e.description)")
                }
            }
        }
        let task = trainer.task
        // The files the run reads, hashed before it starts (as a grid's records hold them).
        var inputs = [String: String]()
        for file in (BuiltinCells.builtin(c.cell) == nil ? [c.cell] : []) + (weights.map { [$0] } ?? []) + task.dataFiles {
            do { inputs[file] = try ContentHash.ofFile(file) } catch { throw ValidationError(FileError.reason(error)) }
        }
        let header = "train \(c.id): \(task.name) T = \(c.length) (\(task.steps) steps), \(c.cell) H = \(c.hidden)"
            + (c.layers > 1 ? " L = \(c.layers)" : "") + ", \(trainer.record.parameterCount) parameters, \(c.optimizer.rawValue) lr \(c.learningRate), "
            + "batch \(c.batch), clip \(c.clip.map { "\($0)" } ?? "none"), budget \(c.updates) updates; criterion: \(task.criterion); "
            + "baseline \(String(format: "%.4g", task.baseline))"
        let say: (String) -> Void = json ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : { print($0) }
        say(header)
        if trainer.record.updates > 0 { say("resumed at update \(trainer.record.updates) from \(checkpoint!)") }
        if let save, let saveEvery, saveEvery > 0, trainer.record.updates == 0 { try write(trainer, to: Self.snapshotPath(save, update: 0)) }
        // On a terminal, a line with the updates done and the ETA under the evaluations (stderr).
        let bar = RunProgress(total: Double(c.updates), unit: "updates", enabled: RunProgress.enabled(json: json))
        var lastLoss = ""
        var record = try trainer.run(checkpoint: checkpoint, checkpointEvery: checkpointEvery, progress: { e in
            bar.interrupt {
                say(String(format: "update %6d  held-out loss %.5f  correct %5.1f%%", e.update, e.loss, 100 * e.fractionCorrect)
                    + (e.testLoss.map { String(format: "  test loss %.5f  correct %5.1f%%", $0, 100 * (e.testFractionCorrect ?? .nan)) } ?? ""))
            }
            lastLoss = String(format: "held-out loss %.5f", e.loss)
        }, afterUpdate: { updates in
            bar.update(Double(updates), detail: lastLoss)
            if let save, let saveEvery, updates % saveEvery == 0 { try write(trainer, to: Self.snapshotPath(save, update: updates)) }
        })
        bar.close()
        if let save { try write(trainer, to: save) }
        record.gatelabVersion = GateLabVersion.current
        record.recordFormat = RecordFormat.current
        record.inputs = inputs.isEmpty ? nil : inputs
        let text = try record.json()
        if let output {
            do { try Files.write(text + "\n", to: output) } catch {
                throw ValidationError("cannot write --output \(output): \(FileError.reason(error))")
            }
        }
        if json { print(text) }
        let verdict: String
        if record.diverged {
            verdict = "diverged at \(record.divergence ?? "?")"
        } else if record.solved {
            verdict = "solved after \(record.solvedAtUpdate!) updates (\(String(format: "%.1f", record.seconds)) s): held-out loss \(String(format: "%.5f", record.finalLoss!))"
        } else if !task.hasCriterion {
            verdict = "trained \(record.updates) updates (\(String(format: "%.1f", record.seconds)) s): held-out loss \(String(format: "%.5f", record.finalLoss ?? .nan))"
                + (record.finalTestLoss.map { ", test loss \(String(format: "%.5f", $0))" } ?? "") + ", baseline \(String(format: "%.4f", record.baseline))"
        } else {
            verdict = "not solved within \(record.updates) updates (\(String(format: "%.1f", record.seconds)) s): held-out loss \(String(format: "%.5f", record.finalLoss ?? .nan)), baseline \(String(format: "%.4f", record.baseline))"
        }
        // The profiles before the verdict, which stays the last line (it alone gives the wall time).
        if !record.profiles.isEmpty { say(Self.profileTable(record.profiles) + "\n") }
        say(verdict)
        if record.diverged { throw ExitCode(ExitStatus.checkFailed) }
    }
}
