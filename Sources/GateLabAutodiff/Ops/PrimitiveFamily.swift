// One family of primitives, one file in Ops/: everything about its ops in one place — the
// result's shape, the forward kernel, the vector-Jacobian product beside it, the values that
// VJP reads (which a program keeps for the reverse pass), and the printed form. A primitive
// reaches its family through `Primitive.family`, the one switch over every primitive; both
// executors run a node through `Primitive.forward` / `vjp` below, and the fused instructions
// call the families' per-element derivatives (`Activations.sigmoidVJP`, …) instead of
// spelling them again.

/// A family of primitives (matrix product, elementwise arithmetic, activations, structure,
/// reductions, losses, leaves).
protocol PrimitiveFamily {
    /// A short lowercase name of `op`, used in error messages and graph dumps.
    static func name(_ op: Primitive) -> String
    /// The result's shape for operands of shapes `s`, or why they do not fit.
    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch>
    // Each family also has `forward(_:operands:count:into:)` and `vjp(_:operands:gradients:count:output:outputGradient:)`,
    // generic in the scalar; they are not requirements here because an existential call
    // cannot be specialized (Notes/float32.md): `Primitive.forward` / `vjp` switch over the
    // families instead.
    /// Which values the VJP reads: its operands', its output's.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool)
    /// `op` applied to printed operands, in an equation.
    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand
    /// The label of `op` in a Graphviz node (default: its name).
    static func symbol(_ op: Primitive) -> String
    /// Whether `op`'s output rows depend only on the same rows of its full-shape operands (see
    /// `Primitive.rowsAreIndependent`; default: no).
    static func rowsAreIndependent(_ op: Primitive) -> Bool
    /// Whether the family has a row-range kernel for `op` (`Instruction.hasRowKernel`: split
    /// across cores by rows, chained in a `RowSection`; default: no).
    static func hasRowKernel(_ op: Primitive) -> Bool
}

extension PrimitiveFamily {
    static func symbol(_ op: Primitive) -> String { name(op) }
    static func rowsAreIndependent(_ op: Primitive) -> Bool { false }
    static func hasRowKernel(_ op: Primitive) -> Bool { false }
}

extension Primitive {
    /// The family that defines this primitive.
    var family: any PrimitiveFamily.Type {
        switch self {
        case .input, .parameter, .constant: return Leaves.self
        case .matmul: return MatMul.self
        case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .square, .sqrt: return Elementwise.self
        case .sigmoid, .tanh, .relu: return Activations.self
        case .concatColumns, .sliceColumns: return Structure.self
        case .stopGradient: return StopGradient.self
        case .sumAll: return Reductions.self
        case .softmaxCrossEntropy: return Losses.self
        }
    }

    /// `out = op(operands)` on whole tensors (`args[0 ..< count]`, broadcasting as the op does).
    /// (The same switch as `family`, calling each family's kernel generic in the scalar.)
    /// - Throws: `KernelError` for data the op cannot take.
    func forward<S: Scalar>(_ args: UnsafeMutablePointer<Arg<S>>, _ count: Int, _ out: Arg<S>) throws {
        switch self {
        case .input, .parameter, .constant: break
        case .matmul: MatMul.forward(self, operands: args, count: count, into: out)
        case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .square, .sqrt: Elementwise.forward(self, operands: args, count: count, into: out)
        case .sigmoid, .tanh, .relu: Activations.forward(self, operands: args, count: count, into: out)
        case .concatColumns, .sliceColumns: Structure.forward(self, operands: args, count: count, into: out)
        case .sumAll: Reductions.forward(self, operands: args, count: count, into: out)
        case .softmaxCrossEntropy: try Losses.forward(self, operands: args, count: count, into: out)
        case .stopGradient: StopGradient.forward(self, operands: args, count: count, into: out)
        }
    }

    /// Adds the VJP into the operands' gradients `grads[0 ..< count]` (a nil pointer: no
    /// gradient wanted), given the operands, the output and its gradient `g`.
    func vjp<S: Scalar>(_ args: UnsafeMutablePointer<Arg<S>>, _ grads: UnsafeMutablePointer<Arg<S>>, _ count: Int, _ out: Arg<S>, _ g: Arg<S>) {
        switch self {
        case .input, .parameter, .constant: break
        case .matmul: MatMul.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .square, .sqrt:
            Elementwise.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        case .sigmoid, .tanh, .relu: Activations.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        case .concatColumns, .sliceColumns: Structure.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        case .sumAll: Reductions.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        case .softmaxCrossEntropy: Losses.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        case .stopGradient: StopGradient.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
        }
    }

    /// Which values the VJP reads: its operands', its output's. (A program keeps these for
    /// every step; the others may live in one scratch frame.)
    var vjpReads: (operands: Bool, output: Bool) { family.vjpReads(self) }
}

/// Leaves: fed, set or constant values; no kernel, no VJP.
enum Leaves: PrimitiveFamily {
    static func name(_ op: Primitive) -> String {
        switch op { case .input: return "input"; case .parameter: return "parameter"; default: return "constant" }
    }
    static func resultShape(_ op: Primitive, _ s: [Shape]) -> Result<Shape, ShapeMismatch> {
        .failure(ShapeMismatch(reason: "a leaf has no operands"))
    }
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (false, false) }
    /// (Leaves print by name; `EquationPrinter` does that before asking a family.)
    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        PrintedOperand(text: name(op), precedence: 10)
    }
}
