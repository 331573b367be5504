import ArgumentParser
import Experiments
import Foundation
import Reproductions

/// `gatelab train --preset NAME[:VARIANT]`: the options of the preset path (the others it uses
/// are `train`'s own: --seed, --length, --lr, --json, --checkpoint, --checkpoint-every,
/// --resume, --output).
struct PresetOptions: ParsableArguments {
    @Option(help: ArgumentHelp("A paper's own set-up instead of --task/--cell: \(Presets.names.joined(separator: ", ")); NAME:VARIANT picks a variant.",
                               valueName: "name"))
    var preset: String?

    @Option(help: "With --preset: the variant (a row of the paper's table), e.g. T=100 (exp4), 1-5 (exp1), forget-gates (CERG).")
    var variant: String?

    @Option(help: "With --preset: training sequences (CERG: streams) after which an unsolved trial stops (default: the preset's).")
    var budget: Int?

    @Option(help: "With --preset: the gradient, truncated (the paper's App. A.1 rule, default) or full (BPTT, one update at each sequence's end): the papers' control.")
    var gradient: String?

    @Option(help: "With --preset: when the truncated rule changes the weights where targets come at every step (Exp. 1): every-step (default) or sequence-end.")
    var weightUpdate: String?

    @Option(help: "With --preset: lstm (the paper's, default) or tanh-rnn (issue 15's control: a tanh RNN with about the LSTM's weight count, full BPTT).")
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
        guard let preset = Presets.all.first(where: { $0.name == name }) else {
            throw ValidationError("unknown preset '\(name)'; valid presets: \(Presets.names.joined(separator: ", "))")
        }
        let chosen = variant ?? preset.defaultVariant
        guard preset.variants.contains(where: { $0.name == chosen }) else {
            throw ValidationError("unknown variant '\(chosen)' of \(name); valid variants: \(preset.variants.map(\.name).joined(separator: ", "))")
        }
        var p = try Presets.parameters(name, variant: chosen)
        if let length = c.length {
            do { p = try p.withLength(length) } catch { throw ValidationError("--length with \(name): \(error)") }
        }
        if let lr = c.lr {
            guard lr > 0, lr.isFinite else { throw ValidationError("--lr must be a positive number, got \(lr)") }
            p.learningRate = lr
        }
        if let budget = c.presetOptions.budget {
            guard budget >= 1 else { throw ValidationError("--budget must be at least 1, got \(budget)") }
            p.budget = budget
        }
        if let gradient = c.presetOptions.gradient {
            guard let mode = ReferenceBPTT.Mode(rawValue: gradient) else {
                throw ValidationError("--gradient must be truncated or full, got '\(gradient)'")
            }
            p.gradient = mode
        }
        if let network = c.presetOptions.network {
            switch network {
            case "lstm": break
            case "tanh-rnn":
                guard c.presetOptions.gradient != "truncated" else {
                    throw ValidationError("--network tanh-rnn is trained with the full gradient; leave out --gradient truncated")
                }
                p = p.withTanhRNNControl()
            default: throw ValidationError("--network must be lstm or tanh-rnn, got '\(network)'")
            }
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

    static func validate(_ c: TrainCommand) throws {
        guard c.task == nil, c.cellOption.cell == nil else {
            throw ValidationError("--preset sets the task and the network itself: leave out --task and --cell")
        }
        try refuseIneffective(["--hidden", "--layers", "--optimizer", "--momentum", "--clip", "--schedule", "--batch", "--updates", "--eval-every",
                               "--eval-size", "--forget-bias", "--input-noise", "--profile-every", "--save", "--save-every", "--weights", "--execution"],
                              "with --preset: the paper's set-up fixes the network and its training (--budget, --length and --lr override it)")
        if c.resume && c.checkpoint == nil { throw ValidationError("--resume needs --checkpoint FILE") }
        guard c.checkpointEvery >= 1 else { throw ValidationError("--checkpoint-every must be at least 1, got \(c.checkpointEvery)") }
        // The same output-path rule as the rest of `train` (`Files.checkOutputPath`).
        if let checkpoint = c.checkpoint { try Files.checkOutputFile(checkpoint, what: "--checkpoint") }
        if let output = c.output { try Files.checkOutputFile(output, what: "--output") }
        _ = try resolve(c)
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
            do { data = Data(try Files.contents(of: path)) } catch { throw ValidationError("--checkpoint \(path): \(ExperimentError.reason(error))") }
            do { trial = try Trial.resume(from: data) } catch let e as ReproductionError {
                throw ValidationError("--checkpoint \(path): \(e)")
            } catch {
                throw ValidationError("--checkpoint \(path) is not a saved trial: \(error)")
            }
            guard trial.preset == name, trial.variant == variant, trial.seed == c.seed, trial.parameters == parameters else {
                throw ValidationError("--checkpoint \(path) holds another trial (\(trial.preset) \(trial.variant) seed \(trial.seed)); "
                    + "resume with the options of the interrupted run")
            }
        } else {
            do { trial = try Trial(preset: name, variant: variant, seed: c.seed, parameters: parameters) } catch {
                throw ValidationError("\(error)")
            }
        }
        let a = parameters.architecture
        var net = "\(a.blocks) blocks × \(a.cellsPerBlock) cells, \(a.weightCount) weights"
        if case .tanhRNN(let h) = parameters.network {
            net = "tanh RNN of \(h) units (control), \(TanhRNN.weightCount(inputs: a.inputs, hidden: h, outputs: a.outputs)) weights"
        }
        say("train \(name) \(variant)" + (c.length.map { ", length \($0)" } ?? "") + ", seed \(c.seed): \(net), "
            + "\(parameters.gradient == .truncated ? "truncated RTRL" : "full BPTT"), α = \(formatNumber(parameters.learningRate)), "
            + "budget \(parameters.budget) \(parameters.task == .continualReber ? "streams" : "sequences")")
        if trial.sequences > 0 { say("resumed at sequence \(trial.sequences) from \(c.checkpoint!)") }
        let start = ContinuousClock.now
        if let path = c.checkpoint {
            while !trial.finished {
                trial.train(atMost: c.checkpointEvery)
                try Files.write(String(decoding: try trial.checkpoint(), as: UTF8.self), to: path)
            }
        }
        var record = trial.run()
        let elapsed = ContinuousClock.now - start
        record.seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        record.gatelabVersion = GateLabVersion.current
        let text = try record.jsonLine()
        if let output = c.output {
            do { try Files.write(text + "\n", to: output) } catch { throw ValidationError("cannot write --output \(output): \(ExperimentError.reason(error))") }
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
