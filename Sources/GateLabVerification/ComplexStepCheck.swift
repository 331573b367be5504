import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL

// The complex-step check of a sequence (`gatelab gradcheck --method complex-step`): the same
// seeded problem as `SequenceGradientCheck.run()` (weights, inputs, initial states, R, loss
// L = Σ_t Σ R_t ⊙ h_t), but each numeric derivative is Im L(θ + ih·v) / h from one forward
// pass in complex arithmetic (`ComplexForward`), h = 1e-200, instead of a central difference.
// There is no subtraction, so the numeric value is exact to rounding and the comparison with
// the fast engine's reverse-mode gradient can be held to a few units of rounding.

extension SequenceGradientCheck {
    /// The complex step h: small enough that every term of order h² is below the smallest
    /// double, so Im L(θ + ih·v) / h is the derivative to rounding, and far above underflow of
    /// the imaginary parts (a derivative would have to be below 1e-108 to vanish).
    public static let complexStep = 1e-200

    /// C in the complex-step pass rule |a − n| ≤ C · u · max over the tensor of Σ|terms|
    /// (u = 2^-53; directional: that direction's Σ|terms|).
    public static let complexStepUlps = 256.0

    /// Runs the complex-step check: every element of every parameter and initial state
    /// (`options.mode` full) or `count` random unit directions (`.directional`), against the
    /// fast engine's (or `execution`'s) reverse-mode gradient; the relu kinks met; the
    /// parameters whose gradient is zero or does not depend on the input.
    /// - Throws: `SequenceCheckError.nonFiniteLoss` (naming the op and step) when L is not
    ///   finite at the checked point; `ComplexStepError` where a primitive is not analytic.
    public func runComplexStep() throws -> ComplexStepReport {
        let p = try prepare()
        let h = Self.complexStep, u = 0x1p-53, c = Self.complexStepUlps
        // At the point itself: arguments exactly at a kink.
        let (forward, watch, atPoint) = try kinkScan(p)
        var kinks = atPoint

        var tensors = [ComplexStepReport.TensorRow](), directions = [ComplexStepReport.DirectionRow]()
        switch options.mode {
        case .full:
            for (t, leaf) in p.leaves.enumerated() {
                var measured = [(a: Double, n: Double, terms: Double)]()
                var imaginary = [Double](repeating: 0, count: p.values[t].count)
                for i in imaginary.indices {
                    imaginary[i] = h
                    forward.set(leaf, real: p.values[t], imaginary: imaginary)
                    imaginary[i] = 0
                    try forward.forward(kinks: watch)
                    kinks.add(watch.sites)
                    watch.reset()
                    let (n, terms) = p.derivative(forward, h: h)
                    measured.append((p.analytic[t][i], n, terms))
                }
                // Normwise: one bound for the tensor, from its largest sum of |terms|. An
                // element's own sum misses the rounding of the reverse pass's inner sums (the
                // adjoints), which is relative to the tensor's larger elements, not to a small one.
                let bound = c * u * (measured.map(\.terms).max() ?? 0)
                var worst = (ratio: -1.0, index: 0, a: 0.0, n: 0.0)
                var maxError = 0.0, maxNumeric = 0.0, failing = 0
                for (i, m) in measured.enumerated() {
                    let error = Swift.abs(m.a - m.n)
                    let ratio = error == 0 ? 0 : (bound > 0 ? error / bound : .infinity)
                    if !(error <= bound) { failing += 1 }
                    maxError = Swift.max(maxError, error.isNaN ? .infinity : error)
                    maxNumeric = Swift.max(maxNumeric, Swift.abs(m.n))
                    if !(ratio <= worst.ratio) { worst = (ratio.isNaN ? .infinity : ratio, i, m.a, m.n) }
                }
                forward.set(leaf, real: p.values[t], imaginary: imaginary)
                let cols = p.shapes[t].cols
                tensors.append(.init(name: p.names[t], rows: p.shapes[t].rows, cols: cols, maxAbsoluteError: maxError,
                                     relativeError: maxNumeric > 0 ? maxError / maxNumeric : maxError,
                                     worstRatio: worst.ratio, worstRow: worst.index / cols, worstCol: worst.index % cols,
                                     analytic: worst.a, numeric: worst.n, bound: bound, failingElements: failing,
                                     passed: failing == 0))
            }
        case let .directional(count, seed):
            let directionsRNG = try RandomSource(seed: seed, generator: Self.generator)
            let total = p.values.reduce(0) { $0 + $1.count }
            for index in 0..<count {
                var v = directionsRNG.gaussianArray(count: total)
                let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                v = v.map { $0 / norm }
                var start = 0, a = 0.0, dotTerms = 0.0
                for (t, leaf) in p.leaves.enumerated() {
                    let vt = Array(v[start..<(start + p.values[t].count)])
                    forward.set(leaf, real: p.values[t], imaginary: vt.map { $0 * h })
                    for (g, w) in zip(p.analytic[t], vt) { a += g * w; dotTerms += Swift.abs(g * w) }
                    start += vt.count
                }
                try forward.forward(kinks: watch)
                kinks.add(watch.sites)
                watch.reset()
                let (n, terms) = p.derivative(forward, h: h)
                let error = Swift.abs(a - n), bound = c * u * (terms + dotTerms)
                directions.append(.init(index: index, analytic: a, numeric: n, absoluteError: error,
                                        relativeError: error / Swift.max(Swift.abs(n), .leastNormalMagnitude), bound: bound,
                                        passed: error <= bound))
            }
            for (t, leaf) in p.leaves.enumerated() { forward.set(leaf, p.tensor(t)) }
        }
        let checked = options.mode == .full ? p.values.reduce(0) { $0 + $1.count } : directions.count
        let sensitivity = try p.sensitivity(seed: seed)
        return ComplexStepReport(
            step: h, ulps: c, loss: p.loss, tensors: tensors, directions: directions,
            kinks: kinks.report(checked: checked, within: "exactly at the kink (the complex step moves no argument by more than 1e-200)"),
            parameters: sensitivity,
            passed: tensors.allSatisfy(\.passed) && directions.allSatisfy(\.passed))
    }

    /// The relu kinks a central-difference check of this problem meets: for every checked
    /// element (or direction), one complex forward pass gives how far the check's step moves
    /// each relu argument, and a step that reaches 0 is counted (see `KinkWatch`). Cells with
    /// no relu cost nothing. The step is the largest the check may take (the Richardson
    /// re-test's, when failures are re-tested).
    public func centralKinks() throws -> KinkReport {
        let p = try prepare()
        let checked = options.mode == .full ? p.values.reduce(0) { $0 + $1.count } : { if case let .directional(k, _) = options.mode { return k }; return 0 }()
        let within = "within the central-difference step"
        guard p.unrolled.graph.nodes.contains(where: { $0.op == .relu }) else { return KinkTally().report(checked: checked, within: within) }
        let h = Self.complexStep
        let base = options.richardson || options.retestFailures ? Foundation.pow(Double.ulpOfOne, 0.2) : Foundation.cbrt(Double.ulpOfOne)
        func step(_ scale: Double) -> Double {
            if case let .fixed(s) = options.step { return s }
            return base * Swift.max(1, scale)
        }
        let (forward, watch, atPoint) = try kinkScan(p)
        var kinks = atPoint
        switch options.mode {
        case .full:
            for (t, leaf) in p.leaves.enumerated() {
                var imaginary = [Double](repeating: 0, count: p.values[t].count)
                for i in imaginary.indices {
                    imaginary[i] = h
                    forward.set(leaf, real: p.values[t], imaginary: imaginary)
                    imaginary[i] = 0
                    watch.radius = step(Swift.abs(p.values[t][i])) / h
                    try forward.forward(kinks: watch)
                    kinks.add(watch.sites)
                    watch.reset()
                }
                forward.set(leaf, p.tensor(t))
            }
        case let .directional(count, seed):
            // The directions' own draw is GradCheck's; any unit direction of the same step
            // length measures the same distances to the kinks in distribution. Here: seeded
            // Gaussian directions, one complex pass each.
            let rng = try RandomSource(seed: seed, generator: Self.generator)
            let total = p.values.reduce(0) { $0 + $1.count }
            let norm = p.values.joined().reduce(0) { $0 + $1 * $1 }.squareRoot()
            watch.radius = step(norm) / h
            for _ in 0..<count {
                var v = rng.gaussianArray(count: total)
                let length = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
                v = v.map { $0 / length }
                var start = 0
                for (t, leaf) in p.leaves.enumerated() {
                    forward.set(leaf, real: p.values[t], imaginary: v[start..<(start + p.values[t].count)].map { $0 * h })
                    start += p.values[t].count
                }
                try forward.forward(kinks: watch)
                kinks.add(watch.sites)
                watch.reset()
            }
        }
        return kinks.report(checked: checked, within: within)
    }

    /// The parameters whose gradient is exactly zero at the checked point, and those whose
    /// gradient is the same at two input sequences (see `ParameterSensitivity`).
    public func parameterSensitivity() throws -> ParameterSensitivity {
        try prepare().sensitivity(seed: seed)
    }

    /// The seeded problem with its analytic gradients, ready for numeric derivatives.
    /// The complex forward pass of `p`, a watch of exact kinks (radius 0), and the tally with
    /// the kinks met at the point itself (both checks start from there).
    func kinkScan(_ p: CheckedProblem) throws -> (ComplexForward, KinkWatch, KinkTally) {
        let forward = try p.complexForward()
        let watch = KinkWatch(radius: 0)
        var kinks = KinkTally()
        try forward.forward(kinks: watch)
        kinks.atPoint = watch.sites
        watch.reset()
        return (forward, watch, kinks)
    }

    func prepare() throws -> CheckedProblem {
        let (network, x, r, initial) = try draw()
        let unrolled = try Unrolled(network: network, batch: batch, steps: steps, execution: execution)
        var names = checkedNames(network), shapes = [Shape](), values = [[Double]](), leaves = [Value]()
        names = Array(names)
        for k in 0..<layers {
            for spec in network.specs(layer: k) {
                shapes.append(Shape(spec.rows, spec.cols))
                values.append(network.weights[k][spec.name]!.scalars)
                leaves.append(unrolled.parameters[k][spec.name]!)
            }
        }
        for k in 0..<layers { for (j, state) in initial[k].enumerated() {
            shapes.append(Shape(batch, hiddenSize)); values.append(state.scalars); leaves.append(unrolled.states[k][j])
        } }
        try unrolled.forward(inputs: x, initialState: initial)
        var loss = 0.0
        for t in 0..<steps { for (h, w) in zip(unrolled.output(step: t).scalars, r[(t * batch * hiddenSize)...]) { loss += h * w } }
        guard loss.isFinite else {
            // Where the first NaN or ±∞ appears (the check's forward pass found none earlier
            // only if the loss's own sum overflowed).
            do { try unrolled.forward(inputs: x, initialState: initial, checkFinite: true) }
            catch let e as ProgramError { throw SequenceCheckError.nonFiniteLoss(loss, where: e.description) }
            throw SequenceCheckError.nonFiniteLoss(loss, where: nil)
        }
        let grads = try unrolled.backward(.everyStep(r))
        let analytic = (0..<layers).flatMap { k in network.specs(layer: k).map { grads.weights[k][$0.name]!.scalars } }
            + grads.initialState.flatMap { $0.map(\.scalars) }
        return CheckedProblem(check: self, unrolled: unrolled, network: network, x: x, r: r, initial: initial, names: names,
                              shapes: shapes, values: values, leaves: leaves, analytic: analytic, loss: loss)
    }
}

/// A seeded sequence problem with its reverse-mode gradients (what every method compares with).
struct CheckedProblem {
    var check: SequenceGradientCheck
    var unrolled: Unrolled
    var network: RecurrentNetwork
    var x: [Double], r: [Double], initial: [[Tensor]]
    /// The checked tensors (every parameter of every layer, then every initial state).
    var names: [String], shapes: [Shape], values: [[Double]], leaves: [Value]
    /// Their reverse-mode gradients.
    var analytic: [[Double]]
    /// L at the checked point.
    var loss: Double

    func tensor(_ t: Int) -> Tensor { Tensor(rows: shapes[t].rows, cols: shapes[t].cols, scalars: values[t]) }

    /// A complex forward pass of the unrolled graph, loaded with the point (real) and x.
    func complexForward() throws -> ComplexForward {
        let pairs = zip(unrolled.states.joined(), unrolled.next.joined()).map { (state: $0, next: $1) }
        let forward = try ComplexForward(graph: unrolled.graph, steps: check.steps, recurrence: pairs)
        forward.setSequence(unrolled.input, x)
        for (t, leaf) in leaves.enumerated() { forward.set(leaf, tensor(t)) }
        return forward
    }

    /// Im L / h after a complex pass, and Σ_t,b,j |R_tbj Im h_tbj| / h: the sum whose condition
    /// bounds the rounding of both the numeric and the reverse-mode value.
    func derivative(_ forward: ComplexForward, h: Double) -> (value: Double, terms: Double) {
        let bh = check.batch * check.hiddenSize
        var value = 0.0, terms = 0.0
        for t in 0..<check.steps {
            let im = forward.imaginary(of: unrolled.output, step: t)
            for k in 0..<bh { let term = r[t * bh + k] * (im[k] / h); value += term; terms += Swift.abs(term) }
        }
        return (value, terms)
    }

    /// Parameters with an exactly zero gradient, and parameters whose gradient is the same (to
    /// 1e-12 of its size) at a second input sequence, drawn from its own seed with the same
    /// weights, initial states and R.
    func sensitivity(seed: UInt64) throws -> ParameterSensitivity {
        let parameterCount = leaves.count - check.layers * check.cell.stateNames.count
        let rng = try RandomSource(seed: seed &+ 0x9E37_79B9, generator: SequenceGradientCheck.generator)
        let x2 = rng.uniformArray(count: x.count, low: -1, high: 1)
        try unrolled.forward(inputs: x2, initialState: initial)
        let grads = try unrolled.backward(.everyStep(r))
        let second = (0..<check.layers).flatMap { k in network.specs(layer: k).map { grads.weights[k][$0.name]!.scalars } }
        var zero = [String](), independent = [String]()
        for t in 0..<parameterCount {
            let g = analytic[t]
            let size = g.map { Swift.abs($0) }.max() ?? 0
            if size == 0 { zero.append(names[t]); continue }
            let change = zip(g, second[t]).map { Swift.abs($0 - $1) }.max() ?? 0
            if change <= ParameterSensitivity.tolerance * size { independent.append(names[t]) }
        }
        return ParameterSensitivity(zeroGradient: zero, inputIndependent: independent)
    }
}

/// Counts of kink sites over the checked elements (or directions).
struct KinkTally {
    /// Sites exactly at a kink at the unperturbed point.
    var atPoint: [KinkWatch.Site: Bool] = [:]
    /// Per site: how many checked elements reached it, and whether one was exactly at the kink.
    var counts: [KinkWatch.Site: (elements: Int, exact: Bool)] = [:]
    /// Checked elements that reached any site.
    var affected = 0

    mutating func add(_ sites: [KinkWatch.Site: Bool]) {
        guard !sites.isEmpty else { return }
        affected += 1
        for (s, exact) in sites { let c = counts[s] ?? (0, false); counts[s] = (c.elements + 1, c.exact || exact) }
    }

    func report(checked: Int, within: String) -> KinkReport {
        var grouped = [String: KinkReport.Site]()
        for (s, c) in counts.merging(atPoint.mapValues { (0, $0) }, uniquingKeysWith: { a, b in (a.elements, a.exact || b.exact) }) {
            let key = s.equation + "\u{0}" + s.primitive
            var g = grouped[key] ?? KinkReport.Site(equation: s.equation, primitive: s.primitive, steps: [], elements: 0, exactly: false)
            g.steps.append(s.step)
            g.elements = Swift.max(g.elements, c.elements)
            g.exactly = g.exactly || c.exact
            grouped[key] = g
        }
        let sites = grouped.values.map { g -> KinkReport.Site in var g = g; g.steps.sort(); return g }
            .sorted { ($0.equation, $0.primitive) < ($1.equation, $1.primitive) }
        return KinkReport(checked: checked, affected: affected, within: within, sites: sites)
    }
}

/// Why a sequence check could not run.
public enum SequenceCheckError: Error, CustomStringConvertible, Equatable {
    /// L is NaN or ±∞ at the checked point; `where` names the op, value and time step.
    case nonFiniteLoss(Double, where: String?)
    public var description: String {
        switch self {
        case let .nonFiniteLoss(l, place):
            return "the loss is not finite at the checked point (L = \(l))" + (place.map { ": \($0)" } ?? "")
                + "; no derivative can be checked there (another --seed, or smaller weights)"
        }
    }
}

/// Non-smooth primitives met during a check: where relu's argument lay within the check's step
/// of its kink (so that a finite difference, or the one-sided derivative, may not be the
/// derivative the check assumes).
public struct KinkReport: Sendable, Equatable, Codable {
    /// One equation's non-smooth primitive.
    public struct Site: Sendable, Equatable, Codable {
        /// The equation (the named value the primitive feeds).
        public var equation: String
        /// The primitive (`relu`).
        public var primitive: String
        /// The time steps where an argument was within the step of the kink.
        public var steps: [Int]
        /// The most checked elements (or directions) that reached it at one step.
        public var elements: Int
        /// Whether an argument was exactly at the kink.
        public var exactly: Bool
    }
    /// Elements (full) or directions (directional) checked.
    public var checked: Int
    /// How many of them moved some argument onto or across a kink.
    public var affected: Int
    /// What "near" meant (exactly at the kink, or within the central-difference step).
    public var within: String
    /// Every site, by equation.
    public var sites: [Site]

    /// One line per site after a summary line; nothing when no kink was met.
    public var lines: [String] {
        guard !sites.isEmpty else { return [] }
        var out = ["kinks: \(affected) of \(checked) checked numbers moved an argument of a non-smooth primitive onto or across its kink, \(within):"]
        for s in sites {
            out.append("  \(s.primitive) in \(s.equation) at time step\(s.steps.count == 1 ? "" : "s") \(stepList(s.steps))"
                       + (s.exactly ? " (exactly at the kink)" : ""))
        }
        return out
    }

    private func stepList(_ steps: [Int]) -> String {
        steps.count <= 12 ? steps.map(String.init).joined(separator: ", ")
            : steps.prefix(12).map(String.init).joined(separator: ", ") + " … (\(steps.count) steps)"
    }
}

/// Parameters whose gradient carries no information about the equations' wiring: exactly zero
/// everywhere at the checked point (a parameter that does not reach the loss), or the same at
/// two input sequences (a hint of an equation wired to the wrong operand, e.g. a state's update
/// that no longer reads the state meant).
public struct ParameterSensitivity: Sendable, Equatable, Codable {
    /// How close two gradients must be, relative to the first one's largest element, to count
    /// as the same.
    public static let tolerance = 1e-12
    /// Tensors whose gradient is exactly zero everywhere.
    public var zeroGradient: [String]
    /// Tensors whose gradient does not depend on the input sequence.
    public var inputIndependent: [String]

    enum CodingKeys: String, CodingKey { case zeroGradient = "zero_gradient", inputIndependent = "input_independent" }

    /// Creates the finding.
    public init(zeroGradient: [String], inputIndependent: [String]) {
        self.zeroGradient = zeroGradient
        self.inputIndependent = inputIndependent
    }

    /// One line per finding; nothing when every parameter's gradient is nonzero and input-dependent.
    public var lines: [String] {
        var out = [String]()
        if !zeroGradient.isEmpty {
            out.append("zero gradient: \(zeroGradient.joined(separator: ", ")) (exactly 0 everywhere at the checked point: the loss does not depend on it)")
        }
        if !inputIndependent.isEmpty {
            out.append("input-independent gradient: \(inputIndependent.joined(separator: ", ")) (the same at a second input sequence, to 1e-12: is an equation wired to the wrong operand?)")
        }
        return out
    }
}

/// What the complex-step check found.
public struct ComplexStepReport: Sendable, Equatable, Codable {
    /// One checked tensor (full mode).
    public struct TensorRow: Sendable, Equatable, Codable {
        public var name: String, rows: Int, cols: Int
        /// max |a − n| over the elements.
        public var maxAbsoluteError: Double
        /// max |a − n| / max |n|: the tensor's normwise relative disagreement.
        public var relativeError: Double
        /// The largest |a − n| / bound (≤ 1 passes); the worst element follows.
        public var worstRatio: Double
        public var worstRow: Int, worstCol: Int
        public var analytic: Double, numeric: Double, bound: Double
        /// Elements over their bound.
        public var failingElements: Int
        public var passed: Bool
        enum CodingKeys: String, CodingKey {
            case name, rows, cols, maxAbsoluteError = "max_absolute_error", relativeError = "relative_error"
            case worstRatio = "worst_ratio", worstRow = "worst_row", worstCol = "worst_col", analytic, numeric, bound
            case failingElements = "failing_elements", passed
        }
    }
    /// One random direction (directional mode).
    public struct DirectionRow: Sendable, Equatable, Codable {
        public var index: Int
        /// ∇L·v from the reverse pass, and Im L(θ + ih·v) / h.
        public var analytic: Double, numeric: Double
        public var absoluteError: Double, relativeError: Double, bound: Double
        public var passed: Bool
        enum CodingKeys: String, CodingKey {
            case index, analytic, numeric, absoluteError = "absolute_error", relativeError = "relative_error", bound, passed
        }
    }
    /// h.
    public var step: Double
    /// C of the pass rule.
    public var ulps: Double
    /// L at the checked point.
    public var loss: Double
    public var tensors: [TensorRow]
    public var directions: [DirectionRow]
    public var kinks: KinkReport
    public var parameters: ParameterSensitivity
    public var passed: Bool

    /// The rule, as the report states it.
    public var rule: String {
        directions.isEmpty
            ? "pass: |a − n| ≤ \(Int(ulps)) u · max over the tensor of Σ|terms|, u = 2^-53 (\(Int(ulps)) units of rounding times the condition of the sums, "
              + "normwise; Σ|terms| = Σ_t,b,j |R ∂h/∂θ|); n = Im L(θ + ih·e_k)/h, h = \(step)"
            : "pass: |a − n| ≤ \(Int(ulps)) u · Σ|terms|, u = 2^-53 (\(Int(ulps)) units of rounding times the condition of the sum; "
              + "Σ|terms| = Σ_t,b,j |R ∂h/∂θ·v| + Σ_k |g_k v_k|); n = Im L(θ + ih·v)/h, h = \(step)"
    }

    /// The worst normwise relative disagreement over the tensors or directions.
    public var worstRelative: Double {
        (tensors.map(\.relativeError) + directions.map(\.relativeError)).max() ?? 0
    }

    /// An aligned table (a row per tensor or direction), the kink and parameter lines, the rule
    /// and a one-line verdict.
    public func table() -> String {
        var rows: [[String]]
        if directions.isEmpty {
            rows = [["tensor", "shape", "max abs err", "rel err", "err/bound", "where", "analytic", "complex step", "status"]]
            for t in tensors {
                rows.append([t.name, "\(t.rows)×\(t.cols)", sci(t.maxAbsoluteError), sci(t.relativeError), ratio(t.worstRatio),
                             "[\(t.worstRow), \(t.worstCol)]", full(t.analytic), full(t.numeric),
                             t.passed ? "ok" : "FAIL (\(t.failingElements) of \(t.rows * t.cols))"])
            }
        } else {
            rows = [["direction", "analytic ∇L·v", "complex step", "abs err", "rel err", "bound", "status"]]
            for d in directions {
                rows.append(["\(d.index)", full(d.analytic), full(d.numeric), sci(d.absoluteError), sci(d.relativeError), sci(d.bound), d.passed ? "ok" : "FAIL"])
            }
        }
        let widths = rows[0].indices.map { c in rows.map { $0[c].count }.max() ?? 0 }
        let lines = rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ")
                .trimmingCharacters(in: .whitespaces)
        }
        let what = directions.isEmpty ? "\(tensors.count) tensor(s)" : "\(directions.count) direction(s)"
        let failed = directions.isEmpty ? tensors.filter { !$0.passed }.map(\.name).joined(separator: ", ")
            : "direction(s) " + directions.filter { !$0.passed }.map { "\($0.index)" }.joined(separator: ", ")
        let verdict = passed ? "passed: \(what), worst relative disagreement \(sci(worstRelative)); \(rule)"
            : "FAILED: \(failed); \(rule)"
        return (lines + kinks.lines + parameters.lines + [verdict]).joined(separator: "\n")
    }

    private func sci(_ x: Double) -> String { String(format: "%.2e", x) }
    private func full(_ x: Double) -> String { String(format: "%.16g", x) }
    private func ratio(_ x: Double) -> String { x.isFinite ? String(format: "%.3g", x) : "inf" }
}
