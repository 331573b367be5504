import GateLabAutodiff
import GateLabCells
import GateLabTasks
import GateLabGSL

/// A recurrent network of any depth plus a linear readout of its top layer, unrolled for one
/// batch size and length, with the loss of a task.
public final class SequenceModel {
    /// The recurrent layers (their weights are the model's, not a copy to be loaded).
    public var network: RecurrentNetwork
    /// The readout's weight, K × H.
    public var readoutWeight: Tensor
    /// The readout's bias, 1 × K.
    public var readoutBias: Tensor
    /// The loss.
    public let loss: TaskLoss
    /// The unrolled network, computing in the run's precision (`UnrolledOf<Double>` or
    /// `UnrolledOf<Float>`); the readout and the optimizer stay in float64.
    let unrolled: any UnrolledRecurrence
    let readout: Readout

    /// Creates the model with PyTorch-default weights from `rng` (the recurrent layers by
    /// `initialization`, then the readout U(±1/√H), as `nn.Linear`).
    /// - Parameters:
    ///   - cell: the cell.
    ///   - inputSize: input features.
    ///   - hiddenSize: units per layer.
    ///   - layers: stacked layers.
    ///   - loss: the task's loss (its width sets the readout's).
    ///   - batch: sequences per batch.
    ///   - steps: time steps.
    ///   - initialization: the recurrent layers' scheme (forget bias, …).
    ///   - rng: the initialization's random source.
    ///   - memoryBudget: the unrolled storage's budget in bytes (nil: `Unrolled`'s default).
    ///   - execution: the unrolled network's executor.
    ///   - precision: what the unrolled network stores and computes in (its weights, kept in
    ///     float64 with the optimizer's state, rounded once per update when loaded).
    public init(cell: any RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int, loss: TaskLoss,
                batch: Int, steps: Int, initialization: RecurrentNetwork.Initialization,
                rng: RandomSource, memoryBudget: Int? = nil, execution: Execution = .fast, precision: Precision = .f64) throws {
        var network = RecurrentNetwork(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers)
        try network.initialize(initialization, using: rng)
        let bound = 1 / Double(hiddenSize).squareRoot()
        readoutWeight = Tensor(rows: loss.width, cols: hiddenSize, scalars: rng.uniformArray(count: loss.width * hiddenSize, low: -bound, high: bound))
        readoutBias = Tensor(rows: 1, cols: loss.width, scalars: rng.uniformArray(count: loss.width, low: -bound, high: bound))
        self.network = network
        self.loss = loss
        switch precision {   // the tasks' inputs are data, not parameters: no input gradients
        case .f64: unrolled = try UnrolledOf<Double>(network: network, batch: batch, steps: steps, memoryBudget: memoryBudget,
                                                     inputGradients: false, execution: execution)
        case .f32: unrolled = try UnrolledOf<Float>(network: network, batch: batch, steps: steps, memoryBudget: memoryBudget,
                                                    inputGradients: false, execution: execution)
        }
        readout = try Readout(batch: batch, hiddenSize: hiddenSize, loss: loss, execution: execution)
    }

    /// The parameters' names, in the order of `parameters` and of gradients: every layer's
    /// in the cell's order (layer k > 0 suffixed `.l<k>`), then `W_y`, `b_y`.
    public var parameterNames: [String] {
        (0..<network.layers).flatMap { k in network.specs(layer: k).map { $0.name + (k == 0 ? "" : ".l\(k)") } } + ["W_y", "b_y"]
    }

    /// Every parameter's shape, in `parameterNames` order.
    public var parameterShapes: [Shape] {
        (0..<network.layers).flatMap { k in network.specs(layer: k).map { Shape($0.rows, $0.cols) } } + [readoutWeight.shape, readoutBias.shape]
    }

    /// Every parameter's values, row-major, in `parameterNames` order.
    public var parameters: [[Double]] {
        get {
            (0..<network.layers).flatMap { k in network.specs(layer: k).map { network.weights[k][$0.name]!.scalars } }
                + [readoutWeight.scalars, readoutBias.scalars]
        }
        set {
            var i = 0
            for k in 0..<network.layers {
                for spec in network.specs(layer: k) {
                    network.weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols, scalars: newValue[i]); i += 1
                }
            }
            readoutWeight.scalars = newValue[i]
            readoutBias.scalars = newValue[i + 1]
        }
    }

    /// Loads the current weights into the programs.
    func loadWeights() throws {
        try unrolled.load(network)
        try readout.load(weight: readoutWeight, bias: readoutBias)
    }

    /// The loss of `batch` (mean over its targets) and its gradient with respect to every
    /// parameter, in `parameterNames` order.
    public func lossAndGradient(_ batch: TaskBatch) throws -> (loss: Double, gradients: [[Double]]) {
        try loadWeights()
        try unrolled.forward(inputs: batch.inputs)
        let byStep = Dictionary(uniqueKeysWithValues: batch.targets.map { ($0.step, $0) })
        let total = batch.targetCount, b = unrolled.batch, h = network.hiddenSize
        var lossSum = 0.0
        var dW = [Double](repeating: 0, count: readoutWeight.scalars.count), db = [Double](repeating: 0, count: readoutBias.scalars.count)
        var failure: Error?
        try unrolled.reverse(hiddenGradient: { t, hidden in
            guard failure == nil, let targets = byStep[t] else { return nil }
            do {
                lossSum += try self.readout.forward(hidden: Tensor(rows: b, cols: h, scalars: hidden()), targets, total: total)
                let g = try self.readout.backward()
                for i in dW.indices { dW[i] += g.weight.scalars[i] }
                for i in db.indices { db[i] += g.bias.scalars[i] }
                return g.hidden
            } catch {
                failure = error
                return nil
            }
        })
        if let failure { throw failure }
        var gradients = [[Double]]()
        for k in 0..<network.layers {
            for spec in network.specs(layer: k) {
                gradients.append(try unrolled.parameterGradient(unrolled.parameters[k][spec.name]!).scalars)
            }
        }
        return (lossSum, gradients + [dW, db])
    }

    /// The loss and correctness of `batch` without gradients.
    /// - Parameters:
    ///   - batch: the sequences and their targets.
    ///   - judge: decides whether a scored target's prediction is correct.
    /// - Returns: the loss (mean over the batch's targets), the number of scored targets and
    ///   of correct ones.
    public func evaluate(_ batch: TaskBatch, judge: (ArraySlice<Double>, ArraySlice<Double>, Int) -> Bool) throws
        -> (loss: Double, scored: Int, correct: Int) {
        try evaluate(batch, score: { judge($0, $1, $2) ? (1, 1) : (0, 1) })
    }

    /// The loss and score of `batch` without gradients.
    /// - Parameters:
    ///   - batch: the sequences and their targets.
    ///   - score: how many of a scored target's judgements are right, of how many
    ///     (`ForgettingTask.score`).
    /// - Returns: the loss (mean over the batch's targets), the judgements and the right ones,
    ///   summed over the scored targets.
    public func evaluate(_ batch: TaskBatch, score: (ArraySlice<Double>, ArraySlice<Double>, Int) -> (right: Int, of: Int)) throws
        -> (loss: Double, scored: Int, correct: Int) {
        try loadWeights()
        try unrolled.forward(inputs: batch.inputs)
        let total = batch.targetCount, k = loss.width
        var lossSum = 0.0, scored = 0, correct = 0
        for targets in batch.targets {
            lossSum += try readout.forward(hidden: unrolled.output(step: targets.step), targets, total: total)
            guard targets.scored else { continue }
            let y = readout.outputs
            for (j, row) in targets.rows.enumerated() {
                let prediction = y.scalars[(row * k)..<((row + 1) * k)]
                let value = targets.values.isEmpty ? [][...] : targets.values[(j * k)..<((j + 1) * k)]
                let label = targets.classes.isEmpty ? -1 : targets.classes[j]
                let (right, of) = score(prediction, value, label)
                scored += of; correct += right
            }
        }
        return (lossSum, scored, correct)
    }

    /// Where the first NaN or ±∞ of `batch`'s forward pass appears, or nil when the forward
    /// pass (network and readout) is finite: re-runs it with `checkFinite`.
    public func locateNonFinite(_ batch: TaskBatch) throws -> String? {
        try loadWeights()
        do {
            try unrolled.forward(inputs: batch.inputs, checkFinite: true)
        } catch let e as ProgramError {
            return e.description
        }
        for targets in batch.targets {
            let l = try readout.forward(hidden: unrolled.output(step: targets.step), targets, total: batch.targetCount)
            if !l.isFinite { return "\(l) first appears in the readout's loss at time step \(targets.step)" }
        }
        return nil
    }

    /// log10‖∂y/∂h_t‖ of the top layer for every step t of `batch`, where the seed at the last
    /// step is Σ_k W_y[k, :] for every sequence (the sensitivity of the readout's outputs'
    /// sum), measured without underflow (`Unrolled.logGradientNorms`): the gradient profile
    /// over time steps.
    public func gradientProfile(_ batch: TaskBatch) throws -> [Double] {
        try loadWeights()
        try unrolled.forward(inputs: batch.inputs)
        let h = network.hiddenSize
        let row = (0..<h).map { c in (0..<loss.width).reduce(0.0) { $0 + readoutWeight[$1, c] } }
        let seed = Array((0..<unrolled.batch).map { _ in row }.joined())
        return try unrolled.topLayerLogGradientNorms(lastStepSeed: seed)
    }
}

/// What a `SequenceModel` needs of its unrolled network, in either precision (the values it
/// exchanges are float64).
protocol UnrolledRecurrence: AnyObject {
    var batch: Int { get }
    var parameters: [[String: Value]] { get }
    func load(_ network: RecurrentNetwork) throws
    func forward(inputs: [Double], initialState: [[Tensor]]?, checkFinite: Bool) throws
    func output(step t: Int) -> Tensor
    /// The reverse pass with ∂L/∂h_t of the top layer given from h_t (nil: no loss at step t).
    /// h_t is read (widened to float64) only when the closure asks for it: most steps of a
    /// task carry no target.
    func reverse(hiddenGradient: (Int, () -> [Double]) -> [Double]?) throws
    /// A parameter's gradient after `reverse`.
    func parameterGradient(_ v: Value) throws -> Tensor
    /// log10‖∂L/∂h_t‖ of the top layer for every step (`logGradientNorms`).
    func topLayerLogGradientNorms(lastStepSeed: [Double]) throws -> [Double]
}

extension UnrolledRecurrence {
    func forward(inputs: [Double], checkFinite: Bool = false) throws { try forward(inputs: inputs, initialState: nil, checkFinite: checkFinite) }
}

extension UnrolledOf: UnrolledRecurrence {
    @_specialize(where S == Double) @_specialize(where S == Float)
    func reverse(hiddenGradient: (Int, () -> [Double]) -> [Double]?) throws {
        try withoutActuallyEscaping(hiddenGradient) { f in
            try reverse(.custom { t, h in f(t, { h.map { Double($0) } }) })
        }
    }

    @_specialize(where S == Double) @_specialize(where S == Float)
    func parameterGradient(_ v: Value) throws -> Tensor { try program.gradient(of: v) }

    @_specialize(where S == Double) @_specialize(where S == Float)
    func topLayerLogGradientNorms(lastStepSeed seed: [Double]) throws -> [Double] {
        try logGradientNorms(lastStepSeed: seed).h[network.layers - 1]
    }
}
