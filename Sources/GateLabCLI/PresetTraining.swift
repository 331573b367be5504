import ArgumentParser
import GateLabExperiments
import Foundation
import GateLabReproductions
import GateLabSupport

/// `gatelab train --preset NAME[:VARIANT]`: the options of the preset path (the others it uses
/// are `train`'s own: --seed, --length, --lr, --json, --checkpoint, --checkpoint-every,
/// --resume, --output).
struct PresetOptions: ParsableArguments {
    // A reproduction trial's settings: rows of `ReproductionSettings`, which `kind =
    // "reproduction"` experiment files read too.
    static func help(_ flag: String) -> ArgumentHelp {
        ArgumentHelp("With --preset: " + ReproductionSettings.table.help(flag: flag))
    }

    @Option(help: ArgumentHelp("A paper's own set-up instead of --task/--cell: \(Presets.names.joined(separator: ", ")); NAME:VARIANT picks a variant.",
                               valueName: "name"))
    var preset: String?

    @Option(help: PresetOptions.help("--variant"))
    var variant: String?

    @Option(help: PresetOptions.help("--budget"))
    var budget: Int?

    @Option(help: PresetOptions.help("--gradient"))
    var gradient: String?

    @Option(help: "With --preset: when the truncated rule changes the weights where targets come at every step (Exp. 1): every-step (default) or sequence-end.")
    var weightUpdate: String?

    @Option(help: PresetOptions.help("--network"))
    var network: String?
}

/// One trial of a preset (`Reproductions.Trial`) from the command line: the preset's parameters
/// with the options that override them (--length, --lr, --budget), text or the `TrialRecord` as
/// JSON, checkpoints through `Trial.checkpoint()` / `Trial.resume(from:)`.
enum PresetTraining {
    /// The preset, the variant and the parameters with the command's overrides.
    static func resolve(_ c: TrainCommand) throws -> (name: String, variant: String, parameters: PresetParameters) {
        var name = c.presetOptions.preset!
        var variant = c.presetOptions.variant
        if let colon = name.firstIndex(of: ":") {
            guard variant == nil else { throw ValidationError("give the variant once: --preset NAME:VARIANT or --variant VARIANT") }
            variant = String(name[name.index(after: colon)...])
            name = String(name[..<colon])
        }
        // The grid's settings through their rows, as a reproduction file's are read.
        var given: [String: SettingValue] = ["--preset": .string(name)]
        if let variant { given["--variant"] = .string(variant) }
        if let budget = c.presetOptions.budget { given["--budget"] = .int(budget) }
        if let gradient = c.presetOptions.gradient { given["--gradient"] = .string(gradient) }
        if let network = c.presetOptions.network { given["--network"] = .string(network) }
        if let seed = c.seedOption { given["--seed"] = .int(Int(clamping: seed)) }
        let point: ReproductionPoint
        do { point = try ReproductionSettings.table.configuration(given) } catch let e as SettingProblem { throw ValidationError(e.message) }
        if point.network == "tanh-rnn" && c.presetOptions.gradient == "truncated" {
            throw ValidationError("--network tanh-rnn is trained with the full gradient; leave out --gradient truncated")
        }
        let chosen = point.variant
        var p = try point.parameters()
        // What only the command line changes in a preset's set-up.
        if let length = c.length {
            do { p = try p.withLength(length) } catch { throw ValidationError("--length with \(name): \(error)") }
        }
        if let lr = c.lr {
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            p.learningRate = lr
        }
        if let update = c.presetOptions.weightUpdate {
            switch update {
            case "every-step": p.weightUpdate = .everyTargetStep
            case "sequence-end": p.weightUpdate = .sequenceEnd
            default: throw ValidationError("--weight-update must be every-step or sequence-end, got '\(update)'")
            }
        }
        return (name, chosen, p)
    }

    /// The trial's id, as a `reproduction` grid names the same trial
    /// (`<preset>_<variant>[_b<budget>][_full][_tanh-rnn]_seed<seed>`), with what only the
    /// command line can change before the seed: `_length<T>`, `_lr<α>`, `_sequence-end`.
    static func id(_ c: TrainCommand, name: String, variant: String, parameters: PresetParameters) -> String {
        var base = ReproductionPoint(preset: name, variant: variant, seed: c.seed, budget: c.presetOptions.budget,
                                     gradient: parameters.gradient == .full && parameters.network == nil ? .full : nil,
                                     network: parameters.network == nil ? nil : "tanh-rnn", origin: "").id
        var extra = ""
        if let length = c.length { extra += "_length\(length)" }
        if let lr = c.lr { extra += "_lr" + idNumber(lr) }
        if c.presetOptions.weightUpdate == "sequence-end" { extra += "_sequence-end" }
        if !extra.isEmpty, let seedPart = base.range(of: "_seed", options: String.CompareOptions.backwards) { base.insert(contentsOf: extra, at: seedPart.lowerBound) }
        return fileSafeID(base)
    }

    static func validate(_ c: TrainCommand) throws {
        guard c.task == nil, c.cellOption.cell == nil else {
            throw ValidationError("--preset sets the task and the network itself: leave out --task and --cell")
        }
        try refuseIneffective(["--hidden", "--layers", "--optimizer", "--momentum", "--clip", "--schedule", "--batch", "--updates", "--eval-every",
                               "--eval-size", "--forget-bias", "--input-noise", "--profile-every", "--stop-when-solved", "--save", "--save-every",
                               "--weights", "--execution"],
                              "with --preset: the paper's set-up fixes the network and its training (--budget, --length and --lr override it)")
        if c.resume && c.checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
        if c.checkpoint == nil { try refuseIneffective(["--checkpoint-every"], "without --checkpoint FILE") }
        guard c.checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1, got \(c.checkpointEvery)") }
        // The same output-path rule as the rest of `train` (`Files.checkOutputPath`).
        if let checkpoint = c.checkpoint { try Files.checkOutputFile(checkpoint, what: "--checkpoint") }
        if let output = c.output { try Files.checkOutputFile(output, what: "--output") }
        try Files.checkDistinctOutputs([("--checkpoint", c.checkpoint), ("--output", c.output)])
        _ = try resolve(c)
    }

    /// Each setting in which a checkpoint's parameters differ from this command's, as
    /// `budget: the checkpoint has 500, this command 1000`.
    static func differences(_ saved: PresetParameters, _ asked: PresetParameters) -> [String] {
        guard saved != asked else { return [] }
        let mine = Dictionary(Mirror(reflecting: asked).children.compactMap { c in c.label.map { ($0, "\(c.value)") } }) { a, _ in a }
        let found = Mirror(reflecting: saved).children.compactMap { child -> String? in
            guard let label = child.label, let other = mine[label], other != "\(child.value)" else { return nil }
            return "\(label): the checkpoint has \(child.value), this command \(other)"
        }
        return found.isEmpty ? ["its parameters"] : found
    }

    static func run(_ c: TrainCommand) throws {
        let (name, variant, parameters) = try resolve(c)
        let say: (String) -> Void = c.json ? { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } : { print($0) }
        var trial: Trial
        if c.resume, let path = c.checkpoint {
            // As for cell training: a missing checkpoint is an error, not a silent fresh start.
            guard FileManager.default.fileExists(atPath: path) else {
                throw ValidationError("--resume: no checkpoint at \(path); run without --resume to start afresh")
            }
            // Read with the one bounded reader (a huge or device path cannot exhaust memory).
            let data: Data
            do { data = Data(try Files.contents(of: path)) } catch { throw ValidationError("--checkpoint \(path): \(FileError.reason(error))") }
            do { trial = try Trial.resume(from: data) } catch let e as ReproductionError {
                throw ValidationError("--checkpoint \(path): \(e)")
            } catch {
                throw ValidationError("--checkpoint \(path) is not a saved trial: \(error)")
            }
            guard trial.preset == name, trial.variant == variant, trial.seed == c.seed else {
                throw ValidationError("--checkpoint \(path) holds another trial (\(trial.preset) \(trial.variant) seed \(trial.seed)); "
                    + "resume with the options of the interrupted run")
            }
            // The same trial with other settings (--budget, --length, --lr): name each one that
            // differs, rather than "another trial" naming this very trial.
            let differences = Self.differences(trial.parameters, parameters)
            guard differences.isEmpty else {
                throw ValidationError("--checkpoint \(path) is this trial (\(trial.preset) \(trial.variant) seed \(trial.seed)) with other settings: "
                    + differences.joined(separator: "; ") + "; resume with the options of the interrupted run")
            }
        } else {
            do { trial = try Trial(preset: name, variant: variant, seed: c.seed, parameters: parameters) } catch {
                throw ValidationError("\(error)")
            }
        }
        let a = parameters.architecture
        var net = "\(a.blocks) blocks × \(a.cellsPerBlock) cells, \(a.weightCount) weights"
        if case .tanhRNN(let h) = parameters.network {
            net = "tanh RNN of \(h) units (control), \(TanhRNNControl.weightCount(inputs: a.inputs, hidden: h, outputs: a.outputs)) weights"
        }
        say("train \(name) \(variant)" + (c.length.map { ", length \($0)" } ?? "") + ", seed \(c.seed): \(net), "
            + "\(parameters.gradient == .truncated ? "truncated RTRL" : "full BPTT"), α = \(formatNumber(parameters.learningRate)), "
            + "budget \(parameters.budget) \(parameters.task == .continualReber ? "streams" : "sequences")")
        if trial.sequences > 0 { say("resumed at sequence \(trial.sequences) from \(c.checkpoint!)") }
        let start = ContinuousClock.now
        // Trained in pieces, the same sequences in the same order as in one piece: a progress
        // line on a terminal (the budget is an upper bound: a trial stops once solved), and a
        // checkpoint every --checkpoint-every sequences.
        let progressUnit = parameters.task == .continualReber ? "streams" : "sequences"
        let progress = RunProgress(total: Double(parameters.budget), unit: progressUnit + " (budget)", enabled: RunProgress.enabled(json: c.json))
        let piece = max(1, min(parameters.budget / 1000, c.checkpoint == nil ? Int.max : c.checkpointEvery))
        var sinceCheckpoint = 0
        while !trial.finished {
            let before = trial.sequences
            trial.train(atMost: c.checkpoint == nil ? piece : min(piece, c.checkpointEvery - sinceCheckpoint))
            sinceCheckpoint += trial.sequences - before
            progress.update(Double(trial.sequences))
            if let path = c.checkpoint, sinceCheckpoint >= c.checkpointEvery || trial.finished {
                try Files.write(String(decoding: try trial.checkpoint(), as: UTF8.self), to: path)
                sinceCheckpoint = 0
            }
        }
        progress.close()
        var record = trial.run()
        let elapsed = ContinuousClock.now - start
        record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        record.gatelabVersion = GateLabVersion.current
        record.recordFormat = RecordFormat.current
        record.id = id(c, name: name, variant: variant, parameters: parameters)
        let text = try record.jsonLine()
        if let output = c.output {
            do { try Files.write(text + "\n", to: output) } catch { throw ValidationError("cannot write --output \(output): \(FileError.reason(error))") }
        }
        if c.json { print(text) }
        let unit = parameters.task == .continualReber ? "streams" : "sequences"
        let test = "wrong \(record.wrong) of \(record.testCount)" + (record.testMSE.map { ", test MSE " + String(format: "%.3g", $0) } ?? "")
            + (record.cergOutcome.map { ", \($0)" } ?? "")
        if record.solved {
            say("solved after \(record.sequences) \(unit) (\(String(format: "%.1f", record.seconds)) s): \(test)")
        } else {
            say("not solved within \(record.sequences) \(unit) (\(String(format: "%.1f", record.seconds)) s): \(test)")
        }
    }
}
