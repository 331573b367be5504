import Autodiff
import Cells
import Foundation

/// Saving and loading a network's weights as JSON in PyTorch's `state_dict` names and layout
/// — the reference cases' format — plus `cell`, `input_size`, `hidden_size`, `num_layers`, so
/// that PyTorch users can `torch.tensor(...)` each key into `nn.LSTM.load_state_dict`.
public enum WeightsFile {
    /// The JSON text of `network`'s weights (numbers written in Swift's shortest round-trip
    /// form, so reading back gives bit-identical weights).
    public static func json(_ network: RecurrentNetwork) -> String {
        var lines = ["{",
                     "  \"cell\": \"\(caseCellName(network.cell))\",",
                     "  \"input_size\": \(network.inputSize),",
                     "  \"hidden_size\": \(network.hiddenSize),",
                     "  \"num_layers\": \(network.layers),"]
        let entries = network.stateDict()
        for (i, (key, t)) in entries.enumerated() {
            let body: String
            if key.hasPrefix("bias") { body = "[" + t.scalars.map(number).joined(separator: ", ") + "]" }
            else { body = "[" + t.nestedRows.map { "[" + $0.map(number).joined(separator: ", ") + "]" }.joined(separator: ", ") + "]" }
            lines.append("  \"\(key)\": \(body)" + (i == entries.count - 1 ? "" : ","))
        }
        lines.append("}")
        return lines.joined(separator: "\n") + "\n"
    }

    /// Writes the weights atomically (a temporary file renamed into place).
    public static func write(_ network: RecurrentNetwork, to path: String) throws {
        try json(network).write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// Reads weights written by `write` (or any file with the same keys, such as a reference case).
    public static func read(_ path: String) throws -> RecurrentNetwork {
        guard let data = FileManager.default.contents(atPath: path) else { throw CaseFileError(file: path, key: nil, message: "cannot read the file") }
        return try network(from: JSONReader(dict: try JSONReader.object(data, file: path), file: path))
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
        var network = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: L)
        let G = cell.gateCount
        var state = [String: Tensor]()
        for k in 0..<L {
            let inCols = k == 0 ? I : H
            state["weight_ih_l\(k)"] = Tensor(rows: G * H, cols: inCols, scalars: try json.numbers("weight_ih_l\(k)", [G * H, inCols]))
            state["weight_hh_l\(k)"] = Tensor(rows: G * H, cols: H, scalars: try json.numbers("weight_hh_l\(k)", [G * H, H]))
            state["bias_ih_l\(k)"] = Tensor(rows: 1, cols: G * H, scalars: try json.numbers("bias_ih_l\(k)", [G * H]))
            state["bias_hh_l\(k)"] = Tensor(rows: 1, cols: G * H, scalars: try json.numbers("bias_hh_l\(k)", [G * H]))
        }
        do { try network.load(stateDict: state) } catch let e as InterchangeError {
            throw CaseFileError(file: json.file, key: nil, message: e.description)
        }
        return network
    }

    /// The reference format's name of a built-in cell.
    public static func caseCellName(_ cell: any RecurrentCell) -> String {
        BuiltinCells.entry(for: cell)?.interchangeName ?? cell.name
    }

    private static func number(_ d: Double) -> String { "\(d)" }
}
