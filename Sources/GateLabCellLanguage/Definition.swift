import GateLabCells
import GateLabGSL

/// The resolved form of a cell file: what `Analyzer` produces and `LanguageCell` records.

/// The width of a vector value or of a matrix's rows or columns: the layer input's I, the
/// hidden H, or a declared width ⌈H / divisor⌉ (`width B = H / 2`: memory blocks of 2 cells).
enum Width: Sendable, Equatable {
    case input, hidden
    case declared(name: String, divisor: Int)

    /// Its size in a layer of `inputSize` inputs and `hiddenSize` units.
    func size(inputSize: Int, hiddenSize: Int) -> Int {
        switch self {
        case .input: return inputSize
        case .hidden: return hiddenSize
        case .declared(_, let d): return (hiddenSize + d - 1) / d
        }
    }
}

/// A resolved expression: every name bound to what it denotes, constants folded.
indirect enum Term: Sendable {
    /// A number (a 1 × 1 constant that broadcasts).
    case constant(Double)
    /// `x`, the layer's input at this step.
    case input
    /// A state's previous value (`h`), by state index.
    case previous(Int)
    /// A state's new value in the layer below at this step (`c_below'`), by state index.
    case below(Int)
    /// The value of an equation (`f`, or a new state `h'`), by index in build order.
    case value(Int)
    /// A parameter, by name.
    case parameter(String)
    /// `W v`, the matrix product with a weight.
    case product(String, Term)
    /// An elementwise binary operation.
    case binary(BinaryOperator, Term, Term)
    /// `-a`.
    case negate(Term)
    /// `expand(a)`: a value of width ⌈H / divisor⌉ spread over H, entry j over entries
    /// j·divisor ..< (j+1)·divisor (a block's gate over its cells).
    case expand(Term, divisor: Int)
    /// An activation, by canonical name.
    case function(String, Term)
}

/// One equation, resolved.
struct CompiledEquation: Sendable {
    /// The defined value's name as printed: `f`, or `h'` for a new state.
    var name: String
    /// What it computes.
    var term: Term
    /// The comment on its line, used by `show --explain`.
    var explanation: String?
    /// The line of the cell file it is written on (1-based), for locating a NaN to it.
    var line: Int = 0
}

/// One parameter: shape, role and initializer, as inferred from its uses.
struct ParameterInfo: Sendable {
    enum Shape: Sendable, Equatable {
        /// rows × columns: the weight of a matrix product (rows H unless the product is used
        /// where another width is needed).
        case matrix(rows: Width, columns: Width)
        /// 1 × n: a bias or a per-unit (diagonal) weight.
        case vector(Width)
    }
    var name: String
    var shape: Shape
    var role: ParameterRole
    /// A vector only ever added (`+ b`), as opposed to a per-unit weight (`u ⊙ h`).
    var isBias: Bool
    var gate: String
    /// Its own initializer, from an `init` line (the hidden size of `pytorch-default` is
    /// filled in per network).
    var initializer: Initializer?
}

/// A parsed, checked cell: what `LanguageCell` records on the graph.
struct CellDefinition: Sendable {
    var name: String
    var states: [String]
    /// Each state's width (H unless declared `state i o : B`).
    var stateWidths: [Width]
    /// In build order (every equation after those it uses).
    var equations: [CompiledEquation]
    /// For each state, the index of the equation of its new value.
    var newState: [Int]
    /// In the order the initializer draws them.
    var parameters: [ParameterInfo]
    var readsBelow: Bool
    var gateCount: Int
}
