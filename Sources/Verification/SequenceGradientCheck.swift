import Autodiff
import Cells
import GradCheck
import GSLKit

/// Gradient check of a whole unrolled sequence: a network with seeded random weights, inputs,
/// initial state and loss weights R, loss L = Σ_t Σ R_t ⊙ h_t, every parameter and every
/// initial state checked through all the steps.
public struct SequenceGradientCheck {
    /// The cell checked.
    public var cell: any RecurrentCell
    /// I, H, B, T, L.
    public var inputSize = 3, hiddenSize = 4, batch = 2, steps = 20, layers = 1
    /// Seed of the weights, inputs, states and R (drawn from `generator`).
    public var seed: UInt64 = 1
    /// GSL's name of the random generator everything is drawn from.
    public static let generator = "mt19937"
    /// Checker settings (mode, step, tolerance).
    public var options = GradientCheckOptions()
    /// The unrolled network's executor.
    public var execution = Execution.fast
    /// Weights to check at instead of seeded random ones (`gatelab gradcheck --weights`):
    /// their sizes replace I, H and L; inputs, states and R are drawn from the seed as before.
    public var weights: RecurrentNetwork?

    /// Creates a check with the default sizes (I = 3, H = 4, B = 2, T = 20, L = 1).
    public init(cell: any RecurrentCell) { self.cell = cell }

    /// Runs the check.
    public func run() throws -> GradientCheckReport {
        let rng = try RandomSource(seed: seed, generator: Self.generator)
        var network = RecurrentNetwork(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers)
        try network.initialize(.init(inputWeights: .uniform(bound: 0.6), recurrentWeights: .uniform(bound: 0.6), biases: .uniform(bound: 0.3)), using: rng)
        if let weights {
            precondition(weights.inputSize == inputSize && weights.hiddenSize == hiddenSize && weights.layers == layers,
                         "SequenceGradientCheck: set inputSize, hiddenSize and layers to the weights' sizes")
            network.weights = weights.weights
        }
        let x = rng.uniformArray(count: steps * batch * inputSize, low: -1, high: 1)
        let r = rng.uniformArray(count: steps * batch * hiddenSize, low: -1, high: 1)
        let initial = (0..<layers).map { _ in cell.stateNames.map { _ in
            Tensor(rows: batch, cols: hiddenSize, scalars: rng.uniformArray(count: batch * hiddenSize, low: -0.5, high: 0.5)) } }
        let unrolled = try Unrolled(network: network, batch: batch, steps: steps, execution: execution)

        // The checked tensors: every parameter of every layer, then every initial state.
        var names = [String](), shapes = [Shape](), values = [[Double]]()
        for k in 0..<layers {
            for spec in network.specs(layer: k) {
                names.append(layers > 1 ? "\(spec.name).l\(k)" : spec.name)
                shapes.append(Shape(spec.rows, spec.cols))
                values.append(network.weights[k][spec.name]!.scalars)
            }
        }
        for k in 0..<layers { for s in cell.stateNames {
            names.append("\(s)0" + (layers > 1 ? ".l\(k)" : "")); shapes.append(Shape(batch, hiddenSize))
        } }
        values += initial.flatMap { $0.map(\.scalars) }

        func unpack(_ vs: [[Double]]) -> (RecurrentNetwork, [[Tensor]]) {
            var net = network, i = 0
            for k in 0..<layers { for spec in network.specs(layer: k) {
                net.weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols, scalars: vs[i]); i += 1
            } }
            let states = (0..<layers).map { _ in cell.stateNames.map { _ -> Tensor in
                defer { i += 1 }
                return Tensor(rows: batch, cols: hiddenSize, scalars: vs[i])
            } }
            return (net, states)
        }
        func loss(_ vs: [[Double]]) throws -> Double {
            let (net, states) = unpack(vs)
            try unrolled.load(net)
            try unrolled.forward(inputs: x, initialState: states)
            var total = 0.0
            for t in 0..<steps { for (h, w) in zip(unrolled.output(step: t).scalars, r[(t * batch * hiddenSize)...]) { total += h * w } }
            return total
        }
        _ = try loss(values)
        let grads = try unrolled.backward(.everyStep(r))
        let analytic = (0..<layers).flatMap { k in network.specs(layer: k).map { grads.weights[k][$0.name]!.scalars } }
            + grads.initialState.flatMap { $0.map(\.scalars) }
        let tensors = (0..<names.count).map {
            CheckedTensor(name: names[$0], rows: shapes[$0].rows, cols: shapes[$0].cols, values: values[$0], analyticGradient: analytic[$0])
        }
        return try GradientChecker(options: options).check(tensors, loss: loss)
    }
}
