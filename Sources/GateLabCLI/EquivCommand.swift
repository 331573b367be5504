import ArgumentParser
import GateLabCells
import Foundation
import GateLabVerification

/// `gatelab equiv CHILD PARENT --set NAME=VALUE… [--rename CHILD=PARENT…]`: a stated reduction
/// of one cell to another, checked on a random sequence (`CellEquivalence`).
struct EquivCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "equiv",
        abstract: "Check that a cell with some parameters fixed computes another cell (outputs, final states, gradients).",
        discussion: """
            The check a paper makes when it says "with p = 0 our cell is the LSTM". CHILD's \
            parameters named by --set are fixed (every element to VALUE); every other \
            parameter of CHILD stands for PARENT's parameter of the same name, or of the name \
            --rename gives; these shared parameters are drawn once (uniform ±0.6, biases \
            ±0.3) and given to both. Both cells then run on one random sequence (I = 3, H = 4, \
            B = 2, T = 20 by default): the outputs at every step, the final states they both \
            have and the gradient of L = Σ_t Σ R_t ⊙ h_t with respect to every shared \
            parameter must agree to 1e-12 (normwise max|child − parent| / max|parent|). Exit \
            code 0 when they do, 1 with a per-quantity table when they do not, 2 for arguments \
            that do not fit the cells.
            """)

    @Argument(help: "The cell with parameters to fix: a built-in name or a .cell file.")
    var child: String

    @Argument(help: "The cell it should reduce to: a built-in name or a .cell file.")
    var parent: String

    @Option(name: .customLong("set"), parsing: .upToNextOption, help: "NAME=VALUE: fix CHILD's parameter NAME, every element, to VALUE (repeatable).")
    var sets: [String] = []

    @Option(parsing: .upToNextOption, help: "CHILD_NAME=PARENT_NAME: CHILD's parameter that stands for PARENT's of another name (repeatable).")
    var rename: [String] = []

    @Option(help: "Input features (I).") var input = 3
    @Option(help: "Units per layer (H).") var hidden = 4
    @Option(help: "Sequences per batch (B).") var batch = 2
    @Option(help: "Time steps (T).") var steps = 20
    @Option(help: "Stacked layers of each cell.") var layers = 1
    @Option(help: "Seed of the shared weights, inputs, initial states and R.") var seed: UInt64 = 1
    @Option(help: "Largest accepted normwise error.") var tolerance = 1e-12

    /// `NAME=VALUE` pairs, refused with the argument at fault.
    static func pairs(_ items: [String], option: String) throws -> [(String, String)] {
        try items.map { item in
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
                throw ValidationError("\(option) \(item): expected NAME=\(option == "--set" ? "VALUE" : "PARENT_NAME")")
            }
            return (parts[0].trimmingCharacters(in: .whitespaces), parts[1].trimmingCharacters(in: .whitespaces))
        }
    }

    func validate() throws {
        try CellLookup.validate(child)
        try CellLookup.validate(parent)
        for (name, value) in [("--input", input), ("--hidden", hidden), ("--batch", batch), ("--steps", steps), ("--layers", layers)] {
            guard (1...10_000).contains(value) else { throw ValidationError("\(name) must be between 1 and 10000, got \(value)") }
        }
        guard Double(steps) * Double(batch) * Double(max(input, hidden)) * Double(hidden) * Double(layers) <= 1e9 else {
            throw ValidationError("sizes too large for a check: steps × batch × max(input, hidden) × hidden × layers must be at most 1e9")
        }
        guard tolerance >= 0, tolerance.isFinite else { throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)") }
        for (name, value) in try Self.pairs(sets, option: "--set") {
            guard let v = Double(value), v.isFinite else {
                throw ValidationError("--set \(name)=\(value): a parameter is fixed to one finite number (every element), got '\(value)'")
            }
        }
        let setNames = try Self.pairs(sets, option: "--set").map(\.0), renamed = try Self.pairs(rename, option: "--rename").map(\.0)
        for names in [setNames, renamed] {
            if let twice = names.first(where: { n in names.filter { $0 == n }.count > 1 }) { throw ValidationError("\(twice) is given twice") }
        }
    }

    func run() throws {
        var check = CellEquivalence(
            child: try CellLookup.cell(child), parent: try CellLookup.cell(parent),
            fixed: Dictionary(uniqueKeysWithValues: try Self.pairs(sets, option: "--set").map { ($0.0, Double($0.1)!) }),
            rename: Dictionary(uniqueKeysWithValues: try Self.pairs(rename, option: "--rename")))
        (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers, check.seed, check.tolerance) =
            (input, hidden, batch, steps, layers, seed, tolerance)
        let report = try check.run()
        print("equiv \(child) → \(parent): I = \(input), H = \(hidden), B = \(batch), T = \(steps), L = \(layers), seed \(seed)")
        print("")
        print(report.table())
        if !report.passed { throw ExitCode(ExitStatus.checkFailed) }
    }
}
