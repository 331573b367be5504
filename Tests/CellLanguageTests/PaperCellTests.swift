import GateLabAutodiff
@testable import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import GateLabTasks
import GateLabGSL
import GateLabProbe
import GateLabReproductions
import HandWrittenBPTT
import Testing

/// The LSTMs of Hochreiter & Schmidhuber 1997 and Gers et al. 2000 written as cell files
/// (`Cells/lstm1997.cell`, `Cells/lstm2000.cell`), checked against the papers' weight counts and
/// against the hand-written networks of `Reproductions` (forward pass, full and truncated
/// gradients), through the public mapping `Architecture.cellParameters` /
/// `Architecture.network(cell:weights:)` that the reports' gradient profile uses.
enum PaperCells {
    /// The cell file of a network: 2000 with forget gates, 1997 otherwise; the block width set
    /// to the network's cells per block.
    static func cell(for a: Architecture, source transform: (String) -> String = { $0 }) throws -> LanguageCell {
        try a.cell(source: transform(try ShippedCells.text(a.cellFileName)), file: a.cellFileName)
    }

    /// Whether the network has the bias weight the cell file calls `name` (Table 10's bias
    /// column: the files have every bias, a network without one keeps it at zero).
    static func hasBias(_ name: String, _ a: Architecture) -> Bool {
        name == "b_c" ? a.cellBias : a.gateBias
    }

    /// The weight count of the paper's network: the cell file's parameters (those biases the
    /// network has) plus the output units, which read the cells (and, in the 2000 net, the
    /// inputs), with a bias when Table 10 gives them one.
    static func weightCount(_ a: Architecture) throws -> Int {
        let specs = try cell(for: a).parameters(inputSize: a.inputs, hiddenSize: a.cells)
        let cellWeights = specs.filter { !$0.name.hasPrefix("b_") || hasBias($0.name, a) }.map { $0.rows * $0.cols }.reduce(0, +)
        let outputWeights = a.outputs * (a.cells + (a.outputShortcuts ? a.inputs : 0) + (a.outputBias ? 1 : 0))
        return cellWeights + outputWeights
    }

    /// The engine's side: `cell` unrolled over the sequence on one graph (batch 1, zero initial
    /// states), the paper's logistic output units on the cells (and inputs), the loss
    /// L = ½ Σ (t − y)² over the target steps. Returns the outputs of every step and −∂L/∂w in
    /// `Architecture`'s layout (the descent direction of `ReferenceBPTT` and `TruncatedRTRL`).
    static func engine(_ cell: LanguageCell, _ a: Architecture, _ w: [Double], _ sequence: TaskSequence)
        throws -> (outputs: [[Double]], descent: [Double]) {
        let g = Graph()
        let specs = cell.parameters(inputSize: a.inputs, hiddenSize: a.cells)
        let given = a.cellParameters(w)
        var leaves = [String: Value]()
        for s in specs {
            let t = try #require(given[s.name], "no weights for \(s.name)")
            #expect(t.shape == Shape(s.rows, s.cols), "\(s.name): \(t.shape) vs \(s.rows)×\(s.cols)")
            leaves[s.name] = g.parameter(s.name, rows: s.rows, cols: s.cols)
        }
        let readsInputs = a.outputShortcuts
        let outputSources = a.cells + (readsInputs ? a.inputs : 0)
        let wk = g.parameter("w_k", rows: a.outputs, cols: outputSources), bk = g.parameter("b_k", rows: 1, cols: a.outputs)
        var state = cell.stateNames.map { _ in g.constant(Tensor(rows: 1, cols: a.cells)) }
        var outputs = [Value](), loss: Value?
        for t in 0..<sequence.length {
            let x = g.constant(Tensor(rows: 1, cols: a.inputs, scalars: Array(sequence.inputs[(t * a.inputs)..<((t + 1) * a.inputs)])))
            state = cell.step(x: x, state: state, below: nil, Parameters(leaves))
            let o = readsInputs ? concatColumns([state[0], x]) : state[0]
            let y = sigmoid(wk • o + bk)
            outputs.append(y)
            if sequence.hasTarget[t] {
                let target = g.constant(Tensor(rows: 1, cols: a.outputs,
                                               scalars: Array(sequence.targets[(t * a.outputs)..<((t + 1) * a.outputs)])))
                let e = g.constant(0.5) ⊙ sum(square(y - target))
                loss = loss.map { $0 + e } ?? e
            }
        }
        let program = try Program(graph: g)
        for s in specs { try program.set(leaves[s.name]!, given[s.name]!) }
        let kRows = (0..<a.outputs).map { k in (0..<outputSources).map { w[a.outputOffset(k) + 1 + $0 - a.outputStart] } }
        try program.set(wk, Tensor(rows: a.outputs, cols: outputSources, scalars: kRows.flatMap { $0 }))
        try program.set(bk, Tensor(rows: 1, cols: a.outputs, scalars: (0..<a.outputs).map { a.outputBias ? w[a.outputOffset($0)] : 0 }))
        try program.forward()
        try program.backward(from: try #require(loss))

        // Back to the flat layout, negated.
        var descent = [Double](repeating: 0, count: w.count)
        func scatter(_ name: String, _ offset: (Int) -> Int, _ start: Int, _ biased: Bool, _ sources: [Int]) throws {
            guard let leaf = leaves[name] else { return }   // b_c: not in the 2000 file (the CERG cells have no bias)
            let gradient = try program.gradient(of: leaf)
            if name.hasPrefix("b_") {   // 1 × n: unit r's bias is column r
                if biased { for r in 0..<gradient.cols { descent[offset(r)] = -gradient[0, r] } }
                return
            }
            for r in 0..<gradient.rows {
                for (col, m) in sources.enumerated() { descent[offset(r) + m - start] = -gradient[r, col] }
            }
        }
        let (I, C, B) = (a.inputs, a.cells, a.blocks)
        var units: [(String, (Int) -> Int, Int)] = [("c", a.cellOffset, a.cellStart), ("in", a.inputGateOffset, a.gateStart),
                                                    ("out", a.outputGateOffset, a.gateStart)]
        if a.forgetGates { units.append(("φ", a.forgetGateOffset, a.gateStart)) }
        for (suffix, offset, start) in units {
            try scatter("W_" + suffix, offset, start, true, (0..<I).map { 1 + $0 })
            try scatter("U_" + suffix, offset, start, true, (0..<C).map(a.sourceIndexOfCell))
            if a.gatesFeedUnits {
                try scatter("V_" + suffix, offset, start, true, (0..<B).map { a.sourceIndexOfGate(kind: 0, block: $0) })
                try scatter("R_" + suffix, offset, start, true, (0..<B).map { a.sourceIndexOfGate(kind: 1, block: $0) })
            }
            try scatter("b_" + suffix, offset, start, suffix == "c" ? a.cellBias : a.gateBias, [0])
        }
        let gk = try program.gradient(of: wk), gb = try program.gradient(of: bk)
        for k in 0..<a.outputs {
            for m in 0..<outputSources { descent[a.outputOffset(k) + 1 + m - a.outputStart] = -gk[k, m] }
            if a.outputBias { descent[a.outputOffset(k)] = -gb[0, k] }
        }
        return (outputs.map { program.value(of: $0).scalars }, descent)
    }

    /// A random sequence of `length` steps with a target at the end only (the error of Exps. 2c–6),
    /// or at every step (Exp. 1, the CERG stream).
    static func sequence(_ a: Architecture, length: Int, seed: UInt64, everyStep: Bool = false) throws -> TaskSequence {
        let rng = try RandomSource(seed: seed)
        var s = TaskSequence(inputSize: a.inputs, outputSize: a.outputs)
        s.length = length
        s.inputs = rng.uniformArray(count: length * a.inputs, low: -1, high: 1)
        s.targets = [Double](repeating: 0, count: length * a.outputs)
        s.hasTarget = (0..<length).map { everyStep || $0 == length - 1 }
        for t in 0..<length where s.hasTarget[t] { for k in 0..<a.outputs { s.targets[t * a.outputs + k] = rng.uniform(0, 1) } }
        return s
    }

    /// The truncation of H&S 1997 App. A.1 written in the file: every previous activation read
    /// by a net input (`U_in y_c`, `V_c y_in`, …) through `stop(…)`; the state s, read directly
    /// by the constant error carousel, is not stopped.
    static func truncated(_ source: String) -> String {
        source.replacingOccurrences(of: #"\b([UVR]_\w+) (y_c|y_in|y_out)\b(?!')"#, with: "$1 stop($2)", options: .regularExpression)
    }
}

/// The largest |a − b| / max(1, |b|).
private func worst(_ a: [Double], _ b: [Double]) -> Double {
    zip(a, b).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
}

@Suite("The papers' cells as cell files: weight counts, and the hand-written networks' forward pass and gradients")
struct PaperCellTests {
    @Test("Cell parameters plus the paper's output layer = the paper's weight count, every experiment (93 … 6064, 424)")
    func weightCounts() throws {
        var seen = Set<Int>()
        for preset in Presets.all {
            for (name, parameters) in preset.variants {
                guard let paper = preset.paperWeightCounts[name] else { continue }   // CERG baselines: no paper count
                // Exps. 2a/2b's net (no output gate, g logistic, h the identity) has no cell file.
                guard !parameters.architecture.isConnectivityB else { continue }
                let count = try PaperCells.weightCount(parameters.architecture)
                #expect(count == paper, "\(preset.name) \(name): \(count) weights, paper \(paper)")
                seen.insert(paper)
            }
        }
        #expect(seen == [93, 102, 156, 264, 276, 308, 364, 664, 1264, 3064, 6064, 424])
    }

    /// The networks compared: Exp. 4's (2 blocks of 2, every bias), Exp. 3a's (3 blocks of 1,
    /// no output bias), Exp. 1's (3 blocks of 2, gate biases only) and the CERG net (forget
    /// gates, shortcuts from the inputs to the outputs).
    static let networks: [(String, Architecture)] = [
        ("exp4", .hochreiter1997(inputs: 2, blocks: 2, cellsPerBlock: 2, outputs: 1, biases: .all)),
        ("exp3a", .hochreiter1997(inputs: 1, blocks: 3, cellsPerBlock: 1, outputs: 1, biases: .hidden)),
        ("exp1", .hochreiter1997(inputs: 7, blocks: 3, cellsPerBlock: 2, outputs: 7, biases: .gates)),
        ("cerg", .gers2000()),
    ]

    @Test("Forward pass and full BPTT gradient equal ReferenceBPTT's, and (with stop-gradients) the truncated gradient equals TruncatedRTRL's, to 1e-12",
          arguments: networks.indices, [false, true])
    func sameWeightsSameSequence(_ index: Int, targetsAtEveryStep: Bool) throws {
        let (label, a) = Self.networks[index]
        let rng = try RandomSource(seed: 97 + UInt64(index))
        let w = rng.uniformArray(count: a.weightCount, low: -1, high: 1)
        let sequence = try PaperCells.sequence(a, length: 12, seed: 5 + UInt64(index), everyStep: targetsAtEveryStep)

        // Full gradient: the cell file as shipped.
        let full = try PaperCells.engine(try PaperCells.cell(for: a), a, w, sequence)
        let reference = ReferenceBPTT.run(architecture: a, weights: w, sequence: sequence, mode: .full)
        let forward = worst(full.outputs.flatMap { $0 }, reference.outputs.flatMap { $0 })
        #expect(forward <= 1e-12, "\(label): outputs differ by \(forward)")
        #expect(worst(full.descent, reference.descent) <= 1e-12, "\(label): full gradient differs by \(worst(full.descent, reference.descent))")
        // The built-in text the full-gradient controls compile is the shipped file.
        #expect(a.cellText == (try ShippedCells.text(a.cellFileName)), "\(label): the built-in \(a.cellFileName) differs from Cells/")

        // Truncated gradient: the same file with stop(…) where App. A.1 truncates.
        let cut = try PaperCells.engine(try PaperCells.cell(for: a, source: PaperCells.truncated), a, w, sequence)
        #expect(worst(cut.outputs.flatMap { $0 }, reference.outputs.flatMap { $0 }) <= 1e-12, "\(label): stop changed the forward pass")
        var rtrl = TruncatedRTRL(architecture: a, weights: w)
        sequence.inputs.withUnsafeBufferPointer { x in
            sequence.targets.withUnsafeBufferPointer { y in
                for t in 0..<sequence.length {
                    rtrl.step(input: x.baseAddress! + t * a.inputs, target: sequence.hasTarget[t] ? y.baseAddress! + t * a.outputs : nil)
                }
            }
        }
        #expect(worst(cut.descent, rtrl.gradient) <= 1e-12, "\(label): truncated gradient differs from TruncatedRTRL by \(worst(cut.descent, rtrl.gradient))")
        let truncatedReference = ReferenceBPTT.run(architecture: a, weights: w, sequence: sequence, mode: .truncated)
        #expect(worst(cut.descent, truncatedReference.descent) <= 1e-12)
        // The two gradients differ (so the comparison could fail), and the stops are where the text says.
        #expect(worst(full.descent, cut.descent) > 1e-6, "\(label): truncation changed nothing")
        let text = try ShippedCells.text(a.forgetGates ? "lstm2000.cell" : "lstm1997.cell")
        #expect(PaperCells.truncated(text).components(separatedBy: "stop(").count - 1 == (a.gatesFeedUnits ? 9 : 4))
    }

    @Test("The mapped network (what the probe runs on) gives the hand-written net's outputs and full gradient to 1e-12, and the probe's curve is its ‖∂L/∂h_t‖",
          arguments: networks.indices)
    func mappedNetworkUnderTheProbe(_ index: Int) throws {
        let (label, a) = Self.networks[index]
        let rng = try RandomSource(seed: 197 + UInt64(index))
        let w = rng.uniformArray(count: a.weightCount, low: -1, high: 1)
        let sequence = try PaperCells.sequence(a, length: 15, seed: 25 + UInt64(index), everyStep: true)
        let network = try a.network(cell: try PaperCells.cell(for: a), weights: w)
        let unrolled = try UnrolledOf<Double>(network: network, batch: 1, steps: sequence.length)
        try unrolled.forward(inputs: sequence.inputs)
        // The paper's output units on the network's outputs y_c(t) (and, with shortcuts, x(t)).
        func outputs(_ t: Int) -> [Double] {
            let h = unrolled.output(step: t).scalars
            let o = [1.0] + h + (a.outputShortcuts ? Array(sequence.inputs[(t * a.inputs)..<((t + 1) * a.inputs)]) : [])
            return (0..<a.outputs).map { k in
                1 / (1 + exp(-(a.outputStart..<a.outputSourceCount).reduce(0.0) { $0 + w[a.outputOffset(k) + $1 - a.outputStart] * o[$1] }))
            }
        }
        let reference = ReferenceBPTT.run(architecture: a, weights: w, sequence: sequence, mode: .full)
        let forward = worst((0..<sequence.length).flatMap(outputs), reference.outputs.flatMap { $0 })
        #expect(forward <= 1e-12, "\(label): outputs differ by \(forward)")
        // L = ½ Σ (t − y)²: ∂L/∂y_c(t) = −Σ_k (t_k − y_k) y_k (1 − y_k) w_kc, seeded at every target step.
        let gradients = try unrolled.backward(.custom { t, _ in
            guard sequence.hasTarget[t] else { return nil }
            let y = outputs(t)
            return (0..<a.cells).map { c in
                (0..<a.outputs).reduce(0.0) { sum, k in
                    let e = sequence.targets[t * a.outputs + k] - y[k]
                    return sum - e * y[k] * (1 - y[k]) * a.outputWeights(w, unit: k)[c]
                }
            }
        })
        let expected = a.cellParameters(reference.descent)   // −∂L/∂w, gathered into the file's names
        for (name, g) in gradients.weights[0] where !name.hasPrefix("b_") || PaperCells.hasBias(name, a) {
            let e = try #require(expected[name])
            let d = worst(g.scalars.map { -$0 }, e.scalars)
            #expect(d <= 1e-12, "\(label) \(name): full gradient differs by \(d)")
        }
        // The probe on the mapped network, with L = net_0(T): its curve is log10‖∂L/∂y_c(t)‖ of a plain reverse pass.
        let readout = a.outputWeights(w, unit: 0)
        let probe = try GradientProbe.run(try ProbeSetup(network: network, batch: 1, steps: sequence.length, inputs: sequence.inputs, readout: readout))
        let plain = try unrolled.backward(.lastStep(readout), recordStates: true)
        let norms = (0..<sequence.length).reversed().map { log10(euclideanNorm(plain.states![$0][0][0].scalars)) }
        #expect(probe.curves.topH.count == sequence.length)
        #expect(worst(probe.curves.topH, norms) <= 1e-12, "\(label): probe \(probe.curves.topH) vs \(norms)")
        #expect(probe.curves.topH[0] == log10(euclideanNorm(readout)))
    }

    @Test("Per-block initial values: progression(FIRST, STEP) gives block j the value FIRST + j·STEP")
    func perBlockInitialValues() throws {
        var network = RecurrentNetwork(cell: try ShippedCells.cell("lstm1997.cell"), inputSize: 7, hiddenSize: 8)
        try network.initialize(using: try RandomSource(seed: 1))
        let specs = network.specs(layer: 0)
        #expect(specs.first { $0.name == "b_out" }.map { [$0.rows, $0.cols] } == [1, 4])
        #expect(network.weights[0]["b_out"]?.scalars == [-1, -2, -3, -4])
        let gers = try ShippedCells.cell("lstm2000.cell")
        var cerg = RecurrentNetwork(cell: gers, inputSize: 7, hiddenSize: 8)
        try cerg.initialize(using: try RandomSource(seed: 1))
        let dict = cerg.weights[0].mapValues(\.scalars)
        #expect(dict["b_φ"] == [0.5, 1, 1.5, 2] && dict["b_in"] == [-0.5, -1, -1.5, -2] && dict["b_out"] == [-0.5, -1, -1.5, -2])
        #expect(try Initializer(parsing: "progression(-1, -2)", hiddenSize: 1) == .progression(first: -1, step: -2))
        #expect(Initializer.progression(first: 0.5, step: 0.5).description == "progression(0.5, 0.5)")
        #expect(try Initializer.progression(first: -1, step: -2).values(rows: 2, cols: 3, using: RandomSource(seed: 1)) == [-1, -3, -5, -1, -3, -5])
        #expect(throws: InvalidArgumentError.self) { try Initializer(parsing: "progression(1)", hiddenSize: 1) }
        #expect(throws: InvalidArgumentError.self) { try Initializer(parsing: "uniform(1, 2)", hiddenSize: 1) }
    }

    @Test("The forget-bias settings set lstm2000.cell's per-block forget biases (one value per block), and chrono its input biases to their negatives; without a setting its init lines hold")
    func forgetBiasSettingsReachPerBlockGates() throws {
        let gers = try ShippedCells.cell("lstm2000.cell")
        let specs = gers.parameters(inputSize: 7, hiddenSize: 8)
        #expect(specs.first { $0.name == "b_φ" }?.gate == "forget" && specs.first { $0.name == "b_in" }?.gate == "input")
        func initialized(_ forget: RecurrentNetwork.Initialization.ForgetBias?) throws -> [String: [Double]] {
            var network = RecurrentNetwork(cell: gers, inputSize: 7, hiddenSize: 8)
            try network.initialize(.init(forgetBias: forget), using: try RandomSource(seed: 3))
            return network.weights[0].mapValues(\.scalars)
        }
        let plain = try initialized(nil)
        #expect(plain["b_φ"] == [0.5, 1, 1.5, 2] && plain["b_in"] == [-0.5, -1, -1.5, -2])
        let constant = try initialized(.constant(3))
        #expect(constant["b_φ"] == [3, 3, 3, 3])
        #expect(constant["b_in"] == plain["b_in"] && constant["b_out"] == plain["b_out"] && constant["W_φ"] == plain["W_φ"])
        let chrono = try initialized(.chrono(maxSteps: 50))
        let bf = try #require(chrono["b_φ"]), bi = try #require(chrono["b_in"])
        #expect(bf.count == 4 && bf.allSatisfy { $0 >= 0 && $0 <= log(49.0) } && bi == bf.map { -$0 })
    }
}

@Suite("Cell language: declared widths, expand and stop")
struct WidthSyntaxTests {
    @Test func mistakesWithWidthsAreOneLineErrorsAtTheirPlace() {
        expectCellError("state h\nstate i : K\ni' = sigmoid(W x)\nh' = tanh(U h)", .unknownName, at: 2, 11, mentions: ["unknown width 'K'", "width K = H / 2"])
        expectCellError("width blocks = H / 2\nstate h\nh' = expand(h)", .shape, at: 3, 6, mentions: ["its argument has the hidden width H"])
        expectCellError("state h\nh' = expand(tanh(W x))", .shape, at: 2, 6, mentions: ["no width is declared"])
        expectCellError("width k = H / 2\nwidth m = H / 3\nstate h\nh' = expand(tanh(W x))", .shape, at: 4, 6, mentions: ["cannot tell which"])
        expectCellError("width blocks = H / 2\nstate h\nstate i : blocks\ni' = sigmoid(W x)\nh' = tanh(V x) + i", .shape, at: 5, 1,
                        mentions: ["h' has the width blocks = H / 2, but state h has the hidden width H"])
        expectCellError("width blocks = H / 2\nstate h\nstate i : blocks\ni' = sigmoid(W x)\nh' = tanh(h + i)", .shape, at: 5, 13,
                        mentions: ["the left side has the hidden width H, the right side the width blocks = H / 2"])
        expectCellError("width k = H / 2\nwidth k = H / 3\nstate h\nh' = tanh(W x)", .duplicateDefinition, at: 2, 7, mentions: ["declared twice"])
        expectCellError("width k = H / 0\nstate h\nh' = tanh(W x)", .syntax, at: 1, 15, mentions: ["whole number from 1"])
        expectCellError("state h\nf = sigmoid(W_f x + x)\nh' = tanh(U h) + V (f * x)", .shape, at: 2, 13, mentions: ["W_f's product is used where the input's width I is needed"])
        expectCellError("width k = 3\nstate h\nh' = tanh(W x)", .syntax, at: 1, 11, mentions: ["H / S"])
        expectCellError("width H = H / 2\nstate h\nh' = tanh(W x)", .misuse, at: 1, 7, mentions: ["reserved"])
        expectCellError("width k = H / 2\nstate h\nf = sigmoid(W_f x + b_f)\nh' = expand(f) * h + tanh(W x + b_i)\nforget b_f\ninput b_i", .misuse, at: 6, 7,
                        mentions: ["input marks b_i, of the hidden width H, but b_f is marked with the width k = H / 2", "one width"])
        #expect(throws: CellFileError.self) { try LanguageCell(source: "width k = H / 2\nstate h\nh' = tanh(W x)", file: "t.cell", divisors: ["m": 1]) }
        #expect(throws: CellFileError.self) { try LanguageCell(source: "width k = H / 2\nstate h\nh' = tanh(W x)", file: "t.cell", divisors: ["k": 0]) }
    }

    @Test func productsTakeTheWidthTheirUseNeedsAndExpandSpreadsEachBlockOverItsCells() throws {
        // H = 5 in blocks of 2: three blocks, the last of one cell.
        let cell = try LanguageCell(source: "width blocks = H / 2\nstate h\ni = sigmoid(W_i x + U_i h + b_i)\nh' = expand(i) * tanh(W x + U h)",
                                    file: "t.cell")
        let shapes = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: 3, hiddenSize: 5).map { ($0.name, [$0.rows, $0.cols]) })
        #expect(shapes == ["W_i": [3, 3], "U_i": [3, 5], "b_i": [1, 3], "W": [5, 3], "U": [5, 5]])
        // U_i reads a state but is not H × H: drawn and reported as an input weight; U is the recurrent one.
        #expect(cell.parameters(inputSize: 3, hiddenSize: 5).filter { $0.role == .recurrentWeight }.map(\.name) == ["U"])
        let g = Graph()
        let v = g.constant(Tensor(rows: 2, cols: 3, scalars: [1, 2, 3, 4, 5, 6]))
        let e = LanguageCell.expand(v, divisor: 2, hidden: 5)
        let q = try Program(graph: g)
        try q.forward()
        #expect(q.value(of: e).scalars == [1, 1, 2, 2, 3, 4, 4, 5, 5, 6])
        #expect(LanguageCell.expand(v, divisor: 1, hidden: 3).id == v.id)
    }

    @Test func aStateOfADeclaredWidthTravelsInAnHWideSlotWithZerosBeyondIt() throws {
        let cell = try ShippedCells.cell("lstm1997.cell")
        let g = Graph()
        let x = g.constant(Tensor(rows: 1, cols: 2, scalars: [0.3, -0.7]))
        let state = cell.stateNames.map { _ in g.constant(Tensor(rows: 1, cols: 6)) }
        let specs = cell.parameters(inputSize: 2, hiddenSize: 6)
        let rng = try RandomSource(seed: 3)
        var p = [String: Value]()
        for s in specs { p[s.name] = g.constant(Tensor(rows: s.rows, cols: s.cols, scalars: rng.uniformArray(count: s.rows * s.cols, low: -1, high: 1))) }
        let next = cell.step(x: x, state: state, below: nil, Parameters(p))
        #expect(next.map(\.shape) == [Shape(1, 6), Shape(1, 6), Shape(1, 6), Shape(1, 6)])
        let program = try Program(graph: g)
        try program.forward()
        let yIn = program.value(of: next[2]).scalars, yOut = program.value(of: next[3]).scalars
        #expect(yIn[3...].allSatisfy { $0 == 0 } && yOut[3...].allSatisfy { $0 == 0 })
        #expect(yIn[..<3].allSatisfy { $0 > 0 && $0 < 1 })
    }
}

@Suite("The papers' cells print as their equations")
struct PaperCellPrintingTests {
    @Test func lstm1997AndLstm2000PrintFromTheGraph() throws {
        // H = 3 in blocks of 2: two blocks; a block-wide state is read as the first 2 columns of its slot.
        let text97 = try printedStep(try ShippedCells.cell("lstm1997.cell"))
        #expect(text97 == """
            y_in' = σ(W_in x + U_in y_c + V_in y_in[:, 0:2] + R_in y_out[:, 0:2] + b_in)
            y_out' = σ(W_out x + U_out y_c + V_out y_in[:, 0:2] + R_out y_out[:, 0:2] + b_out)
            g = 4 σ(W_c x + U_c y_c + V_c y_in[:, 0:2] + R_c y_out[:, 0:2] + b_c) − 2
            s' = s + E y_in' ⊙ g
            y_c' = E y_out' ⊙ (2 σ(s') − 1)
            """)
        let latex = try printedStep(try ShippedCells.cell("lstm2000.cell"), format: .latex)
        #expect(latex.contains("s' = E y_{φ} \\odot s + E y_{in} \\odot g"))
        let truncated = try LanguageCell(source: PaperCells.truncated(try ShippedCells.text("lstm1997.cell")), file: "t.cell")
        #expect(try printedStep(truncated).hasPrefix("y_in' = σ(W_in x + U_in stop(y_c) + V_in stop(y_in[:, 0:2]) + R_in stop(y_out[:, 0:2]) + b_in)"))
    }
}
