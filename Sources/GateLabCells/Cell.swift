import GateLabAutodiff
import GateLabGSL

/// A recurrent cell: its parameters, its state, and *one* step written as its paper's
/// equations on the graph. Shared code (`Unrolled`) stacks layers and unrolls steps.
public protocol RecurrentCell: Sendable {
    /// The cell's short name (`lstm`, `gru`, …), as used on the command line.
    var name: String { get }
    /// Names of the state variables, `["h"]` or `["h", "c"]`; the first is the output.
    var stateNames: [String] { get }
    /// Number of gate blocks (G in the FLOP count 3·2·B·(I+H)·G·H·T).
    var gateCount: Int { get }
    /// The parameters of one layer with input size `inputSize` and `hiddenSize` units.
    func parameters(inputSize: Int, hiddenSize: Int) -> [ParameterSpec]
    /// Records one step on `x`'s graph.
    /// - Parameters:
    ///   - x: the layer's input at this step, B × inputSize.
    ///   - state: the previous state, one value per `stateNames` entry, each B × hiddenSize.
    ///   - p: the layer's parameters, by name.
    /// - Returns: the new state, in `stateNames` order.
    func step(x: Value, state: [Value], _ p: Parameters) -> [Value]
    /// Records one step of a layer that may read the layer below it at the same step (the
    /// depth gate of Yao et al. 2015 links a layer's memory cell to the one below). The
    /// default ignores `below` and calls `step(x:state:_:)`, so a cell that does not look
    /// down needs nothing more.
    /// - Parameters:
    ///   - x: the layer's input at this step, B × inputSize.
    ///   - state: the previous state, in `stateNames` order.
    ///   - below: the *new* state of layer k − 1 at this step, in `stateNames` order (its
    ///     first value is `x` itself); nil for layer 0.
    ///   - p: the layer's parameters, by name.
    /// - Returns: the new state, in `stateNames` order.
    func step(x: Value, state: [Value], below: [Value]?, _ p: Parameters) -> [Value]
    /// For `show --explain`: one line on the role of each named equation.
    var explanations: [String: String] { get }
}

extension RecurrentCell {
    /// The default: a cell that does not read the layer below.
    public func step(x: Value, state: [Value], below: [Value]?, _ p: Parameters) -> [Value] {
        step(x: x, state: state, p)
    }
}

/// What a parameter is for: initializers and the `forget bias` option choose by role.
public enum ParameterRole: Sendable, Equatable {
    /// A weight applied to the layer's input (PyTorch's `weight_ih`).
    case inputWeight
    /// A weight applied to the previous state (`weight_hh`).
    case recurrentWeight
    /// A bias added with the input product (`bias_ih`).
    case inputBias
    /// A bias added with the recurrent product (`bias_hh`).
    case recurrentBias
    /// A per-unit (diagonal) weight: a 1 × n vector multiplied elementwise (peephole weights,
    /// IndRNN's recurrent vector), written in cell files. No built-in cell has one; the
    /// initialization schemes, made for matrices, leave it at PyTorch's U(±1/√H).
    case perUnitWeight
}

/// One parameter of a cell layer, and where it sits in PyTorch's stacked tensors.
public struct ParameterSpec: Sendable, Equatable {
    /// The name used in the equations (`W_ii`, `b_hf`, …).
    public var name: String
    /// Rows (for weights, the hidden size: PyTorch's [out × in] layout).
    public var rows: Int
    /// Columns (1-row biases have `rows == 1`).
    public var cols: Int
    /// What it is for.
    public var role: ParameterRole
    /// Its gate block in PyTorch's stacked tensor (`weight_ih_l{k}` rows `block·H ..< (block+1)·H`).
    public var block: Int
    /// The gate, spelled out (`forget`), for initializers and messages.
    public var gate: String
    /// The parameter's own initializer, used instead of the one its role would get (a cell
    /// file's `init` line); nil for the built-in cells.
    public var initializer: Initializer?
    /// Creates a spec.
    public init(name: String, rows: Int, cols: Int, role: ParameterRole, block: Int, gate: String, initializer: Initializer? = nil) {
        self.name = name; self.rows = rows; self.cols = cols; self.role = role; self.block = block; self.gate = gate
        self.initializer = initializer
    }
}

/// A layer's parameters, by the names the equations use.
public struct Parameters {
    let values: [String: Value]
    /// Creates the lookup.
    public init(_ values: [String: Value]) { self.values = values }
    /// The parameter named `name` (a cell asking for a parameter it did not declare is a
    /// programming error).
    public subscript(_ name: String) -> Value {
        guard let v = values[name] else { preconditionFailure("cell asks for undeclared parameter \(name)") }
        return v
    }
}

/// The four parameter specs of one gate in PyTorch's layout: `W_i<g>`, `W_h<g>`, `b_i<g>`,
/// `b_h<g>`, where `<g>` is the gate's letter.
func gateParameters(_ letter: String, gate: String, block: Int, inputSize: Int, hiddenSize: Int) -> [ParameterSpec] {
    [ParameterSpec(name: "W_i\(letter)", rows: hiddenSize, cols: inputSize, role: .inputWeight, block: block, gate: gate),
     ParameterSpec(name: "W_h\(letter)", rows: hiddenSize, cols: hiddenSize, role: .recurrentWeight, block: block, gate: gate),
     ParameterSpec(name: "b_i\(letter)", rows: 1, cols: hiddenSize, role: .inputBias, block: block, gate: gate),
     ParameterSpec(name: "b_h\(letter)", rows: 1, cols: hiddenSize, role: .recurrentBias, block: block, gate: gate)]
}
