internal import CGateLabGSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How to fill a weight matrix or bias, with a textual name for command lines and
/// experiment files (`description` and `init(parsing:hiddenSize:)` round-trip).
///
/// Matrices are row-major `rows × cols` in PyTorch's layout `[out × in]`, so
/// fan-in = `cols` and fan-out = `rows`.
public enum Initializer: Equatable, Sendable, CustomStringConvertible {
    /// U(−bound, bound). Name: `uniform(0.1)`.
    case uniform(bound: Double)
    /// PyTorch's default for `nn.RNN`/`nn.LSTM`/`nn.GRU` weights and biases:
    /// U(−1/√hiddenSize, 1/√hiddenSize). Name: `pytorch-default` (the hidden size comes
    /// from the model, not the name).
    case pytorchRecurrentDefault(hiddenSize: Int)
    /// Glorot & Bengio (2010) uniform: U(−a, a), a = gain·√(6 / (fanIn + fanOut)), as
    /// PyTorch's `xavier_uniform_`. Name: `glorot-uniform` or `glorot-uniform(GAIN)`.
    case glorotUniform(gain: Double = 1)
    /// Glorot & Bengio (2010) normal: N(0, σ²), σ = gain·√(2 / (fanIn + fanOut)), untruncated
    /// as PyTorch's `xavier_normal_` (Keras truncates). Name: `glorot-normal` or `glorot-normal(GAIN)`.
    case glorotNormal(gain: Double = 1)
    /// Saxe et al. (2014) orthogonal: gain × a Haar-distributed matrix with orthonormal
    /// columns (tall or square) or rows (wide), as PyTorch's `orthogonal_`.
    /// Name: `orthogonal` or `orthogonal(GAIN)`.
    case orthogonal(gain: Double = 1)
    /// Ones on the main diagonal, zeros elsewhere (also for non-square shapes). Name: `identity`.
    case identity
    /// `scale` on the main diagonal, zeros elsewhere: the IRNN recurrent initialisation of
    /// Le, Jaitly & Hinton (2015). Name: `scaled-identity(0.5)`.
    case scaledIdentity(Double)
    /// Every entry equal to the value. Name: `constant(1)`.
    case constant(Double)
    /// Every entry zero. Name: `zeros`.
    case zeros
    /// An arithmetic progression along each row: entry (r, c) is `first + c·step`. For a
    /// vector of per-block gate biases, one value per block: H&S 1997's output-gate biases
    /// −1, −2, −3 … are `progression(-1, -1)`. Name: `progression(FIRST, STEP)`.
    case progression(first: Double, step: Double)

    /// One textual form of an initializer: its name, the number it takes, and how to build it.
    /// `forms` is the one table of them; the valid names, parsing and its error messages derive
    /// from it.
    struct Form: Sendable {
        /// Whether the name takes a number in parentheses.
        enum Argument: Sendable, Equatable {
            /// `identity`: no number.
            case none
            /// `orthogonal` or `orthogonal(GAIN)`: the number defaults to 1.
            case optional(String)
            /// `uniform(BOUND)`: a number is needed.
            case required(String)
            /// `progression(FIRST, STEP)`: two numbers are needed.
            case pair(String, String)
        }
        /// The name (`glorot-uniform`).
        let name: String
        /// Its number, if any (shown by its placeholder, `GAIN`).
        let argument: Argument
        /// The initializer, from the numbers (none, one, or two for a pair) and the model's hidden size.
        let make: @Sendable (_ arguments: [Double], _ hiddenSize: Int) throws -> Initializer

        /// How help texts show it: `uniform(BOUND)`, `orthogonal[(GAIN)]`, `zeros`.
        var spelled: String {
            switch argument {
            case .none: return name
            case .optional(let placeholder): return "\(name)[(\(placeholder))]"
            case .required(let placeholder): return "\(name)(\(placeholder))"
            case let .pair(first, second): return "\(name)(\(first), \(second))"
            }
        }
    }

    /// Every textual form, in the order help texts list them.
    static let forms: [Form] = [
        Form(name: "uniform", argument: .required("BOUND")) { a, _ in .uniform(bound: a[0]) },
        Form(name: "pytorch-default", argument: .none) { _, hiddenSize in
            try require(hiddenSize > 0, "Initializer(parsing:)", "pytorch-default needs a positive hidden size, got \(hiddenSize)")
            return .pytorchRecurrentDefault(hiddenSize: hiddenSize)
        },
        Form(name: "glorot-uniform", argument: .optional("GAIN")) { a, _ in .glorotUniform(gain: a.first ?? 1) },
        Form(name: "glorot-normal", argument: .optional("GAIN")) { a, _ in .glorotNormal(gain: a.first ?? 1) },
        Form(name: "orthogonal", argument: .optional("GAIN")) { a, _ in .orthogonal(gain: a.first ?? 1) },
        Form(name: "identity", argument: .none) { _, _ in .identity },
        Form(name: "scaled-identity", argument: .required("SCALE")) { a, _ in .scaledIdentity(a[0]) },
        Form(name: "constant", argument: .required("VALUE")) { a, _ in .constant(a[0]) },
        Form(name: "zeros", argument: .none) { _, _ in .zeros },
        Form(name: "progression", argument: .pair("FIRST", "STEP")) { a, _ in .progression(first: a[0], step: a[1]) },
    ]

    /// The accepted textual forms, for help texts and error messages.
    public static let validNames = forms.map(\.spelled)

    /// The textual name, e.g. `"orthogonal(1.1)"`; `init(parsing:hiddenSize:)` reads it back.
    public var description: String {
        func withGain(_ name: String, _ gain: Double) -> String {
            gain == 1 ? name : "\(name)(\(formatted(gain)))"
        }
        switch self {
        case .uniform(let bound): return "uniform(\(formatted(bound)))"
        case .pytorchRecurrentDefault: return "pytorch-default"
        case .glorotUniform(let gain): return withGain("glorot-uniform", gain)
        case .glorotNormal(let gain): return withGain("glorot-normal", gain)
        case .orthogonal(let gain): return withGain("orthogonal", gain)
        case .identity: return "identity"
        case .scaledIdentity(let scale): return "scaled-identity(\(formatted(scale)))"
        case .constant(let value): return "constant(\(formatted(value)))"
        case .zeros: return "zeros"
        case let .progression(first, step): return "progression(\(formatted(first)), \(formatted(step)))"
        }
    }

    /// Reads a textual name such as `"uniform(0.1)"`, `"orthogonal"` or `"scaled-identity(0.5)"`
    /// (case and surrounding spaces ignored).
    /// - Parameters:
    ///   - text: The name, as produced by `description`.
    ///   - hiddenSize: The model's hidden size, used by `pytorch-default`.
    /// - Throws: `InvalidArgumentError` naming the valid forms if `text` is not one of them.
    public init(parsing text: String, hiddenSize: Int) throws {
        let caller = "Initializer(parsing:)"
        let trimmed = text.lowercased().filter { !$0.isWhitespace }
        var name = trimmed
        var arguments = [Double]()
        if let open = trimmed.firstIndex(of: "(") {
            name = String(trimmed[..<open])
            let inner = trimmed[trimmed.index(after: open)...]
            let values = inner.last == ")" ? inner.dropLast().split(separator: ",", omittingEmptySubsequences: false).map { Double($0) } : []
            guard !values.isEmpty, values.count <= 2, values.allSatisfy({ $0?.isFinite == true }) else {
                throw InvalidArgumentError(
                    function: caller,
                    message: "cannot read \"\(text)\": expected NAME, NAME(NUMBER) or NAME(NUMBER, NUMBER) with finite numbers; "
                        + "valid forms: \(Initializer.validNames.joined(separator: ", "))")
            }
            arguments = values.map { $0! }
        }
        guard let form = Initializer.forms.first(where: { $0.name == name }) else {
            throw InvalidArgumentError(
                function: caller,
                message: "unknown initializer \"\(text)\"; valid forms: \(Initializer.validNames.joined(separator: ", "))")
        }
        // The number must be given exactly when the form needs one (optional: either way).
        let wrong: String?
        switch (form.argument, arguments.count) {
        case (.required, 0): wrong = "needs a number, e.g. \(name)(0.5)"
        case (.none, 1...): wrong = "takes no number"
        case (.required, 2...), (.optional, 2...): wrong = "takes one number"
        case (.pair, 0...1), (.pair, 3...): wrong = "needs two numbers, e.g. \(name)(-1, -1)"
        default: wrong = nil
        }
        if let wrong {
            throw InvalidArgumentError(
                function: caller,
                message: "\"\(name)\" \(wrong); valid forms: \(Initializer.validNames.joined(separator: ", "))")
        }
        self = try form.make(arguments, hiddenSize)
    }

    /// Draws a row-major `rows × cols` matrix (a bias is `rows × 1`).
    /// - Parameters:
    ///   - rows: Output size (fan-out), ≥ 1.
    ///   - cols: Input size (fan-in), ≥ 1.
    ///   - rng: The random source; deterministic initialisers do not draw from it.
    /// - Returns: `rows * cols` values, row-major.
    /// - Throws: `InvalidArgumentError` for non-positive shapes or non-finite/negative
    ///   parameters; `GSLError` if GSL's QR fails.
    public func values(rows: Int, cols: Int, using rng: RandomSource) throws -> [Double] {
        let caller = "Initializer.values(\(self))"
        try require(rows > 0 && cols > 0, caller, "shape must be positive, got \(rows) × \(cols)")
        let count = rows * cols
        let fanSum = Double(rows + cols)
        func finite(_ x: Double, _ what: String) throws {
            try require(x.isFinite, caller, "\(what) must be finite, got \(x)")
        }
        switch self {
        case .uniform(let bound):
            try require(bound.isFinite && bound >= 0, caller, "bound must be finite and ≥ 0, got \(bound)")
            return rng.uniformArray(count: count, low: -bound, high: bound)
        case .pytorchRecurrentDefault(let hiddenSize):
            try require(hiddenSize > 0, caller, "hidden size must be positive, got \(hiddenSize)")
            let bound = 1 / Double(hiddenSize).squareRoot()
            return rng.uniformArray(count: count, low: -bound, high: bound)
        case .glorotUniform(let gain):
            try finite(gain, "gain")
            let bound = abs(gain) * (6 / fanSum).squareRoot()
            return rng.uniformArray(count: count, low: -bound, high: bound)
        case .glorotNormal(let gain):
            try finite(gain, "gain")
            return rng.gaussianArray(count: count, standardDeviation: abs(gain) * (2 / fanSum).squareRoot())
        case .orthogonal(let gain):
            try finite(gain, "gain")
            return try Initializer.orthogonal(rows: rows, cols: cols, gain: gain, rng: rng, caller: caller)
        case .identity:
            return Initializer.diagonal(rows: rows, cols: cols, value: 1)
        case .scaledIdentity(let scale):
            try finite(scale, "scale")
            return Initializer.diagonal(rows: rows, cols: cols, value: scale)
        case .constant(let value):
            try finite(value, "value")
            return [Double](repeating: value, count: count)
        case .zeros:
            return [Double](repeating: 0, count: count)
        case let .progression(first, step):
            try finite(first, "first value")
            try finite(step, "step")
            return (0..<count).map { first + Double($0 % cols) * step }
        }
    }

    /// Chrono initialisation of LSTM gate biases (Tallec & Ollivier 2018, "Can recurrent
    /// neural networks warp time?"): b_f = log(U(1, maxSteps − 1)), b_i = −b_f, so forget-gate
    /// time constants spread over the range of dependencies the task needs.
    /// - Parameters:
    ///   - count: The hidden size (number of biases per gate), ≥ 0.
    ///   - maxSteps: The longest dependency expected, T_max > 2.
    ///   - rng: The random source.
    /// - Returns: Forget-gate biases in [0, log(maxSteps − 1)) and input-gate biases, their negatives.
    /// - Throws: `InvalidArgumentError` if `maxSteps ≤ 2` (the range would be empty) or `count < 0`.
    public static func chronoBiases(count: Int, maxSteps: Double, using rng: RandomSource) throws
        -> (forget: [Double], input: [Double])
    {
        let caller = "Initializer.chronoBiases"
        try require(maxSteps.isFinite && maxSteps > 2, caller,
                    "maxSteps must be finite and > 2 (biases are log U(1, maxSteps − 1)), got \(maxSteps)")
        try require(count >= 0, caller, "count must be ≥ 0, got \(count)")
        let forget = rng.uniformArray(count: count, low: 1, high: maxSteps - 1).map { log($0) }
        return (forget, forget.map { -$0 })
    }

    private static func diagonal(rows: Int, cols: Int, value: Double) -> [Double] {
        var result = [Double](repeating: 0, count: rows * cols)
        for i in 0..<min(rows, cols) { result[i * cols + i] = value }
        return result
    }

    /// QR of a Gaussian matrix (Householder, `gsl_linalg_QR_decomp`); column j of the thin Q
    /// is Q·e_j (`gsl_linalg_QR_Qvec`), which needs m × n memory rather than the full m × m of
    /// `gsl_linalg_QR_unpack`. Multiplying column j by sign(R_jj) makes the factorisation
    /// unique and Q Haar-distributed (Mezzadri 2007). Wide shapes orthogonalise the transpose.
    private static func orthogonal(rows: Int, cols: Int, gain: Double, rng: RandomSource, caller: String)
        throws -> [Double]
    {
        let (m, n) = rows >= cols ? (rows, cols) : (cols, rows)
        let a = try GSLMatrix(rows: m, cols: n, rowMajor: rng.gaussianArray(count: m * n), caller: caller)
        let tau = try GSLVector(count: n, caller: caller)
        try a.decomposeQR(tau: tau, caller: caller)
        let column = try GSLVector(count: m, caller: caller)
        var result = [Double](repeating: 0, count: m * n)
        for j in 0..<n {
            for i in 0..<m { column[i] = i == j ? 1 : 0 }
            try GSLCall.status(caller) { gsl_linalg_QR_Qvec(a.pointer, tau.pointer, column.pointer) }
            let scale = a[j, j] < 0 ? -gain : gain
            for i in 0..<m { result[i * n + j] = column[i] * scale }
        }
        return rows >= cols ? result : transposed(rows: m, cols: n, result)
    }
}

/// Integers without a fractional part (`1`), everything else in Swift's shortest
/// round-tripping form (`0.1`), so names parse back to the same value.
private func formatted(_ x: Double) -> String {
    x == x.rounded() && abs(x) < 1e15 ? String(Int(x)) : "\(x)"
}
