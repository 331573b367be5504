import GateLabAutodiff
import GateLabTasks

/// The linear readout and the loss of one time step, as a one-step program on the graph
/// engine: y = W h + b (PyTorch's `nn.Linear`), then
/// - MSE: L = Σ (y − target)² ⊙ mask, where `mask` holds 1/(N·K) for the rows with a target
///   at this step (N targets in the batch, K outputs) and 0 for the others, so that summing
///   L over steps gives the mean squared error over every target, as PyTorch's `MSELoss`;
/// - cross-entropy: L = w · mean_b CE(y_b, label_b) with w = B/N, so that summing over steps
///   gives the mean over every target (every row must have a target at such a step);
/// - Bernoulli: L = Σ (softplus(y) − z ⊙ y) ⊙ mask, the negative log-likelihood of σ(y) for
///   0/1 targets z (−z log σ(y) − (1 − z) log(1 − σ(y)) = softplus(y) − z y), with `mask`
///   1/N for the rows with a target and 0 for the others: summing over steps gives the NLL
///   summed over the K outputs and averaged over the N targets (the NLL per time step).
///   softplus(y) is composed as relu(y) + log(1 + exp(y − 2 relu(y))): the exponent is −|y|,
///   so exp never overflows and the log's argument is in (1, 2]; and, unlike relu(y) +
///   log(1 + exp(−relu(y) − relu(−y))), its gradient at y = 0 is σ(0) = 1/2, not 0 (relu's
///   derivative at 0 is 0, and here it enters only through y − 2 relu(y), whose derivative is 1).
final class Readout {
    let program: any Executor<Double>
    let h: Value, weight: Value, bias: Value, y: Value, loss: Value
    let target: Value, mask: Value          // MSE, Bernoulli: B × K each; CE: labels B × 1, scale 1 × 1
    let kind: TaskLoss
    let batch: Int

    init(batch: Int, hiddenSize: Int, loss kind: TaskLoss, execution: Execution = .fast) throws {
        let g = Graph(), k = kind.width
        h = g.input("h", rows: batch, cols: hiddenSize)
        weight = g.parameter("W_y", rows: k, cols: hiddenSize)
        bias = g.parameter("b_y", rows: 1, cols: k)
        y = (weight • h + bias).named("y")
        switch kind {
        case .meanSquaredError:
            target = g.input("target", rows: batch, cols: k)
            mask = g.input("mask", rows: batch, cols: k)
            loss = sum(square(y - target) ⊙ mask)
        case .crossEntropy:
            target = g.input("labels", rows: batch, cols: 1)
            mask = g.input("scale", rows: 1, cols: 1)
            loss = softmaxCrossEntropy(y, labels: target) ⊙ mask
        case .bernoulli:
            target = g.input("target", rows: batch, cols: k)
            mask = g.input("mask", rows: batch, cols: k)
            let positive = relu(y)
            let softplus = positive + log(1 + exp(y - 2 * positive))
            loss = sum((softplus - target ⊙ y) ⊙ mask)
        }
        self.kind = kind
        self.batch = batch
        program = try execution.executor(graph: g)
    }

    /// Loads the readout's weights.
    func load(weight w: Tensor, bias b: Tensor) throws {
        try program.set(weight, w)
        try program.set(bias, b)
    }

    /// Feeds `hidden` and the targets of `step` (out of `total` targets in the batch) and runs
    /// the forward pass; returns the step's share of the loss.
    func forward(hidden: Tensor, _ step: StepTargets, total: Int) throws -> Double {
        let k = kind.width
        try program.set(h, hidden)
        switch kind {
        case .meanSquaredError, .bernoulli:
            var t = Tensor(rows: batch, cols: k), m = Tensor(rows: batch, cols: k)
            // MSE: the mean over targets and outputs; Bernoulli: the sum over outputs, the
            // mean over targets.
            let share: Double
            if case .bernoulli = kind { share = 1 / Double(total) } else { share = 1 / Double(total * k) }
            for (j, b) in step.rows.enumerated() {
                for c in 0..<k { t[b, c] = step.values[j * k + c]; m[b, c] = share }
            }
            try program.set(target, t)
            try program.set(mask, m)
        case .crossEntropy:
            guard step.rows.count == batch else {
                throw TrainingError.badTask("cross-entropy targets must cover every sequence of a step; step \(step.step) has \(step.rows.count) of \(batch)")
            }
            try program.set(target, Tensor(rows: batch, cols: 1, scalars: step.classes.map(Double.init)))
            try program.set(mask, Tensor(rows: 1, cols: 1, scalars: [Double(batch) / Double(total)]))
        }
        try program.forward()
        return program.value(of: loss).scalars[0]
    }

    /// The readout's outputs after `forward` (B × K).
    var outputs: Tensor { program.value(of: y) }

    /// The reverse pass after `forward`: ∂L/∂h (B·H numbers), ∂L/∂W, ∂L/∂b.
    func backward() throws -> (hidden: [Double], weight: Tensor, bias: Tensor) {
        try program.backward(from: loss)
        return (try program.gradient(of: h).scalars, try program.gradient(of: weight), try program.gradient(of: bias))
    }
}
