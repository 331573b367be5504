#if canImport(Glibc)
import Glibc
#else
import Darwin
#endif
import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabTasks

/// The full gradient (backpropagation through every recurrent connection, no truncation) of a
/// network a trial trains by it, computed by the engine: the LSTM's cell file
/// (`Architecture.cellText`) or the built-in tanh RNN unrolled over the sequence
/// (`UnrolledOf<Double>`, batch 1, zero initial states), the paper's logistic output units on
/// the recurrent layer's output at every step, and the loss
///
/// ```
/// L = ½ Σ_target steps Σ_k (t_k − y_k)²     y(t) = f(V · [1, h(t), x(t)])
/// ```
///
/// (the paper's error with its factor 2 dropped; x(t) only with the 2000 net's shortcuts).
/// Its result is −∂L/∂w in the trial's flat weight layout (`Architecture`'s, or
/// `TanhRNNControl`'s), the descent direction `TruncatedRTRL` also produces.
///
/// One unrolled program is kept per sequence length met (`programsKept` at most).
final class FullGradient {
    /// The paper's output units: K logistic units reading o(t) = [1, h(t), x(t)], unit k's
    /// weight on o_m at `offset(k) + m − start` of the flat weights.
    struct OutputUnits {
        var count: Int
        var hidden: Int
        var inputs: Int
        var readsInputs: Bool
        /// 0 with a bias weight, 1 without.
        var start: Int
        var offset: (Int) -> Int

        /// The length of o(t).
        var sourceCount: Int { 1 + hidden + (readsInputs ? inputs : 0) }
    }

    /// The recurrent layer (its weights replaced at every call).
    private var network: RecurrentNetwork
    /// The recurrent layer's weights from the flat weights.
    private let parameters: ([Double]) -> [String: Tensor]
    /// Adds −∂L/∂(the recurrent layer's weights), given by name, into the flat descent.
    private let scatter: ([String: Tensor], UnsafeMutableBufferPointer<Double>) -> Void
    private let units: OutputUnits
    private var unrolled: [Int: UnrolledOf<Double>] = [:]

    private init(network: RecurrentNetwork, parameters: @escaping ([Double]) -> [String: Tensor],
                 scatter: @escaping ([String: Tensor], UnsafeMutableBufferPointer<Double>) -> Void, units: OutputUnits) {
        (self.network, self.parameters, self.scatter, self.units) = (network, parameters, scatter, units)
    }

    /// The full gradient of a paper network.
    /// - Throws: `ReproductionError.unsupported` for a state decay d ≠ 1 (the cell files have
    ///   none) or Exps. 2a/2b's net (no output gate, g logistic, h the identity: no cell file
    ///   writes it); `CellFileError` if the built-in text does not compile.
    convenience init(architecture a: Architecture, stateDecay: Double) throws {
        guard !a.isConnectivityB else {
            throw ReproductionError.unsupported("the full gradient runs through \(a.cellFileName), which has output gates, g in [−2, 2] and h in [−1, 1]; "
                                                + "Exps. 2a/2b's net (no output gate, g logistic, h the identity) trains with the truncated gradient")
        }
        guard stateDecay == 1 else {
            throw ReproductionError.unsupported("the full gradient runs through \(a.cellFileName), which has no state decay; "
                                                + "a network with d = \(stateDecay) trains with the truncated gradient")
        }
        let cell = try a.cell(source: a.cellText, file: a.cellFileName)
        let asked = Set(cell.parameters(inputSize: a.inputs, hiddenSize: a.cells).map(\.name))
        let given = Set(a.cellParameters([Double](repeating: 0, count: a.weightCount)).keys)
        guard asked == given || (asked.symmetricDifference(given) == ["b_c"] && !a.cellBias) else {
            throw ReproductionError.unsupported("the full gradient runs through \(a.cellFileName), whose weights (\(asked.sorted().joined(separator: ", "))) "
                                                + "are not this network's (\(given.sorted().joined(separator: ", "))); it trains with the truncated gradient")
        }
        self.init(network: RecurrentNetwork(cell: cell, inputSize: a.inputs, hiddenSize: a.cells),
                  parameters: a.cellParameters, scatter: a.addDescent,
                  units: OutputUnits(count: a.outputs, hidden: a.cells, inputs: a.inputs, readsInputs: a.outputShortcuts,
                                     start: a.outputStart, offset: a.outputOffset))
    }

    /// The full gradient of the tanh-RNN control.
    convenience init(control c: TanhRNNControl) {
        self.init(network: RecurrentNetwork(cell: TanhRNN(), inputSize: c.inputs, hiddenSize: c.hidden),
                  parameters: c.cellParameters, scatter: c.addDescent,
                  units: OutputUnits(count: c.outputs, hidden: c.hidden, inputs: c.inputs, readsInputs: false,
                                     start: 0, offset: c.outputOffset))
    }

    /// The most programs kept: the tasks' lengths vary over ~T/10 + 1 values (101 at T = 1000),
    /// each program holding its sequence's tape; past this many the cache starts afresh.
    static let programsKept = 128

    /// The unrolled program for sequences of `steps` steps.
    private func program(steps: Int) throws -> UnrolledOf<Double> {
        if let u = unrolled[steps] { return u }
        if unrolled.count >= Self.programsKept { unrolled.removeAll() }
        let u = try UnrolledOf<Double>(network: network, batch: 1, steps: steps, inputGradients: false)
        unrolled[steps] = u
        return u
    }

    /// Runs `sequence` forward with weights `w` and judges its target steps under `rule`;
    /// with `descent`, also the reverse pass, leaving −∂L/∂w there (sized like `w`).
    /// - Throws: engine errors (none for a network this type built).
    func run(weights w: [Double], sequence: TaskSequence, rule: CorrectnessRule, descent: UnsafeMutableBufferPointer<Double>?) throws -> SequenceOutcome {
        let u = try program(steps: sequence.length)
        network.weights[0] = parameters(w)
        try u.load(network)
        try u.forward(inputs: sequence.inputs)
        let (K, H, I) = (units.count, units.hidden, units.inputs)
        var outcome = SequenceOutcome(correct: true, finalError: 0, squaredErrorSum: 0, targetSteps: 0)
        // y(t) at the target steps, kept for the reverse pass.
        var y = [Double](repeating: 0, count: sequence.length * K)
        var o = [Double](repeating: 0, count: units.sourceCount)
        func source(_ t: Int, _ h: UnsafeBufferPointer<Double>) {
            o[0] = 1
            for c in 0..<H { o[1 + c] = h[c] }
            if units.readsInputs { for i in 0..<I { o[1 + H + i] = sequence.inputs[t * I + i] } }
        }
        // Judged against the noise-free targets where the targets are noisy (Exp. 3c); learning
        // follows the targets.
        let judged = sequence.expected ?? sequence.targets
        let lastTarget = sequence.hasTarget.lastIndex(of: true) ?? -1
        y.withUnsafeMutableBufferPointer { yb in
            judged.withUnsafeBufferPointer { tb in
                sequence.legal.withUnsafeBufferPointer { lb in
                    for t in 0..<sequence.length where sequence.hasTarget[t] {
                        let h = u.output(step: t).scalars
                        h.withUnsafeBufferPointer { source(t, $0) }
                        var e2 = 0.0
                        for k in 0..<K {
                            let row = units.offset(k)
                            var net = 0.0
                            for m in units.start..<units.sourceCount { net += w[row + m - units.start] * o[m] }
                            let yk = 1 / (1 + exp(-net))
                            yb[t * K + k] = yk
                            let e = judged[t * K + k] - yk
                            e2 += e * e
                        }
                        outcome.finalError = e2
                        outcome.squaredErrorSum += e2
                        outcome.targetSteps += 1
                        if rule.judges(step: t, lastTargetStep: lastTarget),
                           !rule.holds(yb.baseAddress! + t * K, tb.baseAddress! + t * K, lb.isEmpty ? nil : lb.baseAddress! + t * K, K) {
                            outcome.correct = false
                        }
                    }
                }
            }
        }
        guard let descent else { return outcome }
        for i in descent.indices { descent[i] = 0 }
        // The output units' part by hand (they are not recurrent), the recurrent layer's by
        // the engine, seeded with ∂L/∂h(t) = Σ_k (y_k − t_k) y_k (1 − y_k) V_k,h.
        var dNet = [Double](repeating: 0, count: K)
        let gradients = try u.backward(.custom { t, h in
            guard sequence.hasTarget[t] else { return nil }
            source(t, UnsafeBufferPointer(h))
            var dh = [Double](repeating: 0, count: H)
            for k in 0..<K {
                let yk = y[t * K + k]
                dNet[k] = (yk - sequence.targets[t * K + k]) * yk * (1 - yk)
                let row = self.units.offset(k) - self.units.start
                for m in self.units.start..<self.units.sourceCount { descent[row + m] -= dNet[k] * o[m] }
                for c in 0..<H { dh[c] += w[row + 1 + c] * dNet[k] }
            }
            return dh
        })
        scatter(gradients.weights[0], descent)
        return outcome
    }
}

extension Architecture {
    /// Adds −∂L/∂w, given for the cell file's parameters by name (`cellParameters`' names),
    /// into `descent` in this layout. A bias the network lacks (zero in the file) is dropped.
    func addDescent(_ gradients: [String: Tensor], to descent: UnsafeMutableBufferPointer<Double>) {
        let (I, C, B) = (inputs, cells, blocks)
        func scatter(_ name: String, _ offset: (Int) -> Int, _ start: Int, _ sources: [Int]) {
            guard let g = gradients[name] else { return }   // b_c: not in the 2000 file (the CERG cells have no bias)
            for r in 0..<g.rows {
                for (col, m) in sources.enumerated() { descent[offset(r) + m - start] -= g[r, col] }
            }
        }
        var units: [(String, (Int) -> Int, Int, Bool)] = [("c", cellOffset, cellStart, cellBias), ("in", inputGateOffset, gateStart, gateBias),
                                                          ("out", outputGateOffset, gateStart, gateBias)]
        if forgetGates { units.append(("φ", forgetGateOffset, gateStart, gateBias)) }
        for (suffix, offset, start, biased) in units {
            scatter("W_" + suffix, offset, start, (0..<I).map { 1 + $0 })
            scatter("U_" + suffix, offset, start, (0..<C).map(sourceIndexOfCell))
            if gatesFeedUnits {
                scatter("V_" + suffix, offset, start, (0..<B).map { sourceIndexOfGate(kind: 0, block: $0) })
                scatter("R_" + suffix, offset, start, (0..<B).map { sourceIndexOfGate(kind: 1, block: $0) })
            }
            if biased, let g = gradients["b_" + suffix] {   // 1 × n: unit r's bias is column r
                for r in 0..<g.cols { descent[offset(r)] -= g[0, r] }
            }
        }
    }
}
