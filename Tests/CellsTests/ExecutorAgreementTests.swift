import Testing
@testable import GateLabCells
@testable import GateLabAutodiff
import GateLabGSL
import GateLabCellLanguage
import Foundation

/// The fast program against the plain reference executor, for every cell GateLab ships.
///
/// What holds where, and why:
/// - **Forward values, bit for bit at B = 64.** Both executors call the same kernels on the
///   same numbers in the same order: fused sums add their addends in the graph's order, the
///   fused `a ⊙ b + c ⊙ d` rounds each product before the sum as the two multiplies and the
///   add do, and a split over the cores only divides rows. The products — one DGEMM over the
///   stacked gates or over a block of steps' stacked rows against one per gate and step —
///   compute each element as the same dot product in the same order (OpenBLAS's DGEMM kernels
///   block over rows and columns, not over the inner dimension at these sizes).
/// - **Forward values to 1e-13 at B = 1.** There a step's product has one row, and the
///   reference runs it as a matrix–vector product (DGEMV, see `MatMul.product`) where the fast
///   program's hoisted input projection is one DGEMM over a block's 1024 stacked rows; DGEMV's
///   kernel accumulates a dot product in another order than DGEMM's, so the last bit may
///   differ (measured: at most 7e-16 absolute in the outputs).
/// - **Gradients, to 1e-13 (relative, per tensor).** The fast program re-blocks three sums:
///   ∂h += [G_i G_f …]·[W_i; W_f; …] is one product over all gates (one dot product of length
///   4H) where the reference adds one product per gate; ∂W += Σ_t G_tᵀ a_t is one DGEMM per
///   block of steps where the reference adds a rank-B product per step; the hoisted input
///   projection's VJP is one product over a block of steps. The same numbers are added in
///   another order, so they agree to rounding, not in their bits.
/// - **Checkpointing changes no bit, in either executor**: segments are whole blocks for the
///   fast program (so the blocked sums are the same), and the reference adds step by step.
@Suite("The fast program agrees with the reference executor")
struct ExecutorAgreementTests {
    static let cellFiles: [String] = {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let dir = root.appendingPathComponent("Cells")
        let files = (try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? []
        return files.filter { $0.hasSuffix(".cell") }.sorted().map { dir.appendingPathComponent($0).path }
    }()
    static let cells = BuiltinCells.names + cellFiles

    struct Run {
        var outputs: [Double], finalStates: [Double]
        var gradients: Unrolled.Gradients
        var isCheckpointed: Bool
    }

    /// Forward and reverse pass of `u` with a loss at every step.
    func run(_ u: Unrolled, _ x: [Double], _ r: [Double]) throws -> Run {
        try u.forward(inputs: x)
        let outputs = (0..<u.steps).flatMap { u.output(step: $0).scalars }
        let gradients = try u.backward(.everyStep(r))
        return Run(outputs: outputs, finalStates: u.finalState.flatMap { $0.flatMap(\.scalars) }, gradients: gradients,
                   isCheckpointed: u.isCheckpointed)
    }

    /// Every gradient tensor, named.
    func tensors(_ g: Unrolled.Gradients) -> [(String, [Double])] {
        g.weights.enumerated().flatMap { k, layer in layer.sorted { $0.key < $1.key }.map { ("\($0.key).l\(k)", $0.value.scalars) } }
            + [("x", g.inputs)]
            + g.initialState.enumerated().flatMap { k, layer in layer.enumerated().map { ("state\($0.offset).l\(k)", $0.element.scalars) } }
    }

    /// Whether two arrays hold the same bits (a Bool, so that a failure prints no arrays).
    func sameBits(_ a: [Double], _ b: [Double]) -> Bool { a.map(\.bitPattern) == b.map(\.bitPattern) }

    /// ‖a − b‖ / ‖b‖ (0 when both are zero).
    func relative(_ a: [Double], _ b: [Double]) -> Double {
        let d = euclideanNorm(zip(a, b).map { $0 - $1 }), n = euclideanNorm(b)
        return n == 0 ? d : d / n
    }

    /// The fast program with its optimizations turned off one by one: the optimizations that
    /// claim to change no bit change none (fused sums and `a ⊙ b + c ⊙ d`, reading fused
    /// products in place, row sections: compared with every optimization but the fused
    /// products); the fused products change the gradients' rounding only, not the values' bits.
    /// What differs between the unoptimized program and the reference at B = 1 is hoisting
    /// (one DGEMM over a block's rows against one DGEMV per step).
    @Test(arguments: cells, [1, 64])
    func optimizationsChangeOnlyWhatTheyClaim(_ cellName: String, batch: Int) throws {
        let cell = try BuiltinCells.resolve(cellName)
        let (I, H, layers) = (3, 6, 2)
        let T = 2 * Program.blockLength(rows: batch) + 5
        let rng = try RandomSource(seed: 12)
        var net = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: layers)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * batch * I)
        let r = rng.gaussianArray(count: T * batch * H)
        func runWith(_ options: Program.Options, _ execution: Execution = .fast) throws -> Run {
            try run(try Unrolled(network: net, batch: batch, steps: T, execution: execution, optimizations: options), x, r)
        }
        let all = try runWith(.all)
        let allButProducts = try runWith(Program.Options.all.subtracting(.fuseProducts))
        let none = try runWith([])
        let reference = try runWith([], .reference)

        // Bits: every optimization but the fused products against none at all.
        #expect(sameBits(allButProducts.outputs, none.outputs), "\(cellName) B=\(batch): outputs, fusion on / off")
        for ((label, a), (_, b)) in zip(tensors(allButProducts.gradients), tensors(none.gradients)) {
            #expect(sameBits(a, b), "\(cellName) B=\(batch): ∂L/∂\(label), fusion on / off")
        }
        // The fused products: the values' bits (B = 1 too: a wider DGEMV computes each row's dot
        // product as a narrower one does), the gradients to 1e-13.
        #expect(sameBits(all.outputs, none.outputs), "\(cellName) B=\(batch): outputs, fused products")
        for ((label, a), (_, b)) in zip(tensors(all.gradients), tensors(none.gradients)) {
            #expect(relative(a, b) <= 1e-13, "\(cellName) B=\(batch): ∂L/∂\(label) with and without fused products: \(relative(a, b))")
        }
        // Without any optimization the fast program still hoists: against the reference, the
        // same claims as `fastAgreesWithReference`.
        if batch > 1 { #expect(sameBits(none.outputs, reference.outputs), "\(cellName) B=\(batch): outputs, unoptimized against reference") }
        #expect(relative(none.outputs, reference.outputs) <= 1e-13)
        for ((label, a), (_, b)) in zip(tensors(none.gradients), tensors(reference.gradients)) {
            #expect(relative(a, b) <= 1e-13, "\(cellName) B=\(batch): ∂L/∂\(label) unoptimized against reference: \(relative(a, b))")
        }
    }

    @Test(arguments: cells, [1, 64])
    func fastAgreesWithReference(_ cellName: String, batch: Int) throws {
        let cell = try BuiltinCells.resolve(cellName)
        let (I, H, layers) = (3, 6, 2)
        let block = Program.blockLength(rows: batch)
        let T = 2 * block + 5   // two whole blocks and a partial one: checkpointed, three segments
        let rng = try RandomSource(seed: 11)
        var net = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: layers)
        try net.initialize(using: rng)
        let x = rng.gaussianArray(count: T * batch * I)
        let r = rng.gaussianArray(count: T * batch * H)

        var runs = [Execution: [Run]]()
        for execution in Execution.allCases {
            let stored = try Unrolled(network: net, batch: batch, steps: T, execution: execution)
            let budget = stored.program.bytesPerStep * block + 2 * T * batch * I * 8
            let checkpointed = try Unrolled(network: net, batch: batch, steps: T, memoryBudget: budget, execution: execution)
            runs[execution] = [try run(stored, x, r), try run(checkpointed, x, r)]
        }
        let (fast, reference) = (runs[.fast]!, runs[.reference]!)
        #expect(!fast[0].isCheckpointed && fast[1].isCheckpointed && !reference[0].isCheckpointed && reference[1].isCheckpointed)

        // Checkpointing: the same bits, in each executor.
        for (name, pair) in [("fast", fast), ("reference", reference)] {
            #expect(sameBits(pair[0].outputs, pair[1].outputs), "\(cellName) B=\(batch) \(name): outputs")
            for ((label, a), (_, b)) in zip(tensors(pair[0].gradients), tensors(pair[1].gradients)) {
                #expect(sameBits(a, b), "\(cellName) B=\(batch) \(name) checkpointed: ∂L/∂\(label)")
            }
        }
        // Forward: the same bits (B > 1), equal to 1e-13 (B = 1). Reverse: equal to 1e-13.
        for (f, ref) in zip(fast, reference) {
            if batch > 1 {
                #expect(sameBits(f.outputs, ref.outputs), "\(cellName) B=\(batch): outputs, max difference \(zip(f.outputs, ref.outputs).map { abs($0 - $1) }.max()!)")
                #expect(sameBits(f.finalStates, ref.finalStates), "\(cellName) B=\(batch): final states")
            } else {
                #expect(relative(f.outputs, ref.outputs) <= 1e-13, "\(cellName) B=1: outputs differ by \(relative(f.outputs, ref.outputs))")
                #expect(relative(f.finalStates, ref.finalStates) <= 1e-13, "\(cellName) B=1: final states")
            }
            for ((label, a), (_, b)) in zip(tensors(f.gradients), tensors(ref.gradients)) {
                #expect(a.count == b.count && relative(a, b) <= 1e-13, "\(cellName) B=\(batch): ∂L/∂\(label) differs by \(relative(a, b))")
            }
        }
    }
}
