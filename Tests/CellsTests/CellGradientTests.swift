@testable import GateLabAutodiff
@testable import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL
import Testing
import GateLabVerification

@Suite("Every built-in cell passes the gradient check through whole sequences")
struct CellGradientTests {
    static let cells = BuiltinCells.names

    @Test(arguments: cells, [1, 2])
    func fullModeThroughTwentySteps(_ name: String, layers: Int) throws {
        var check = SequenceGradientCheck(cell: BuiltinCells.builtin(name)!)
        check.layers = layers
        check.steps = 20
        let report = try check.run()
        #expect(report.passed, "\(name) L=\(layers)\n\(report.table())")
        #expect(report.tensors.count == (name == "rnn" ? 4 : name == "lstm" ? 16 : 12) * layers + check.cell.stateNames.count * layers)
        let worst = report.tensors.map(\.worstRelative.relativeError).max()!
        #expect(worst < 1e-6, "\(name): worst relative error \(worst)")
    }

    @Test(arguments: cells)
    func directionalModeOnALargerNetwork(_ name: String) throws {
        var check = SequenceGradientCheck(cell: BuiltinCells.builtin(name)!)
        check.hiddenSize = 16
        check.steps = 30
        check.layers = 2
        check.options = GradientCheckOptions(mode: .directional(count: 4, seed: 5))
        let report = try check.run()
        #expect(report.passed, "\(name)\n\(report.table())")
    }
}

@Suite("Unrolling exposes the per-step gradients the probe needs")
struct StateGradientTests {
    @Test func stateGradientsMatchFiniteDifferences() throws {
        // ∂L/∂h_t recorded by the reverse pass, against perturbing h_t's value directly:
        // rerun from step t+1 with the state after step t replaced.
        let (T, B, I, H) = (12, 1, 2, 3)
        let rng = try RandomSource(seed: 21)
        var net = RecurrentNetwork(cell: LSTM(), inputSize: I, hiddenSize: H)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * B * I)
        let r = rng.gaussianArray(count: B * H)
        let full = try Unrolled(network: net, batch: B, steps: T)
        try full.forward(inputs: x)
        let grads = try full.backward(.lastStep(r), recordStates: true)
        let states = grads.states!
        #expect(states.count == T)
        #expect(states[T - 1][0][0].scalars == r, "at the last step ∂L/∂h_T is the seed")

        let t = 4  // perturb the state after step t, rerun steps t+1 ..< T
        let tail = try Unrolled(network: net, batch: B, steps: T - t - 1)
        let after = try Unrolled(network: net, batch: B, steps: t + 1)
        try after.forward(inputs: Array(x[0..<((t + 1) * B * I)]))
        let s = after.finalState
        func loss(_ state: [[Tensor]]) throws -> Double {
            try tail.forward(inputs: Array(x[((t + 1) * B * I)...]), initialState: state)
            return zip(tail.output(step: T - t - 2).scalars, r).reduce(0) { $0 + $1.0 * $1.1 }
        }
        // ∂L/∂h_t and ∂L/∂c_t are the gradients of the values h_t and c_t as computed in the
        // graph (as PyTorch's .grad of retained tensors): c_t also reaches L through
        // h_t = o_t ⊙ tanh(c_t), so perturbing c_t must move h_t with it.
        let oNode = after.graph.value(after.graph.nodes.firstIndex { $0.name == "o" }!)
        let o = after.program.value(of: oNode, step: t)
        for j in 0..<H {
            var plus = s, minus = s
            plus[0][0][0, j] += 1e-6; minus[0][0][0, j] -= 1e-6
            let numericH = (try loss(plus) - loss(minus)) / 2e-6
            #expect(abs(numericH - states[t][0][0][0, j]) < 1e-8, "∂L/∂h_\(t)[\(j)]: \(numericH) vs \(states[t][0][0][0, j])")
            plus = s; minus = s
            plus[0][1][0, j] += 1e-6; minus[0][1][0, j] -= 1e-6
            plus[0][0][0, j] = o[0, j] * Foundation.tanh(plus[0][1][0, j])
            minus[0][0][0, j] = o[0, j] * Foundation.tanh(minus[0][1][0, j])
            let numericC = (try loss(plus) - loss(minus)) / 2e-6
            #expect(abs(numericC - states[t][0][1][0, j]) < 1e-8, "∂L/∂c_\(t)[\(j)]: \(numericC) vs \(states[t][0][1][0, j])")
        }
    }

    @Test func lossAtEveryStepOrLastStepOnly() throws {
        let (T, B, I, H) = (5, 2, 2, 3)
        let rng = try RandomSource(seed: 3)
        var net = RecurrentNetwork(cell: GRU(form: .resetAfter), inputSize: I, hiddenSize: H)
        try net.initialize(using: rng)
        let u = try Unrolled(network: net, batch: B, steps: T)
        try u.forward(inputs: rng.gaussianArray(count: T * B * I))
        let r = rng.gaussianArray(count: B * H)
        let last = try u.backward(.lastStep(r))
        var every = [Double](repeating: 0, count: T * B * H)
        every.replaceSubrange(((T - 1) * B * H)..<(T * B * H), with: r)
        let same = try u.backward(.everyStep(every))
        #expect(last.weights[0]["W_hz"] == same.weights[0]["W_hz"])
        #expect(last.inputs == same.inputs)
        // A loss at step 0 only leaves later inputs without gradient.
        let first = try u.backward(.custom { t, _ in t == 0 ? r : nil })
        #expect(first.inputs[(B * I)...].allSatisfy { $0 == 0 })
        #expect(first.inputs[0..<(B * I)].contains { $0 != 0 })
    }
}

@Suite("Gradient norms measured past float64 underflow")
struct UnderflowFreeNormTests {
    /// A contracting tanh RNN: W_hh = 0.5·Q (orthogonal), so ‖∂L/∂h_t‖ falls by ≳ 0.3 decades a step.
    func contracting(steps: Int) throws -> (Unrolled, [Double]) {
        let rng = try RandomSource(seed: 5)
        var net = RecurrentNetwork(cell: TanhRNN(), inputSize: 1, hiddenSize: 8)
        try net.initialize(.init(recurrentWeights: .orthogonal(gain: 0.5)), using: rng)
        let u = try Unrolled(network: net, batch: 1, steps: steps)
        try u.forward(inputs: rng.gaussianArray(count: steps))
        return (u, rng.gaussianArray(count: 8))
    }

    @Test func agreesWithTheOrdinaryPassWhereBothAreRepresentable() throws {
        let (u, seed) = try contracting(steps: 200)
        let logs = try u.logGradientNorms(lastStepSeed: seed)
        let plain = try u.backward(.lastStep(seed), recordStates: true)
        var compared = 0
        for t in 0..<200 {
            let n = plain.states![t][0][0].norm
            guard n > 1e-290 else { continue }
            #expect(abs(logs.h[0][t] - Foundation.log10(n)) < 1e-9, "step \(t)")
            compared += 1
        }
        #expect(compared > 50)
        let xNorms = plain.inputNorms(batch: 1, inputSize: 1)
        for t in 150..<200 where xNorms[t] > 0 { #expect(abs(logs.x[t] - Foundation.log10(xNorms[t])) < 1e-9) }
    }

    @Test func staysFiniteAndExactBeyondUnderflow() throws {
        // With zero inputs, biases and initial state, h_t = 0 and tanh' = 1 at every step, so
        // the reverse pass is exactly g_{t−1} = W_hhᵀ g_t, and with W_hh = s·Q (Q orthogonal)
        // ‖∂L/∂h_{T−1−k}‖ = s^k ‖seed‖: at T = 6000, s = 0.5 that is 10^-1806.
        let T = 6000, s = 0.5
        let rng = try RandomSource(seed: 8)
        var net = RecurrentNetwork(cell: TanhRNN(), inputSize: 1, hiddenSize: 8)
        try net.initialize(.init(recurrentWeights: .orthogonal(gain: s), biases: .zeros), using: rng)
        let u = try Unrolled(network: net, batch: 1, steps: T)
        try u.forward(inputs: [Double](repeating: 0, count: T))
        let seed = rng.gaussianArray(count: 8)
        let logs = try u.logGradientNorms(lastStepSeed: seed)
        let plain = try u.backward(.lastStep(seed), recordStates: true)
        #expect(plain.states![0][0][0].norm == 0, "an ordinary float64 pass underflows to 0")
        let base = Foundation.log10(euclideanNorm(seed))
        var worst = 0.0
        for k in 0..<T { worst = max(worst, abs(logs.h[0][T - 1 - k] - (base + Double(k) * Foundation.log10(s)))) }
        #expect(worst < 1e-9, "worst deviation from the exact s^k law: \(worst)")
        #expect(logs.h[0][0] < -1800 && logs.h[0][0].isFinite)
    }
}

@Suite("Checkpointed sequences give bit-identical gradients")
struct CheckpointTests {
    func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }

    @Test(arguments: [("lstm", 1, 1), ("gru", 3, 2), ("rnn", 2, 1), ("gru_reset_before", 1, 2)])
    func sameBitsAsTheStoredPass(_ name: String, batch: Int, layers: Int) throws {
        let T = 2600 + 37   // several blocks and a partial last segment
        let rng = try RandomSource(seed: 17)
        var net = RecurrentNetwork(cell: BuiltinCells.builtin(name)!, inputSize: 2, hiddenSize: 5, layers: layers)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * batch * 2)
        let r = rng.gaussianArray(count: T * batch * 5)
        let stored = try Unrolled(network: net, batch: batch, steps: T)
        #expect(!stored.isCheckpointed)
        let budget = stored.program.bytesPerStep * Program.blockLength(rows: batch) + 2 * T * batch * 2 * 8
        let checkpointed = try Unrolled(network: net, batch: batch, steps: T, memoryBudget: budget)
        #expect(checkpointed.isCheckpointed && checkpointed.segment < T / 2, "segment \(checkpointed.segment)")
        #expect(checkpointed.segment % Program.blockLength(rows: batch) == 0)

        var results = [Unrolled.Gradients]()
        for u in [stored, checkpointed] {
            try u.forward(inputs: x)
            results.append(try u.backward(.custom { t, h in (0..<h.count).map { r[t * batch * 5 + $0] * h[$0] } }))
        }
        let (a, b) = (results[0], results[1])
        for k in 0..<layers { for (key, g) in a.weights[k] { #expect(bits(g.scalars) == bits(b.weights[k][key]!.scalars), "\(key)") } }
        #expect(bits(a.inputs) == bits(b.inputs))
        #expect(a.initialState.flatMap { $0.flatMap(\.scalars) }.map(\.bitPattern) == b.initialState.flatMap { $0.flatMap(\.scalars) }.map(\.bitPattern))
        #expect(bits(stored.finalState.flatMap { $0.flatMap(\.scalars) }) == bits(checkpointed.finalState.flatMap { $0.flatMap(\.scalars) }))
        #expect(bits(stored.output(step: 1234).scalars) == bits(checkpointed.output(step: 1234).scalars))
    }

    @Test func underflowFreeNormsThroughCheckpointing() throws {
        let T = 3000
        let rng = try RandomSource(seed: 2)
        var net = RecurrentNetwork(cell: LSTM(), inputSize: 1, hiddenSize: 6)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T)
        let seed = rng.gaussianArray(count: 6)
        let stored = try Unrolled(network: net, batch: 1, steps: T)
        let checkpointed = try Unrolled(network: net, batch: 1, steps: T, memoryBudget: 1200 * stored.program.bytesPerStep)
        #expect(checkpointed.isCheckpointed)
        var logs = [Unrolled.LogGradientNorms]()
        for u in [stored, checkpointed] {
            try u.forward(inputs: x)
            logs.append(try u.logGradientNorms(lastStepSeed: seed))
        }
        #expect(logs[0].h.flatMap { $0 }.map(\.bitPattern) == logs[1].h.flatMap { $0 }.map(\.bitPattern))
        #expect(logs[0].c.flatMap { $0 }.map(\.bitPattern) == logs[1].c.flatMap { $0 }.map(\.bitPattern))
        #expect(logs[0].x.map(\.bitPattern) == logs[1].x.map(\.bitPattern))
    }

    /// Without input gradients (training, the benchmark) the reverse pass skips ∂L/∂x_t and
    /// nothing else: the parameters' and initial states' gradients keep their bits, also
    /// when checkpointing, and asking for ∂L/∂x is a clear error.
    @Test(arguments: [("lstm", 64, 1), ("gru", 3, 2), ("rnn", 2, 1)])
    func sameBitsWithoutInputGradients(_ name: String, batch: Int, layers: Int) throws {
        let T = 2 * Program.blockLength(rows: batch) + 17   // two segments and a partial one
        let rng = try RandomSource(seed: 23)
        var net = RecurrentNetwork(cell: BuiltinCells.builtin(name)!, inputSize: 3, hiddenSize: 40, layers: layers)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * batch * 3)
        let r = rng.gaussianArray(count: T * batch * 40)
        let with = try Unrolled(network: net, batch: batch, steps: T)
        let without = try Unrolled(network: net, batch: batch, steps: T, inputGradients: false)
        let perStep = without.program.bytesPerStep
        #expect(perStep < with.program.bytesPerStep)
        let checkpointed = try Unrolled(network: net, batch: batch, steps: T, memoryBudget: perStep * Program.blockLength(rows: batch) + T * batch * 3 * 8,
                                        inputGradients: false)
        #expect(checkpointed.isCheckpointed)
        var results = [Unrolled.Gradients]()
        for u in [with, without, checkpointed] {
            try u.forward(inputs: x)
            results.append(try u.backward(.custom { t, h in (0..<h.count).map { r[t * batch * 40 + $0] * h[$0] } }))
        }
        #expect(results[0].inputs.count == T * batch * 3 && results[1].inputs.isEmpty && results[2].inputs.isEmpty)
        for other in results.dropFirst() {
            for k in 0..<layers { for (key, g) in results[0].weights[k] { #expect(bits(g.scalars) == bits(other.weights[k][key]!.scalars), "\(key)") } }
            #expect(bits(results[0].initialState.flatMap { $0.flatMap(\.scalars) }) == bits(other.initialState.flatMap { $0.flatMap(\.scalars) }))
        }
        #expect(throws: AutodiffError.self) { try without.program.gradient(of: without.input) }
        // The underflow-free norms still measure h and c; x's are not computed.
        let norms = try without.logGradientNorms(lastStepSeed: Array(r[0..<(batch * 40)]))
        #expect(norms.x.isEmpty && norms.h[layers - 1].count == T)
    }

    /// The input projections x W and their gradients are stored for one block of steps (no
    /// reverse pass reads x W; the gradients are consumed block by block): a long program
    /// holds far less than its length times `bytesPerStep`, with the same bits (the stored
    /// and checkpointed passes above run through such windows).
    @Test func inputProjectionsAreStoredForOneBlock() throws {
        let (B, T) = (16, 1000)   // blocks of 64 steps
        var net = RecurrentNetwork(cell: LSTM(), inputSize: 8, hiddenSize: 32)
        try net.initialize(using: try RandomSource(seed: 4))
        let u = try Unrolled(network: net, batch: B, steps: T, inputGradients: false)
        #expect(Program.blockLength(rows: B) == 64)
        // Per step: 4 gates' x W and their gradients, 2 · 4 · 16 · 32 doubles (31 MB over all
        // steps), of which only a block's worth is stored; 1 MB allows for the parameters and
        // the one-step frames, which `bytesPerStep` does not count.
        let hoisted = 8 * 2 * 4 * B * 32
        #expect(u.program.bytesStored <= u.program.bytesPerStep * T - hoisted * (T - 64) + (1 << 20), "\(u.program.bytesStored) bytes stored")
    }

    @Test func aBudgetTooSmallIsAClearError() throws {
        let net = RecurrentNetwork(cell: LSTM(), inputSize: 1, hiddenSize: 8)
        #expect(throws: UnrollError.self) { try Unrolled(network: net, batch: 1, steps: 100_000, memoryBudget: 1000) }
    }
}

@Suite("Step programs are fused")
struct FusionTests {
    @Test func lstmStepRunsAsFewInstructions() throws {
        let net = RecurrentNetwork(cell: LSTM(), inputSize: 2, hiddenSize: 4)
        let u = try Unrolled(network: net, batch: 3, steps: 10)
        // One fused recurrent product, four fused gates (sum + activation), c' = f ⊙ c + i ⊙ g
        // in one pass, tanh(c'), o ⊙ tanh(c'): 8 instructions a step instead of 30.
        #expect((u.program as! Program).instructionCounts.perStep == 8, "\((u.program as! Program).instructionCounts)")
        // The seven after the product are row-wise: they run as one section, one hand-off.
        #expect((u.program as! Program).instructionCounts.rowSections == 1, "\((u.program as! Program).instructionCounts)")
    }
}

@Suite("Large batches split over two cores give the same bits")
struct ParallelTests {
    @Test(arguments: ["lstm", "gru", "rnn"])
    func sameBitsAsOneThread(_ name: String) throws {
        let (T, B, I, H) = (4, 64, 3, 160)   // 64 × 160 = 10 240 elements, 64·160·640 multiply-adds: split
        let rng = try RandomSource(seed: 12)
        var net = RecurrentNetwork(cell: BuiltinCells.builtin(name)!, inputSize: I, hiddenSize: H)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * B * I), r = rng.gaussianArray(count: T * B * H)
        func run(_ options: ProgramOptions = .all) throws -> [UInt64] {
            let u = try Unrolled(network: net, batch: B, steps: T, optimizations: options)
            try u.forward(inputs: x)
            let g = try u.backward(.everyStep(r))
            return (g.weights[0].keys.sorted().flatMap { g.weights[0][$0]!.scalars } + g.inputs + u.finalState[0][0].scalars).map(\.bitPattern)
        }
        let split = try run()
        // Elementwise work on one thread, every product one single-threaded DGEMM.
        #expect(try run(ProgramOptions.all.union(.splitNothing)) == split)
    }
}
