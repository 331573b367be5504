/// Which executor runs a graph unrolled over time steps.
///
/// Both compute the same function and the same gradients; `reference` is the plain meaning
/// (`ReferenceExecutor`: one kernel call per node and step, a reverse loop over the nodes),
/// `fast` the optimized program (`Program`: hoisted input projections, fused instructions, the
/// work split over two cores). Forward values agree bit for bit; gradients agree to rounding
/// wherever the fast program adds a sum in another order (see `ReferenceExecutorTests`).
public enum Execution: String, CaseIterable, Sendable {
    /// The optimized program (the default).
    case fast
    /// The plain reference interpreter: slow, for checking the fast one.
    case reference

    /// Builds an executor of this kind in float64 (see `Program.init` for the parameters;
    /// `options` are the fast program's optimizations).
    public func executor(graph: Graph, steps: Int = 1, recurrence: [(state: Value, next: Value)] = [],
                         keep: [Value] = [], withoutGradient: [Value] = [], options: ProgramOptions = .all) throws -> any Executor<Double> {
        try executor(Double.self, graph: graph, steps: steps, recurrence: recurrence, keep: keep, withoutGradient: withoutGradient, options: options)
    }

    /// Builds an executor of this kind computing in `scalar` (Double or Float).
    public func executor<S: Scalar>(_ scalar: S.Type, graph: Graph, steps: Int = 1, recurrence: [(state: Value, next: Value)] = [],
                                    keep: [Value] = [], withoutGradient: [Value] = [], options: ProgramOptions = .all) throws -> any Executor<S> {
        switch self {
        case .fast: return try ProgramOf<S>(graph: graph, steps: steps, recurrence: recurrence, keep: keep, withoutGradient: withoutGradient, options: options)
        case .reference: return try ReferenceExecutorOf<S>(graph: graph, steps: steps, recurrence: recurrence, withoutGradient: withoutGradient)
        }
    }
}

/// What runs a graph over time steps: feeding leaves, a forward pass, a seeded reverse pass,
/// and reading values and gradients. `Program` (fast) and `ReferenceExecutor` (plain) are the
/// two; callers that take `any Executor<Double>` run on either. Values cross the boundary as
/// float64 (`Tensor`, `[Double]`; rounded to `Scalar` on the way in, exact on the way out);
/// only the reverse pass's seeds and carried gradients see the storage's own precision.
public protocol Executor<Scalar>: AnyObject {
    /// The scalar the executor stores and computes in (Double or Float).
    associatedtype Scalar: GateLabAutodiff.Scalar
    /// The graph it runs.
    var graph: Graph { get }
    /// Number of time steps.
    var steps: Int { get }
    /// Bytes of storage per time step: a run of T steps needs about T times this.
    var bytesPerStep: Int { get }
    /// Bytes of value and gradient storage held.
    var bytesStored: Int { get }
    /// Sets a parameter, a constant-shaped input of a one-step graph, or (for a state leaf)
    /// the initial state.
    func set(_ leaf: Value, _ tensor: Tensor) throws
    /// Sets the value of a per-step input leaf at `step`.
    func set(_ leaf: Value, step: Int, _ tensor: Tensor) throws
    /// Sets a per-step input leaf for all steps at once (step 0's rows first).
    func setSequence(_ leaf: Value, _ scalars: [Double]) throws
    /// The value of `v` at `step`.
    func value(of v: Value, step: Int) -> Tensor
    /// The gradient of the seeded loss with respect to `v` at `step` (parameters: summed over
    /// steps; a state leaf at step 0: what flows into the initial state).
    func gradient(of v: Value, step: Int) throws -> Tensor
    /// The gradient of a per-step input leaf for steps `0 ..< count`, step after step.
    func sequenceGradient(of leaf: Value, count: Int?) -> [Double]
    /// The value the state leaf `state` reaches after step `last` (nil: the last step).
    func finalState(_ state: Value, last: Int?) -> Tensor
    /// Runs the forward pass over `range`, which starts at 0 or continues a previous call
    /// (at a block boundary, for `Program`).
    func forward(steps range: Range<Int>, checkFinite: Bool) throws
    /// Runs the reverse pass over steps `0 ..< count` (nil: all), last first; see
    /// `Program.backward(count:incoming:accumulate:seed:carried:)`.
    func backward(count: Int?, incoming: [[Double]]?, accumulate: Bool,
                  seed: (SeedsOf<Scalar>) throws -> Void,
                  carried: ((SeedsOf<Scalar>, [UnsafeMutableBufferPointer<Scalar>]) -> Void)?) throws
}

extension Executor {
    /// The value of `v` at step 0.
    public func value(of v: Value) -> Tensor { value(of: v, step: 0) }
    /// The gradient of `v` at step 0 (parameters: summed over steps).
    public func gradient(of v: Value) throws -> Tensor { try gradient(of: v, step: 0) }
    /// Runs the forward pass over every step.
    public func forward(checkFinite: Bool = false) throws { try forward(steps: 0..<steps, checkFinite: checkFinite) }
    /// Runs the reverse pass over every step with `seed` and nothing else.
    public func backward(seed: (SeedsOf<Scalar>) throws -> Void) throws {
        try backward(count: nil, incoming: nil, accumulate: false, seed: seed, carried: nil)
    }
    /// Reverse pass of a one-step graph from a 1 × 1 loss (seeded with 1).
    public func backward(from loss: Value) throws {
        guard loss.shape == Shape(1, 1) else { throw AutodiffError.badSeed("the loss must be 1×1, got \(loss.shape)") }
        try backward(seed: { $0.gradient(of: loss)[0] += 1 })
    }
}

/// Seeds of a float64 executor.
public typealias Seeds = SeedsOf<Double>

/// Gives seeds to the reverse pass: gradients of the loss with respect to values at one step.
public struct SeedsOf<S: Scalar> {
    let source: any SeedSource<S>
    /// The time step.
    public let step: Int
    /// The gradient buffer of `v` at this step; add the loss's derivative into it.
    public func gradient(of v: Value) -> UnsafeMutableBufferPointer<S> { source.seedGradient(of: v, step: step) }
    /// The value of `v` at this step (kept values, or any value of the last step).
    public func value(of v: Value) -> UnsafeMutableBufferPointer<S> { source.seedValue(of: v, step: step) }
    /// Adds `tensor` to the gradient of `v` at this step (each number rounded to `S` first).
    @_specialize(where S == Double) @_specialize(where S == Float)
    public func add(_ tensor: Tensor, to v: Value) {
        let g = gradient(of: v)
        for k in 0..<g.count { g[k] += S(tensor.scalars[k]) }
    }
}

/// An executor's storage as `Seeds` reads it.
protocol SeedSource<S>: AnyObject {
    associatedtype S: Scalar
    func seedGradient(of v: Value, step: Int) -> UnsafeMutableBufferPointer<S>
    func seedValue(of v: Value, step: Int) -> UnsafeMutableBufferPointer<S>
}
