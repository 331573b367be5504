import ArgumentParser
import GateLabExperiments
import Foundation
import GateLabInterchange
import GateLabSupport

/// `gatelab predict`: a saved model run forward on inputs from a file (`Prediction`), for
/// comparing GateLab's numbers with PyTorch's on the same model.
struct PredictCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Run a saved model forward on inputs from a file and write its outputs.",
        discussion: """
            Inputs (--inputs): x, shape [T, B, I] (sequence first, as PyTorch's recurrent \
            modules take it) or [T, I], and optionally the initial states h0 (and c0 for the \
            LSTM), shape [L, B, H], zeros when absent; in a .npz, .json or .safetensors file, \
            or x alone in a .npy file. Outputs (--output, .npz, .json or .safetensors): \
            output [T, B, H] (the top layer at every step), h_n and, for the LSTM, c_n \
            [L, B, H] (every layer after the last step), and y [T, B, K], the readout at every \
            step, when the model has one: the names and layout PyTorch returns. The model \
            (--weights) may be any model file, or a bare PyTorch state_dict saved with \
            safetensors or numpy (sizes from the shapes; --cell where the keys cannot tell the \
            cell). An existing output file is replaced, atomically, as by every command that \
            writes a file; it may not be the model or the inputs file.
            """)

    @Option(help: "The model file (.json, .npz, .safetensors; GateLab's or a bare PyTorch state_dict).")
    var weights: String

    @Option(help: "The inputs: .npz, .npy, .json or .safetensors holding x [T, B, I] (and h0, c0).")
    var inputs: String

    @Option(help: "The file to write: .npz, .json or .safetensors.")
    var output: String

    @OptionGroup var bareCell: BareStateDictCellOption
    var cell: String? { bareCell.cell }

    func validate() throws {
        guard ArrayArchive.Format(path: output) != nil else {
            throw ValidationError("--output \(output): use .npz, .json or .safetensors (predict writes several arrays, which a .npy file cannot hold)")
        }
        try Files.checkOutputFile(output, what: "--output")
        for (name, path) in [("--weights", weights), ("--inputs", inputs)] where Self.sameFile(path, output) {
            throw ValidationError("--output \(output) is the same file as \(name) \(path); writing it would destroy the \(name == "--weights" ? "model" : "inputs")")
        }
    }

    func run() throws {
        let model = try SavedModel.read(weights, cell: cell)
        let arrays = try Prediction.readInputs(inputs)
        var outputs = try Prediction.run(model, inputs: arrays, file: inputs)
        outputs.metadata = ["gatelab_version": GateLabVersion.current, "cell": model.metadata["cell"] ?? model.network.cell.name,
                            "weights": (weights as NSString).lastPathComponent, "inputs": (inputs as NSString).lastPathComponent]
        try outputs.write(to: output)
        let shapes = outputs.arrays.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")
        print("wrote \(output): \(shapes) from \(weights) (\(outputs.metadata["cell"]!), input_size \(model.network.inputSize), "
              + "hidden_size \(model.network.hiddenSize), num_layers \(model.network.layers)\(model.readout == nil ? "" : ", readout")) on \(inputs)")
    }

    /// Whether `a` and `b` are one file (the same device and inode, through links), when both exist.
    static func sameFile(_ a: String, _ b: String) -> Bool {
        var sa = stat(), sb = stat()
        guard stat(a, &sa) == 0, stat(b, &sb) == 0 else { return false }
        return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino
    }
}
