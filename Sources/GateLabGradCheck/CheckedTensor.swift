/// One parameter tensor handed to the gradient checker: its current values and the gradient
/// of the loss with respect to it that the engine under test (reverse mode) computed.
///
/// Both arrays are row-major: element `(row, col)` is at index `row * cols + col`, and all
/// indices in reports are zero-based. A vector is a `1 × n` (or `n × 1`) tensor, a scalar `1 × 1`.
public struct CheckedTensor: Sendable, Equatable {
    /// The name used in reports and errors (e.g. `"W_z"`).
    public var name: String
    /// Number of rows.
    public var rows: Int
    /// Number of columns.
    public var cols: Int
    /// The parameter values θ, row-major, `rows * cols` of them.
    public var values: [Double]
    /// The analytic gradient ∂L/∂θ to be checked, row-major, same count as `values`.
    public var analyticGradient: [Double]

    /// Creates a tensor to check.
    /// - Parameters:
    ///   - name: The name used in reports and errors.
    ///   - rows: Number of rows (at least 1).
    ///   - cols: Number of columns (at least 1).
    ///   - values: The parameter values, row-major.
    ///   - analyticGradient: The gradient to check, row-major.
    public init(name: String, rows: Int, cols: Int, values: [Double], analyticGradient: [Double]) {
        self.name = name
        self.rows = rows
        self.cols = cols
        self.values = values
        self.analyticGradient = analyticGradient
    }

    /// Throws unless the shape is non-empty and both arrays hold `rows * cols` elements.
    func validate() throws {
        guard rows >= 1, cols >= 1 else {
            throw GradientCheckError.emptyShape(tensor: name, rows: rows, cols: cols)
        }
        guard values.count == rows * cols, analyticGradient.count == rows * cols else {
            throw GradientCheckError.shapeMismatch(
                tensor: name, rows: rows, cols: cols,
                valueCount: values.count, gradientCount: analyticGradient.count)
        }
    }
}

/// Why a gradient check could not be run. (A check that runs and finds wrong gradients is
/// not an error: it returns a report whose `passed` is `false`.)
public enum GradientCheckError: Error, Equatable, CustomStringConvertible {
    /// A tensor's arrays do not hold `rows * cols` elements.
    case shapeMismatch(tensor: String, rows: Int, cols: Int, valueCount: Int, gradientCount: Int)
    /// A tensor has no elements (a zero or negative dimension).
    case emptyShape(tensor: String, rows: Int, cols: Int)
    /// An option is out of range; the message says which and why.
    case invalidOption(String)
    /// No tensors were given, so there is nothing to check.
    case noTensors
    /// The loss at the unperturbed parameters is NaN or infinite, so no difference is
    /// meaningful; `location` says where the first non-finite value appeared, when the
    /// caller could find it (a cell file's line, the primitive, the time step).
    case nonFiniteLoss(Double, location: String? = nil)

    /// A message that says what to fix.
    public var description: String {
        switch self {
        case let .shapeMismatch(tensor, rows, cols, valueCount, gradientCount):
            return "tensor '\(tensor)' is declared \(rows)×\(cols) (\(rows * cols) elements) "
                + "but has \(valueCount) values and \(gradientCount) analytic-gradient entries"
        case let .emptyShape(tensor, rows, cols):
            return "tensor '\(tensor)' has shape \(rows)×\(cols); a checked tensor needs at "
                + "least one row and one column"
        case let .invalidOption(message):
            return "invalid gradient-check option: \(message)"
        case .noTensors:
            return "nothing to check: no tensors were given"
        case let .nonFiniteLoss(value, location):
            return "the loss at the given parameters is \(value)" + (location.map { " (\($0))" } ?? "")
                + "; gradients can only be checked where it is finite"
        }
    }
}
