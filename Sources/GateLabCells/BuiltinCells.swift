/// The built-in cells: one table, from which the listing (`gatelab cells`, `show --all`), the
/// lookup by name or alias, the reference format's names and the error messages all derive. A
/// new built-in cell is one row.
///
/// Resolving a name *or the path of a cell file* (`resolve(_:)`, `named(_:)`) needs the cell
/// language, which builds on this module: those live in `CellLanguage`, as an extension of
/// this enum, so that the dependency runs one way.
public enum BuiltinCells {
    /// One built-in cell.
    public struct Entry: Sendable {
        /// The command-line name (`lstm`), also the cell's `name`.
        public let name: String
        /// Other names accepted for it (`rnn_tanh`, `tanh`, …), compared case-insensitively.
        public let aliases: [String]
        /// Its name in the reference-case and weights-file format (PyTorch's: `rnn_tanh` for
        /// `nn.RNN`).
        public let interchangeName: String
        /// One line on what it computes.
        public let summary: String
        /// The source paper (and the library whose form it follows).
        public let paper: String
        let make: @Sendable () -> any RecurrentCell

        /// A new instance of the cell.
        public var cell: any RecurrentCell { make() }

        /// Every name it is known by, in lower case: its name, then its aliases.
        public var names: [String] { [name] + aliases }
    }

    /// Every built-in cell, in the order listings show them.
    public static let all: [Entry] = [
        Entry(name: "rnn", aliases: ["rnn_tanh", "tanh", "tanh-rnn"], interchangeName: "rnn_tanh",
              summary: "Elman RNN: the new state is tanh of the input and recurrent products plus biases",
              paper: "Elman 1990; PyTorch nn.RNN", make: { TanhRNN() }),
        Entry(name: "lstm", aliases: [], interchangeName: "lstm",
              summary: "LSTM with forget gate, PyTorch's form (gates i, f, g, o)",
              paper: "Hochreiter & Schmidhuber 1997; Gers, Schmidhuber & Cummins 2000", make: { LSTM() }),
        Entry(name: "gru", aliases: ["gru_reset_after"], interchangeName: "gru",
              summary: "GRU, reset gate applied after the recurrent product (PyTorch, cuDNN)",
              paper: "Cho et al. 2014, as in PyTorch nn.GRU", make: { GRU(form: .resetAfter) }),
        Entry(name: "gru_reset_before", aliases: ["gru-reset-before"], interchangeName: "gru_reset_before",
              summary: "GRU, reset gate applied to h before the recurrent product",
              paper: "Cho et al. 2014 (Keras reset_after=False)", make: { GRU(form: .resetBefore) }),
    ]

    /// The command-line names, in table order (for help texts and error messages).
    public static let names = all.map(\.name)

    /// The entry named `name` or one of its aliases (case-insensitive), or nil.
    public static func entry(_ name: String) -> Entry? {
        let key = name.lowercased()
        return all.first { $0.names.contains(key) }
    }

    /// The entry of `cell`, if it is a built-in cell (its summary and paper).
    public static func entry(for cell: any RecurrentCell) -> Entry? {
        all.first { $0.name == cell.name }
    }

    /// The built-in cell named `name` or one of its aliases (`rnn`/`rnn_tanh`, `lstm`, `gru`,
    /// `gru_reset_before`), or nil.
    public static func builtin(_ name: String) -> (any RecurrentCell)? {
        entry(name)?.cell
    }
}
