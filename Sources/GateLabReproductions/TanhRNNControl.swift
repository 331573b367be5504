import GateLabAutodiff

/// The control network set beside the 1997 LSTM: a fully recurrent tanh net
/// (one hidden layer, Elman) trained on-line with the full BPTT gradient (`FullGradient`, the
/// engine's built-in tanh RNN), one update at the end of each sequence, on the same task,
/// error, learning rate, criterion and budget.
///
/// ```
/// h(t) = tanh(W · [1, x(t), h(t−1)])      h(−1) = 0 (reset at each sequence)
/// y(t) = f(V · [1, h(t)])                 logistic outputs, as the LSTM's
/// L    = ½ Σ_target steps Σ_k (t_k − y_k)²  (the paper's error with its factor 2 dropped)
/// ```
/// Weights in one flat array: W's rows (hidden × (1 + inputs + hidden)), then V's rows
/// (outputs × (1 + hidden)).
public struct TanhRNNControl: Codable, Equatable, Sendable {
    /// Input, hidden and output units.
    public let inputs, hidden, outputs: Int
    /// The weights (layout above).
    public var weights: [Double]

    /// The weight count of a net with these sizes.
    public static func weightCount(inputs: Int, hidden: Int, outputs: Int) -> Int {
        hidden * (1 + inputs + hidden) + outputs * (1 + hidden)
    }

    /// The hidden size whose weight count is closest to `target` (the smaller one on a tie):
    /// the control gets about as many weights as the LSTM it is compared with.
    public static func hiddenMatching(weights target: Int, inputs: Int, outputs: Int) -> Int {
        var best = 1
        for h in 1...256 {
            let gap = abs(weightCount(inputs: inputs, hidden: h, outputs: outputs) - target)
            if gap < abs(weightCount(inputs: inputs, hidden: best, outputs: outputs) - target) { best = h }
        }
        return best
    }

    /// A net with the given weights.
    public init(inputs: Int, hidden: Int, outputs: Int, weights: [Double]) {
        precondition(weights.count == TanhRNNControl.weightCount(inputs: inputs, hidden: hidden, outputs: outputs), "weight count")
        (self.inputs, self.hidden, self.outputs, self.weights) = (inputs, hidden, outputs, weights)
    }

    var rowW: Int { 1 + inputs + hidden }

    /// Offset of output unit k's row (its bias first).
    func outputOffset(_ k: Int) -> Int { hidden * rowW + k * (1 + hidden) }

    /// The built-in tanh RNN's parameters (`W_ih`, `W_hh`, `b_ih`; `b_hh` zero) from flat
    /// weights `w` in this layout.
    func cellParameters(_ w: [Double]) -> [String: Tensor] {
        let (I, H) = (inputs, hidden)
        return ["W_ih": Tensor(rows: H, cols: I, scalars: (0..<H).flatMap { r in (0..<I).map { w[r * rowW + 1 + $0] } }),
                "W_hh": Tensor(rows: H, cols: H, scalars: (0..<H).flatMap { r in (0..<H).map { w[r * rowW + 1 + I + $0] } }),
                "b_ih": Tensor(rows: 1, cols: H, scalars: (0..<H).map { w[$0 * rowW] }),
                "b_hh": Tensor(rows: 1, cols: H)]
    }

    /// Adds −∂L/∂w, given for the built-in tanh RNN's parameters by name, into `descent` in
    /// this layout (`b_hh`, which the control does not have, is dropped).
    func addDescent(_ gradients: [String: Tensor], to descent: UnsafeMutableBufferPointer<Double>) {
        let (I, H) = (inputs, hidden)
        for r in 0..<H {
            if let g = gradients["W_ih"] { for i in 0..<I { descent[r * rowW + 1 + i] -= g[r, i] } }
            if let g = gradients["W_hh"] { for m in 0..<H { descent[r * rowW + 1 + I + m] -= g[r, m] } }
            if let g = gradients["b_ih"] { descent[r * rowW] -= g[0, r] }
        }
    }
}
