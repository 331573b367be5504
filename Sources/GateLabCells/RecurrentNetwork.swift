import GateLabAutodiff
import GateLabGSL

/// A stack of `layers` recurrent layers of one cell (PyTorch's `num_layers`): layer k > 0
/// takes layer k − 1's output h at the same step as its input. Holds the weights.
public struct RecurrentNetwork: Sendable {
    /// The cell every layer uses.
    public let cell: any RecurrentCell
    /// Input features of layer 0.
    public let inputSize: Int
    /// Units per layer.
    public let hiddenSize: Int
    /// Number of stacked layers.
    public let layers: Int
    /// The weights of each layer, by the cell's parameter names.
    public var weights: [[String: Tensor]]

    /// Creates a network with all weights zero (see `initialize(_:using:)`).
    /// - Parameters:
    ///   - cell: the cell.
    ///   - inputSize: input features (I).
    ///   - hiddenSize: units per layer (H).
    ///   - layers: stacked layers (L ≥ 1).
    public init(cell: any RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int = 1) {
        precondition(inputSize > 0 && hiddenSize > 0 && layers > 0, "RecurrentNetwork: sizes must be positive")
        self.cell = cell
        self.inputSize = inputSize
        self.hiddenSize = hiddenSize
        self.layers = layers
        weights = []
        for k in 0..<layers {
            weights.append(Dictionary(uniqueKeysWithValues: specs(layer: k).map { ($0.name, Tensor(rows: $0.rows, cols: $0.cols)) }))
        }
    }

    /// The trainable scalars a network of these sizes would have, worked out from the cell's
    /// specs without allocating anything; nil when the count overflows `Int`. Commands check
    /// it against their memory budget before making the network (Notes/reliability.md).
    public static func scalarCount(cell: any RecurrentCell, inputSize: Int, hiddenSize: Int, layers: Int) -> Int? {
        guard inputSize > 0, hiddenSize > 0, layers > 0 else { return nil }
        func perLayer(_ input: Int) -> Int? {
            var total = 0
            for spec in cell.parameters(inputSize: input, hiddenSize: hiddenSize) {
                let (n, o1) = spec.rows.multipliedReportingOverflow(by: spec.cols)
                let (t, o2) = total.addingReportingOverflow(n)
                if o1 || o2 { return nil }
                total = t
            }
            return total
        }
        guard hiddenSize <= 1 << 40, inputSize <= 1 << 40 else { return nil }   // 4H·H stays within Int
        guard let first = perLayer(inputSize) else { return nil }
        guard layers > 1 else { return first }
        guard let rest = perLayer(hiddenSize) else { return nil }
        let (r, o1) = rest.multipliedReportingOverflow(by: layers - 1)
        let (t, o2) = first.addingReportingOverflow(r)
        return o1 || o2 ? nil : t
    }

    /// The parameter specs of layer `k`.
    public func specs(layer k: Int) -> [ParameterSpec] {
        cell.parameters(inputSize: k == 0 ? inputSize : hiddenSize, hiddenSize: hiddenSize)
    }

    /// Number of trainable scalars.
    public var parameterCount: Int { weights.reduce(0) { $0 + $1.values.reduce(0) { $0 + $1.scalars.count } } }

    // MARK: Initialization

    /// How to initialize weights, by role.
    public struct Initialization: Sendable, Equatable {
        /// Input weights (`W_i*`). Default: PyTorch's U(±1/√H).
        public var inputWeights: Initializer?
        /// Recurrent weights (`W_h*`). Default: PyTorch's U(±1/√H).
        public var recurrentWeights: Initializer?
        /// Biases. Default: PyTorch's U(±1/√H).
        public var biases: Initializer?
        /// The forget gate's bias (LSTM; ignored by cells without a forget gate).
        public var forgetBias: ForgetBias?

        /// Forget-gate bias schemes.
        public enum ForgetBias: Sendable, Equatable {
            /// b_if = value, b_hf = 0: the effective forget bias is `value` (Gers et al. 2000;
            /// Jozefowicz et al. 2015 recommend 1).
            case constant(Double)
            /// Chrono initialization (Tallec & Ollivier 2018): b_f = log(U(1, maxSteps − 1)),
            /// b_i = −b_f, placed in b_if and b_ii with b_hf = b_hi = 0.
            case chrono(maxSteps: Double)
        }

        /// PyTorch's default: every weight and bias U(±1/√H).
        public static let pytorchDefault = Initialization()

        /// Creates a scheme; nil fields use PyTorch's default.
        public init(inputWeights: Initializer? = nil, recurrentWeights: Initializer? = nil,
                    biases: Initializer? = nil, forgetBias: ForgetBias? = nil) {
            self.inputWeights = inputWeights
            self.recurrentWeights = recurrentWeights
            self.biases = biases
            self.forgetBias = forgetBias
        }
    }

    /// Fills every weight from `rng` following `scheme`, layer by layer, in the order of the
    /// cell's parameter list (so the same seed always gives the same weights). A parameter
    /// with its own `initializer` (a cell file's `init` line) uses it instead of its role's;
    /// the forget-bias scheme then still sets the forget-gate biases.
    public mutating func initialize(_ scheme: Initialization = .pytorchDefault, using rng: RandomSource) throws {
        let fallback = Initializer.pytorchRecurrentDefault(hiddenSize: hiddenSize)
        for k in 0..<layers {
            for spec in specs(layer: k) {
                let initializer: Initializer
                if let own = spec.initializer {
                    initializer = own
                } else {
                    switch spec.role {
                    case .inputWeight: initializer = scheme.inputWeights ?? fallback
                    case .recurrentWeight: initializer = scheme.recurrentWeights ?? fallback
                    case .inputBias, .recurrentBias: initializer = scheme.biases ?? fallback
                    case .perUnitWeight: initializer = fallback
                    }
                }
                weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols,
                                               scalars: try initializer.values(rows: spec.rows, cols: spec.cols, using: rng))
            }
            // A cell file's gate may have one bias only (no recurrent-side bias to zero). Each
            // marked bias gets one value per unit of its own width: H, or a cell file's declared
            // width (one forget gate per memory block: Cells/lstm2000.cell); the cell language
            // gives every marked bias of a cell one width.
            guard let forget = scheme.forgetBias, let fi = specs(layer: k).first(where: { $0.gate == "forget" && $0.role == .inputBias }) else { continue }
            let n = fi.cols
            if let fh = specs(layer: k).first(where: { $0.gate == "forget" && $0.role == .recurrentBias }) {
                weights[k][fh.name] = Tensor(rows: 1, cols: fh.cols)
            }
            switch forget {
            case .constant(let b):
                weights[k][fi.name] = Tensor(rows: 1, cols: n, repeating: b)
            case .chrono(let maxSteps):
                let (bf, bi) = try Initializer.chronoBiases(count: n, maxSteps: maxSteps, using: rng)
                weights[k][fi.name] = Tensor(rows: 1, cols: n, scalars: bf)
                if let ii = specs(layer: k).first(where: { $0.gate == "input" && $0.role == .inputBias }) {
                    weights[k][ii.name] = Tensor(rows: 1, cols: n, scalars: bi)
                    if let ih = specs(layer: k).first(where: { $0.gate == "input" && $0.role == .recurrentBias }) {
                        weights[k][ih.name] = Tensor(rows: 1, cols: ih.cols)
                    }
                }
            }
        }
    }

    // MARK: PyTorch interchange

    /// The weights under PyTorch's `state_dict` names and layout: `weight_ih_l{k}`
    /// ([G·H × I]), `weight_hh_l{k}` ([G·H × H]), `bias_ih_l{k}`, `bias_hh_l{k}` (1 × G·H here,
    /// 1-D in PyTorch), gate blocks stacked in the cell's order (LSTM i, f, g, o; GRU r, z, n).
    public func stateDict() -> [(key: String, value: Tensor)] {
        (0..<layers).flatMap { k in
            Self.stacks.map { key, role in
                let blocks = specs(layer: k).filter { $0.role == role }.sorted { $0.block < $1.block }.map { weights[k][$0.name]! }
                let stacked: Tensor
                if blocks[0].rows == 1 {   // biases: side by side
                    stacked = Tensor(rows: 1, cols: blocks.reduce(0) { $0 + $1.cols }, scalars: blocks.flatMap(\.scalars))
                } else {                   // weights: blocks of rows, one under the other
                    stacked = Tensor(rows: blocks.reduce(0) { $0 + $1.rows }, cols: blocks[0].cols, scalars: blocks.flatMap(\.scalars))
                }
                return ("\(key)_l\(k)", stacked)
            }
        }
    }

    /// Loads weights from PyTorch's `state_dict` names and layout (see `stateDict()`); 1-D
    /// biases may be given as 1 × n tensors.
    /// - Throws: `InterchangeError` naming the missing key or the wrong shape.
    public mutating func load(stateDict: [String: Tensor]) throws {
        for k in 0..<layers {
            for (key, role) in Self.stacks {
                let name = "\(key)_l\(k)"
                guard let t = stateDict[name] else { throw InterchangeError.missingKey(name) }
                let blocks = specs(layer: k).filter { $0.role == role }.sorted { $0.block < $1.block }
                let isBias = blocks[0].rows == 1
                let expected = isBias ? Shape(1, blocks.count * hiddenSize) : Shape(blocks.count * hiddenSize, blocks[0].cols)
                guard t.shape == expected else { throw InterchangeError.wrongShape(key: name, expected: expected, got: t.shape) }
                for spec in blocks {
                    let n = spec.rows * spec.cols
                    weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols,
                                                   scalars: Array(t.scalars[(spec.block * n)..<((spec.block + 1) * n)]))
                }
            }
        }
    }

    static let stacks: [(String, ParameterRole)] = [("weight_ih", .inputWeight), ("weight_hh", .recurrentWeight),
                                                   ("bias_ih", .inputBias), ("bias_hh", .recurrentBias)]
}

/// Errors moving weights in and out of PyTorch's layout.
public enum InterchangeError: Error, Equatable, CustomStringConvertible {
    /// A state_dict key the network needs is absent.
    case missingKey(String)
    /// A tensor of the wrong shape.
    case wrongShape(key: String, expected: Shape, got: Shape)
    public var description: String {
        switch self {
        case .missingKey(let k): return "missing key '\(k)'"
        case let .wrongShape(k, e, g): return "key '\(k)': expected shape \(e), got \(g)"
        }
    }
}

/// A network whose parameters would not fit the memory budget.
public struct NetworkSizeError: Error, Equatable, CustomStringConvertible {
    /// One line: the cell, its sizes, what it needs and the budget.
    public var description: String
}

extension RecurrentNetwork {
    /// The memory budget for a network's parameters and their working copies, the same for
    /// every command (`train` takes its own with `--memory-budget`): 1024 MB.
    public static let parameterBudgetMB = 1024

    /// Checks, before anything is allocated, that a network of these sizes fits `budgetMB`
    /// with `copies` float64 arrays of its parameters (the weights, their gradients, an
    /// optimizer's moments…), counted from the cell's specs: one rule for `train`, `probe`,
    /// `gradcheck` and `weights init`, so that a `.cell` file with many matrices cannot make
    /// one command allocate what another refuses.
    /// - Returns: the number of trainable scalars.
    /// - Throws: `NetworkSizeError` naming the cell, the sizes, the memory needed and the budget.
    @discardableResult
    public static func checkFits(cell: any RecurrentCell, named name: String, inputSize: Int, hiddenSize: Int, layers: Int,
                                 copies: Int, budgetMB: Int = parameterBudgetMB) throws -> Int {
        let scalars = scalarCount(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers)
        let bytesPerScalar = 8 * max(copies, 1)
        guard let scalars, scalars <= (budgetMB << 20) / bytesPerScalar else {
            let needed = scalars.map { "\($0) parameters (\((Double($0) * Double(bytesPerScalar) / 1048576).rounded(.up)) MB as \(copies) float64 copies)" }
                ?? "more parameters than an Int counts"
            throw NetworkSizeError(description: "\(name) with I = \(inputSize), H = \(hiddenSize), L = \(layers) needs \(needed), "
                                   + "more than the memory budget of \(budgetMB) MB")
        }
        return scalars
    }
}
