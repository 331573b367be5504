import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import GateLabGSL
import GateLabInterchange
import GateLabProbe
import GateLabSupport

/// The settings of a probe, one row each: the keys of `kind = "probe"` experiment files, the
/// options of `gatelab probe`, the grid's axes (in this order, outermost first), and where each
/// lands in `ProbeConfiguration` (whose fields the records store). A new setting is one row
/// here, a field of the configuration, and its option in `gatelab probe` (a test checks that the
/// command and this table agree).
///
/// The product of a grid's lists is `SettingsTable.product`'s, as for every kind; what is
/// particular to probes is done after it, per configuration, by `ProbeConfiguration.checked()`:
/// a cell without a forget gate ignores `forget_bias`, and on a saved network's task inputs
/// (`task_inputs = true`) the length is the task's and the input scale does not apply. Points
/// those rules make equal are one point (`ProbeKind.grid`).
public enum ProbeSettings {
    /// The table.
    public static let table = SettingsTable<ProbeConfiguration>([
        // First: a saved network sets the cell and sizes, which the rows below would otherwise set.
        Setting("weights", flag: "--weights",
                help: "A saved network (.json, .npz or .safetensors) to probe instead of a seeded one; its cell and sizes come from the file.",
                current: { $0.weights ?? "none" }) { v, c, context in
            let path = try context.path(try v.string())
            let model: SavedModel
            do { model = try SavedModel.read(path) } catch { throw SettingProblem("\(error)") }
            let n = model.network
            c.weights = path
            // The file's cell as recorded (canonical where it is a built-in's name): the network is the file's either way.
            let cell = model.metadata["cell"] ?? n.cell.name
            (c.cell, c.hiddenSize, c.inputSize, c.layers) = (BuiltinCells.builtin(cell)?.name ?? cell, n.hiddenSize, n.inputSize, n.layers)
        },
        Setting("task_inputs", flag: "--task-inputs",
                help: "On a saved network (weights): feed sequences of the task it was trained on (its file's task and length), drawn from each seed, instead of x ~ N(0, s²); T is the task's.",
                current: { String($0.taskInputs) }) { v, c, _ in
            c.taskInputs = try v.bool()
        },
        Setting("cell", flag: "--cell", help: "The cell: \(BuiltinCells.names.joined(separator: ", ")), or the path of a .cell file.",
                current: { $0.cell.isEmpty ? "none" : $0.cell }) { v, c, context in
            var name = try v.string()
            if BuiltinCells.builtin(name) == nil, name.hasSuffix(".cell") || name.contains("/") { name = try context.path(name) }
            do { c.cell = try BuiltinCells.resolve(name).name }
            catch let e as UnknownCellError { throw SettingProblem(e.message) }
            catch { throw SettingProblem("\(error)") }
        },
        initializer("recurrent_init", flag: "--recurrent-init", help: "Initializer of the recurrent weights W_h*", \.recurrentInit),
        initializer("bias_init", flag: "--bias-init", help: "Initializer of the biases", \.biasInit),
        Setting("forget_bias", flag: "--forget-bias",
                help: "Forget-gate bias (cells with a forget gate): a number (0, 1, …), chrono (T_max = T), or default (PyTorch's U(±1/√H)).",
                current: { $0.forgetBias.description }) { v, c, _ in
            c.forgetBias = try ForgetBiasSetting(v)
        },
        .integer("hidden", flag: "--hidden", help: "Units per layer (H).", least: 1, \.hiddenSize),
        .integer("input_size", flag: "--input", help: "Input features (I).", least: 1, \.inputSize),
        .integer("batch", flag: "--batch", help: "Sequences per batch (B).", least: 1, \.batch),
        .integer("layers", flag: "--layers", help: "Stacked layers (L).", least: 1, \.layers),
        Setting("input_scale", flag: "--input-scale", help: "Standard deviation s of the inputs x ~ N(0, s²).",
                current: { formatNumber($0.inputScale) }) { v, c, _ in
            let x = try v.number()
            guard x >= 0, x.isFinite else { throw SettingProblem("must be a finite number ≥ 0, got \(formatNumber(x))") }
            c.inputScale = x
        },
        Setting("fit_max_distance", flag: "--fit-max-distance", help: "Fit the decay rate over k = 0 … this.",
                current: { $0.summary.fitMaxDistance.map(String.init) ?? "T − 1" }) { v, c, _ in
            let n = try v.int()
            guard (1...1_000_000).contains(n) else { throw SettingProblem("must be between 1 and 1000000, got \(n)") }
            c.summary.fitMaxDistance = n
        },
        .integer("jacobian_samples", flag: "--jacobian-samples",
                 help: "Distances at which the one-step Jacobian's singular values are computed.", least: 0, most: 1000, \.summary.jacobianSamples),
        .choice("precision", flag: "--precision",
                help: "Working precision: f64 (double) or f32 (single; the record also holds what the unrescaled float32 reverse pass carries).",
                noun: "precision", Precision.allCases.map { ($0.rawValue, $0) }, current: { $0.precision.rawValue }) { $1.precision = $0 },
        .integer("steps", flag: "--steps", help: "Sequence length T.", least: 1, most: 1_000_000, \.steps),
        Setting("seeds", flag: "--seed", help: "The seed of the probe's one mt19937 stream (weights, inputs, readout).",
                current: { String($0.seed) }) { v, c, _ in
            let n = try v.int()
            guard n >= 0, n <= Int(UInt32.max) else { throw SettingProblem("a seed must be between 0 and \(UInt32.max), got \(n)") }
            c.seed = UInt64(n)
        },
    ], base: .unset)

    /// An initializer's row: a name `Initializer` reads, `pytorch-default` (PyTorch's
    /// U(±1/√H)) stored as nil.
    static func initializer(_ key: String, flag: String, help: String,
                            _ keyPath: WritableKeyPath<ProbeConfiguration, Initializer?>) -> Setting<ProbeConfiguration> {
        Setting(key, flag: flag, help: "\(help): \(Initializer.validNames.joined(separator: ", ")).",
                current: { $0[keyPath: keyPath]?.description ?? "pytorch-default" }) { v, c, _ in
            let name = try v.string()
            if name.lowercased().filter({ !$0.isWhitespace }) == "pytorch-default" { c[keyPath: keyPath] = nil; return }
            do { c[keyPath: keyPath] = try Initializer(parsing: name, hiddenSize: 1) } catch {
                throw SettingProblem("unknown initializer '\(name)'; valid: \(Initializer.validNames.joined(separator: ", "))")
            }
        }
    }

    /// The keys a saved network's file sets, refused where `weights` is set.
    public static let keysOfSavedNetworks = ["cell", "hidden", "input_size", "layers", "recurrent_init", "bias_init", "forget_bias"]
}
