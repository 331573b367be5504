import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabSupport

/// A network's weights alone in PyTorch's `state_dict` layout, through `SavedModel` (the one
/// serializer of model files), and the reading of a reference case's weights.
public enum WeightsFile {
    /// The JSON text of `network`'s weights (`SavedModel`'s `.json` layout: `cell`,
    /// `input_size`, `hidden_size`, `num_layers` and the `state_dict` arrays, keys sorted,
    /// numbers in Swift's shortest round-trip form, so reading back gives bit-identical weights).
    /// - Throws: `EncodingError` when a weight is not finite (JSON has no such number).
    public static func json(_ network: RecurrentNetwork) throws -> String {
        String(decoding: try SavedModel(network: network).archive().encoded(as: .json), as: UTF8.self)
    }

    /// Writes the weights as `.json` whatever the extension (`SavedModel.write(to:)` for the
    /// other formats) by GateLab's one output rule (`Files.write`): a new path or a
    /// regular file atomically, a symbolic link's target, a device written through, never
    /// replaced.
    public static func write(_ network: RecurrentNetwork, to path: String) throws {
        try Files.write(try json(network), to: path)
    }

    /// Reads the network of a model file in any of the three formats (`SavedModel.read`), or of
    /// a reference case.
    public static func read(_ path: String) throws -> RecurrentNetwork {
        try SavedModel.read(path).network
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
