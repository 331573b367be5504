import GateLabProbe
import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabInterchange
import GateLabSupport

/// Everything that defines one seeded probe run: the cell, its sizes and initialization, the
/// sequence length, the input scale, the seed, and how the summaries are taken.
///
/// The random stream is one `mt19937` generator seeded with `seed`, drawn in this order:
/// 1. the weights (`RecurrentNetwork.initialize`: layer by layer, in the cell's parameter
///    order, then the forget-gate biases);
/// 2. the inputs x, T·B·I numbers step-major, x = inputScale · N(0, 1);
/// 3. the readout r, B·H numbers, r = N(0, 1)/√H, which defines the loss
///    L = Σ_b Σ_j r[b][j] · h_T[b][j] on the top layer's output at the last step only
///    (so ∂L/∂h_T = r and ‖∂L/∂h_T‖ ≈ 1 for B = 1).
/// The initial state is zero.
public struct ProbeConfiguration: Sendable, Equatable {
    /// The cell's canonical command-line name (`rnn`, `lstm`, `gru`, `gru_reset_before`).
    public var cell: String
    /// Sequence length T.
    public var steps: Int
    /// Units per layer H.
    public var hiddenSize: Int
    /// Input features I.
    public var inputSize: Int
    /// Sequences per batch B.
    public var batch: Int
    /// Stacked layers L.
    public var layers: Int
    /// The recurrent weights' (`W_h*`) initializer; nil: PyTorch's default U(±1/√H).
    public var recurrentInit: Initializer?
    /// The biases' initializer; nil: PyTorch's default U(±1/√H).
    public var biasInit: Initializer?
    /// The LSTM forget-gate bias; always `.pytorchDefault` for cells without a forget gate.
    public var forgetBias: ForgetBiasSetting
    /// Standard deviation of the inputs: x ~ N(0, inputScale²).
    public var inputScale: Double
    /// The seed of the one random stream (see the type's documentation).
    public var seed: UInt64
    /// The summaries' settings.
    public var summary: SummarySettings
    /// A saved network to probe instead of seeded weights (`weights = [...]` in an experiment
    /// file; a path relative to the working directory): the cell and sizes are the file's, and
    /// the stream draws only the inputs and r (steps 2 and 3 below).
    public var weights: String?
    /// With `weights`: feed sequences of the task the network was trained on (the file's
    /// `task` and `length`, drawn from the seed's stream) instead of x ~ N(0, s²); T is then
    /// the task's. `task_inputs = true` in an experiment file, `--task-inputs` on the command line.
    public var taskInputs = false
    /// The precision the probe runs in: f64 (the default) or f32, where the record also
    /// holds what the unrescaled float32 reverse pass carries (`CarriedGradient`).
    /// `precision = "f32"` in an experiment file, `--precision f32` on the command line.
    public var precision = Precision.f64

    /// Creates a configuration; defaults: H = 32, I = 1, B = 1, L = 1, PyTorch's default
    /// initialization, inputs N(0, 1), seed 1.
    /// - Parameters:
    ///   - cell: a name `BuiltinCells.named(_:)` accepts (aliases are canonicalized).
    ///   - steps: the length T (≥ 1).
    ///   - hiddenSize: units per layer H (≥ 1).
    ///   - inputSize: input features I (≥ 1).
    ///   - batch: sequences per batch B (≥ 1).
    ///   - layers: stacked layers L (≥ 1).
    ///   - recurrentInit: the recurrent weights' (`W_h*`) initializer; nil: PyTorch's default.
    ///   - biasInit: the biases' initializer; nil: PyTorch's default.
    ///   - forgetBias: ignored (set to `.pytorchDefault`) for cells without a forget gate.
    ///   - inputScale: the inputs' standard deviation (finite, ≥ 0).
    ///   - seed: the seed of the one random stream.
    ///   - summary: the summaries' settings.
    /// - Throws: `ProbeError.invalidConfiguration` for an unknown cell or a non-positive size.
    public init(cell: String, steps: Int, hiddenSize: Int = 32, inputSize: Int = 1, batch: Int = 1, layers: Int = 1,
                recurrentInit: Initializer? = nil, biasInit: Initializer? = nil, forgetBias: ForgetBiasSetting = .pytorchDefault,
                inputScale: Double = 1, seed: UInt64 = 1, summary: SummarySettings = SummarySettings()) throws {
        let c: any RecurrentCell
        do { c = try BuiltinCells.resolve(cell) }   // a built-in name or a cell file
        catch { throw ProbeError.invalidConfiguration("\(error)") }
        for (name, value) in [("steps", steps), ("hidden size", hiddenSize), ("input size", inputSize), ("batch", batch), ("layers", layers)]
        where value < 1 {
            throw ProbeError.invalidConfiguration("\(name) must be at least 1, got \(value)")
        }
        guard inputScale >= 0, inputScale.isFinite else {
            throw ProbeError.invalidConfiguration("input scale must be a finite number ≥ 0, got \(inputScale)")
        }
        // Cells without a forget gate ignore the setting; keep it neutral so that equal
        // probes compare equal.
        let hasForget = c.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" }
        if hasForget, case .chrono = forgetBias, steps <= 2 {
            throw ProbeError.invalidConfiguration("chrono forget bias needs T > 2 (it uses T as T_max), got T = \(steps)")
        }
        self.cell = c.name
        self.steps = steps
        self.hiddenSize = hiddenSize
        self.inputSize = inputSize
        self.batch = batch
        self.layers = layers
        self.recurrentInit = recurrentInit
        self.biasInit = biasInit
        self.forgetBias = hasForget ? forgetBias : .pytorchDefault
        self.inputScale = inputScale
        self.seed = seed
        self.summary = summary
    }

    /// Nothing chosen yet: no cell (empty), no length (0), every other setting at its default.
    /// `ProbeSettings.table` starts from it; `checked()` makes a configuration of what is set.
    public static let unset = ProbeConfiguration(unsetCell: ())

    private init(unsetCell: Void) {
        (cell, steps, hiddenSize, inputSize, batch, layers) = ("", 0, 32, 1, 1, 1)
        (forgetBias, inputScale, seed, summary) = (.pytorchDefault, 1, 1, SummarySettings())
    }

    /// This configuration checked (`validated()`), and on a saved network's task inputs with
    /// the task's length (read from the file) and input scale 1 (which they do not use).
    /// - Throws: `ProbeError.invalidConfiguration` naming what is missing or wrong.
    public func checked() throws -> ProbeConfiguration {
        var c = self
        if taskInputs {
            guard let weights else { throw ProbeError.invalidConfiguration("task_inputs applies only with weights (the task a saved network was trained on)") }
            do { c.steps = try ProbeSetup.task(of: try SavedModel.read(weights), file: weights).steps } catch {
                throw ProbeError.invalidConfiguration("task_inputs needs a network saved by gatelab train (its task and length): \(error)")
            }
            c.inputScale = 1
        }
        return try c.validated()
    }

    /// This configuration checked as `init` checks one (a cell that resolves, sizes ≥ 1,
    /// chrono with T > 2), the forget bias reset where the cell has no forget gate. A saved
    /// network's cell is the file's (its text included), kept as recorded and not looked up:
    /// the cell file it was trained from may be gone.
    /// - Throws: `ProbeError.invalidConfiguration` naming what is missing or wrong.
    public func validated() throws -> ProbeConfiguration {
        guard !cell.isEmpty else { throw ProbeError.invalidConfiguration("no cell: set cell (or weights)") }
        guard steps != 0 else { throw ProbeError.invalidConfiguration("no steps: set steps (the length T)") }
        guard Double(steps) * Double(batch) * Double(max(inputSize, hiddenSize)) * Double(layers) <= Self.largestUnrolled else {
            throw ProbeError.invalidConfiguration("sizes too large: steps × batch × max(input, hidden) × layers must be at most 5e8")
        }
        if weights != nil {
            for (name, value) in [("steps", steps), ("hidden size", hiddenSize), ("input size", inputSize), ("batch", batch), ("layers", layers)]
            where value < 1 {
                throw ProbeError.invalidConfiguration("\(name) must be at least 1, got \(value)")
            }
            var c = self
            (c.recurrentInit, c.biasInit, c.forgetBias) = (nil, nil, .pytorchDefault)
            return c
        }
        var c = try ProbeConfiguration(cell: cell, steps: steps, hiddenSize: hiddenSize, inputSize: inputSize, batch: batch, layers: layers,
                                       recurrentInit: recurrentInit, biasInit: biasInit, forgetBias: forgetBias, inputScale: inputScale,
                                       seed: seed, summary: summary)
        (c.weights, c.taskInputs, c.precision) = (weights, taskInputs, precision)
        // The weights and their gradients: two copies, under the budget every command keeps.
        do {
            try RecurrentNetwork.checkFits(cell: try BuiltinCells.resolve(cell), named: cell, inputSize: inputSize, hiddenSize: hiddenSize,
                                           layers: layers, copies: 2)
        } catch let e as NetworkSizeError { throw ProbeError.invalidConfiguration(e.description) }
        return c
    }

    /// The most numbers an unrolled probe may hold per sequence step and layer product
    /// (steps × batch × max(input, hidden) × layers).
    public static let largestUnrolled = 5e8

    /// Whether the cell has a forget gate (so `forgetBias` applies); false for a cell that cannot be looked up.
    public var hasForgetGate: Bool {
        (try? BuiltinCells.resolve(cell))?.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" } ?? false
    }
    /// The initialization scheme this configuration asks for (chrono uses T as T_max).
    public var initialization: RecurrentNetwork.Initialization {
        var scheme = RecurrentNetwork.Initialization(recurrentWeights: recurrentInit, biases: biasInit)
        switch forgetBias {
        case .pytorchDefault: break
        case .constant(let b): scheme.forgetBias = .constant(b)
        case .chrono: scheme.forgetBias = .chrono(maxSteps: Double(steps))
        }
        return scheme
    }

    /// The recurrent initializer's name (`pytorch-default` when nil).
    public var recurrentInitName: String { recurrentInit?.description ?? "pytorch-default" }
    /// The bias initializer's name (`pytorch-default` when nil).
    public var biasInitName: String { biasInit?.description ?? "pytorch-default" }
}
