import ArgumentParser
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabTasks
import GateLabGSL
import GateLabInterchange
import GateLabProbe
import GateLabProbeExperiments
import GateLabTraining
import GateLabSupport

/// `gatelab probe`: how much of a last-step loss's gradient reaches each earlier step, for
/// one cell, initialization and length, over one or more seeds (or for a reference case).
struct ProbeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "probe",
        abstract: "Measure how gradients vanish back through time (log10 norms past float64 underflow).",
        discussion: """
            Seeded inputs x ~ N(0, s²) (s = --input-scale), zero initial state, loss \
            L = Σ_j r_j h_T[j] with r ~ N(0, 1)/√H drawn after the weights and inputs (one \
            mt19937 stream per seed). Records log10‖∂L/∂h_t‖, log10‖∂L/∂c_t‖ (LSTM) and \
            log10‖∂L/∂x_t‖ at every distance k = T − 1 − t, exact even far below 1e-308. \
            Summaries: decay rate (least-squares slope of log10‖∂L/∂h_t‖ against k over \
            k = 0 … min(T − 1, --fit-max-distance), with its standard error), the distances where \
            the norm has fallen by 10^3 and 10^6, σ_max and ρ of every W_h* block, and the \
            singular values of the one-step state Jacobian at a few distances. With several \
            seeds: mean ± 95% confidence interval. With --case FILE: weights, inputs and \
            initial state of a reference case, loss Σ_b,j R[T−1][b][j] · h_T[b][j]. With \
            --weights FILE: a saved network (.json, .npz, .safetensors; from gatelab train \
            --save, gatelab weights, or PyTorch), probed on x ~ N(0, s²) and r drawn from \
            each seed; its sizes come from the file.
            """)

    // The probe's settings: one row each in `ProbeSettings` (help, check, default, where it
    // lands), which experiment files read too. Unset options keep the table's defaults.

    @Option(help: ArgumentHelp(ProbeSettings.table.settings.first { $0.flag == "--cell" }!.help + " Required unless --case or --weights is given."))
    var cell: String?

    @Option(help: ArgumentHelp(ProbeSettings.table.settings.first { $0.flag == "--steps" }!.help + " Required unless --case or --task-inputs is given."))
    var steps: Int?

    @Option(help: ArgumentHelp(ProbeSettings.table.help(flag: "--hidden")))
    var hidden: Int?

    @Option(help: ArgumentHelp(ProbeSettings.table.help(flag: "--input")))
    var input: Int?

    @Option(help: ArgumentHelp(ProbeSettings.table.help(flag: "--batch")))
    var batch: Int?

    @Option(help: ArgumentHelp(ProbeSettings.table.help(flag: "--layers")))
    var layers: Int?

    @Option(name: .customLong("recurrent-init"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--recurrent-init")))
    var recurrentInit: String?

    @Option(name: .customLong("bias-init"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--bias-init")))
    var biasInit: String?

    @Option(name: .customLong("forget-bias"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--forget-bias") + " A warning on stderr when the cell has no forget gate."))
    var forgetBias: String?

    @Option(name: .customLong("input-scale"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--input-scale")))
    var inputScale: Double?

    @Option(help: "Number of seeds (seed, seed + 1, …).")
    var seeds = 1

    @Option(name: .customLong("seed"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--seed")))
    var seedOption: UInt64?
    var seed: UInt64 { seedOption ?? 1 }

    @Option(name: .customLong("fit-max-distance"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--fit-max-distance")))
    var fitMaxDistance: Int?

    @Option(name: .customLong("jacobian-samples"), help: ArgumentHelp(ProbeSettings.table.help(flag: "--jacobian-samples")))
    var jacobianSamples: Int?

    @Option(help: ArgumentHelp(ProbeSettings.table.help(flag: "--precision"), valueName: "f64|f32"))
    var precision: String?

    @Option(help: ArgumentHelp(ProbeSettings.table.settings.first { $0.flag == "--weights" }!.help + " Needs --steps or --task-inputs."))
    var weights: String?

    @Flag(name: .customLong("task-inputs"), help: ArgumentHelp(ProbeSettings.table.settings.first { $0.flag == "--task-inputs" }!.help))
    var taskInputs = false

    // How the probe runs and prints, not what it computes.

    @Option(name: .customLong("memory-budget"), help: "Memory for the unrolled sequence, in MB; longer sequences are checkpointed (segments recomputed in the reverse pass, results bit-identical). Default: 1024.")
    var memoryBudget: Int?

    @Option(name: .customLong("case"), help: "A reference case file (JSON) to probe instead of a seeded network.")
    var caseFile: String?

    @Flag(help: "Print JSON (with the per-distance log10 norms) instead of a table.")
    var json = false

    @OptionGroup var execution: ExecutionOptions

    /// The typed settings, by flag, as the table reads them.
    var givenSettings: [String: SettingValue] {
        var given = [String: SettingValue]()
        // Beside --weights, the file's cell and sizes stand (the options are warned about).
        func put(_ flag: String, _ value: SettingValue?) {
            if let value, weights == nil || !Self.keysOfSavedNetworks.contains(flag) { given[flag] = value }
        }
        put("--weights", weights.map { .string($0) })
        put("--task-inputs", taskInputs ? .bool(true) : nil)
        put("--cell", cell.map { .string($0) })
        put("--recurrent-init", recurrentInit.map { .string($0) })
        put("--bias-init", biasInit.map { .string($0) })
        put("--forget-bias", forgetBias.map { .string($0) })
        put("--hidden", hidden.map { .int($0) })
        put("--input", input.map { .int($0) })
        put("--batch", batch.map { .int($0) })
        put("--layers", layers.map { .int($0) })
        put("--input-scale", inputScale.map { .number($0) })
        put("--fit-max-distance", fitMaxDistance.map { .int($0) })
        put("--jacobian-samples", jacobianSamples.map { .int($0) })
        put("--precision", precision.map { .string($0) })
        put("--steps", steps.map { .int($0) })
        put("--seed", seedOption.map { .int(Int(clamping: $0)) })   // above Int.max: refused as out of range all the same
        return given
    }

    /// The options of the settings a saved network's file gives.
    static let keysOfSavedNetworks = ProbeSettings.keysOfSavedNetworks.map { ProbeSettings.table.setting(key: $0)!.flag }

    /// The table's defaults with the typed settings (with --case: the precision and the summaries' settings).
    func tableConfiguration() throws -> ProbeConfiguration {
        do { return try ProbeSettings.table.configuration(givenSettings) } catch let e as SettingProblem { throw ValidationError(e.message) }
    }

    func validate() throws {
        guard (1...1_000_000).contains(seeds) else { throw ValidationError("--seeds must be between 1 and 1000000, got \(seeds)") }
        if let m = memoryBudget, !(1...1_000_000).contains(m) { throw ValidationError("--memory-budget must be between 1 and 1000000 MB, got \(m)") }
        if caseFile != nil {
            guard cell == nil, steps == nil, weights == nil else { throw ValidationError("--case takes the cell, weights and length from the file; drop --cell, --weights and --steps") }
            try refuseIneffective(["--hidden", "--input", "--batch", "--layers", "--seeds", "--seed", "--recurrent-init", "--bias-init",
                                   "--forget-bias", "--input-scale", "--task-inputs"],
                                  "with --case: the file gives the cell, its sizes, weights, inputs, initial state and loss")
            _ = try tableConfiguration()
            return
        }
        if weights != nil {
            guard cell == nil else { throw ValidationError("--weights takes the cell from the file; drop --cell") }
            if taskInputs {
                guard steps == nil else { throw ValidationError("--task-inputs takes T from the task; drop --steps") }
            } else if steps == nil { throw ValidationError("give --steps T (or --task-inputs)") }
        } else {
            guard !taskInputs else { throw ValidationError("--task-inputs applies only with --weights (the task a saved network was trained on)") }
            guard cell != nil else { throw ValidationError("give --cell NAME (or --case FILE, or --weights FILE)") }
            guard steps != nil else { throw ValidationError("give --steps T") }
        }
        _ = try configurations()   // the sizes under the memory budget, as in experiment files
    }

    /// The seeded configurations, one per seed: the table's defaults with the typed settings.
    func configurations() throws -> [ProbeConfiguration] {
        var c = try tableConfiguration()
        return try (0..<UInt64(seeds)).map { i in
            c.seed = seed &+ i
            do { return try c.checked() } catch let e as ProbeError { throw ValidationError(e.description) }
        }
    }

    func run() throws {
        if let caseFile {
            let rc = try ReferenceCase(contentsOf: caseFile)
            let c = try tableConfiguration()
            var setup = try ProbeSetup(referenceCase: rc)
            setup.memoryBudget = memoryBudget.map { $0 << 20 }
            setup.execution = execution.execution
            setup.precision = c.precision
            let result = try GradientProbe.run(setup, settings: c.summary)
            if json {
                print(try RecordJSON.line(ProbeCaseJSON(rc, result, precision: c.precision == .f64 ? nil : c.precision.rawValue)))
            } else {
                print("probe \(caseFile): cell \(rc.cellName), I = \(rc.network.inputSize), H = \(rc.network.hiddenSize), "
                      + "B = \(rc.batch), T = \(rc.steps), L = \(rc.network.layers); loss Σ_b,j R[T−1][b][j] · h_T[b][j]; k = T − 1 − t")
                print("")
                print(try table(summaries: [result.summary], curves: [result.curves], carried: [result.carried]))
            }
            return
        }
        if weights != nil {
            // Harmless beside a file that gives them, and natural to leave in a rerun: warned, not refused.
            warnIneffective(Self.keysOfSavedNetworks, because: "--weights gives the cell, its sizes and its weights")
            if taskInputs { warnIneffective(["--input-scale"], because: "--task-inputs feeds the task's own inputs") }
        }
        let configurations = try configurations()
        if weights == nil, let forgetBias, !configurations[0].hasForgetGate {
            warn("--forget-bias \(forgetBias) has no effect: \(cell!) has no forget gate")
        }
        var records = [ProbeRecord]()
        // On a terminal, the seeds done, the elapsed time (ticking during a long seed) and the ETA.
        let bar = RunProgress(total: Double(configurations.count), unit: "seeds", enabled: RunProgress.enabled(json: json))
        for c in configurations {
            records.append(ProbeRecord(version: GateLabVersion.current, configuration: c, result: try GradientProbe.run(c, memoryBudget: memoryBudget.map { $0 << 20 }, execution: execution.execution)))
            bar.update(Double(records.count))
        }
        bar.close()
        if let weights { return try printSaved(weights, records) }
        let aggregate = try SeedAggregate(records.map(\.summary))
        if json {
            print(try RecordJSON.line(ProbeRunsJSON(gatelabVersion: GateLabVersion.current, rng: "mt19937", loss: ProbeRecord.lossDefinition,
                                                    runs: records, acrossSeeds: aggregate.rows)))
            return
        }
        let c = configurations[0]
        let seedText = seeds == 1 ? "seed \(seed)" : "seeds \(seed)…\(seed &+ UInt64(seeds - 1))"
        print("probe \(c.cell): H = \(c.hiddenSize), I = \(c.inputSize), B = \(c.batch), L = \(c.layers), T = \(c.steps), "
              + "recurrent init \(c.recurrentInitName), bias init \(c.biasInitName)"
              + (c.hasForgetGate ? ", forget bias \(c.forgetBias)" : "")
              + ", x ~ N(0, \(formatNumber(c.inputScale))²), \(seedText) (mt19937)" + (c.precision == .f32 ? ", float32" : ""))
        print("loss L = Σ_j r_j h_T[j], r ~ N(0, 1)/√H; distance k = T − 1 − t; decay rate fitted over k = 0…\(min(c.steps - 1, c.summary.fitMaxDistance ?? c.steps - 1))")
        print("")
        print(try table(summaries: records.map(\.summary), curves: records.map(\.curves), carried: records.map(\.carried)))
    }

    /// `--weights FILE`: what the saved network's probes (on x ~ N(0, s²), or on its task's
    /// inputs, and r ~ N(0, 1)/√H from each seed's mt19937 stream) print.
    func printSaved(_ path: String, _ records: [ProbeRecord]) throws {
        let model = try SavedModel.read(path)
        let c = records[0].configuration
        let (T, B, I, H, L) = (c.steps, c.batch, c.inputSize, c.hiddenSize, c.layers)
        let (curves, carried) = (records.map(\.curves), records.map(\.carried))
        if json {
            print(try RecordJSON.line(ProbeSavedJSON(file: path, metadata: model.metadata, inputSize: I, hidden: H, batch: B, steps: T,
                                                     layers: L, inputScale: c.inputScale, seeds: records.map(\.configuration.seed),
                                                     curves: curves, precision: c.precision == .f64 ? nil : c.precision.rawValue,
                                                     carried: c.precision == .f64 ? nil : carried.map { $0.map(CarriedJSON.init) })))
            return
        }
        let task = c.taskInputs ? try ProbeSetup.task(of: model, file: path) : nil
        let seedText = seeds == 1 ? "seed \(seed)" : "seeds \(seed)…\(seed &+ UInt64(seeds - 1))"
        let trained = model.metadata["updates"].map { ", trained \($0) updates" + (model.metadata["task"].map { " on \($0)" } ?? "") } ?? ""
        let inputs = task.map { "inputs of \($0.name) (length \($0.length))" } ?? "x ~ N(0, \(formatNumber(c.inputScale))²)"
        print("probe \(path): cell \(model.metadata["cell"] ?? model.network.cell.name)\(trained), H = \(H), I = \(I), B = \(B), L = \(L), "
              + "T = \(T), \(inputs), \(seedText) (mt19937)" + (c.precision == .f32 ? ", float32" : ""))
        print("loss L = Σ_j r_j h_T[j], r ~ N(0, 1)/√H; distance k = T − 1 − t; decay rate fitted over k = 0…\(min(T - 1, c.summary.fitMaxDistance ?? T - 1))")
        print("")
        print(try table(summaries: records.map(\.summary), curves: curves, carried: carried))
    }

    /// The summary table (mean ± 95% CI over seeds, and the range), then a few points of the
    /// mean curve.
    /// Float32 probes add what the unrescaled float32 pass carries, per seed.
    func table(summaries: [ProbeSummary], curves: [GradientCurves], carried: [CarriedGradient?]) throws -> String {
        let aggregate = try SeedAggregate(summaries)
        let many = summaries.count > 1
        var rows = [["summary", many ? "mean ± 95% CI" : "value"] + (many ? ["min", "max"] : [])]
        for r in aggregate.rows {
            rows.append([r.label, r.text] + (many ? [r.min.map { displayNumber($0) } ?? "—", r.max.map { displayNumber($0) } ?? "—"] : []))
        }
        var text = alignedTable(rows)
        // log10 norms at a few distances (mean over seeds).
        let T = curves[0].topH.count
        let ks = Array(Set([0, 1, 10, 100, 1000, 10_000, 100_000, T / 2, T - 1].filter { $0 < T })).sorted()
        let hasC = curves[0].topC != nil
        var curveRows = [["k", "log10‖∂L/∂h‖"] + (hasC ? ["log10‖∂L/∂c‖"] : []) + ["log10‖∂L/∂x‖"]]
        func mean(_ xs: [Double]) -> String { displayNumber(xs.reduce(0, +) / Double(xs.count)) }
        for k in ks {
            curveRows.append(["\(k)", mean(curves.map { $0.topH[k] })] + (hasC ? [mean(curves.map { $0.topC![k] })] : [])
                             + [mean(curves.map { $0.x[k] })])
        }
        text += "\n\n" + (many ? "mean over seeds:\n" : "") + alignedTable(curveRows, rightAligned: Set(0..<curveRows[0].count))
        let float32 = carried.compactMap { $0 }
        guard !float32.isEmpty else { return text }
        // A reference case has one run and no seed.
        var rows32 = [[caseFile == nil ? "seed" : "case", "largest |∂L/∂h_t| subnormal from k", "‖∂L/∂h_t‖ exactly 0 from k"]]
        for (i, c) in float32.enumerated() {
            rows32.append([caseFile.map { ($0 as NSString).lastPathComponent } ?? "\(seed &+ UInt64(i))", c.subnormalDistance.map(String.init) ?? "never (k < \(T))", c.zeroDistance.map(String.init) ?? "never (k < \(T))"])
        }
        text += "\n\nfloat32, as the ordinary reverse pass carries it (no rescaling; the norms above are exact):\n"
            + alignedTable(rows32, rightAligned: [0])
        return text
    }
}

/// `gatelab probe --json`: every seed's record (as an experiment stores it) and the
/// statistics across seeds.
struct ProbeRunsJSON: Encodable {
    enum CodingKeys: String, CodingKey { case gatelabVersion = "gatelab_version", rng, loss, runs, acrossSeeds = "across_seeds" }
    var gatelabVersion: String, rng: String, loss: String
    var runs: [ProbeRecord]
    var acrossSeeds: [AggregateRow]
}

/// `gatelab probe --weights FILE --json`: the file, its metadata, the sizes and every seed's
/// curves (under `ProbeRecord`'s curve keys).
struct ProbeSavedJSON: Encodable {
    enum CodingKeys: String, CodingKey {
        case gatelabVersion = "gatelab_version", file = "weights", metadata, inputSize = "input_size", hidden, batch, steps, layers
        case inputScale = "input_scale", seeds, loss, curves, precision, carried = "f32_carried"
    }
    var gatelabVersion = GateLabVersion.current
    var file: String, metadata: [String: String]
    var inputSize: Int, hidden: Int, batch: Int, steps: Int, layers: Int, inputScale: Double
    var seeds: [UInt64]
    var loss = ProbeRecord.lossDefinition
    var curves: [GradientCurves]
    var precision: String?
    var carried: [CarriedJSON?]?
}

/// What a float32 probe's unrescaled reverse pass carries, under `ProbeRecord`'s key names.
struct CarriedJSON: Encodable {
    enum CodingKeys: String, CodingKey {
        case zeroDistance = "f32_zero_distance", subnormalDistance = "f32_subnormal_distance", log10H = "f32_log10_h_carried"
    }
    var zeroDistance: Int?, subnormalDistance: Int?, log10H: [Double]
    init(_ c: CarriedGradient) { zeroDistance = c.zeroDistance; subnormalDistance = c.subnormalDistance; log10H = c.log10H }
    func encode(to encoder: Encoder) throws {
        var e = encoder.container(keyedBy: CodingKeys.self)
        try e.encode(zeroDistance, forKey: .zeroDistance)
        try e.encode(subnormalDistance, forKey: .subnormalDistance)
        try e.encode(log10H, forKey: .log10H)
    }
}

/// `gatelab probe --case FILE --json`: the file, sizes, summaries and curves, the curves
/// under the same keys as in `ProbeRecord` (`curves.log10_h_by_layer`, …).
struct ProbeCaseJSON: Encodable {
    enum CodingKeys: String, CodingKey {
        case gatelabVersion = "gatelab_version", file = "case", cell, inputSize = "input_size", hidden, batch, steps, layers, loss
        case summaries, jacobians, curves, precision, carried = "f32_carried"
    }
    struct Scalar: Encodable { var key: String, value: Double? }
    var gatelabVersion = GateLabVersion.current
    var file: String, cell: String
    var inputSize: Int, hidden: Int, batch: Int, steps: Int, layers: Int
    var loss = "L = sum_b sum_j R[T-1][b][j] * h_T[b][j]; distance k = T-1-t"
    var summaries: [Scalar]
    var jacobians: [JacobianSample]
    var curves: GradientCurves
    var precision: String?
    var carried: CarriedJSON?

    init(_ rc: ReferenceCase, _ result: ProbeResult, precision: String?) {
        self.precision = precision
        carried = result.carried.map(CarriedJSON.init)
        file = rc.file
        cell = rc.cellName
        inputSize = rc.network.inputSize
        hidden = rc.network.hiddenSize
        batch = rc.batch
        steps = rc.steps
        layers = rc.network.layers
        summaries = result.summary.scalars.map { Scalar(key: $0.key, value: $0.value) }
        jacobians = result.summary.jacobians
        curves = result.curves
    }
}
