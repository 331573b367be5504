import GateLabProbe
import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
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

    /// Whether the cell has a forget gate (so `forgetBias` applies).
    public var hasForgetGate: Bool {
        BuiltinCells.named(cell)!.parameters(inputSize: 1, hiddenSize: 1).contains { $0.gate == "forget" }
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

/// The LSTM forget-gate bias: PyTorch's default draw, a constant, or chrono.
public enum ForgetBiasSetting: Sendable, Equatable, CustomStringConvertible {
    /// Leave b_if, b_hf as the bias initializer drew them (PyTorch: U(±1/√H)).
    case pytorchDefault
    /// b_if = value, b_hf = 0 (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1).
    case constant(Double)
    /// Chrono initialization (Tallec & Ollivier 2018) with T_max = the probe's length T.
    case chrono

    /// `default`, a number such as `1` or `0.5`, or `chrono`.
    public var description: String {
        switch self {
        case .pytorchDefault: return "default"
        case .constant(let b): return formatNumber(b)
        case .chrono: return "chrono"
        }
    }

    /// Reads `default` (also `pytorch-default`), a finite number, or `chrono`.
    /// - Throws: `ProbeError.invalidConfiguration` naming the accepted forms.
    public init(parsing text: String) throws {
        let t = text.trimmingCharacters(in: .whitespaces).lowercased()
        switch t {
        case "default", "pytorch-default": self = .pytorchDefault
        case "chrono": self = .chrono
        default:
            guard let b = Double(t), b.isFinite else {
                throw ProbeError.invalidConfiguration("unknown forget bias '\(text)'; use a number (e.g. 0 or 1), chrono, or default")
            }
            self = .constant(b)
        }
    }
}

