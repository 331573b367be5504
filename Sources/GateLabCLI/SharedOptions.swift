import ArgumentParser
import GateLabAutodiff
import GateLabCells
import GateLabExperiments
import GateLabSupport

// Options that several commands share, declared once (swift-argument-parser's `@OptionGroup`):
// the same name, meaning and help text wherever they appear. A command whose defaults differ
// (a gradient check wants a tiny network, a probe a research-sized one) says so through its
// `Defaults` type, not by declaring the option again.

/// `--cell NAME|PATH`, required (`gradcheck`, `train`, `weights init`).
struct CellOption: ParsableArguments {
    /// The help text, also for commands whose cell is optional (`probe`, where `--case` may
    /// give it instead).
    static let help = ArgumentHelp("The cell: \(BuiltinCells.names.joined(separator: ", ")), or the path of a .cell file.")

    @Option(help: CellOption.help)
    var cell: String
}

/// `--cell NAME|PATH`, optional: `train`, where `--preset` names a paper's own network instead.
struct OptionalCellOption: ParsableArguments {
    @Option(help: CellOption.help)
    var cell: String?
}

/// The per-command defaults of `NetworkSizeOptions`.
protocol NetworkSizeDefaults {
    static var hidden: Int { get }
    static var input: Int { get }
    static var batch: Int { get }
    static var layers: Int { get }
}

/// `--hidden`, `--input`, `--batch`, `--layers`: the sizes of an unrolled network and its
/// batch (`gradcheck`), with the command's own defaults.
struct NetworkSizeOptions<Defaults: NetworkSizeDefaults>: ParsableArguments {
    @Option(help: "Units per layer (H).")
    var hidden: Int = Defaults.hidden

    @Option(help: "Input features (I).")
    var input: Int = Defaults.input

    @Option(help: "Sequences per batch (B).")
    var batch: Int = Defaults.batch

    @Option(help: "Stacked layers (L).")
    var layers: Int = Defaults.layers
}

/// `--seed`: the one seed of everything a command draws at random (`gradcheck`, `weights
/// init`; `probe` and `train` read theirs through their settings tables).
struct SeedOption: ParsableArguments {
    @Option(help: "Seed of everything drawn at random: weights, inputs, states, targets (GSL's MT19937).")
    var seed: UInt64 = 1
}

/// `FILE`, `--quick`, `--output`: which run of an experiment file (`run`, `merge`, `slurm`).
/// The three must be the same for a run's shards and its merge, so they are one group.
struct ExperimentFileOptions: ParsableArguments {
    @Argument(help: "The experiment file (TOML).")
    var file: String

    @Flag(help: "The small grid of the file's [quick] table (default: 2 seeds, lengths ≤ 1000).")
    var quick = false

    @Option(help: "Output folder (default: the file's [output] dir, else Notes/<name>).")
    var output: String?

    /// The one output-path rule (`Files.checkOutputPath`): `--output ""` is refused.
    func validate() throws {
        if let output { try Files.checkOutputPath(output, what: "--output") }
    }
}

/// `--precision f32|f64`: the scalar the engine stores and computes in (`bench`, `train`,
/// `probe`). Float64 is the default; float32 records say `"precision": "f32"` (float64 ones
/// omit the key, so they stay byte-identical to those written before the option existed).
struct PrecisionOption: ParsableArguments {
    @Option(help: "Working precision: f64 (double, the default) or f32 (single; weights, inputs and states rounded once when loaded).")
    var precision: Precision = .f64

    /// The value to record: nil for float64 (the key is omitted), else the spelling.
    var recorded: String? { precision == .f64 ? nil : precision.rawValue }
}

extension Precision: ExpressibleByArgument {}

/// `--cell` for a model file that is a bare PyTorch `state_dict`, whose keys cannot always tell
/// the cell: one declaration for every command that reads one (`predict`, `weights check`,
/// `weights convert`).
struct BareStateDictCellOption: ParsableArguments {
    @Option(help: "For a bare PyTorch state_dict whose keys cannot tell it: rnn (nn.RNN with tanh), or gru_reset_before instead of PyTorch's gru.")
    var cell: String?
}
