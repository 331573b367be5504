import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabProbe

// The one mapping from the hand-written networks (`Architecture`'s flat weights, trained by
// `TruncatedRTRL`) to the papers' cell files (`Cells/lstm1997.cell`, `Cells/lstm2000.cell`),
// so that the engine's tools (the gradient probe) run on a trained trial. The cell language
// tests (`PaperCellTests`) check through it that both compute the same forward pass and
// gradients.

extension Architecture {
    /// The cell file this network is written in: `lstm2000.cell` with forget gates, else
    /// `lstm1997.cell`.
    public var cellFileName: String { forgetGates ? "lstm2000.cell" : "lstm1997.cell" }

    /// The network's cell, compiled from the text of its cell file (`cellFileName`) with the
    /// block width set to the network's cells per block.
    /// - Throws: `CellFileError` for a mistake in the text.
    public func cell(source: String, file: String) throws -> LanguageCell {
        try LanguageCell(source: source, file: file, divisors: ["blocks": cellsPerBlock])
    }

    /// The cell file's parameters from flat weights `w` in this layout. A unit reads
    /// z = [1, x, y_c(t−1), y_in(t−1), y_out(t−1)] (the gates only with connectivity F); its
    /// weight on z_m is w[row + m − start]. A bias the network lacks (Table 10's bias column)
    /// is 0 in the file's `b_…`. The output units are not part of the cell (`outputWeights`).
    public func cellParameters(_ w: [Double]) -> [String: Tensor] {
        precondition(w.count == weightCount, "cellParameters: \(w.count) weights for a network of \(weightCount)")
        let (I, C, B) = (inputs, cells, blocks)
        func block(_ rows: Int, _ offset: (Int) -> Int, _ start: Int, _ biased: Bool, _ suffix: String) -> [String: Tensor] {
            func matrix(_ sources: [Int]) -> Tensor {
                Tensor(rows: rows, cols: sources.count, scalars: (0..<rows).flatMap { r in sources.map { w[offset(r) + $0 - start] } })
            }
            var p = ["W_" + suffix: matrix((0..<I).map { 1 + $0 }), "U_" + suffix: matrix((0..<C).map(sourceIndexOfCell))]
            if gatesFeedUnits {
                p["V_" + suffix] = matrix((0..<B).map { sourceIndexOfGate(kind: 0, block: $0) })
                p["R_" + suffix] = matrix((0..<B).map { sourceIndexOfGate(kind: 1, block: $0) })
            }
            p["b_" + suffix] = Tensor(rows: 1, cols: rows, scalars: (0..<rows).map { biased ? w[offset($0)] : 0 })
            return p
        }
        var p = block(C, cellOffset, cellStart, cellBias, "c")
        p.merge(block(B, inputGateOffset, gateStart, gateBias, "in")) { $1 }
        p.merge(block(B, outputGateOffset, gateStart, gateBias, "out")) { $1 }
        if forgetGates { p.merge(block(B, forgetGateOffset, gateStart, gateBias, "φ")) { $1 } }
        return p
    }

    /// Output unit k's weights on the cells y_c (C numbers): ∂net_k(t)/∂y_c(t).
    public func outputWeights(_ w: [Double], unit k: Int) -> [Double] {
        (0..<cells).map { w[outputOffset(k) + 1 + $0 - outputStart] }
    }

    /// The cell file's network (one layer of `cell`, C units) holding the weights `w`.
    /// - Throws: `ReproductionError.unsupported` when `cell` asks for a parameter the mapping
    ///   does not give or gives another shape (a cell file that is not this network's), and for
    ///   Exps. 2a/2b's net, which no cell file writes.
    public func network(cell: LanguageCell, weights w: [Double]) throws -> RecurrentNetwork {
        guard !isConnectivityB else {
            throw ReproductionError.unsupported("Exps. 2a/2b's net (no output gate, g logistic, h the identity, connectivity B) has no cell file")
        }
        var network = RecurrentNetwork(cell: cell, inputSize: inputs, hiddenSize: cells)
        let given = cellParameters(w)
        for spec in network.specs(layer: 0) {
            guard let t = given[spec.name], t.shape == Shape(spec.rows, spec.cols) else {
                throw ReproductionError.unsupported("the cell file's \(spec.name) (\(spec.rows)×\(spec.cols)) has no weights of this network")
            }
            network.weights[0][spec.name] = t
        }
        return network
    }
}

/// The gradient profile (the probe) of trained 1997 networks: ‖∂net_k(T)/∂h_t‖ over the
/// distance k = T − 1 − t, on one sequence of the task, for a solved and an unsolved trial.
///
/// The trials are retrained from their seeds (a trial is bit-reproducible), their weights
/// carried into `Cells/lstm1997.cell` (`Architecture.network(cell:weights:)`), and the probe's
/// loss L = Σ_c w_kc · y_c(T) is the output unit's net input at the last step, so ∂L/∂h_T is
/// the output unit's weights on the cells and the profile does not depend on how small the
/// trained net's error is. The probe's gradient is the full one (the cell file as shipped),
/// not the truncated gradient the trials learned with.
public struct TrainedNetGradientProfile {
    /// The solved and the unsolved trial, in that order.
    public var records: [TrialRecord]
    /// log10‖∂L/∂h_t‖ by distance k for each of `records`.
    public var curves: [[Double]]
    /// The probe sequence's length T.
    public var steps: Int

    /// The budget of the unsolved trial: the solved trial's seed and settings, stopped after
    /// this many training sequences (well before any Exp. 3a trial of the grid met ST2).
    public static let unsolvedBudget = 1000
    /// The preset whose cheapest solved trial is profiled (Exp. 3a: the fewest training steps
    /// to a solution among the 1997 experiments, so the report retrains it in seconds).
    public static let preset = "hochreiter1997-exp3a"
    /// The seed of the probe sequence's `RandomSource`.
    public static let sequenceSeed: UInt64 = 1

    /// The solved trial to profile: among `records`, the solved LSTM trial of `preset` with
    /// the truncated gradient and the fewest training steps (nil: none).
    public static func solvedRecord(in records: [TrialRecord]) -> TrialRecord? {
        records.filter { $0.preset == preset && $0.solved && $0.parameters.gradient == .truncated && $0.parameters.network == nil }
            .min { ($0.trainingSteps, $0.seed) < ($1.trainingSteps, $1.seed) }
    }

    /// Retrains `solved` and the same trial stopped at `unsolvedBudget`, and probes both on one
    /// sequence of their task.
    /// - Parameters:
    ///   - solved: The stored record of the solved trial (`solvedRecord(in:)`).
    ///   - cellSource: The text of `Cells/lstm1997.cell`.
    /// - Throws: `ReproductionError.unsupported` when the retrained trial differs from its
    ///   record; cell file and probe errors.
    public static func compute(solved: TrialRecord, cellSource: String) throws -> TrainedNetGradientProfile {
        var unsolvedParameters = solved.parameters
        unsolvedParameters.budget = unsolvedBudget
        var records = [TrialRecord](), curves = [[Double]]()
        var steps = 0
        for parameters in [solved.parameters, unsolvedParameters] {
            var trial = try Trial(preset: solved.preset, variant: solved.variant, seed: solved.seed, parameters: parameters)
            let record = trial.run()
            if parameters == solved.parameters && (record.sequences != solved.sequences || record.wrong != solved.wrong) {
                throw ReproductionError.unsupported("retraining \(solved.id) gave \(record.sequences) sequences and \(record.wrong) wrong, "
                                                    + "its record \(solved.sequences) and \(solved.wrong)")
            }
            guard let weights = trial.network.lstm?.weights else { throw ReproductionError.unsupported("\(solved.id) is not an LSTM trial") }
            let a = parameters.architecture
            let network = try a.network(cell: try a.cell(source: cellSource, file: a.cellFileName), weights: weights)
            let sequence = parameters.task.generator!.sample(using: try RandomSource(seed: sequenceSeed))
            steps = sequence.length
            let setup = try ProbeSetup(network: network, batch: 1, steps: sequence.length, inputs: sequence.inputs,
                                       readout: a.outputWeights(weights, unit: 0))
            curves.append(try GradientProbe.run(setup).curves.topH)
            records.append(record)
        }
        return TrainedNetGradientProfile(records: records, curves: curves, steps: steps)
    }

    /// The figure: both curves on one panel.
    public var figure: Figure {
        let series = zip(records, curves).map { r, c in
            FigureSeries(title: (r.solved ? "solved" : "unsolved") + " (seed \(r.seed), \(ReproductionReport.count(Double(r.sequences))) sequences)",
                         points: c.enumerated().map { (Double($0.offset), $0.element, .nan, .nan) }, band: false,
                         colorKey: r.solved ? "solved" : "unsolved")
        }
        return Figure(file: "figures/gradient-profile.svg",
                      caption: "\(Self.preset) \(records[0].variant), seed \(records[0].seed): log10‖∂net_k(T)/∂y_c(t)‖ over the distance T − 1 − t "
                        + "on one sequence of T = \(steps) steps, for the trained net (solved) and the same trial stopped after "
                        + "\(ReproductionReport.count(Double(Self.unsolvedBudget))) sequences (unsolved); full gradient through `Cells/lstm1997.cell`.",
                      title: "Gradient profile: solved and unsolved", xLabel: "distance T − 1 − t (steps)",
                      yLabel: "log10 ‖∂net_k(T)/∂y_c(t)‖", panels: [FigurePanel(title: Self.preset, series: series)])
    }
}
