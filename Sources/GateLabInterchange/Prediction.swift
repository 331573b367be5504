import GateLabAutodiff
import GateLabCells
import Foundation

/// `gatelab predict`: a saved model run forward on inputs from a file, with everything PyTorch's
/// modules return, under PyTorch's names and layout (sequence first, `batch_first=False`):
///
/// - `output` [T, B, H]: the top layer's h at every step (`output` of `nn.LSTM`/`nn.GRU`/`nn.RNN`);
/// - `h_n` [L, B, H]: every layer's h after the last step; `c_n` [L, B, H] for a cell with a
///   cell state (the LSTM); another state of a `.cell` cell as `<name>_n`;
/// - `y` [T, B, K]: the readout (`nn.Linear`) applied to `output` at every step, when the model
///   has one.
///
/// Inputs: `x` [T, B, I] (or [T, I], one sequence), and optionally the initial states `h0`,
/// `c0` (`<name>0`) [L, B, H] (zeros when absent), in a `.npz`, `.safetensors` or `.json` file;
/// a `.npy` file holds `x` alone.
public enum Prediction {
    /// The input file's arrays: `.npy` as `x`, the other formats by their names.
    public static func readInputs(_ path: String) throws -> [NamedArray] {
        if (path as NSString).pathExtension.lowercased() == "npy" {
            return [try NPZ.array(fromNPY: try JSONReader.contents(of: path), file: path, key: "x")]
        }
        guard let format = ArrayArchive.Format(path: path) else {
            throw CaseFileError(file: path, key: nil, message: "unknown inputs format '.\((path as NSString).pathExtension)'; use .npz, .npy, .json or .safetensors")
        }
        let archive = try ArrayArchive.decode(try JSONReader.contents(of: path), format: format, file: path)
        return archive.arrays
    }

    /// Runs `model` on `inputs` (read from `file`, named in errors) and returns the outputs.
    /// - Throws: `CaseFileError` naming the file and key: `x` missing or of the wrong input
    ///   size, an initial state of the wrong shape, an array that is no input (all such
    ///   problems in one message); `UnrollError` when the sequence does not fit the memory budget.
    public static func run(_ model: SavedModel, inputs: [NamedArray], file: String) throws -> ArrayArchive {
        let network = model.network
        let (I, H, L) = (network.inputSize, network.hiddenSize, network.layers)
        let stateNames = network.cell.stateNames
        let initialNames = stateNames.map { $0 + "0" }
        let byName = Dictionary(inputs.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        guard let x = byName["x"] else {
            throw CaseFileError(file: file, key: "x", message: "missing: the inputs, shape [T, B, \(I)] (or [T, \(I)])"
                                + (inputs.isEmpty ? "" : "; the file has " + inputs.map(\.name).sorted().joined(separator: ", ")))
        }
        let (T, B): (Int, Int)
        switch x.shape.count {
        case 3 where x.shape[2] == I && x.shape[0] > 0 && x.shape[1] > 0: (T, B) = (x.shape[0], x.shape[1])
        case 2 where x.shape[1] == I && x.shape[0] > 0: (T, B) = (x.shape[0], 1)
        default:
            throw CaseFileError(file: file, key: "x", message: "expected shape [T, B, \(I)] or [T, \(I)] (input_size \(I) from the model), got \(x.shape)")
        }
        var problems = [String]()
        var initial = [[Tensor]](repeating: [], count: L)
        for name in initialNames {
            guard let a = byName[name] else {
                for k in 0..<L { initial[k].append(Tensor(rows: B, cols: H)) }
                continue
            }
            guard a.shape == [L, B, H] || (x.shape.count == 2 && a.shape == [L, H]) else {
                problems.append("\(name) is \(a.shape), not [\(L), \(B), \(H)]")
                continue
            }
            for k in 0..<L { initial[k].append(Tensor(rows: B, cols: H, scalars: Array(a.values[(k * B * H)..<((k + 1) * B * H)]))) }
        }
        let surplus = inputs.map(\.name).filter { $0 != "x" && !initialNames.contains($0) }.sorted()
        if !surplus.isEmpty { problems.append("not an input: " + surplus.joined(separator: ", ") + " (inputs: x, " + initialNames.joined(separator: ", ") + ")") }
        guard problems.isEmpty else { throw CaseFileError(file: file, key: nil, message: problems.joined(separator: "; ")) }

        let unrolled = try Unrolled(network: network, batch: B, steps: T, inputGradients: false)
        try unrolled.forward(inputs: x.values, initialState: initial)
        var outputs = [NamedArray]()
        var h = [Double]()
        h.reserveCapacity(T * B * H)
        for t in 0..<T { h += unrolled.output(step: t).scalars }
        outputs.append(NamedArray(name: "output", shape: [T, B, H], values: h))
        let final = unrolled.finalState
        for (j, name) in stateNames.enumerated() {
            outputs.append(NamedArray(name: name + "_n", shape: [L, B, H], values: final.flatMap { $0[j].scalars }))
        }
        if let (w, b) = model.readout {
            // y[t, r, k] = b[k] + Σ_j w[k, j] · h[t, r, j], summed in j order as nn.Linear's
            // float64 matmul does for these small sizes.
            let K = w.rows
            var y = [Double](repeating: 0, count: T * B * K)
            for row in 0..<(T * B) {
                for k in 0..<K {
                    var s = 0.0
                    for j in 0..<H { s += w[k, j] * h[row * H + j] }
                    y[row * K + k] = s + b[0, k]
                }
            }
            outputs.append(NamedArray(name: "y", shape: [T, B, K], values: y))
        }
        return ArrayArchive(arrays: outputs)
    }
}
