import GateLabGSL

/// Checks analytic gradients against finite differences of the loss, without knowing
/// anything about the engine that produced them: parameters are named row-major arrays,
/// the loss is a closure.
///
///     let report = try GradientChecker().check(tensors) { values in try model.loss(values) }
///     print(report.table())
public struct GradientChecker: Sendable {
    /// How the check is run and judged.
    public var options: GradientCheckOptions

    /// Creates a checker.
    /// - Parameter options: Mode, step, tolerance and floor; see `GradientCheckOptions`.
    public init(options: GradientCheckOptions = GradientCheckOptions()) {
        self.options = options
    }

    /// Compares every analytic gradient (full mode) or random directional derivatives
    /// (directional mode) with central differences of `loss`.
    ///
    /// - Parameters:
    ///   - tensors: The parameters, their values and their analytic gradients.
    ///   - loss: The scalar loss of a full set of parameter values, one row-major array per
    ///     tensor in the order of `tensors`. Called 1 + 2n + 4r times (1 + 4n with Richardson
    ///     extrapolation), n = the number of elements (full) or directions (directional),
    ///     r = how many of them failed with plain central differences and were re-tested
    ///     (0 when `options.retestFailures` is off; see `GradientCheckOptions.retestFailures`).
    /// - Returns: The report; a wrong gradient gives a report that did not pass, not an error.
    /// - Throws: `GradientCheckError` for invalid tensors or options, or when L(θ) is not
    ///   finite; any error thrown by `loss`, unchanged.
    public func check(
        _ tensors: [CheckedTensor], loss: ([[Double]]) throws -> Double
    ) throws -> GradientCheckReport {
        try options.validate()
        guard !tensors.isEmpty else { throw GradientCheckError.noTensors }
        for tensor in tensors { try tensor.validate() }
        let baseLoss = try loss(tensors.map(\.values))
        guard baseLoss.isFinite else { throw GradientCheckError.nonFiniteLoss(baseLoss) }
        let floor = options.relativeFloor * max(1, abs(baseLoss))

        var tensorResults: [TensorCheckResult] = []
        var directionResults: [DirectionCheckResult] = []
        switch options.mode {
        case .full:
            tensorResults = try checkEveryElement(of: tensors, floor: floor, loss: loss)
        case let .directional(count, seed):
            directionResults = try checkDirections(count: count, seed: seed, of: tensors, floor: floor, loss: loss)
        }
        return GradientCheckReport(
            options: options, loss: baseLoss, floor: floor, tensors: tensorResults,
            directions: directionResults,
            passed: tensorResults.allSatisfy(\.passed) && directionResults.allSatisfy(\.passed))
    }

    /// Full mode: one central difference per element of every tensor, and for an element
    /// that fails it (if `retestsFailures`) a Richardson-extrapolated one that decides.
    private func checkEveryElement(
        of tensors: [CheckedTensor], floor: Double, loss: ([[Double]]) throws -> Double
    ) throws -> [TensorCheckResult] {
        var parameters = tensors.map(\.values)
        return try tensors.enumerated().map { t, tensor in
            var worstAbsolute: ElementComparison?
            var worstRelative: ElementComparison?
            var failing = 0, retested = 0, cleared = 0
            var worstFailing = [ElementComparison]()
            for i in tensor.values.indices {
                let theta = tensor.values[i]
                func compared(richardson: Bool) throws -> ElementComparison {
                    let numeric = try differenceQuotient(
                        step: step(forScale: abs(theta), richardson: richardson), richardson: richardson
                    ) { offset in
                        // Divide by the step actually taken, (θ + h) − θ, not by h: it differs
                        // from h by rounding, an error the quotient would otherwise inherit.
                        let moved = theta + offset
                        parameters[t][i] = moved
                        defer { parameters[t][i] = theta }
                        return (try loss(parameters), moved - theta)
                    }
                    return ElementComparison(
                        row: i / tensor.cols, col: i % tensor.cols, analytic: tensor.analyticGradient[i],
                        numeric: numeric, floor: floor, retested: richardson && !options.richardson)
                }
                var element = try compared(richardson: options.richardson)
                if !passes(element.relativeError), options.retestsFailures {
                    element = try compared(richardson: true)
                    retested += 1
                    if passes(element.relativeError) { cleared += 1 }
                }
                if !passes(element.relativeError) {
                    failing += 1
                    // The worst few failing elements, worst first, for the report's table.
                    worstFailing.append(element)
                    worstFailing.sort { isWorse($0.relativeError, than: $1.relativeError) }
                    if worstFailing.count > TensorCheckResult.shownFailures { worstFailing.removeLast() }
                }
                if isWorse(element.absoluteError, than: worstAbsolute?.absoluteError) { worstAbsolute = element }
                if isWorse(element.relativeError, than: worstRelative?.relativeError) { worstRelative = element }
            }
            // Validation guarantees at least one element, so both worsts are set.
            return TensorCheckResult(
                name: tensor.name, rows: tensor.rows, cols: tensor.cols, worstAbsolute: worstAbsolute!,
                worstRelative: worstRelative!, failingElementCount: failing, retestedElementCount: retested,
                clearedElementCount: cleared, passed: failing == 0, worstFailing: worstFailing)
        }
    }

    /// Directional mode: `vᵀ∇L` against a central difference along each seeded direction `v`,
    /// and for a direction that fails it (if `retestsFailures`) a Richardson-extrapolated one
    /// that decides.
    private func checkDirections(
        count: Int, seed: UInt64, of tensors: [CheckedTensor], floor: Double,
        loss: ([[Double]]) throws -> Double
    ) throws -> [DirectionCheckResult] {
        let theta = tensors.flatMap(\.values)
        let gradient = tensors.flatMap(\.analyticGradient)
        let norm = theta.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let random = try RandomSource(seed: seed)
        return try (0..<count).map { index in
            let v = GradientChecker.unitVector(dimension: theta.count, using: random)
            let analytic = zip(v, gradient).reduce(0) { $0 + $1.0 * $1.1 }
            func compared(richardson: Bool) throws -> DirectionCheckResult {
                // A unit step along v moves θ by ε in Euclidean norm, so ε scales with ‖θ‖.
                let epsilon = step(forScale: norm, richardson: richardson)
                let numeric = try differenceQuotient(step: epsilon, richardson: richardson) { offset in
                    let moved = zip(theta, v).map { $0 + offset * $1 }
                    return (try loss(split(moved, like: tensors)), offset)
                }
                let (absolute, relative) = compare(analytic, numeric, floor: floor)
                return DirectionCheckResult(
                    index: index, step: epsilon, analytic: analytic, numeric: numeric, absoluteError: absolute,
                    relativeError: relative, retested: richardson && !options.richardson, passed: passes(relative))
            }
            let plain = try compared(richardson: options.richardson)
            return plain.passed || !options.retestsFailures ? plain : try compared(richardson: true)
        }
    }

    /// Whether a relative error is within the tolerance (NaN is not).
    private func passes(_ relativeError: Double) -> Bool { relativeError <= options.tolerance }

    /// The step for a value (or, directional, a parameter vector) of magnitude `scale`, for
    /// plain central differences or for their Richardson extrapolation.
    private func step(forScale scale: Double, richardson: Bool) -> Double {
        switch options.step {
        case .automatic: return GradientCheckOptions.automaticStepBase(richardson: richardson) * max(1, scale)
        case let .fixed(h): return h
        }
    }

    /// The central difference quotient `(f(h) − f(−h)) / (span actually stepped)` (2 calls of
    /// `evaluate`), or if `richardson` its extrapolation `(4·D(h/2) − D(h)) / 3` (4 calls),
    /// which cancels D's h² error term (D(h) = f′ + f‴h²/6 + O(h⁴)). `evaluate(s)` returns
    /// the loss moved by `s` along the checked coordinate or direction, and the displacement
    /// actually applied.
    private func differenceQuotient(
        step h: Double, richardson: Bool, _ evaluate: (Double) throws -> (loss: Double, offset: Double)
    ) throws -> Double {
        func central(_ h: Double) throws -> Double {
            let plus = try evaluate(h), minus = try evaluate(-h)
            return (plus.loss - minus.loss) / (plus.offset - minus.offset)
        }
        guard richardson else { return try central(h) }
        return try (4 * central(h / 2) - central(h)) / 3
    }
}

/// A concatenation of all parameters cut back into one array per tensor.
private func split(_ flat: [Double], like tensors: [CheckedTensor]) -> [[Double]] {
    var start = 0
    return tensors.map { tensor in
        defer { start += tensor.values.count }
        return Array(flat[start..<start + tensor.values.count])
    }
}

/// Whether `value` is worse than the worst so far; NaN counts as worst of all, so that a
/// non-finite numeric or analytic value is what the report shows.
private func isWorse(_ value: Double, than current: Double?) -> Bool {
    guard let current else { return true }
    if current.isNaN { return false }
    return value.isNaN || value > current
}

extension GradientChecker {
    /// A direction drawn uniformly from the unit sphere in `dimension` dimensions: independent
    /// standard normals from `random`, normalised (the normal distribution is
    /// rotation-invariant), drawn again in the (measure-zero) case of a zero vector.
    static func unitVector(dimension: Int, using random: RandomSource) -> [Double] {
        while true {
            let v = random.gaussianArray(count: dimension)
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { return v.map { $0 / norm } }
        }
    }
}
