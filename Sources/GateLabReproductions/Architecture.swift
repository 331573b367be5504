import GateLabGSL

/// The topology of an LSTM of H&S 1997 (memory blocks without forget gates) or of Gers et al.
/// 2000 (with forget gates), and the layout of its weights in one flat array.
///
/// Units (H&S 1997 §4, App. A.1): C memory blocks of S cells; each block has one input gate and
/// one output gate (and, in the 2000 net, one forget gate) shared by its S cells. No
/// conventional hidden units (none are used in Exps. 1–6 or CERG).
///
/// Each step (§5's three phases): (1) the inputs x(t) are set; (2) gates and cells read the
/// **source vector** z(t) = [1, x(t), y^c(t−1), y^gates(t−1)] — the bias unit, the current input,
/// and the previous step's cell outputs and (connectivity F, `gatesFeedUnits`) gate activations;
/// (3) the output units read o(t) = [1, y^c(t), x(t)] — the bias, the **same step's** cells, and
/// (2000 net, `outputShortcuts`) the inputs.
///
/// A unit without a bias weight simply starts reading its source vector at index 1, so the
/// weight count is exactly the paper's.
///
/// Exps. 2a/2b's net (`connectivityB`, Table 10's row "2a, 2b") differs: its blocks have an input
/// gate and no output gate, g is the logistic f ∈ [0, 1] and h the identity, so y^c = s_c; its
/// cells and input gates read z(t) = [1, x(t)] only (connectivity B: each layer is fed by the
/// layers below; the CEC is the only recurrence), and its outputs read o(t) = [1, y^c(t), x(t)].
public struct Architecture: Codable, Equatable, Hashable, Sendable {
    /// Number of input units.
    public var inputs: Int
    /// C: number of memory blocks.
    public var blocks: Int
    /// S: cells per block.
    public var cellsPerBlock: Int
    /// Number of output units.
    public var outputs: Int
    /// Whether each block has a forget gate φ_j multiplying s(t−1) (Gers 2000).
    public var forgetGates: Bool
    /// Connectivity F of Table 10: cells and gates read the previous gate activations too.
    /// False in the 2000 net (gates do not feed other units).
    public var gatesFeedUnits: Bool
    /// Output units also read the input units (the 2000 net's shortcuts).
    public var outputShortcuts: Bool
    /// Whether cells have a bias weight.
    public var cellBias: Bool
    /// Whether gates have a bias weight.
    public var gateBias: Bool
    /// Whether output units have a bias weight.
    public var outputBias: Bool
    /// Exps. 2a/2b's net: connectivity B (cells and input gates read only the inputs, outputs
    /// read the inputs and the cells), no output gates ("no og"), g logistic ("g1"), h the
    /// identity ("id"). nil (false) in every other network, whose records do not hold the key.
    public var connectivityB: Bool? = nil

    enum CodingKeys: String, CodingKey {
        case inputs, blocks, cellsPerBlock = "cells_per_block", outputs, forgetGates = "forget_gates"
        case gatesFeedUnits = "gates_feed_units", outputShortcuts = "output_shortcuts", cellBias = "cell_bias"
        case gateBias = "gate_bias", outputBias = "output_bias", connectivityB = "connectivity_b"
    }

    /// The bias sets of Table 10.
    public enum BiasSet: String, Codable, Sendable {
        /// "ga": gates only.
        case gates
        /// "b1": all hidden units (cells and gates), outputs unbiased.
        case hidden
        /// "all": every non-input unit, outputs included.
        case all
        /// "none": no bias weights at all.
        case none
    }

    /// A 1997 network: connectivity F, no forget gates, outputs reading the cells only.
    /// - Parameters:
    ///   - inputs: Input units.
    ///   - blocks: C.
    ///   - cellsPerBlock: S.
    ///   - outputs: Output units.
    ///   - biases: Table 10's bias column.
    public static func hochreiter1997(inputs: Int, blocks: Int, cellsPerBlock: Int, outputs: Int,
                                      biases: BiasSet) -> Architecture {
        Architecture(inputs: inputs, blocks: blocks, cellsPerBlock: cellsPerBlock, outputs: outputs,
                     forgetGates: false, gatesFeedUnits: true, outputShortcuts: false,
                     cellBias: biases == .hidden || biases == .all,
                     gateBias: biases != .none,
                     outputBias: biases == .all)
    }

    /// Exps. 2a/2b's net (§5.2, Table 10 row "2a, 2b"): the paper's RTRL net for the task — one
    /// self-recurrent hidden unit and non-recurrent output units, "each layer connected to all
    /// layers below" — with the hidden unit replaced by one memory cell with an input gate and
    /// no output gate; no biases ("bias: none"); g logistic, h the identity. Weights: the cell
    /// and its input gate read the inputs (2 × inputs), each output unit the inputs and the cell
    /// (outputs × (inputs + 1)): 2 · 101 + 101 · 102 = 10 504 at p = 100, Table 10's count.
    /// - Parameters:
    ///   - inputs: Input units (p + 1).
    ///   - outputs: Output units (p + 1).
    public static func hochreiter1997LayeredB(inputs: Int, outputs: Int) -> Architecture {
        Architecture(inputs: inputs, blocks: 1, cellsPerBlock: 1, outputs: outputs, forgetGates: false,
                     gatesFeedUnits: false, outputShortcuts: true, cellBias: false, gateBias: false,
                     outputBias: false, connectivityB: true)
    }

    /// Whether this is Exps. 2a/2b's net (`connectivityB`).
    public var isConnectivityB: Bool { connectivityB == true }
    /// Whether each block has an output gate (all networks but Exps. 2a/2b's).
    public var hasOutputGates: Bool { !isConnectivityB }

    /// The CERG network of Gers et al. 2000 (gers2000.md §2): 7 inputs, 4 blocks × 2 cells,
    /// 7 outputs; gates and outputs biased, cells not; gates read inputs and cells only; outputs
    /// read cells and inputs. 424 weights with forget gates; 360 without (`forgetGates: false`,
    /// the standard-LSTM baselines [D]).
    public static func gers2000(forgetGates: Bool = true) -> Architecture {
        Architecture(inputs: 7, blocks: 4, cellsPerBlock: 2, outputs: 7, forgetGates: forgetGates,
                     gatesFeedUnits: false, outputShortcuts: true, cellBias: false, gateBias: true,
                     outputBias: true)
    }

    /// Number of memory cells, C·S.
    public var cells: Int { blocks * cellsPerBlock }
    /// Gates per block: 2, or 3 with a forget gate; 1 (the input gate) in Exps. 2a/2b's net.
    public var gatesPerBlock: Int { isConnectivityB ? 1 : forgetGates ? 3 : 2 }
    /// Length of the source vector z of gates and cells (bias slot included).
    public var sourceCount: Int {
        isConnectivityB ? 1 + inputs : 1 + inputs + cells + (gatesFeedUnits ? blocks * gatesPerBlock : 0)
    }
    /// Length of the source vector o of the output units (bias slot included).
    public var outputSourceCount: Int { 1 + cells + (outputShortcuts ? inputs : 0) }

    /// First index of z that a cell reads (0 with a bias, 1 without).
    public var cellStart: Int { cellBias ? 0 : 1 }
    /// First index of z that a gate reads.
    public var gateStart: Int { gateBias ? 0 : 1 }
    /// First index of o that an output unit reads.
    public var outputStart: Int { outputBias ? 0 : 1 }
    /// Weights per cell row.
    public var cellRow: Int { sourceCount - cellStart }
    /// Weights per gate row.
    public var gateRow: Int { sourceCount - gateStart }
    /// Weights per output row.
    public var outputRow: Int { outputSourceCount - outputStart }

    // Layout of the flat weight array: cell rows, input-gate rows, output-gate rows,
    // forget-gate rows, output-unit rows. In z, the previous gate activations are ordered
    // input gates, output gates, forget gates (each by block).

    /// Offset of cell c's row.
    public func cellOffset(_ c: Int) -> Int { c * cellRow }
    /// Offset of block j's input-gate row.
    public func inputGateOffset(_ j: Int) -> Int { cells * cellRow + j * gateRow }
    /// Offset of block j's output-gate row (in Exps. 2a/2b's net, which has none, the first
    /// output unit's).
    public func outputGateOffset(_ j: Int) -> Int { cells * cellRow + (blocks + j) * gateRow }
    /// Offset of block j's forget-gate row (only with forget gates).
    public func forgetGateOffset(_ j: Int) -> Int { cells * cellRow + (2 * blocks + j) * gateRow }
    /// Offset of output unit k's row.
    public func outputOffset(_ k: Int) -> Int { cells * cellRow + blocks * gatesPerBlock * gateRow + k * outputRow }
    /// W: the number of weights, as counted in Table 10 (and 424 for Gers et al.).
    public var weightCount: Int { outputOffset(outputs) }

    /// Index in z of cell c's previous output.
    public func sourceIndexOfCell(_ c: Int) -> Int { 1 + inputs + c }
    /// Index in z of a gate's previous activation (`kind` 0 = input, 1 = output, 2 = forget).
    public func sourceIndexOfGate(kind: Int, block j: Int) -> Int { 1 + inputs + cells + kind * blocks + j }

    /// Which weights are biases of which gate kind, for initialisation.
    public func gateBiasIndex(kind: Int, block j: Int) -> Int? {
        guard gateBias else { return nil }
        switch kind {
        case 0: return inputGateOffset(j)
        case 1: return hasOutputGates ? outputGateOffset(j) : nil
        default: return forgetGates ? forgetGateOffset(j) : nil
        }
    }
}

/// How a network's weights are initialised (Table 10/11, §5; gers2000.md §3).
public struct Initialisation: Codable, Equatable, Hashable, Sendable {
    /// Every weight is uniform in [−range, range] (0.2 in Exps. 1–2 and CERG, 0.1 otherwise).
    public var range: Double
    /// Per-block input-gate biases, or nil for random ("r").
    public var inputGateBiases: [Double]?
    /// Per-block output-gate biases, or nil for random.
    public var outputGateBiases: [Double]?
    /// Per-block forget-gate biases (2000 net), or nil for random.
    public var forgetGateBiases: [Double]?

    enum CodingKeys: String, CodingKey {
        case range, inputGateBiases = "input_gate_biases", outputGateBiases = "output_gate_biases"
        case forgetGateBiases = "forget_gate_biases"
    }

    /// - Parameters:
    ///   - range: The uniform interval's half-width.
    ///   - inputGateBiases: Per-block input-gate biases (nil: random).
    ///   - outputGateBiases: Per-block output-gate biases (nil: random).
    ///   - forgetGateBiases: Per-block forget-gate biases (nil: random).
    public init(range: Double, inputGateBiases: [Double]? = nil, outputGateBiases: [Double]? = nil,
                forgetGateBiases: [Double]? = nil) {
        self.range = range
        self.inputGateBiases = inputGateBiases
        self.outputGateBiases = outputGateBiases
        self.forgetGateBiases = forgetGateBiases
    }

    /// Draws the weights: first all W weights uniform in [−range, range) in layout order
    /// (`gsl_ran_flat`), then the fixed gate biases overwrite their slots. (Random biases such
    /// as Exp. 1's input-gate biases therefore use the experiment's own interval [check 3 of
    /// hochreiter1997.md: Table 10's "r" says ±0.1, but Exp. 1 initialises all weights in ±0.2].)
    /// - Parameters:
    ///   - architecture: The network.
    ///   - rng: The trial's random source.
    public func weights(for architecture: Architecture, using rng: RandomSource) -> [Double] {
        var w = rng.uniformArray(count: architecture.weightCount, low: -range, high: range)
        for (kind, biases) in [inputGateBiases, outputGateBiases, forgetGateBiases].enumerated() {
            guard let biases else { continue }
            precondition(biases.count == architecture.blocks, "one bias per block")
            for j in 0..<architecture.blocks {
                if let index = architecture.gateBiasIndex(kind: kind, block: j) { w[index] = biases[j] }
            }
        }
        return w
    }
}
