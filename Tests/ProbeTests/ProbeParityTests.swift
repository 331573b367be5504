import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGSL
import GateLabInterchange
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import Testing

/// The shipped reference cases (copies of shared/reference), by path.
enum Fixtures {
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let referenceCases: [String] = {
        let dir = packageRoot.appendingPathComponent("Tests/CellsTests/Fixtures/reference")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0).path }
    }()
}

/// Compares `curves` with an ordinary float64 reverse pass of the same loss wherever the
/// ordinary norms are representable; returns the number of values compared.
func compareWithOrdinaryPass(_ curves: GradientCurves, setup: ProbeSetup, _ where_: String) throws -> Int {
    let u = try Unrolled(network: setup.network, batch: setup.batch, steps: setup.steps)
    try u.forward(inputs: setup.inputs, initialState: setup.initialState)
    let plain = try u.backward(.lastStep(setup.readout), recordStates: true)
    let T = setup.steps
    var compared = 0
    for t in 0..<T {
        let k = T - 1 - t
        for layer in 0..<setup.network.layers {
            let n = plain.states![t][layer][0].norm
            if n > 1e-290 {
                #expect(abs(curves.h[layer][k] - Foundation.log10(n)) < 1e-9, "\(where_): h, layer \(layer), t = \(t)")
                compared += 1
            }
            if !curves.c.isEmpty {
                let nc = plain.states![t][layer][1].norm
                if nc > 1e-290 {
                    #expect(abs(curves.c[layer][k] - Foundation.log10(nc)) < 1e-9, "\(where_): c, layer \(layer), t = \(t)")
                    compared += 1
                }
            }
        }
    }
    for (t, n) in plain.inputNorms(batch: setup.batch, inputSize: setup.network.inputSize).enumerated() where n > 1e-290 {
        #expect(abs(curves.x[T - 1 - t] - Foundation.log10(n)) < 1e-9, "\(where_): x, t = \(t)")
        compared += 1
    }
    return compared
}

@Suite("Probe: agreement with the ordinary reverse pass and with the graph")
struct ProbeParityTests {
    @Test func everyReferenceCaseAgreesWithTheOrdinaryPass() throws {
        #expect(Fixtures.referenceCases.count >= 6, "reference cases not found")
        for file in Fixtures.referenceCases {
            let rc = try ReferenceCase(contentsOf: file)
            let setup = try ProbeSetup(referenceCase: rc)
            // The readout is the last step's row of R.
            let bh = rc.batch * rc.network.hiddenSize
            #expect(setup.readout == Array(rc.r[(rc.r.count - bh)...]))
            let result = try GradientProbe.run(setup)
            #expect(result.curves.h.count == rc.network.layers)
            #expect(result.curves.c.isEmpty == (rc.network.cell.stateNames.count == 1))
            let compared = try compareWithOrdinaryPass(result.curves, setup: setup, file)
            #expect(compared >= rc.steps * (rc.network.layers + 1), "\(file): only \(compared) values compared")
            #expect(result.curves.topH[0] == Foundation.log10(euclideanNorm(setup.readout)))
        }
    }

    @Test(arguments: ["rnn", "lstm", "gru", "gru_reset_before"])
    func seededProbeAgreesWithTheOrdinaryPass(_ cell: String) throws {
        let c = try ProbeConfiguration(cell: cell, steps: 150, hiddenSize: 12, inputSize: 2, batch: 2, seed: 7)
        let setup = try ProbeSetup(configuration: c)
        let result = try GradientProbe.run(setup, settings: c.summary)
        let compared = try compareWithOrdinaryPass(result.curves, setup: setup, cell)
        #expect(compared > 150)
    }

    /// For the tanh RNN, J = ∂h_t/∂h_{t−1} = diag(1 − h_t²) W_hh: the graph's Jacobian must be it.
    @Test func tanhRNNJacobianIsDiagOneMinusHSquaredTimesW() throws {
        let c = try ProbeConfiguration(cell: "rnn", steps: 40, hiddenSize: 6, seed: 3)
        let setup = try ProbeSetup(configuration: c)
        let u = try Unrolled(network: setup.network, batch: 1, steps: 40)
        try u.forward(inputs: setup.inputs)
        let w = setup.network.weights[0]["W_hh"]!
        for t in [0, 1, 17, 39] {
            let j = try StepJacobian(after: u, setup: setup, step: t)
            let h = u.output(step: t).scalars
            var worst = 0.0
            for a in 0..<6 { for b in 0..<6 { worst = max(worst, abs(j.matrix[a * 6 + b] - (1 - h[a] * h[a]) * w[a, b])) } }
            #expect(worst < 1e-14, "t = \(t): worst difference \(worst)")
        }
    }

    /// The LSTM's full state Jacobian (h and c, 2H × 2H) against central differences of the
    /// one-step map, started from the state a separate prefix run reaches (so the state the
    /// probe reads from the unrolled program is checked too).
    @Test(arguments: ["lstm", "gru_reset_before"])
    func gatedJacobianMatchesCentralDifferences(_ cell: String) throws {
        let H = 5, t = 23
        let c = try ProbeConfiguration(cell: cell, steps: 30, hiddenSize: H, inputSize: 2, batch: 2, seed: 9)
        let setup = try ProbeSetup(configuration: c)
        let u = try Unrolled(network: setup.network, batch: 2, steps: 30)
        try u.forward(inputs: setup.inputs)
        let j = try StepJacobian(after: u, setup: setup, step: t)
        let S = setup.network.cell.stateNames.count
        #expect(j.size == S * H)
        // State entering step t, sequence 0, from a run of t steps.
        let prefix = try Unrolled(network: setup.network, batch: 2, steps: t)
        try prefix.forward(inputs: Array(setup.inputs[0..<(t * 2 * 2)]))
        let entering = prefix.finalState[0].flatMap { Array($0.scalars[0..<H]) }
        let one = try Unrolled(network: setup.network, batch: 1, steps: 1)
        let x = Array(setup.inputs[(t * 4)..<(t * 4 + 2)])
        func step(_ s: [Double]) throws -> [Double] {
            try one.forward(inputs: x, initialState: [(0..<S).map { Tensor(rows: 1, cols: H, scalars: Array(s[($0 * H)..<(($0 + 1) * H)])) }])
            return one.finalState[0].flatMap(\.scalars)
        }
        let eps = 1e-6
        var worst = 0.0
        for col in 0..<(S * H) {
            var plus = entering, minus = entering
            plus[col] += eps; minus[col] -= eps
            let fp = try step(plus), fm = try step(minus)
            for row in 0..<(S * H) { worst = max(worst, abs((fp[row] - fm[row]) / (2 * eps) - j.matrix[row * j.size + col])) }
        }
        #expect(worst < 1e-8, "worst |numeric − graph| = \(worst)")
        let sample = try j.sample(distance: 6)
        #expect(sample.state.count == S * H && sample.hh.count == H)
        #expect(zip(sample.state, sample.state.dropFirst()).allSatisfy { $0 >= $1 }, "singular values largest first")
    }
}
