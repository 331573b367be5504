import Testing
@testable import GateLabAutodiff
@testable import GateLabCells
import GateLabGSL

/// The float32 engine (issue #18): the same unrolled network as float64, computing in Float.
@Suite("Float32 unrolled networks: deterministic, checkpointed bit for bit, close to float64")
struct Float32UnrolledTests {
    func bits(_ xs: [Double]) -> [UInt64] { xs.map(\.bitPattern) }

    /// Storage counts 4 bytes a number: a float32 program's bytes per step are exactly half
    /// the float64 program's, so a memory budget holds twice the steps.
    @Test func halfTheBytesPerStep() throws {
        let rng = try RandomSource(seed: 3)
        var net = RecurrentNetwork(cell: LSTM(), inputSize: 2, hiddenSize: 8)
        try net.initialize(using: rng)
        let double = try UnrolledOf<Double>(network: net, batch: 4, steps: 300)
        let single = try UnrolledOf<Float>(network: net, batch: 4, steps: 300)
        #expect(2 * single.program.bytesPerStep == double.program.bytesPerStep)
        #expect(2 * single.program.bytesStored == double.program.bytesStored)
    }

    /// Two runs give the same bits, and a checkpointed run (segments recomputed from their
    /// starting states, as a resumed run is) gives the stored run's bits.
    @Test(arguments: [("lstm", 1, 1), ("gru", 3, 2), ("rnn", 2, 1)])
    func deterministicAndCheckpointedBitForBit(_ name: String, batch: Int, layers: Int) throws {
        let T = 2600 + 37
        let rng = try RandomSource(seed: 17)
        var net = RecurrentNetwork(cell: BuiltinCells.builtin(name)!, inputSize: 2, hiddenSize: 5, layers: layers)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * batch * 2)
        let r = rng.gaussianArray(count: T * batch * 5)
        let stored = try UnrolledOf<Float>(network: net, batch: batch, steps: T)
        let again = try UnrolledOf<Float>(network: net, batch: batch, steps: T)
        let budget = stored.program.bytesPerStep * Program.blockLength(rows: batch) + 2 * T * batch * 2 * 8
        let checkpointed = try UnrolledOf<Float>(network: net, batch: batch, steps: T, memoryBudget: budget)
        #expect(!stored.isCheckpointed && checkpointed.isCheckpointed && checkpointed.segment < T / 2)
        var results = [UnrolledOf<Float>.Gradients]()
        for u in [stored, again, checkpointed] {
            try u.forward(inputs: x)
            results.append(try u.backward(.custom { t, h in (0..<h.count).map { r[t * batch * 5 + $0] * Double(h[$0]) } }))
        }
        for other in results.dropFirst() {
            for k in 0..<layers { for (key, g) in results[0].weights[k] { #expect(bits(g.scalars) == bits(other.weights[k][key]!.scalars), "\(key)") } }
            #expect(bits(results[0].inputs) == bits(other.inputs))
        }
        #expect(bits(stored.finalState.flatMap { $0.flatMap(\.scalars) }) == bits(checkpointed.finalState.flatMap { $0.flatMap(\.scalars) }))
        // Every number is a float: widening back to Double was exact.
        #expect(results[0].inputs.allSatisfy { Double(Float($0)) == $0 })
    }

    /// Float32 gradients of an LSTM over 50 steps agree with float64 ones on the same
    /// (float-rounded) weights and inputs to float32's rounding accumulated over the steps,
    /// and do differ from them.
    @Test(arguments: ["lstm", "gru", "rnn"])
    func closeToFloat64(_ name: String) throws {
        let (T, batch, H) = (50, 4, 16)
        let rng = try RandomSource(seed: 5)
        var net = RecurrentNetwork(cell: BuiltinCells.builtin(name)!, inputSize: 3, hiddenSize: H)
        try net.initialize(using: rng)
        for (k, layer) in net.weights.enumerated() {
            for (key, w) in layer { net.weights[k][key] = Tensor(rows: w.rows, cols: w.cols, scalars: w.scalars.map { Double(Float($0)) }) }
        }
        let x = rng.gaussianArray(count: T * batch * 3).map { Double(Float($0)) }
        let seed = rng.gaussianArray(count: batch * H).map { Double(Float($0)) }
        func gradients<S: GateLabAutodiff.Scalar>(_ scalar: S.Type) throws -> [String: Tensor] {
            let u = try UnrolledOf<S>(network: net, batch: batch, steps: T)
            try u.forward(inputs: x)
            return try u.backward(.lastStep(seed)).weights[0]
        }
        let (single, double) = (try gradients(Float.self), try gradients(Double.self))
        var worst = 0.0, differs = false
        for (key, g) in double {
            let a = single[key]!.scalars
            let scale = g.scalars.map(abs).max()!
            worst = max(worst, zip(a, g.scalars).map { abs($0 - $1) }.max()! / scale)
            differs = differs || a != g.scalars
        }
        #expect(worst < 1e-4 && differs, "\(name): worst relative error \(worst)")
    }
}
