import ArgumentParser
import Cells
import Experiments
import GSLKit
import Interchange

/// `gatelab weights`: the interchange with PyTorch — JSON files in `state_dict` layout.
struct WeightsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "weights",
        abstract: "Write or read weights files in PyTorch's state_dict layout (JSON).",
        subcommands: [Init.self, Check.self])

    /// `gatelab weights init`: seeded PyTorch-default weights, U(±1/√H).
    struct Init: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write seeded PyTorch-default weights U(±1/√H) for a cell.")

        @Option(help: "The cell (\(BuiltinCells.names.joined(separator: ", "))).")
        var cell: String

        @Option(help: "Input features (I).")
        var input: Int

        @Option(help: "Units per layer (H).")
        var hidden: Int

        @Option(help: "Stacked layers (L).")
        var layers = 1

        @OptionGroup var seedOption: SeedOption
        var seed: UInt64 { seedOption.seed }

        @Option(help: "The JSON file to write.")
        var output: String

        func validate() throws {
            // PyTorch's state_dict layout stacks gate blocks, which only the built-in cells have.
            _ = try CellLookup.builtinCell(cell, for: "a PyTorch weights file")
            for (name, value) in [("--input", input), ("--hidden", hidden), ("--layers", layers)] {
                guard (1...100_000).contains(value) else { throw ValidationError("\(name) must be between 1 and 100000, got \(value)") }
            }
            try Files.checkOutputPath(output, what: "--output")
            guard input * hidden <= 1_000_000, hidden * hidden * layers <= 1_000_000 else {
                throw ValidationError("--input \(input) --hidden \(hidden) --layers \(layers) is too large for a JSON weights file")
            }
        }

        func run() throws {
            var network = RecurrentNetwork(cell: try CellLookup.builtinCell(cell, for: "a PyTorch weights file"), inputSize: input, hiddenSize: hidden, layers: layers)
            try network.initialize(.pytorchDefault, using: try RandomSource(seed: seed))
            do { try WeightsFile.write(network, to: output) } catch {
                throw WeightsError("cannot write \(output): \(describe(error))")
            }
            print("wrote \(output): \(WeightsFile.caseCellName(network.cell)), input_size \(input), hidden_size \(hidden), "
                  + "num_layers \(layers), \(network.parameterCount) parameters (PyTorch default U(±1/√\(hidden)), seed \(seed))")
        }
    }

    /// `gatelab weights check`: read a weights file back and print its sizes.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Read a weights file (or a reference case) and print its sizes.")

        @Argument(help: "The JSON weights file.")
        var file: String

        func run() throws {
            let network = try WeightsFile.read(file)
            print("\(file): \(WeightsFile.caseCellName(network.cell)), input_size \(network.inputSize), "
                  + "hidden_size \(network.hiddenSize), num_layers \(network.layers), \(network.parameterCount) parameters")
            // Shapes as torch.Size prints them: biases are 1-D in PyTorch.
            print(alignedTable(network.stateDict().map { key, t in
                ["  " + key, key.hasPrefix("bias") ? "[\(t.cols)]" : "[\(t.rows), \(t.cols)]"]
            }))
        }
    }
}

/// A weights command that could not do its job; the message says why.
struct WeightsError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
