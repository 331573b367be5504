// The forward pass in complex arithmetic, for complex-step derivatives (Squire & Trapp 1998;
// Martins, Sturdza & Alonso 2003): for a real-analytic L, L′(θ)·v = Im L(θ + ih·v) / h to
// rounding, with no subtraction, so h can be 1e-200 and the derivative is exact to ~1e-16.
//
// The loops are the reference executor's forward pass (steps, then the nodes in recording
// order, one kernel call each on whole B-row tensors), run here over complex storage (the
// executors are generic over a real `Scalar` with BLAS entry points, which `Complex` is not);
// the kernels are each primitive's complex forward, written in its family's file in Ops/ beside
// the real forward and the VJP (`complexForward`). Nothing here is fused or hoisted: this is an
// independent second evaluation of the function whose gradient the fast program computes in
// reverse mode.
import ComplexModule
import RealModule

/// One complex number of a complex-step forward pass.
public typealias ComplexValue = Complex<Double>

/// A complex kernel's view of one operand (`Arg`'s complex twin).
struct ComplexArg {
    var p: UnsafeMutablePointer<ComplexValue>
    var rows: Int
    var cols: Int
    var count: Int { rows * cols }
    var buffer: UnsafeMutableBufferPointer<ComplexValue> { UnsafeMutableBufferPointer(start: p, count: count) }
}

/// Row and column strides that read `a` broadcast to the shape of `out`.
@inline(__always)
func broadcastStrides(_ a: ComplexArg, _ out: ComplexArg) -> (row: Int, col: Int) {
    (a.rows == 1 && out.rows != 1 ? 0 : a.cols, a.cols == 1 && out.cols != 1 ? 0 : 1)
}

/// Where a complex forward pass cannot go on: a primitive met an argument at which it is not
/// analytic (log or √ at a non-positive number: a branch point or cut, where Im f(x + ih)/h is
/// not the derivative), or the loss is not finite.
public struct ComplexStepError: Error, CustomStringConvertible, Equatable {
    /// The primitive (`log`, `sqrt`, `divide`).
    public var op: String
    /// The value it computes: its equation's name, or `%id`.
    public var value: String
    /// The time step.
    public var step: Int
    /// What is wrong.
    public var reason: String
    public var description: String {
        "complex step: \(op) in \(value) at time step \(step): \(reason)"
    }
}

/// A kernel's complaint, completed with the node and step by the executor.
struct ComplexKernelError: Error { var reason: String }

/// Non-smooth primitives evaluated near their kink during a complex-step forward pass.
///
/// relu is evaluated by its real part's sign (Martins et al. 2003's rule for functions defined
/// by branching), which gives the one-sided derivative; whether that is the derivative a
/// finite-difference check sees depends on how far the check's step moves the argument. The
/// complex pass gives that distance exactly: an element whose argument is x + iy moves by
/// |y| / h per unit of the checked direction, so a finite-difference step δ moves it by
/// δ·|y| / h, and the step crosses the kink when |x| ≤ δ·|y| / h. `radius` is δ / h (0: only
/// arguments exactly at the kink count).
public final class KinkWatch {
    /// One place a kink was met: the equation (the named value the primitive feeds), the
    /// primitive and the time step.
    public struct Site: Hashable, Sendable, Comparable {
        /// The equation's name (`h'`, `f`) or `%id` for an unnamed value.
        public var equation: String
        /// The primitive (`relu`).
        public var primitive: String
        /// The time step.
        public var step: Int
        public static func < (a: Site, b: Site) -> Bool {
            (a.equation, a.primitive, a.step) < (b.equation, b.primitive, b.step)
        }
    }
    /// δ / h: how many units of the imaginary part the finite-difference step moves.
    public var radius: Double
    /// Sites met in the current pass, and whether exactly at the kink.
    public private(set) var sites: [Site: Bool] = [:]

    /// A watch for a finite-difference step δ = `radius` · h.
    public init(radius: Double) { self.radius = radius }

    /// Forgets the sites of the last pass.
    public func reset() { sites = [:] }

    /// Records `site` if any element of `x` is within the step of 0.
    func check(_ x: ComplexArg, site: () -> Site) {
        var hit = false, exact = false
        for k in 0..<x.count {
            let z = x.p[k]
            if z.real == 0 { hit = true; exact = true; break }
            if abs(z.real) <= radius * abs(z.imaginary) { hit = true }
        }
        guard hit else { return }
        let s = site()
        sites[s] = (sites[s] ?? false) || exact
    }
}

/// Runs a graph over time steps in `Complex<Double>`: the reference executor's loop with each
/// primitive's complex forward (see the file comment). Inputs are real; parameters, constants
/// and initial states may be complex (the perturbed ones carry ih·v).
public final class ComplexForward {
    /// The graph it runs.
    public let graph: Graph
    /// Number of time steps.
    public let steps: Int
    private let recurrence: [(state: Int, next: Int)]
    private let offset: [Int]
    private let isShared: [Bool]
    private let frame: Int
    private var values: [ComplexValue], shared: [ComplexValue]
    private var initialStates: [[ComplexValue]]
    /// The equation each node feeds: its own name, else the first named node reading it
    /// (directly or through unnamed values), for messages and kink sites.
    private let equation: [String]

    /// Lays out storage for `steps` steps of `graph`; at step t > 0 each `state` leaf takes the
    /// value `next` had at step t − 1.
    public init(graph: Graph, steps: Int, recurrence: [(state: Value, next: Value)]) throws {
        try graph.validate()
        precondition(steps >= 1, "ComplexForward: steps must be ≥ 1")
        self.graph = graph
        self.steps = steps
        self.recurrence = recurrence.map { ($0.state.id, $0.next.id) }
        var offset = [Int](), isShared = [Bool](), frame = 0, sharedCount = 0
        for node in graph.nodes {
            let s = node.op == .parameter || node.op == .constant
            offset.append(s ? sharedCount : frame)
            isShared.append(s)
            if s { sharedCount += node.shape.count } else { frame += node.shape.count }
        }
        (self.offset, self.isShared, self.frame) = (offset, isShared, frame)
        values = Array(repeating: .zero, count: steps * frame)
        shared = Array(repeating: .zero, count: sharedCount)
        initialStates = self.recurrence.map { Array(repeating: .zero, count: graph.nodes[$0.state].shape.count) }
        var equation = graph.nodes.enumerated().map { $1.name ?? "" }
        for id in graph.nodes.indices.reversed() where equation[id].isEmpty {
            let reader = graph.nodes.indices.first { $0 > id && graph.nodes[$0].operands.contains(id) }
            equation[id] = reader.map { equation[$0] } ?? "%\(id)"
        }
        for id in graph.nodes.indices where equation[id].isEmpty { equation[id] = "%\(id)" }
        self.equation = equation
        for (id, node) in graph.nodes.enumerated() where node.op == .constant {
            for (k, x) in node.constant!.scalars.enumerated() { shared[offset[id] + k] = ComplexValue(x) }
        }
    }

    /// Sets a parameter or constant leaf, or (for a state leaf) the initial state.
    public func set(_ leaf: Value, _ numbers: [ComplexValue]) {
        precondition(leaf.node.op.isLeaf && numbers.count == leaf.shape.count, "ComplexForward.set: \(leaf.name ?? "%\(leaf.id)") needs \(leaf.shape.count) numbers")
        if let k = recurrence.firstIndex(where: { $0.state == leaf.id }) { initialStates[k] = numbers; return }
        if isShared[leaf.id] { shared.replaceSubrange(offset[leaf.id]..<(offset[leaf.id] + numbers.count), with: numbers) }
        else { for t in 0..<steps { values.replaceSubrange((t * frame + offset[leaf.id])..<(t * frame + offset[leaf.id] + numbers.count), with: numbers) } }
    }

    /// Sets a real leaf (a parameter, or a state's initial value).
    public func set(_ leaf: Value, _ tensor: Tensor) { set(leaf, tensor.scalars.map { ComplexValue($0) }) }

    /// Sets a leaf to `real + i·imaginary` (imaginary: the complex step h·v of its elements).
    public func set(_ leaf: Value, real: [Double], imaginary: [Double]) {
        precondition(real.count == imaginary.count, "ComplexForward.set: real and imaginary parts differ in length")
        set(leaf, zip(real, imaginary).map { ComplexValue($0, $1) })
    }

    /// The real parts of `v`'s value at `step`.
    public func real(of v: Value, step: Int) -> [Double] { value(of: v, step: step).map(\.real) }

    /// The imaginary parts of `v`'s value at `step` (h times its derivative along the step).
    public func imaginary(of v: Value, step: Int) -> [Double] { value(of: v, step: step).map(\.imaginary) }

    /// Sets a per-step input leaf for all steps at once (step 0's rows first), real.
    public func setSequence(_ leaf: Value, _ scalars: [Double]) {
        let n = leaf.shape.count
        precondition(leaf.node.op == .input && scalars.count == n * steps, "ComplexForward.setSequence: \(leaf.name ?? "%\(leaf.id)") needs \(n * steps) numbers")
        for t in 0..<steps { for k in 0..<n { values[t * frame + offset[leaf.id] + k] = ComplexValue(scalars[t * n + k]) } }
    }

    /// The value of `v` at `step`.
    public func value(of v: Value, step: Int) -> [ComplexValue] {
        let start = isShared[v.id] ? offset[v.id] : step * frame + offset[v.id]
        return Array((isShared[v.id] ? shared : values)[start..<(start + v.shape.count)])
    }

    /// The forward pass over every step.
    /// - Parameter kinks: records where relu's argument is within the watch's radius of 0.
    /// - Throws: `ComplexStepError` where a primitive is not analytic at its argument.
    public func forward(kinks: KinkWatch? = nil) throws {
        let width = max(1, graph.nodes.map(\.operands.count).max() ?? 1)
        let args = UnsafeMutablePointer<ComplexArg>.allocate(capacity: width)
        defer { args.deallocate() }
        try values.withUnsafeMutableBufferPointer { vs in
            try shared.withUnsafeMutableBufferPointer { sh in
                func view(_ id: Int, _ t: Int) -> ComplexArg {
                    let p = isShared[id] ? sh.baseAddress! + offset[id] : vs.baseAddress! + t * frame + offset[id]
                    return ComplexArg(p: p, rows: graph.nodes[id].shape.rows, cols: graph.nodes[id].shape.cols)
                }
                for t in 0..<steps {
                    for (k, (state, next)) in recurrence.enumerated() {
                        let dst = view(state, t)
                        if t == 0 { for j in 0..<dst.count { dst.p[j] = initialStates[k][j] } }
                        else { dst.p.update(from: view(next, t - 1).p, count: dst.count) }
                    }
                    for (id, node) in graph.nodes.enumerated() where !node.op.isLeaf {
                        for (i, o) in node.operands.enumerated() { args[i] = view(o, t) }
                        if let kinks, node.op == .relu {
                            kinks.check(args[0]) { KinkWatch.Site(equation: equation[id], primitive: node.op.name, step: t) }
                        }
                        do { try node.op.complexForward(args, node.operands.count, view(id, t)) }
                        catch let e as ComplexKernelError {
                            throw ComplexStepError(op: node.op.name, value: equation[id], step: t, reason: e.reason)
                        }
                    }
                }
            }
        }
    }
}

extension Primitive {
    /// `out = op(operands)` in complex arithmetic: the analytic continuation of the real
    /// forward (relu and the losses' maximum branch on the real part). The same switch as
    /// `forward`, calling each family's `complexForward`.
    /// - Throws: `ComplexKernelError` where the op is not analytic at its argument.
    func complexForward(_ args: UnsafeMutablePointer<ComplexArg>, _ count: Int, _ out: ComplexArg) throws {
        switch self {
        case .input, .parameter, .constant: break
        case .matmul: MatMul.complexForward(self, args, count, out)
        case .add, .subtract, .multiply, .divide, .negate, .exp, .log, .square, .sqrt: try Elementwise.complexForward(self, args, count, out)
        case .sigmoid, .tanh, .relu: Activations.complexForward(self, args[0], out)
        case .concatColumns, .sliceColumns: Structure.complexForward(self, args, count, out)
        case .sumAll: Reductions.complexForward(self, args[0], out)
        case .softmaxCrossEntropy: try Losses.complexForward(self, args, count, out)
        case .stopGradient: StopGradient.complexForward(args[0], out)
        }
    }
}
