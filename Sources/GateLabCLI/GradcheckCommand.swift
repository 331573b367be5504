import ArgumentParser
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGradCheck
import GateLabInterchange
import GateLabVerification
import GateLabSupport

/// `gatelab gradcheck`: `SequenceGradientCheck` of one cell from the command line.
struct GradcheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gradcheck",
        abstract: "Gradient-check a cell unrolled over a sequence (every weight and initial state).",
        discussion: """
            Seeded random weights, inputs, initial states and loss weights R; loss \
            L = Σ_t Σ R_t ⊙ h_t. Exit code 0 when every gradient agrees with central \
            differences, 1 when one does not. An element (or direction) that fails with plain \
            central differences is re-tested with Richardson extrapolation, which alone \
            decides: a plain difference's own error can exceed the tolerance where the \
            gradient is right, a wrong gradient fails the re-test too. The report counts the \
            re-tests (cleared and confirmed); --no-retest turns them off. With --precision f32 \
            the float32 program's analytic gradients are compared with the float64 program's \
            analytic gradients on the same float32-rounded weights, inputs, states and R (not \
            finite differences, which are useless in float32): per tensor max|g32 − g64| / \
            max|g64|, tolerance 1e-4 unless --tolerance is given. \
            --method complex-step computes each derivative as Im L(θ + ih·v)/h from one \
            forward pass in complex arithmetic (h = 1e-200, no subtraction, exact to \
            rounding) and holds every tensor to 256 units of rounding times the condition of \
            its sums; --method both runs central differences and then the complex step. Every \
            method reports relu arguments met within its step of the kink, parameters whose \
            gradient is exactly zero, and parameters whose gradient does not change with the \
            input sequence.
            """)

    /// Which derivatives are compared.
    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case full, directional
    }

    // Optional, unlike train's shared CellOption: --weights may name the cell instead.
    @Option(help: CellOption.help)
    var cell: String?

    @Option(help: "Check at the weights of this saved network (.json, .npz, .safetensors) instead of seeded ones; its cell and sizes replace --cell, --input, --hidden and --layers.")
    var weights: String?

    /// A small network: a full check costs two loss evaluations per weight.
    enum Defaults: NetworkSizeDefaults {
        static let hidden = 4, input = 3, batch = 2, layers = 1
    }
    @OptionGroup var sizes: NetworkSizeOptions<Defaults>
    var hidden: Int { sizes.hidden }
    var input: Int { sizes.input }
    var batch: Int { sizes.batch }
    var layers: Int { sizes.layers }

    @Option(help: "Time steps (T).")
    var steps = 20

    @OptionGroup var seedOption: SeedOption
    var seed: UInt64 { seedOption.seed }

    @Option(help: "full: every element; directional: random directions vᵀ∇L.")
    var mode: Mode = .full

    @Option(help: "central: central differences with Richardson re-tests (the default); complex-step: Im L(θ + ih·v)/h, exact to rounding; both.")
    var method: GradcheckMethod = .central

    @Option(help: "Number of random directions (directional mode; default 8).")
    var directions: Int?

    @Flag(help: "Richardson-extrapolated central differences (error O(h⁴)).")
    var richardson = false

    @Flag(inversion: .prefixedNo,
          help: "Re-test with Richardson extrapolation what fails with plain central differences (4 more loss evaluations each); without --richardson only.")
    var retest = true

    @Option(help: "Largest accepted relative error, rel err = |a − n| / max(|a|, |n|, floor) with the floor 1e-4 · max(1, |L|) (default 1e-6).")
    var tolerance: Double?

    @Flag(help: "Print the report as JSON instead of a table.")
    var json = false

    /// Sizes above these would exhaust memory or run for hours; they are not research sizes
    /// for a full check anyway.
    static let largestSize = 100_000, largestWork = 50_000_000

    /// The most step evaluations (numbers checked × 2 passes × work of a pass) a check may
    /// take: about a minute of a debug build.
    static let largestCheckCost = 1e10

    func validate() throws {
        switch (cell, weights) {
        case (let cell?, nil): try CellLookup.validate(cell)
        case (nil, _?): break
        case (_?, _?): throw ValidationError("--weights takes the cell from the file; drop --cell")
        case (nil, nil): throw ValidationError("give --cell NAME (or --weights FILE)")
        }
        for (name, value) in [("--hidden", hidden), ("--input", input), ("--batch", batch), ("--steps", steps), ("--layers", layers)] {
            guard value >= 1 else { throw ValidationError("\(name) must be at least 1, got \(value)") }
            guard value <= Self.largestSize else { throw ValidationError("\(name) must be at most \(Self.largestSize), got \(value)") }
        }
        // In Double: products of sizes up to 1e5 overflow Int.
        let (T, B, I, H, L) = (Double(steps), Double(batch), Double(input), Double(hidden), Double(layers))
        let work = T * B * max(I, H) * L, weights = 4 * H * (max(I, H) + H + 2) * L
        guard work <= Double(Self.largestWork), weights <= Double(Self.largestWork) else {
            throw ValidationError("sizes too large: steps × batch × max(input, hidden) × layers = \(String(format: "%.3g", work)) "
                                  + "and about \(String(format: "%.3g", weights)) weights; each must be at most \(Self.largestWork)")
        }
        // Each checked number costs two forward passes: in full mode every weight, input and
        // initial state is one, so the cost is their count times the work of a pass (layers
        // 100000 passed the bounds above and then ran for hours). Refused with the estimate.
        let checked = mode == .full ? weights + T * B * I + 2 * L * B * H : Double(directions ?? 8)
        let cost = 2 * checked * work
        guard cost <= Self.largestCheckCost else {
            throw ValidationError("too much work: about \(String(format: "%.3g", cost)) step evaluations (\(String(format: "%.3g", checked)) numbers checked, "
                                  + "2 passes of \(String(format: "%.3g", work)) each), more than \(String(format: "%.3g", Self.largestCheckCost)); "
                                  + "use fewer layers or steps, or --mode directional")
        }
        if let k = directions {
            guard mode == .directional else { throw ValidationError("--directions applies only with --mode directional") }
            guard (1...1_000_000).contains(k) else { throw ValidationError("--directions must be between 1 and 1000000, got \(k)") }
        }
        if let t = tolerance, !(t >= 0 && t.isFinite) {
            throw ValidationError("--tolerance must be a finite number ≥ 0, got \(t)")
        }
        try validateMethod()
        if precision.precision == .f32, mode != .full || richardson {
            throw ValidationError("--precision f32 compares with the float64 program's gradients, not finite differences: drop --mode directional and --richardson")
        }
    }

    @OptionGroup var execution: ExecutionOptions

    @OptionGroup var precision: PrecisionOption

    func run() throws {
        var check: SequenceGradientCheck
        var (input, hidden, layers) = (self.input, self.hidden, self.layers)
        if let weights {
            warnIneffective(["--hidden", "--input", "--layers"], because: "--weights gives the cell and its sizes")
            let network = try SavedModel.read(weights).network
            (input, hidden, layers) = (network.inputSize, network.hiddenSize, network.layers)
            check = SequenceGradientCheck(cell: network.cell)
            check.weights = network
        } else {
            check = SequenceGradientCheck(cell: try CellLookup.cell(cell!))
        }
        check.execution = execution.execution
        (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers) = (input, hidden, batch, steps, layers)
        check.seed = seed
        var options = GradientCheckOptions(richardson: richardson, retestFailures: retest)
        if let tolerance { options.tolerance = tolerance }
        if mode == .directional { options.mode = .directional(count: directions ?? 8, seed: seed) }
        check.options = options

        if precision.precision == .f32 {
            if !retest { warnIneffective(["--no-retest"], because: "--precision f32 compares with the float64 program's gradients") }
            let comparison = try check.compareFloat32(tolerance: tolerance ?? SequenceGradientCheck.float32Tolerance)
            if json {
                print(try RecordJSON.line(Float32GradcheckJSON(check: check, comparison: comparison)))
            } else {
                print("gradcheck \(weights ?? check.cell.name) in float32: I = \(input), H = \(hidden), B = \(batch), T = \(steps), L = \(layers), seed \(seed)")
                print("against the float64 program's analytic gradients on the same float32-rounded weights, inputs, states and R "
                      + "(not finite differences); error = max|g32 − g64| / max|g64| per tensor")
                print("")
                var rows = [["tensor", "elements", "error", "status"]]
                for r in comparison.rows { rows.append([r.name, "\(r.count)", scientific(r.error), r.error <= comparison.tolerance ? "ok" : "FAIL"]) }
                print(alignedTable(rows, rightAligned: [1, 2]))
                print("")
                print((comparison.passed ? "passed" : "FAILED") + ": worst \(scientific(comparison.worst)), tolerance \(scientific(comparison.tolerance))")
            }
            if !comparison.passed { throw ExitCode(ExitStatus.checkFailed) }
            return
        }

        if method != .central { return try runComplexStep(check, input: input, hidden: hidden, layers: layers) }
        let report = try check.run()
        if json {
            var record = SequenceGradientCheckReport(check: check, report: report, version: GateLabVersion.current)
            do {
                record.kinks = try check.centralKinks()
                record.parameters = try check.parameterSensitivity()
            } catch {
                warn("the kink and parameter diagnostics could not run: \(describe(error))")
            }
            print(try record.json())
        } else {
            print("gradcheck \(weights ?? check.cell.name): I = \(input), H = \(hidden), B = \(batch), T = \(steps), L = \(layers), "
                  + "seed \(seed), \(mode.rawValue) mode; loss L(θ) = \(report.loss)")
            print("")
            print(report.table())
            printDiagnostics(of: check)
        }
        if !report.passed { throw ExitCode(ExitStatus.checkFailed) }
    }
}

/// `gatelab gradcheck --precision f32 --json`: the comparison with everything needed to rerun it.
struct Float32GradcheckJSON: Encodable {
    enum CodingKeys: String, CodingKey {
        case cell, inputSize = "input_size", hiddenSize = "hidden_size", batch, steps, layers, seed, rng
        case gatelabVersion = "gatelab_version", precision, comparison
    }
    var cell: String, inputSize: Int, hiddenSize: Int, batch: Int, steps: Int, layers: Int, seed: UInt64
    var rng = SequenceGradientCheck.generator, gatelabVersion = GateLabVersion.current, precision = "f32"
    var comparison: Float32GradientComparison

    init(check: SequenceGradientCheck, comparison: Float32GradientComparison) {
        cell = check.cell.name
        (inputSize, hiddenSize, batch, steps, layers, seed) = (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers, check.seed)
        self.comparison = comparison
    }
}
