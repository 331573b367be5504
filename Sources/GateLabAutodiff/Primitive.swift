/// The closed set of primitive operations of GateLab's graph.
///
/// Every other operation (`1 − z`, a hard sigmoid, gate slicing, a linear layer) is composed
/// from these in plain functions and needs no gradient code of its own. Everything about a
/// primitive — its result's shape, forward kernel, vector-Jacobian product, the values that
/// VJP reads, its name and printed form — sits in its family's file in `Ops/`
/// (`PrimitiveFamily`; `family` below is the one switch over every primitive).
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

    // Stop-gradient (Ops/StopGradient.swift).
    /// `a` forward; no gradient flows back through it.
    case stopGradient

    // Reductions (Ops/Reductions.swift).
    /// Sum of all elements, 1 × 1.
    case sumAll

    // Losses (Ops/Losses.swift).
    /// Mean over rows of `−log softmax(logits)[label]`, 1 × 1; the labels (an input of
    /// integer class indices, rows × 1) receive no gradient.
    case softmaxCrossEntropy

    /// Whether this is a leaf (has no operands).
    public var isLeaf: Bool {
        switch self { case .input, .parameter, .constant: return true; default: return false }
    }

    /// A short lowercase name, used in error messages and graph dumps.
    public var name: String { family.name(self) }

    /// Whether operand `index` receives a gradient. Listed explicitly: an operand that does not
    /// is an error to differentiate through, never a silent zero.
    public func isDifferentiable(operand index: Int) -> Bool {
        switch self {
        case .softmaxCrossEntropy: return index == 0
        default: return true
        }
    }

    /// Whether the output's rows depend only on the same rows of its operands, so that it can
    /// run once over the rows of every time step stacked together (used to hoist input
    /// projections out of a recurrence). Row-broadcast operands are allowed; reductions over
    /// rows are not.
    var rowsAreIndependent: Bool { family.rowsAreIndependent(self) }

    /// Whether its family has a row-range kernel for it (elementwise ops and activations):
    /// an instruction of it can be split across cores by rows.
    var hasRowKernel: Bool { family.hasRowKernel(self) }

    /// The result's shape, or a message saying why the operands do not fit.
    func resultShape(_ s: [Shape]) -> Result<Shape, ShapeMismatch> { family.resultShape(self, s) }
}

/// Why operands do not fit an operation.
struct ShapeMismatch: Error { var reason: String }
