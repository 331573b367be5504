import GateLabAutodiff

/// The Elman network with tanh, in PyTorch's form (`nn.RNN(nonlinearity="tanh")`):
///
///     h' = tanh(W_ih x + b_ih + W_hh h + b_hh)
public struct TanhRNN: RecurrentCell {
    /// Creates the cell.
    public init() {}
    public var name: String { "rnn" }
    public var stateNames: [String] { ["h"] }
    public var gateCount: Int { 1 }

    public func parameters(inputSize: Int, hiddenSize: Int) -> [ParameterSpec] {
        [ParameterSpec(name: "W_ih", rows: hiddenSize, cols: inputSize, role: .inputWeight, block: 0, gate: "hidden"),
         ParameterSpec(name: "W_hh", rows: hiddenSize, cols: hiddenSize, role: .recurrentWeight, block: 0, gate: "hidden"),
         ParameterSpec(name: "b_ih", rows: 1, cols: hiddenSize, role: .inputBias, block: 0, gate: "hidden"),
         ParameterSpec(name: "b_hh", rows: 1, cols: hiddenSize, role: .recurrentBias, block: 0, gate: "hidden")]
    }

    public func step(x: Value, state: [Value], _ p: Parameters) -> [Value] {
        let h = state[0]
        let hNew = tanh(p["W_ih"] • x + p["b_ih"] + p["W_hh"] • h + p["b_hh"]).named("h'")
        return [hNew]
    }

    public var explanations: [String: String] {
        ["h'": "the new state mixes the input with the old state and squashes it; gradients through it shrink by W_hh and tanh' at every step"]
    }
}
