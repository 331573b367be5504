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
    /// `out = op(operands[0 ..< count])` on whole tensors.
    /// - Throws: `KernelError` for data the op cannot take.
    static func forward(_ op: Primitive, operands: UnsafeMutablePointer<Arg>, count: Int, into out: Arg) throws
    /// Adds the VJP into `gradients[0 ..< count]` (a nil pointer: no gradient wanted), given the
    /// operands, the output and its gradient `g`.
    static func vjp(_ op: Primitive, operands: UnsafeMutablePointer<Arg>, gradients: UnsafeMutablePointer<Arg>, count: Int,
                    output out: Arg, outputGradient g: Arg)
    /// Which values the VJP reads: its operands', its output's.
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool)
    /// `op` applied to printed operands, in an equation.
    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand
    /// The label of `op` in a Graphviz node (default: its name).
    static func symbol(_ op: Primitive) -> String
    /// Whether `op` treats each row independently (see `Primitive.isRowwise`; default: no).
    static func isRowwise(_ op: Primitive) -> Bool
}

extension PrimitiveFamily {
    static func symbol(_ op: Primitive) -> String { name(op) }
    static func isRowwise(_ op: Primitive) -> Bool { false }
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
        case .sumAll, .sumRows, .meanAll, .meanRows: return Reductions.self
        case .meanSquaredError, .softmaxCrossEntropy: return Losses.self
        }
    }

    /// `out = op(operands)` on whole tensors (`args[0 ..< count]`, broadcasting as the op does).
    func forward(_ args: UnsafeMutablePointer<Arg>, _ count: Int, _ out: Arg) throws {
        try family.forward(self, operands: args, count: count, into: out)
    }

    /// Adds the VJP into the operands' gradients `grads[0 ..< count]`.
    func vjp(_ args: UnsafeMutablePointer<Arg>, _ grads: UnsafeMutablePointer<Arg>, _ count: Int, _ out: Arg, _ g: Arg) {
        family.vjp(self, operands: args, gradients: grads, count: count, output: out, outputGradient: g)
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
    static func forward(_ op: Primitive, operands: UnsafeMutablePointer<Arg>, count: Int, into out: Arg) {}
    static func vjp(_ op: Primitive, operands: UnsafeMutablePointer<Arg>, gradients: UnsafeMutablePointer<Arg>, count: Int,
                    output out: Arg, outputGradient g: Arg) {}
    static func vjpReads(_ op: Primitive) -> (operands: Bool, output: Bool) { (false, false) }
    /// (Leaves print by name; `EquationPrinter` does that before asking a family.)
    static func printed(_ op: Primitive, _ a: [PrintedOperand], _ style: PrintStyle) -> PrintedOperand {
        PrintedOperand(text: name(op), precedence: 10)
    }
}
