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

    @Option(help: CellOption.help)   // optional here: --case or --weights gives the cell instead
    var cell: String?

    @Option(help: "Sequence length T.")
    var steps: Int?

    /// One sequence of one feature through 32 units: the probe's research default.
    enum Defaults: NetworkSizeDefaults {
        static let hidden = 32, input = 1, batch = 1, layers = 1
    }
    @OptionGroup var sizes: NetworkSizeOptions<Defaults>
    var hidden: Int { sizes.hidden }
    var input: Int { sizes.input }
    var batch: Int { sizes.batch }
    var layers: Int { sizes.layers }

    @Option(name: .customLong("recurrent-init"),
            help: "Initializer of the recurrent weights W_h*: \(Initializer.validNames.joined(separator: ", ")).")
    var recurrentInit = "pytorch-default"

    @Option(name: .customLong("bias-init"), help: "Initializer of the biases (same names).")
    var biasInit = "pytorch-default"

    @Option(name: .customLong("forget-bias"), help: "Forget-gate bias (cells with a forget gate): a number (0, 1, …), chrono (T_max = T), or default (the default). A warning on stderr when the cell has no forget gate.")
    var forgetBias: String?

    @Option(name: .customLong("input-scale"), help: "Standard deviation of the inputs x.")
    var inputScale = 1.0

    @Option(help: "Number of seeds (seed, seed + 1, …).")
    var seeds = 1

    @OptionGroup var seedOption: SeedOption
    var seed: UInt64 { seedOption.seed }

    @Option(name: .customLong("fit-max-distance"), help: "Fit the decay rate over k = 0 … this (default: T − 1).")
    var fitMaxDistance: Int?

    @Option(name: .customLong("jacobian-samples"), help: "Distances at which the one-step Jacobian's singular values are computed.")
    var jacobianSamples = 3

    @Option(name: .customLong("memory-budget"), help: "Memory for the unrolled sequence, in MB; longer sequences are checkpointed (segments recomputed in the reverse pass, results bit-identical). Default: 1024.")
    var memoryBudget: Int?

    @Option(name: .customLong("case"), help: "A reference case file (JSON) to probe instead of a seeded network.")
    var caseFile: String?

    @Option(help: "A saved network (.json, .npz or .safetensors) to probe instead of a seeded one; needs --steps.")
    var weights: String?

    @Flag(name: .customLong("task-inputs"), help: "With --weights: feed sequences of the task the network was trained on (its file's task and length), drawn from each seed, instead of x ~ N(0, s²); T is the task's.")
    var taskInputs = false

    @Flag(help: "Print JSON (with the per-distance log10 norms) instead of a table.")
    var json = false

    @OptionGroup var execution: ExecutionOptions

    @OptionGroup var precision: PrecisionOption

    /// Sizes above this are not probe sizes (and would exhaust memory).
    static let largest = 1_000_000

    func validate() throws {
        guard (0...1000).contains(jacobianSamples) else { throw ValidationError("--jacobian-samples must be between 0 and 1000, got \(jacobianSamples)") }
        if let d = fitMaxDistance, d < 1 { throw ValidationError("--fit-max-distance must be at least 1, got \(d)") }
        if let m = memoryBudget, !(1...1_000_000).contains(m) { throw ValidationError("--memory-budget must be between 1 and 1000000 MB, got \(m)") }
        if caseFile != nil {
            guard cell == nil, steps == nil, weights == nil else { throw ValidationError("--case takes the cell, weights and length from the file; drop --cell, --weights and --steps") }
            try refuseIneffective(["--hidden", "--input", "--batch", "--layers", "--seeds", "--seed", "--recurrent-init", "--bias-init",
                                   "--forget-bias", "--input-scale", "--task-inputs"],
                                  "with --case: the file gives the cell, its sizes, weights, inputs, initial state and loss")
            return
        }
        if weights != nil {
            guard cell == nil else { throw ValidationError("--weights takes the cell from the file; drop --cell") }
            if taskInputs {
                guard steps == nil else { throw ValidationError("--task-inputs takes T from the task; drop --steps") }
            } else if steps == nil { throw ValidationError("give --steps T (or --task-inputs)") }
            for (name, value) in [("--steps", steps ?? 1), ("--batch", batch), ("--seeds", seeds)] {
                guard (1...Self.largest).contains(value) else { throw ValidationError("\(name) must be between 1 and \(Self.largest), got \(value)") }
            }
            guard inputScale >= 0, inputScale.isFinite else { throw ValidationError("--input-scale must be a finite number ≥ 0, got \(inputScale)") }
            return
        }
        guard !taskInputs else { throw ValidationError("--task-inputs applies only with --weights (the task a saved network was trained on)") }
        guard let cell else { throw ValidationError("give --cell NAME (or --case FILE)") }
        _ = try CellLookup.cell(cell)
        guard let steps else { throw ValidationError("give --steps T") }
        for (name, value) in [("--steps", steps), ("--hidden", hidden), ("--input", input), ("--batch", batch), ("--layers", layers), ("--seeds", seeds)] {
            guard (1...Self.largest).contains(value) else { throw ValidationError("\(name) must be between 1 and \(Self.largest), got \(value)") }
        }
        guard Double(steps) * Double(batch) * Double(max(input, hidden)) * Double(layers) <= 5e8 else {
            throw ValidationError("sizes too large: steps × batch × max(input, hidden) × layers must be at most 5e8")
        }
        // Weights and their gradients: two copies.
        do {
            try RecurrentNetwork.checkFits(cell: try CellLookup.cell(cell), named: cell, inputSize: input, hiddenSize: hidden, layers: layers, copies: 2)
        } catch let e as NetworkSizeError { throw ValidationError(e.description) }
        guard inputScale >= 0, inputScale.isFinite else { throw ValidationError("--input-scale must be a finite number ≥ 0, got \(inputScale)") }
        _ = try configurations()
    }

    /// The seeded configurations, one per seed.
    func configurations() throws -> [ProbeConfiguration] {
        let parse = { (option: String, text: String) throws -> Initializer? in
            if text.lowercased() == "pytorch-default" { return nil }
            do { return try Initializer(parsing: text, hiddenSize: hidden) } catch { throw ValidationError("\(option): \(describe(error))") }
        }
        let recurrent = try parse("--recurrent-init", recurrentInit), bias = try parse("--bias-init", biasInit)
        let forget: ForgetBiasSetting
        do { forget = try ForgetBiasSetting(parsing: forgetBias ?? "default") } catch { throw ValidationError("--forget-bias: \(describe(error))") }
        return try (0..<UInt64(seeds)).map { i in
            do {
                var c = try ProbeConfiguration(cell: cell!, steps: steps!, hiddenSize: hidden, inputSize: input, batch: batch, layers: layers,
                                               recurrentInit: recurrent, biasInit: bias, forgetBias: forget, inputScale: inputScale,
                                               seed: seed &+ i, summary: settings)
                c.precision = precision.precision
                return c
            } catch let e as ProbeError { throw ValidationError(e.description) }
        }
    }

    var settings: SummarySettings { SummarySettings(fitMaxDistance: fitMaxDistance, jacobianSamples: jacobianSamples) }

    func run() throws {
        if let caseFile {
            let rc = try ReferenceCase(contentsOf: caseFile)
            var setup = try ProbeSetup(referenceCase: rc)
            setup.memoryBudget = memoryBudget.map { $0 << 20 }
            setup.execution = execution.execution
            setup.precision = precision.precision
            let result = try GradientProbe.run(setup, settings: settings)
            if json {
                print(try RecordJSON.line(ProbeCaseJSON(rc, result, precision: precision.recorded)))
            } else {
                print("probe \(caseFile): cell \(rc.cellName), I = \(rc.network.inputSize), H = \(rc.network.hiddenSize), "
                      + "B = \(rc.batch), T = \(rc.steps), L = \(rc.network.layers); loss Σ_b,j R[T−1][b][j] · h_T[b][j]; k = T − 1 − t")
                print("")
                print(try table(summaries: [result.summary], curves: [result.curves], carried: [result.carried]))
            }
            return
        }
        if let weights { return try probeSaved(weights) }
        let configurations = try configurations()
        if let forgetBias, !configurations[0].hasForgetGate {
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
        print("loss L = Σ_j r_j h_T[j], r ~ N(0, 1)/√H; distance k = T − 1 − t; decay rate fitted over k = 0…\(min(c.steps - 1, fitMaxDistance ?? c.steps - 1))")
        print("")
        print(try table(summaries: records.map(\.summary), curves: records.map(\.curves), carried: records.map(\.carried)))
    }

    /// `--weights FILE`: the saved network on x ~ N(0, s²) and r ~ N(0, 1)/√H from each seed's
    /// mt19937 stream (inputs first, then r, as for a seeded probe without the weights' draws).
    func probeSaved(_ path: String) throws {
        warnIneffective(["--hidden", "--input", "--layers", "--recurrent-init", "--bias-init", "--forget-bias"],
                        because: "--weights gives the cell, its sizes and its weights")
        if taskInputs { warnIneffective(["--input-scale"], because: "--task-inputs feeds the task's own inputs") }
        let model = try SavedModel.read(path)
        let network = model.network
        var task: (any ForgettingTask)?
        if taskInputs { task = try ProbeSetup.task(of: model, file: path) }
        let (T, B, I, H) = (task?.steps ?? steps!, batch, network.inputSize, network.hiddenSize)
        guard Double(T) * Double(B) * Double(max(I, H)) * Double(network.layers) <= 5e8 else {
            throw ValidationError("sizes too large: steps × batch × max(input, hidden) × layers must be at most 5e8")
        }
        var summaries = [ProbeSummary](), curves = [GradientCurves](), carried = [CarriedGradient?]()
        for i in 0..<UInt64(seeds) {
            let rng = try RandomSource(seed: seed &+ i, generator: "mt19937")
            let x = task.map { $0.batch(size: B, using: rng).inputs } ?? rng.gaussianArray(count: T * B * I).map { $0 * inputScale }
            let scale = 1 / Double(H).squareRoot()
            let r = rng.gaussianArray(count: B * H).map { $0 * scale }
            var setup = try ProbeSetup(network: network, batch: B, steps: T, inputs: x, readout: r)
            setup.memoryBudget = memoryBudget.map { $0 << 20 }
            setup.execution = execution.execution
            setup.precision = precision.precision
            let result = try GradientProbe.run(setup, settings: settings)
            summaries.append(result.summary); curves.append(result.curves); carried.append(result.carried)
        }
        if json {
            print(try RecordJSON.line(ProbeSavedJSON(file: path, metadata: model.metadata, inputSize: I, hidden: H, batch: B, steps: T,
                                                     layers: network.layers, inputScale: inputScale, seeds: (0..<UInt64(seeds)).map { seed &+ $0 },
                                                     curves: curves, precision: precision.recorded,
                                                     carried: precision.precision == .f64 ? nil : carried.map { $0.map(CarriedJSON.init) })))
            return
        }
        let seedText = seeds == 1 ? "seed \(seed)" : "seeds \(seed)…\(seed &+ UInt64(seeds - 1))"
        let trained = model.metadata["updates"].map { ", trained \($0) updates" + (model.metadata["task"].map { " on \($0)" } ?? "") } ?? ""
        let inputs = task.map { "inputs of \($0.name) (length \($0.length))" } ?? "x ~ N(0, \(formatNumber(inputScale))²)"
        print("probe \(path): cell \(model.metadata["cell"] ?? network.cell.name)\(trained), H = \(H), I = \(I), B = \(B), L = \(network.layers), "
              + "T = \(T), \(inputs), \(seedText) (mt19937)" + (precision.precision == .f32 ? ", float32" : ""))
        print("loss L = Σ_j r_j h_T[j], r ~ N(0, 1)/√H; distance k = T − 1 − t; decay rate fitted over k = 0…\(min(T - 1, fitMaxDistance ?? T - 1))")
        print("")
        print(try table(summaries: summaries, curves: curves, carried: carried))
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
