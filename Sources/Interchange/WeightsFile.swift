import Autodiff
import Cells
import Experiments
import Foundation

/// Saving and loading a network's weights as JSON in PyTorch's `state_dict` names and layout
/// — the reference cases' format — plus `cell`, `input_size`, `hidden_size`, `num_layers`, so
/// that PyTorch users can `torch.tensor(...)` each key into `nn.LSTM.load_state_dict`.
public enum WeightsFile {
    /// The JSON text of `network`'s weights: one object with `cell`, `input_size`,
    /// `hidden_size`, `num_layers` and the `state_dict` tensors (weights as lists of rows,
    /// biases as flat lists), keys sorted, so that the same weights always give the same bytes.
    /// Numbers are written in Swift's shortest round-trip form, so reading back gives
    /// bit-identical weights. (A whole number is written without a fraction, `1` for 1.0, and
    /// −0.0 as `-0`: Python's `json` reads those as integers, and `torch.tensor` of a list of
    /// only integers is an integer tensor, which `load_state_dict` converts when it copies.)
    /// - Throws: `EncodingError` when a weight is not finite (JSON has no such number).
    public static func json(_ network: RecurrentNetwork) throws -> String {
        var object: [String: JSONValue] = [
            "cell": .string(caseCellName(network.cell)),
            "input_size": .number(Double(network.inputSize)),
            "hidden_size": .number(Double(network.hiddenSize)),
            "num_layers": .number(Double(network.layers)),
        ]
        for (key, t) in network.stateDict() {
            object[key] = key.hasPrefix("bias")
                ? .array(t.scalars.map(JSONValue.number))
                : .array(t.nestedRows.map { .array($0.map(JSONValue.number)) })
        }
        return try JSONValue.object(object).text()
    }

    /// Writes the weights by GateLab's one output rule (`Files.write`): a new path or a
    /// regular file atomically, a symbolic link's target, a device written through, never
    /// replaced.
    public static func write(_ network: RecurrentNetwork, to path: String) throws {
        try Files.write(try json(network), to: path)
    }

    /// Reads weights written by `write` (or any file with the same keys, such as a reference case).
    public static func read(_ path: String) throws -> RecurrentNetwork {
        return try network(from: JSONReader(dict: try JSONReader.object(try JSONReader.contents(of: path), file: path), file: path))
    }

    /// The network described by `cell`, `input_size`, `hidden_size`, `num_layers` and the
    /// state_dict keys of a parsed JSON object (a weights file or a reference case).
    static func network(from json: JSONReader) throws -> RecurrentNetwork {
        let name = try json.string("cell")
        guard let cell = ReferenceCase.cell(named: name) else {
            throw CaseFileError(file: json.file, key: "cell", message: "unknown cell '\(name)' (expected one of "
                                 + BuiltinCells.all.map(\.interchangeName).joined(separator: ", ") + ")")
        }
        let (I, H, L) = (try json.positiveInt("input_size"), try json.positiveInt("hidden_size"), try json.positiveInt("num_layers"))
        let G = cell.gateCount
        // Every tensor is read (its shape checked against the file's own arrays) before the
        // network is made: the sizes in the header are claims, and allocating by them first
        // let a 30-byte header ask for gigabytes. The arrays bound them by the file's length.
        var state = [String: Tensor]()
        for k in 0..<L {
            let inCols = k == 0 ? I : H
            state["weight_ih_l\(k)"] = Tensor(rows: G * H, cols: inCols, scalars: try json.numbers("weight_ih_l\(k)", [G * H, inCols]))
            state["weight_hh_l\(k)"] = Tensor(rows: G * H, cols: H, scalars: try json.numbers("weight_hh_l\(k)", [G * H, H]))
            state["bias_ih_l\(k)"] = Tensor(rows: 1, cols: G * H, scalars: try json.numbers("bias_ih_l\(k)", [G * H]))
            state["bias_hh_l\(k)"] = Tensor(rows: 1, cols: G * H, scalars: try json.numbers("bias_hh_l\(k)", [G * H]))
        }
        var network = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: L)
        do { try network.load(stateDict: state) } catch let e as InterchangeError {
            throw CaseFileError(file: json.file, key: nil, message: e.description)
        }
        return network
    }

    /// The reference format's name of a built-in cell.
    public static func caseCellName(_ cell: any RecurrentCell) -> String {
        BuiltinCells.entry(for: cell)?.interchangeName ?? cell.name
    }
}
