/// The closed set of primitive operations of GateLab's graph.
///
/// Every other operation (`1 − z`, a hard sigmoid, gate slicing, a linear layer) is composed
/// from these in plain functions and needs no gradient code of its own. Each primitive's
/// forward kernel and vector-Jacobian product sit side by side in `Ops/`, one file per family.
public enum Primitive: Hashable, Sendable {
    // Leaves.
    /// A value fed from outside at each evaluation (inputs, previous states, labels).
    case input
    /// A trainable parameter: shared by every time step, gradients accumulated over steps.
    case parameter
    /// A constant tensor (scalars such as the 1 in `1 − z` are 1 × 1 constants).
    case constant

    // Matrix product (Ops/MatMul.swift).
    /// `op(a) · op(b)`, `op` transposing its operand when asked.
    case matmul(transposeA: Bool, transposeB: Bool)

    // Elementwise binary, with broadcasting of rows (biases) and scalars (Ops/Elementwise.swift).
    /// `a + b`.
    case add
    /// `a − b`.
    case subtract
    /// `a ⊙ b` (Hadamard product).
    case multiply
    /// `a ⊘ b` (elementwise division).
    case divide

    // Elementwise unary (Ops/Elementwise.swift and Ops/Activations.swift).
    /// `−a`.
    case negate
    /// `exp(a)`.
    case exp
    /// `log(a)` (natural logarithm).
    case log
    /// `a²`.
    case square
    /// `√a`.
    case sqrt
    /// The logistic sigmoid `σ(a) = 1 / (1 + e^−a)`.
    case sigmoid
    /// `tanh(a)`.
    case tanh
    /// `max(a, 0)`.
    case relu

    // Structure (Ops/Structure.swift).
    /// Columns of all operands side by side (gate blocks).
    case concatColumns
    /// Columns `start ..< start + count` of the operand.
    case sliceColumns(start: Int, count: Int)

    // Reductions (Ops/Reductions.swift).
    /// Sum of all elements, 1 × 1.
    case sumAll
    /// Sum over rows (the batch), 1 × cols.
    case sumRows
    /// Mean of all elements, 1 × 1.
    case meanAll
    /// Mean over rows (the batch), 1 × cols.
    case meanRows

    // Losses (Ops/Losses.swift).
    /// Mean over all elements of `(a − b)²`, 1 × 1.
    case meanSquaredError
    /// Mean over rows of `−log softmax(logits)[label]`, 1 × 1; the labels (an input of
    /// integer class indices, rows × 1) receive no gradient.
    case softmaxCrossEntropy

    /// Whether this is a leaf (has no operands).
    public var isLeaf: Bool {
        switch self { case .input, .parameter, .constant: return true; default: return false }
    }

    /// A short lowercase name, used in error messages and graph dumps.
    public var name: String {
        switch self {
        case .input: return "input"
        case .parameter: return "parameter"
        case .constant: return "constant"
        case let .matmul(ta, tb): return "matmul" + (ta ? "(Aᵀ)" : "") + (tb ? "(Bᵀ)" : "")
        case .add: return "add"
        case .subtract: return "subtract"
        case .multiply: return "multiply"
        case .divide: return "divide"
        case .negate: return "negate"
        case .exp: return "exp"
        case .log: return "log"
        case .square: return "square"
        case .sqrt: return "sqrt"
        case .sigmoid: return "sigmoid"
        case .tanh: return "tanh"
        case .relu: return "relu"
        case .concatColumns: return "concatColumns"
        case let .sliceColumns(s, c): return "sliceColumns[\(s)..<\(s + c)]"
        case .sumAll: return "sumAll"
        case .sumRows: return "sumRows"
        case .meanAll: return "meanAll"
        case .meanRows: return "meanRows"
        case .meanSquaredError: return "meanSquaredError"
        case .softmaxCrossEntropy: return "softmaxCrossEntropy"
        }
    }

    /// Whether operand `index` receives a gradient. Listed explicitly: an operand that does not
    /// is an error to differentiate through, never a silent zero.
    public func isDifferentiable(operand index: Int) -> Bool {
        switch self {
        case .softmaxCrossEntropy: return index == 0
        default: return true
        }
    }

    /// Whether the operation treats each row independently, so that it can run once over the
    /// rows of every time step stacked together (used to hoist input projections out of a
    /// recurrence). Row-broadcast operands are allowed; reductions over rows are not.
    var isRowwise: Bool {
        switch self {
        case .matmul(let ta, _): return !ta
        case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .square, .sqrt,
             .sigmoid, .tanh, .relu, .concatColumns, .sliceColumns:
            return true
        default: return false
        }
    }

    /// The result's shape, or a message saying why the operands do not fit.
    func resultShape(_ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        func fail(_ why: String) -> Result<Shape, ShapeMismatch> { .failure(ShapeMismatch(reason: why)) }
        switch self {
        case .input, .parameter, .constant:
            return fail("a leaf has no operands")
        case let .matmul(ta, tb):
            guard s.count == 2 else { return fail("needs 2 operands") }
            let (m, ka) = ta ? (s[0].cols, s[0].rows) : (s[0].rows, s[0].cols)
            let (kb, n) = tb ? (s[1].cols, s[1].rows) : (s[1].rows, s[1].cols)
            guard ka == kb else {
                return fail("inner dimensions differ: \(s[0])\(ta ? "ᵀ" : "") · \(s[1])\(tb ? "ᵀ" : "") (\(ka) ≠ \(kb))")
            }
            return .success(Shape(m, n))
        case .add, .subtract, .multiply, .divide:
            guard s.count == 2 else { return fail("needs 2 operands") }
            guard let r = broadcast(s[0].rows, s[1].rows), let c = broadcast(s[0].cols, s[1].cols) else {
                return fail("\(s[0]) and \(s[1]) do not broadcast (each dimension must match or be 1)")
            }
            return .success(Shape(r, c))
        case .negate, .exp, .log, .square, .sqrt, .sigmoid, .tanh, .relu:
            guard s.count == 1 else { return fail("needs 1 operand") }
            return .success(s[0])
        case .concatColumns:
            guard let first = s.first else { return fail("needs at least 1 operand") }
            guard s.allSatisfy({ $0.rows == first.rows }) else {
                return fail("row counts differ: " + s.map(\.description).joined(separator: ", "))
            }
            return .success(Shape(first.rows, s.reduce(0) { $0 + $1.cols }))
        case let .sliceColumns(start, count):
            guard s.count == 1 else { return fail("needs 1 operand") }
            guard start >= 0, count > 0, start + count <= s[0].cols else {
                return fail("columns \(start)..<\(start + count) are outside \(s[0])")
            }
            return .success(Shape(s[0].rows, count))
        case .sumAll, .meanAll:
            guard s.count == 1 else { return fail("needs 1 operand") }
            return .success(Shape(1, 1))
        case .sumRows, .meanRows:
            guard s.count == 1 else { return fail("needs 1 operand") }
            return .success(Shape(1, s[0].cols))
        case .meanSquaredError:
            guard s.count == 2 else { return fail("needs 2 operands") }
            guard s[0] == s[1] else { return fail("prediction \(s[0]) and target \(s[1]) differ") }
            return .success(Shape(1, 1))
        case .softmaxCrossEntropy:
            guard s.count == 2 else { return fail("needs 2 operands") }
            guard s[1] == Shape(s[0].rows, 1) else {
                return fail("labels must be \(s[0].rows)×1 for logits \(s[0]), got \(s[1])")
            }
            return .success(Shape(1, 1))
        }
    }
}

/// Why operands do not fit an operation.
struct ShapeMismatch: Error { var reason: String }

private func broadcast(_ a: Int, _ b: Int) -> Int? {
    a == b ? a : (a == 1 ? b : (b == 1 ? a : nil))
}
