// The one table from a primitive to its kernels: its forward, its VJP and the values that VJP
// reads, each routed to the op family that writes them (one file per family beside this one).
// Both executors run a node through these (the fast program's plain instructions, and the
// reference executor for every node); the fused instructions (FusedSums.swift) call the same
// families' per-element derivatives (`Activations.sigmoidVJP`, …) instead of spelling them again.

extension Primitive {
    /// `out = op(operands)` on whole tensors (`args[0 ..< count]`, broadcasting as the op does).
    /// - Throws: `KernelError` for data the op cannot take (a label that is not a class index).
    func forward(_ args: UnsafeMutablePointer<Arg>, _ count: Int, _ out: Arg) throws {
        switch self {
        case .input, .parameter, .constant: break
        case let .matmul(ta, tb): MatMul.forward(transposeA: ta, transposeB: tb, args[0], args[1], out)
        case .add, .subtract, .multiply, .divide: Elementwise.forward(self, args[0], args[1], out)
        case .negate, .exp, .log, .square, .sqrt: Elementwise.forwardUnary(self, args[0], out)
        case .sigmoid, .tanh, .relu: Activations.forward(self, args[0], out)
        case .concatColumns: Structure.concatForward(args, count, out)
        case let .sliceColumns(start, _): Structure.sliceForward(start: start, args[0], out)
        case .sumAll, .sumRows, .meanAll, .meanRows: Reductions.forward(self, args[0], out)
        case .meanSquaredError: Losses.mseForward(args[0], args[1], out)
        case .softmaxCrossEntropy: try Losses.crossEntropyForward(args[0], args[1], out)
        }
    }

    /// Adds the VJP into the operands' gradients `grads[0 ..< count]` (a nil pointer: no
    /// gradient wanted), given the operands, the output and its gradient `g`.
    func vjp(_ args: UnsafeMutablePointer<Arg>, _ grads: UnsafeMutablePointer<Arg>, _ count: Int, _ out: Arg, _ g: Arg) {
        switch self {
        case .input, .parameter, .constant: break
        case let .matmul(ta, tb): MatMul.vjp(transposeA: ta, transposeB: tb, args[0], args[1], g, grads[0], grads[1])
        case .add, .subtract, .multiply, .divide: Elementwise.vjp(self, args[0], args[1], out, g, grads[0], grads[1])
        case .negate, .exp, .log, .square, .sqrt: Elementwise.vjpUnary(self, args[0], out, g, grads[0])
        case .sigmoid, .tanh, .relu: Activations.vjp(self, args[0], out, g, grads[0])
        case .concatColumns: Structure.concatVJP(grads, count, g)
        case let .sliceColumns(start, _): Structure.sliceVJP(start: start, g, grads[0])
        case .sumAll, .sumRows, .meanAll, .meanRows: Reductions.vjp(self, args[0], g, grads[0])
        case .meanSquaredError: Losses.mseVJP(args[0], args[1], g, grads[0], grads[1])
        case .softmaxCrossEntropy: Losses.crossEntropyVJP(args[0], args[1], g, grads[0])
        }
    }

    /// Which values the VJP reads: its operands', its output's. (A program keeps these for
    /// every step; the others may live in one scratch frame.)
    var vjpReads: (operands: Bool, output: Bool) {
        switch self {
        case .multiply, .log, .square, .relu, .matmul, .meanSquaredError, .softmaxCrossEntropy: return (true, false)
        case .divide: return (true, true)
        case .exp, .sqrt, .sigmoid, .tanh: return (false, true)
        default: return (false, false)
        }
    }
}
