import GateLabAutodiff

/// One step of a cell recorded on a fresh graph as `Unrolled` records a layer — input `x`,
/// state leaves named by `stateNames`, parameters by their spec names — so the printed
/// equations are the ones the engine differentiates, not a stored string. The layer below's
/// new state is given as leaves named `h_below'`, `c_below'`, …: a cell that reads it (the
/// depth-gated LSTM) prints the equations of a layer above the first (layer 0 reads zeros
/// there); the other cells ignore those leaves and print exactly their layer 0.
public struct StepGraph {
    /// The graph.
    public let graph: Graph
    /// The new state, in the cell's `stateNames` order.
    public let newState: [Value]
    /// The cell.
    public let cell: any RecurrentCell

    /// Records one step of `cell` (sizes do not appear in the equations; small ones suffice).
    public init(cell: any RecurrentCell, inputSize: Int = 2, hiddenSize: Int = 2) throws {
        let g = Graph()
        let x = g.input("x", rows: 1, cols: inputSize)
        let state = cell.stateNames.map { g.input($0, rows: 1, cols: hiddenSize) }
        let below = cell.stateNames.map { g.input($0 + "_below'", rows: 1, cols: hiddenSize) }
        let p = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: inputSize, hiddenSize: hiddenSize).map {
            ($0.name, g.parameter($0.name, rows: $0.rows, cols: $0.cols))
        })
        newState = cell.step(x: x, state: state, below: below, Parameters(p))
        try g.validate()
        graph = g
        self.cell = cell
    }

    /// The equations in `format` (text or LaTeX), each with the graph's own name of the value
    /// it defines (for looking up `explanations`; LaTeX rewrites `W_ii` as `W_{ii}`).
    public func equations(_ format: EquationPrinter.Format) -> [(name: String, line: String)] {
        let names = EquationPrinter(graph: graph, format: .text).equations(for: newState).map(\.name)
        let printed = EquationPrinter(graph: graph, format: format).equations(for: newState)
        return zip(names, printed).map { ($0, $1.line) }
    }

    /// The whole printout in `format`; with `explain`, each equation is followed by one
    /// indented line with the cell's explanation of it (a `%` comment in LaTeX).
    public func render(_ format: EquationPrinter.Format, explain: Bool = false) -> String {
        if format == .dot { return EquationPrinter(graph: graph, format: .dot).render(newState) }
        return equations(format).flatMap { name, line -> [String] in
            guard explain, let why = cell.explanations[name] else { return [line] }
            return [line, "    " + (format == .latex ? "% " : "") + why]
        }.joined(separator: "\n")
    }
}
