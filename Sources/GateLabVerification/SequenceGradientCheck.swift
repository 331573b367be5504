import GateLabAutodiff
import GateLabCells
import GateLabGradCheck
import GateLabGSL

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

    /// The seeded problem: weights (or `weights`), inputs x, loss weights R, initial states,
    /// drawn from `seed` in that order.
    func draw() throws -> (network: RecurrentNetwork, x: [Double], r: [Double], initial: [[Tensor]]) {
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
        return (network, x, r, initial)
    }

    /// The checked tensors' names, in `run`'s order: every parameter of every layer, then
    /// every initial state.
    func checkedNames(_ network: RecurrentNetwork) -> [String] {
        var names = [String]()
        for k in 0..<layers { for spec in network.specs(layer: k) { names.append(layers > 1 ? "\(spec.name).l\(k)" : spec.name) } }
        for k in 0..<layers { for s in cell.stateNames { names.append("\(s)0" + (layers > 1 ? ".l\(k)" : "")) } }
        return names
    }

    /// Runs the check.
    public func run() throws -> GradientCheckReport {
        let (network, x, r, initial) = try draw()
        let unrolled = try Unrolled(network: network, batch: batch, steps: steps, execution: execution)

        // The checked tensors: every parameter of every layer, then every initial state.
        let names = checkedNames(network)
        var shapes = [Shape](), values = [[Double]]()
        for k in 0..<layers {
            for spec in network.specs(layer: k) {
                shapes.append(Shape(spec.rows, spec.cols))
                values.append(network.weights[k][spec.name]!.scalars)
            }
        }
        for _ in 0..<layers { for _ in cell.stateNames { shapes.append(Shape(batch, hiddenSize)) } }
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
        let base = try loss(values)
        if !base.isFinite { throw GradientCheckError.nonFiniteLoss(base, location: try locateNonFinite(unrolled, unpack(values), x)) }
        let grads = try unrolled.backward(.everyStep(r))
        let analytic = (0..<layers).flatMap { k in network.specs(layer: k).map { grads.weights[k][$0.name]!.scalars } }
            + grads.initialState.flatMap { $0.map(\.scalars) }
        let tensors = (0..<names.count).map {
            CheckedTensor(name: names[$0], rows: shapes[$0].rows, cols: shapes[$0].cols, values: values[$0], analyticGradient: analytic[$0])
        }
        return try GradientChecker(options: options).check(tensors, loss: loss)
    }

    /// Where the first NaN or ±∞ of the forward pass appears — the mechanism `train` locates a
    /// diverged run's with: the forward pass re-run with `checkFinite`, whose error names
    /// the primitive, the value, the time step and, for a cell file, its line.
    func locateNonFinite(_ unrolled: Unrolled, _ problem: (RecurrentNetwork, [[Tensor]]), _ x: [Double]) throws -> String {
        try unrolled.load(problem.0)
        do {
            try unrolled.forward(inputs: x, initialState: problem.1, checkFinite: true)
        } catch let e as ProgramError {
            return e.description
        }
        return "the forward pass is finite; the sum Σ R ⊙ h overflowed"
    }
}

extension SequenceGradientCheck {
    /// The float32 check: finite differences in float32 are useless (their own error is
    /// ~1e-5 at best), so the float32 program's analytic gradients are compared with the
    /// float64 program's analytic gradients of the same problem, with its weights, inputs,
    /// initial states and R rounded to float32 first so that both see the same numbers.
    /// Per tensor: the normwise relative error max|g32 − g64| / max|g64|.
    /// - Parameter tolerance: the largest accepted error (default `float32Tolerance`).
    public func compareFloat32(tolerance: Double = SequenceGradientCheck.float32Tolerance) throws -> Float32GradientComparison {
        var (network, x, r, initial) = try draw()
        let round = { (v: [Double]) in v.map { Double(Float($0)) } }
        for k in 0..<layers { for (name, w) in network.weights[k] { network.weights[k][name] = Tensor(rows: w.rows, cols: w.cols, scalars: round(w.scalars)) } }
        x = round(x)
        r = round(r)
        initial = initial.map { $0.map { Tensor(rows: $0.rows, cols: $0.cols, scalars: round($0.scalars)) } }
        func gradients<S: GateLabAutodiff.Scalar>(_: S.Type) throws -> [[Double]] {
            let unrolled = try UnrolledOf<S>(network: network, batch: batch, steps: steps, execution: execution)
            try unrolled.forward(inputs: x, initialState: initial)
            let grads = try unrolled.backward(.everyStep(r))
            return (0..<layers).flatMap { k in network.specs(layer: k).map { grads.weights[k][$0.name]!.scalars } }
                + grads.initialState.flatMap { $0.map(\.scalars) }
        }
        let g64 = try gradients(Double.self), g32 = try gradients(Float.self)
        let rows = zip(checkedNames(network), zip(g32, g64)).map { name, g in
            let scale = g.1.map { Swift.abs($0) }.max() ?? 0
            let diff = zip(g.0, g.1).map { Swift.abs($0 - $1) }.max() ?? 0
            return Float32GradientComparison.Row(name: name, count: g.1.count, error: scale > 0 ? diff / scale : diff)
        }
        return Float32GradientComparison(rows: rows, tolerance: tolerance)
    }

    /// The default tolerance of `compareFloat32`: 1e-4, about 1700 float32 rounding units
    /// (2^-24 ≈ 6e-8), room for rounding accumulated over T = 20 steps of a recurrence and
    /// sums over the batch and time; the built-in cells and Cells/*.cell measure 1e-7 to 1e-5
    /// (Notes/float32.md).
    public static let float32Tolerance = 1e-4
}

/// The result of `SequenceGradientCheck.compareFloat32`: per checked tensor, the float32
/// program's gradient against the float64 program's (not finite differences).
public struct Float32GradientComparison: Sendable, Equatable, Codable {
    /// One checked tensor.
    public struct Row: Sendable, Equatable, Codable {
        /// The tensor's name (`W_ih`, `h0`, `W_hh.l1`, …).
        public var name: String
        /// Its number of elements.
        public var count: Int
        /// max|g32 − g64| / max|g64|.
        public var error: Double
    }
    /// What is compared, as the output says it.
    public static let method = "float32 program's analytic gradients against the float64 program's analytic gradients on the same float32-rounded weights, inputs, states and R (not finite differences); per tensor max|g32 - g64| / max|g64|"
    /// Every checked tensor.
    public var rows: [Row]
    /// The largest accepted error.
    public var tolerance: Double

    /// Whether every tensor is within the tolerance (false for NaN).
    public var passed: Bool { rows.allSatisfy { $0.error <= tolerance } }
    /// The largest error.
    public var worst: Double { rows.map(\.error).max() ?? 0 }

    enum CodingKeys: String, CodingKey { case method, rows = "tensors", tolerance, passed, worst }
    public init(rows: [Row], tolerance: Double) { self.rows = rows; self.tolerance = tolerance }
    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        rows = try c.decode([Row].self, forKey: .rows)
        tolerance = try c.decode(Double.self, forKey: .tolerance)
    }
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.method, forKey: .method)
        try c.encode(rows, forKey: .rows)
        try c.encode(tolerance, forKey: .tolerance)
        try c.encode(passed, forKey: .passed)
        try c.encode(worst, forKey: .worst)
    }
}
