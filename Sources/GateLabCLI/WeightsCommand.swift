import ArgumentParser
import GateLabCells
import GateLabExperiments
import GateLabGSL
import Foundation
import GateLabInterchange
import GateLabSupport

/// `gatelab weights`: the interchange with PyTorch and numpy — model files in `state_dict`
/// layout as `.json`, `.npz` or `.safetensors` (`SavedModel`).
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Write, read or convert model files (.json, .npz, .safetensors) in PyTorch's state_dict layout.",
        discussion: """
            The format follows the file's extension: .json (nested lists; each recurrent key \
            loads with torch.tensor into nn.LSTM/nn.GRU/nn.RNN), .npz (numpy.load) and \
            .safetensors (safetensors.torch.load_file). A .cell cell's weights are saved under \
            its parameter names with the layer suffix _l<k>, with the file's text and its \
            SHA-256 in the metadata. A bare PyTorch state_dict (no metadata, e.g. \
            safetensors.torch.save_file(net.state_dict(), path)) is read too: sizes from the \
            shapes, --cell where the keys cannot tell the cell. Layout: Notes/formats.md.
            """,
        subcommands: [Init.self, Check.self, Convert.self])

    /// `gatelab weights init`: seeded PyTorch-default weights, U(±1/√H).
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write seeded PyTorch-default weights U(±1/√H) for a cell.")

        @Option(help: "The cell (\(BuiltinCells.names.joined(separator: ", ")), or the path of a .cell file).")
        var cell: String

        @Option(help: "Input features (I).")
        var input: Int

        @Option(help: "Units per layer (H).")
        var hidden: Int

        @Option(help: "Stacked layers (L).")
        var layers = 1

        @OptionGroup var seedOption: SeedOption
        var seed: UInt64 { seedOption.seed }

        @Option(help: "The file to write: .json, .npz or .safetensors (JSON for any other name, such as a device).")
        var output: String

        func validate() throws {
            try CellLookup.validate(cell)
            for (name, value) in [("--input", input), ("--hidden", hidden), ("--layers", layers)] {
                guard (1...100_000).contains(value) else { throw ValidationError("\(name) must be between 1 and 100000, got \(value)") }
            }
            try Files.checkOutputFile(output, what: "--output")
            // The weights and the file's text or bytes being built: two copies.
            do {
                try RecurrentNetwork.checkFits(cell: try CellLookup.cell(cell), named: cell, inputSize: input, hiddenSize: hidden, layers: layers, copies: 2)
            } catch let e as NetworkSizeError { throw ValidationError(e.description) }
        }

        func run() throws {
            var network = RecurrentNetwork(cell: try CellLookup.cell(cell), inputSize: input, hiddenSize: hidden, layers: layers)
            try network.initialize(.pytorchDefault, using: try RandomSource(seed: seed))
            let file = cell.hasSuffix(".cell") || cell.contains("/") ? cell : WeightsFile.caseCellName(network.cell)
            // A cell file's own `init` lines take precedence over PyTorch's default; say so.
            let ownInit = network.specs(layer: 0).contains { $0.initializer != nil }
            try SavedModel(network: network, metadata: ["cell": file, "gatelab_version": GateLabVersion.current,
                                                        "initialization": ownInit ? "pytorch-default, the cell file's init lines first" : "pytorch-default",
                                                        "seed": String(seed)]).write(to: output)
            print("wrote \(output): \(WeightsFile.caseCellName(network.cell)), input_size \(input), hidden_size \(hidden), "
                  + "num_layers \(layers), \(network.parameterCount) parameters (PyTorch default U(±1/√\(hidden))"
                  + (ownInit ? " where the cell file gives no init" : "") + ", seed \(seed))")
        }
    }

    /// `gatelab weights check`: read a model file back and print its sizes.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a model file (.json, .npz, .safetensors, or a reference case) and print its sizes.")

        @Argument(help: "The model file.")
        var file: String

        @OptionGroup var bareCell: BareStateDictCellOption
        var cell: String? { bareCell.cell }

        func run() throws {
            let model = try SavedModel.read(file, cell: cell)
            let network = model.network
            let readoutCount = model.readout.map { $0.weight.scalars.count + $0.bias.scalars.count } ?? 0
            print("\(file): \(model.metadata["cell"] ?? network.cell.name), input_size \(network.inputSize), "
                  + "hidden_size \(network.hiddenSize), num_layers \(network.layers), \(network.parameterCount + readoutCount) parameters")
            // Shapes as torch.Size prints them: biases are 1-D in PyTorch.
            var rows = SavedModel.arrayShapes(of: network).map { ["  " + $0.name, "[" + $0.shape.map(String.init).joined(separator: ", ") + "]"] }
            if let r = model.readout {
                rows += [["  readout.weight", "[\(r.weight.rows), \(r.weight.cols)]"], ["  readout.bias", "[\(r.bias.cols)]"]]
            }
            print(alignedTable(rows))
            // A reference case's scalars (batch, steps, loss, source) are not the model's metadata.
            let caseKeys: Set<String> = model.metadata["batch"] != nil ? ["batch", "steps", "source", "loss"] : []
            let shown = model.metadata.filter { $0.key != "cell" && !caseKeys.contains($0.key) }
            if !shown.isEmpty {
                // Keys and values cut to 60 characters: the table pads every row to its widest
                // key, so one long key made a 1 MB file print 102 MB.
                print(alignedTable(shown.sorted { $0.key < $1.key }.map { ["  " + Self.shortened($0.key), Self.shortened($0.value)] }))
            }
        }

        /// `text` with line breaks shown as `\n`, cut to `limit` characters with the count of the rest.
        static func shortened(_ text: String, limit: Int = 60) -> String {
            let flat = text.replacingOccurrences(of: "\n", with: "\\n")
            guard flat.count > limit else { return flat }
            return String(flat.prefix(limit)) + "… (\(flat.count - limit) more characters)"
        }
    }

    /// `gatelab weights convert`: the same model in another format.
    struct Convert: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Convert a model file between .json, .npz and .safetensors (the format follows each extension).")

        @Argument(help: "The model file to read.")
        var input: String

        @Argument(help: "The model file to write.")
        var output: String

        @OptionGroup var bareCell: BareStateDictCellOption
        var cell: String? { bareCell.cell }

        func validate() throws {
            for path in [input, output] where ArrayArchive.Format(path: path) == nil {
                throw ValidationError("\(path): unknown model file format; use .json, .npz or .safetensors")
            }
        }

        func run() throws {
            let model = try SavedModel.read(input, cell: cell)
            try model.write(to: output)
            print("wrote \(output): \(model.metadata["cell"] ?? model.network.cell.name), \(model.archive().arrays.count) arrays from \(input)")
        }
    }
}

/// A weights command that could not do its job; the message says why.
struct WeightsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
