import GateLabAutodiff

/// Gated recurrent unit (Cho et al. 2014) in its two common forms:
///
///     r  = σ(W_ir x + b_ir + W_hr h + b_hr)
///     z  = σ(W_iz x + b_iz + W_hz h + b_hz)
///     n  = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))       reset-after (PyTorch, cuDNN)
///     n  = tanh(W_in x + b_in + W_hn (r ⊙ h) + b_hn)       reset-before (Cho et al.; Keras reset_after=False)
///     h' = (1 − z) ⊙ n + z ⊙ h
public struct GRU: RecurrentCell {
    /// Where the reset gate acts.
    public enum Form: String, Sendable {
        /// `r ⊙ (W_hn h + b_hn)`: PyTorch's `nn.GRU`, cuDNN.
        case resetAfter = "reset-after"
        /// `W_hn (r ⊙ h) + b_hn`: the original paper, Keras `reset_after=False`.
        case resetBefore = "reset-before"
    }

    /// The form implemented.
    public let form: Form
    /// Creates the cell.
    public init(form: Form) { self.form = form }
    public var name: String { form == .resetAfter ? "gru" : "gru_reset_before" }
    public var stateNames: [String] { ["h"] }
    public var gateCount: Int { 3 }

    public func parameters(inputSize: Int, hiddenSize: Int) -> [ParameterSpec] {
        [("r", "reset"), ("z", "update"), ("n", "candidate")].enumerated().flatMap { block, gate in
            gateParameters(gate.0, gate: gate.1, block: block, inputSize: inputSize, hiddenSize: hiddenSize)
        }
    }

    public func step(x: Value, state: [Value], _ p: Parameters) -> [Value] {
        let h = state[0]
        let r = sigmoid(p["W_ir"] • x + p["b_ir"] + p["W_hr"] • h + p["b_hr"]).named("r")
        let z = sigmoid(p["W_iz"] • x + p["b_iz"] + p["W_hz"] • h + p["b_hz"]).named("z")
        let n: Value
        switch form {
        case .resetAfter: n = tanh(p["W_in"] • x + p["b_in"] + r ⊙ (p["W_hn"] • h + p["b_hn"])).named("n")
        case .resetBefore: n = tanh(p["W_in"] • x + p["b_in"] + p["W_hn"] • (r ⊙ h) + p["b_hn"]).named("n")
        }
        let hNew = ((1 - z) ⊙ n + z ⊙ h).named("h'")
        return [hNew]
    }

    public var explanations: [String: String] {
        ["r": "reset gate: how much of the old state the candidate may see",
         "z": "update gate: how much of the old state to keep unchanged (z → 1 carries h, and its gradient, through)",
         "n": form == .resetAfter
            ? "candidate state: from the input and the reset-gated recurrent product (reset after the product, as in PyTorch and cuDNN)"
            : "candidate state: from the input and the recurrent product of the reset-gated state (reset before the product, as in Cho et al. 2014)",
         "h'": "new state: interpolate between the candidate and the old state with z"]
    }
}
