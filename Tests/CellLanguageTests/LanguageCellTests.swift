import GateLabAutodiff
@testable import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL
import Testing
import GateLabVerification

@Suite("Cell language: every shipped cell file passes the gradient check")
struct LanguageGradientTests {
    static let expected = [
        "gru-reset-before.cell", "gru.cell", "indrnn.cell", "janet.cell", "lstm-cifg.cell", "lstm-depth-gated.cell",
        "lstm-fgr.cell", "lstm-nfg.cell", "lstm-niaf.cell", "lstm-nig.cell", "lstm-noaf.cell", "lstm-nog.cell",
        "lstm-np.cell", "lstm-peephole.cell", "lstm.cell", "lstm1997.cell", "lstm2000.cell", "mgu.cell", "mut1.cell",
    ]

    @Test func theShippedFilesAreTheOnesTested() {
        #expect(ShippedCells.names == Self.expected)
    }

    /// Full mode (every element of every parameter and initial state), T = 20, H = 4.
    @Test(arguments: expected)
    func fullModeThroughTwentySteps(_ file: String) throws {
        var check = SequenceGradientCheck(cell: try ShippedCells.cell(file))
        check.steps = 20
        let report = try check.run()
        #expect(report.passed, "\(file)\n\(report.table())")
        let cell = check.cell
        #expect(report.tensors.count == cell.parameters(inputSize: 3, hiddenSize: 4).count + cell.stateNames.count)
    }

    /// The depth gate is a cross-layer term: check it where it has an effect, on 2 layers.
    @Test(arguments: ["lstm-depth-gated.cell", "indrnn.cell", "lstm-fgr.cell"])
    func fullModeOnTwoLayers(_ file: String) throws {
        var check = SequenceGradientCheck(cell: try ShippedCells.cell(file))
        check.steps = 20
        check.layers = 2
        let report = try check.run()
        #expect(report.passed, "\(file)\n\(report.table())")
    }
}

@Suite("Cell language: the LSTM and both GRUs written as files match the built-in cells")
struct LanguageParityTests {
    /// Each file with its built-in cell and the map from the built-in's parameter names to the
    /// file's (written out, though the files use PyTorch's names).
    static let pairs: [(file: String, builtin: any RecurrentCell)] = [
        ("lstm.cell", LSTM()), ("gru.cell", GRU(form: .resetAfter)), ("gru-reset-before.cell", GRU(form: .resetBefore)),
    ]
    static func nameMap(_ builtin: any RecurrentCell) -> [String: String] {
        let gates = builtin is LSTM ? ["i", "f", "g", "o"] : ["r", "z", "n"]
        var map = [String: String]()
        for g in gates { for p in ["W_i", "W_h", "b_i", "b_h"] { map[p + g] = p + g } }
        return map
    }

    /// Loads the built-in's weights into the file's network through `map`, runs both over the
    /// same inputs and initial states (L = 2, T = 20) and returns every comparison's largest
    /// absolute difference: outputs at every step, final states, ∂L/∂ every weight, every
    /// initial state and every input.
    static func differences(_ builtin: any RecurrentCell, _ cell: LanguageCell, map: [String: String]) throws -> [(what: String, error: Double)] {
        let (I, H, B, T, L) = (3, 4, 2, 20, 2)
        let rng = try RandomSource(seed: 7)
        var reference = RecurrentNetwork(cell: builtin, inputSize: I, hiddenSize: H, layers: L)
        try reference.initialize(.init(inputWeights: .uniform(bound: 0.8), recurrentWeights: .uniform(bound: 0.8), biases: .uniform(bound: 0.5)), using: rng)
        var written = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: L)
        for k in 0..<L { for (from, to) in map { written.weights[k][to] = reference.weights[k][from]! } }
        let x = rng.uniformArray(count: T * B * I, low: -1, high: 1)
        let r = rng.uniformArray(count: T * B * H, low: -1, high: 1)
        let initial = (0..<L).map { _ in builtin.stateNames.map { _ in Tensor(rows: B, cols: H, scalars: rng.uniformArray(count: B * H, low: -0.5, high: 0.5)) } }
        let a = try Unrolled(network: reference, batch: B, steps: T), b = try Unrolled(network: written, batch: B, steps: T)
        try a.forward(inputs: x, initialState: initial)
        try b.forward(inputs: x, initialState: initial)
        var out = [(String, Double)]()
        func compare(_ u: [Double], _ v: [Double], _ what: String) {
            out.append((what, u.count == v.count ? zip(u, v).map { abs($0 - $1) }.max() ?? 0 : .infinity))
        }
        for t in 0..<T { compare(a.output(step: t).scalars, b.output(step: t).scalars, "h at step \(t)") }
        for k in 0..<L { for j in builtin.stateNames.indices { compare(a.finalState[k][j].scalars, b.finalState[k][j].scalars, "final state \(j) of layer \(k)") } }
        let ga = try a.backward(.everyStep(r)), gb = try b.backward(.everyStep(r))
        for k in 0..<L {
            for (from, to) in map { compare(ga.weights[k][from]!.scalars, gb.weights[k][to]!.scalars, "∂L/∂\(from) of layer \(k)") }
            for j in builtin.stateNames.indices { compare(ga.initialState[k][j].scalars, gb.initialState[k][j].scalars, "∂L/∂ initial state \(j) of layer \(k)") }
        }
        compare(ga.inputs, gb.inputs, "∂L/∂x")
        return out
    }

    @Test(arguments: [0, 1, 2])
    func sameWeightsGiveTheSameOutputsAndGradientsTo1e12(_ index: Int) throws {
        let (file, builtin) = Self.pairs[index]
        let cell = try ShippedCells.cell(file)
        let map = Self.nameMap(builtin)
        #expect(Set(cell.parameters(inputSize: 3, hiddenSize: 4).map(\.name)) == Set(map.values), "\(file) has exactly the built-in's parameters")
        let differences = try Self.differences(builtin, cell, map: map)
        #expect(differences.count == 20 + 2 * builtin.stateNames.count * 2 + 2 * map.count + 1)
        for d in differences { #expect(d.error <= 1e-12, "\(file): \(d.what) differs by \(d.error)") }
    }

    @Test func aWrongMappingIsNoticed() throws {
        // The comparison can fail: swap two biases of the forget and input gates.
        var map = Self.nameMap(LSTM())
        (map["b_if"], map["b_ii"]) = (map["b_ii"], map["b_if"])
        let worst = try Self.differences(LSTM(), ShippedCells.cell("lstm.cell"), map: map).map(\.error).max()!
        #expect(worst > 1e-6)
    }

    @Test(arguments: [0, 1, 2])
    func sameSeedGivesTheSameWeightsAndShowPrintsTheSameEquations(_ index: Int) throws {
        let (file, builtin) = Self.pairs[index]
        let cell = try ShippedCells.cell(file)
        for scheme in [RecurrentNetwork.Initialization.pytorchDefault, .init(recurrentWeights: .orthogonal(gain: 1), forgetBias: .chrono(maxSteps: 30))] {
            var a = RecurrentNetwork(cell: builtin, inputSize: 3, hiddenSize: 5, layers: 2)
            var b = RecurrentNetwork(cell: cell, inputSize: 3, hiddenSize: 5, layers: 2)
            try a.initialize(scheme, using: RandomSource(seed: 11))
            try b.initialize(scheme, using: RandomSource(seed: 11))
            for k in 0..<2 { for (from, to) in Self.nameMap(builtin) { #expect(a.weights[k][from] == b.weights[k][to], "\(file) \(from)") } }
        }
        #expect(try printedStep(cell) == printedStep(builtin))
        #expect(try printedStep(cell, format: .latex) == printedStep(builtin, format: .latex))
        #expect(cell.gateCount == builtin.gateCount)
        #expect(cell.stateNames == builtin.stateNames)
    }

    @Test func theForgetMarksMatchTheBuiltinLSTMs() throws {
        let cell = try ShippedCells.cell("lstm.cell")
        let spec = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: 2, hiddenSize: 3).map { ($0.name, $0) })
        #expect(spec["b_if"]?.gate == "forget" && spec["b_if"]?.role == .inputBias)
        #expect(spec["b_hf"]?.gate == "forget" && spec["b_hf"]?.role == .recurrentBias)
        #expect(spec["b_ii"]?.gate == "input" && spec["b_hi"]?.role == .recurrentBias)
    }
}

@Suite("Cell language: the layer below, for the depth-gated LSTM")
struct LanguageCrossLayerTests {
    /// c' = c_below' + u ⊙ h' does not depend on c, so after the last step
    /// c_T of layer 1 = c_T of layer 0 + u₁ ⊙ h_T of layer 1, and layer 0 (no layer below,
    /// zeros) has c_T = u₀ ⊙ h_T.
    @Test func cBelowIsTheLowerLayersNewCellAtTheSameStepAndZeroAtLayerZero() throws {
        let cell = try LanguageCell(source: """
            state h c
            h' = tanh(W x + U h + b)
            c' = c_below' + u * h'
            """, file: "below.cell")
        #expect(cell.readsLayerBelow)
        var net = RecurrentNetwork(cell: cell, inputSize: 2, hiddenSize: 3, layers: 3)
        try net.initialize(using: RandomSource(seed: 3))
        let u = try Unrolled(network: net, batch: 2, steps: 5)
        try u.forward(inputs: try RandomSource(seed: 4).uniformArray(count: 5 * 2 * 2, low: -1, high: 1))
        let s = u.finalState
        for k in 0..<3 {
            let weights = net.weights[k]["u"]!.scalars
            for b in 0..<2 { for j in 0..<3 {
                let below = k == 0 ? 0 : s[k - 1][1][b, j]
                #expect(abs(s[k][1][b, j] - (below + weights[j] * s[k][0][b, j])) < 1e-15, "layer \(k) [\(b), \(j)]")
            } }
        }
    }

    @Test func theDepthGateHasNoGradientAtLayerZeroAndSomeAbove() throws {
        let cell = try ShippedCells.cell("lstm-depth-gated.cell")
        var net = RecurrentNetwork(cell: cell, inputSize: 3, hiddenSize: 4, layers: 2)
        try net.initialize(using: RandomSource(seed: 5))
        let u = try Unrolled(network: net, batch: 2, steps: 10)
        let rng = try RandomSource(seed: 6)
        try u.forward(inputs: rng.uniformArray(count: 10 * 2 * 3, low: -1, high: 1))
        let g = try u.backward(.everyStep(rng.uniformArray(count: 10 * 2 * 4, low: -1, high: 1)))
        for name in ["W_xd", "w_cd", "w_ld", "b_d"] {
            #expect(g.weights[0][name]!.scalars.allSatisfy { $0 == 0 }, "\(name) at layer 0 meets c_below' = 0 only")
            #expect(g.weights[1][name]!.scalars.contains { $0 != 0 }, "\(name) at layer 1")
        }
    }

    @Test func builtInCellsIgnoreTheLayerBelow() throws {
        // The protocol's default: a built-in cell given `below` records exactly its own step.
        #expect(try printedStep(LSTM()) == "i = σ(W_ii x + b_ii + W_hi h + b_hi)\nf = σ(W_if x + b_if + W_hf h + b_hf)\ng = tanh(W_ig x + b_ig + W_hg h + b_hg)\no = σ(W_io x + b_io + W_ho h + b_ho)\nc' = f ⊙ c + i ⊙ g\nh' = o ⊙ tanh(c')")
    }
}
