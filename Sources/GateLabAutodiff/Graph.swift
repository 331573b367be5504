/// The core of the engine: a recorded graph of primitive operations over 2-D tensors.
///
/// A graph is built once, symbolically — leaves (inputs, parameters, constants) and
/// operations on them — and then evaluated any number of times by a `Program`, which runs the
/// forward kernels in recording order and the vector-Jacobian products in reverse order,
/// *adding* each contribution into the operand's gradient (so a value used twice receives the
/// sum, and a broadcast operand the sum over the broadcast dimension).
///
/// Shape errors are caught while building: the first one is recorded with the op and both
/// shapes, every value depending on it is marked invalid, and `validate()` (called by
/// `Program`) throws it. Building never traps.
public final class Graph {
    /// One recorded operation or leaf.
    public struct Node: Sendable {
        /// The primitive.
        public let op: Primitive
        /// Indices of the operand nodes (always earlier nodes: recording order is topological).
        public let operands: [Int]
        /// The result's shape.
        public let shape: Shape
        /// The user's name for the value, if any; printed equations use it.
        public var name: String?
        /// The value of a constant leaf.
        public let constant: Tensor?
        /// False when the node could not be built (a shape error upstream).
        public let isValid: Bool
        /// Where the node was written, when a cell file built it (`mycell.cell line 4: hc = …`):
        /// a NaN found in it is reported there (`ProgramError.nonFinite`).
        public var origin: String?
    }

    /// The nodes in recording order (a topological order).
    public private(set) var nodes: [Node] = []
    /// The first error met while building, if any.
    public private(set) var firstError: AutodiffError?

    /// Creates an empty graph.
    public init() {}

    /// A leaf fed at each evaluation (an input, a previous state, labels).
    /// - Parameters:
    ///   - name: the name used in printed equations and error messages.
    ///   - rows: rows (the batch).
    ///   - cols: columns (features).
    public func input(_ name: String, rows: Int, cols: Int) -> Value {
        leaf(.input, name: name, shape: Shape(rows, cols))
    }

    /// A trainable parameter.
    /// - Parameters:
    ///   - name: the name used in printed equations, weight files and error messages.
    ///   - rows: rows (for a weight matrix in PyTorch layout, the output size).
    ///   - cols: columns (the input size).
    public func parameter(_ name: String, rows: Int, cols: Int) -> Value {
        leaf(.parameter, name: name, shape: Shape(rows, cols))
    }

    /// A constant tensor.
    /// - Parameter value: its value.
    public func constant(_ value: Tensor) -> Value {
        append(Node(op: .constant, operands: [], shape: value.shape, name: nil, constant: value, isValid: true))
    }

    /// A 1 × 1 constant, which broadcasts against any shape.
    /// - Parameter value: its value.
    public func constant(_ value: Double) -> Value { constant(Tensor(rows: 1, cols: 1, scalars: [value])) }

    /// Records `op` applied to `operands` (which must belong to this graph).
    ///
    /// - Parameters:
    ///   - op: a non-leaf primitive.
    ///   - operands: its operands.
    /// - Returns: the result. When shapes do not fit, the error is recorded (see `firstError`)
    ///   and the returned value is marked invalid.
    public func apply(_ op: Primitive, _ operands: [Value]) -> Value {
        precondition(!op.isLeaf, "apply: \(op.name) is a leaf")
        precondition(operands.allSatisfy { $0.graph === self }, "apply: operand from another graph")
        let ids = operands.map(\.id)
        let inputsValid = ids.allSatisfy { nodes[$0].isValid }
        var shape = Shape(0, 0)
        var valid = inputsValid
        if inputsValid {
            switch op.resultShape(ids.map { nodes[$0].shape }) {
            case .success(let s): shape = s
            case .failure(let m):
                valid = false
                let described = ids.map { "\(nodes[$0].name ?? "%\($0)") \(nodes[$0].shape)" }
                record(.shapeMismatch(op: op.name, operands: described, reason: m.reason))
            }
        }
        return append(Node(op: op, operands: ids, shape: shape, name: nil, constant: nil, isValid: valid))
    }

    /// Gives `value` a name, used in printed equations (`c = f ⊙ c_prev + i ⊙ g`).
    public func setName(_ name: String, of value: Value) { nodes[value.id].name = name }

    /// Marks every node recorded from id `first` on that has no origin yet as written at
    /// `origin` (a cell file's line: the nodes one equation built).
    public func setOrigin(_ origin: String, fromNode first: Int) {
        for id in first..<nodes.count where nodes[id].origin == nil { nodes[id].origin = origin }
    }

    /// The value of node `id`.
    public func value(_ id: Int) -> Value { Value(graph: self, id: id) }

    /// Throws the first error met while building, if any.
    public func validate() throws { if let e = firstError { throw e } }

    private func leaf(_ op: Primitive, name: String, shape: Shape) -> Value {
        if shape.rows <= 0 || shape.cols <= 0 {
            record(.invalidShape(name: name, shape: shape))
        }
        if nodes.contains(where: { $0.op.isLeaf && $0.name == name }) {
            record(.duplicateName(name))
        }
        return append(Node(op: op, operands: [], shape: shape, name: name, constant: nil, isValid: shape.count > 0))
    }

    private func append(_ node: Node) -> Value {
        nodes.append(node)
        return Value(graph: self, id: nodes.count - 1)
    }

    private func record(_ e: AutodiffError) { if firstError == nil { firstError = e } }
}

/// A handle to one value of a graph: what graph-building code passes around.
public struct Value {
    /// The graph the value belongs to.
    public let graph: Graph
    /// Its node's index.
    public let id: Int
    /// The node.
    public var node: Graph.Node { graph.nodes[id] }
    /// The shape.
    public var shape: Shape { node.shape }
    /// The name, if any.
    public var name: String? { node.name }

    /// Names this value and returns it, so that an equation reads `let c = (f ⊙ c0 + i ⊙ g).named("c")`.
    @discardableResult
    public func named(_ name: String) -> Value { graph.setName(name, of: self); return self }
}

/// Errors of graph building and evaluation.
public enum AutodiffError: Error, Equatable, CustomStringConvertible {
    /// Operands whose shapes do not fit the op.
    case shapeMismatch(op: String, operands: [String], reason: String)
    /// A leaf with a zero or negative dimension.
    case invalidShape(name: String, shape: Shape)
    /// Two leaves with the same name.
    case duplicateName(String)
    /// A fed tensor of the wrong shape.
    case feedShape(name: String, expected: Shape, got: Shape)
    /// A leaf that is not fed or set.
    case unknownName(String)
    /// A gradient asked of a value whose only path to the loss is through an operand the op
    /// does not differentiate (e.g. the labels of softmaxCrossEntropy).
    case noGradient(value: String, op: String)
    /// A seed for the reverse pass that is not 1 × 1 or not the output's shape.
    case badSeed(String)
    /// A gradient asked of an input leaf the program was built not to differentiate.
    case notDifferentiated(String)

    public var description: String {
        switch self {
        case let .shapeMismatch(op, operands, reason):
            return "\(op): shapes do not fit — \(operands.joined(separator: ", ")): \(reason)"
        case let .invalidShape(name, shape): return "\(name): invalid shape \(shape)"
        case let .duplicateName(n): return "two leaves are named '\(n)'"
        case let .feedShape(name, e, g): return "\(name): expected a \(e) tensor, got \(g)"
        case let .unknownName(n): return "no value named '\(n)' is fed"
        case let .noGradient(v, op): return "\(v): no gradient — it reaches the loss only through \(op), which does not differentiate that operand"
        case let .badSeed(m): return "reverse pass: \(m)"
        case let .notDifferentiated(v): return "\(v): no gradient — the program was built without one for this input (withoutGradient)"
        }
    }
}
