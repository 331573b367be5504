import GateLabAutodiff

/// Long short-term memory (Hochreiter & Schmidhuber 1997) with the forget gate of Gers,
/// Schmidhuber & Cummins (2000), in PyTorch's form (`nn.LSTM`), each gate with an input and
/// a recurrent bias:
///
///     i  = σ(W_ii x + b_ii + W_hi h + b_hi)
///     f  = σ(W_if x + b_if + W_hf h + b_hf)
///     g  = tanh(W_ig x + b_ig + W_hg h + b_hg)
///     o  = σ(W_io x + b_io + W_ho h + b_ho)
///     c' = f ⊙ c + i ⊙ g
///     h' = o ⊙ tanh(c')
public struct LSTM: RecurrentCell {
    /// Creates the cell.
    public init() {}
    public var name: String { "lstm" }
    public var stateNames: [String] { ["h", "c"] }
    public var gateCount: Int { 4 }

    public func parameters(inputSize: Int, hiddenSize: Int) -> [ParameterSpec] {
        [("i", "input"), ("f", "forget"), ("g", "cell"), ("o", "output")].enumerated().flatMap { block, gate in
            gateParameters(gate.0, gate: gate.1, block: block, inputSize: inputSize, hiddenSize: hiddenSize)
        }
    }

    public func step(x: Value, state: [Value], _ p: Parameters) -> [Value] {
        let (h, c) = (state[0], state[1])
        let i = sigmoid(p["W_ii"] • x + p["b_ii"] + p["W_hi"] • h + p["b_hi"]).named("i")
        let f = sigmoid(p["W_if"] • x + p["b_if"] + p["W_hf"] • h + p["b_hf"]).named("f")
        let g = tanh(p["W_ig"] • x + p["b_ig"] + p["W_hg"] • h + p["b_hg"]).named("g")
        let o = sigmoid(p["W_io"] • x + p["b_io"] + p["W_ho"] • h + p["b_ho"]).named("o")
        let cNew = (f ⊙ c + i ⊙ g).named("c'")
        let hNew = (o ⊙ tanh(cNew)).named("h'")
        return [hNew, cNew]
    }

    public var explanations: [String: String] {
        ["i": "input gate: how much of the candidate g to write into the cell state",
         "f": "forget gate: what to keep of the old cell state (1 keeps, 0 drops); the gradient along c is multiplied by f at every step",
         "g": "candidate: the new content proposed for the cell state",
         "o": "output gate: what part of the cell state to show as h",
         "c'": "cell state: keep what f allows of the old one, add what i lets in of g (the additive path that lets gradients survive)",
         "h'": "output: the gated, squashed cell state, also fed back to every gate at the next step"]
    }
}
