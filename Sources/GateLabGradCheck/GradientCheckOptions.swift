import GateLabSupport
import Foundation

/// How a gradient check is run and judged.
///
/// ## The pass rule
/// For an analytic value `a` and a numeric value `n` (one gradient element, or one
/// directional derivative),
///
///     relative error = |a − n| / max(|a|, |n|, floor),    floor = relativeFloor · max(1, |L(θ)|)
///
/// and the check passes when every relative error is ≤ `tolerance`. For gradients well above
/// the floor this is a pure relative test. For gradients near 0 (where a relative error is
/// meaningless: noise over noise) the floor takes over and the rule becomes the *absolute*
/// test `|a − n| ≤ tolerance · floor`, so no separate absolute tolerance is needed: it is
/// `tolerance × floor`.
///
/// ## Why the floor is 1e-4 of the loss, not 1e-8
/// A central difference in float64 is never exact: rounding in the two loss evaluations
/// contributes about `eps · |L| / h` and truncation about `h² · |L'''| / 6`; at the default
/// step `h ≈ cbrt(eps) ≈ 6e-6` both are ≈ `eps^(2/3) ≈ 4e-11` per unit of loss. A gradient
/// that is truly 0 is therefore measured as ±4e-11·|L|. A fixed floor of 1e-8 would demand
/// `|a − n| ≤ 1e-14` there and fail every near-zero gradient on noise alone. With
/// `floor = 1e-4 · max(1, |L|)` and `tolerance = 1e-6`, near-zero gradients must agree to
/// `1e-10 · max(1, |L|)`: above the noise (×2.5), yet ten thousand times below the size of a
/// real gradient bug in a loss of that scale. Scaling the floor with the loss also makes the
/// verdict invariant under `L → c·L` (gradients, noise and floor all scale by `c`).
public struct GradientCheckOptions: Sendable, Equatable, Codable {
    /// Which derivatives are compared.
    public enum Mode: Sendable, Equatable, Codable {
        /// Every element of every tensor by central differences: 2 loss evaluations per
        /// element (4 with Richardson extrapolation; 4 more for each re-tested element, see
        /// `retestFailures`). Exact coverage, for small models.
        case full
        /// `count` random unit directions `v` over the concatenation of all parameters,
        /// comparing `vᵀ∇L` with `(L(θ + εv) − L(θ − εv)) / 2ε`: 2 evaluations per direction
        /// (4 with Richardson; 4 more for each re-tested direction), whatever the model size.
        /// Any wrong gradient element changes `vᵀ∇L` for almost every direction, so a few
        /// directions catch it with probability 1.
        case directional(count: Int, seed: UInt64)
    }

    /// The finite-difference step.
    public enum StepSize: Sendable, Equatable, Codable {
        /// Scaled to the values perturbed. Full mode: `h_i = base · max(1, |θ_i|)`;
        /// directional mode (unit `v`): `ε = base · max(1, ‖θ‖₂)`. The base balances
        /// truncation against rounding error: `cbrt(eps) ≈ 6.1e-6` for plain central
        /// differences (error O(h²) + O(eps/h)), `eps^(1/5) ≈ 7.4e-4` with Richardson
        /// extrapolation (error O(h⁴) + O(eps/h)).
        case automatic
        /// The same step `h` (or `ε`) for every element and direction.
        case fixed(Double)
    }

    /// Full or directional checking. Default `.full`.
    public var mode: Mode
    /// The finite-difference step. Default `.automatic`.
    public var step: StepSize
    /// When true, every difference quotient `D(h)` is replaced by `(4·D(h/2) − D(h)) / 3`,
    /// which cancels the h² error term of central differences (error O(h⁴) instead of
    /// O(h²)) at twice the loss evaluations. Default false.
    public var richardson: Bool
    /// When true (the default) and `richardson` is false, an element or direction that fails
    /// the tolerance with the plain central difference is measured again with Richardson
    /// extrapolation, at Richardson's own step (`StepSize.automatic` then uses the base
    /// `eps^(1/5)`; a `.fixed` step stays as given), and is judged by that better estimate
    /// alone; the report counts it (`TensorCheckResult.retestedElementCount`,
    /// `DirectionCheckResult.retested`). A plain central difference at `h ≈ cbrt(eps)` carries
    /// an error of a few `eps^(2/3) · |L|` (rounding and truncation together), which near the
    /// floor can by itself exceed the tolerance: the re-test tells such a false alarm from a
    /// wrong gradient, which fails it too. Costs 4 more loss evaluations per re-tested element
    /// or direction and nothing when every comparison passes. Irrelevant when `richardson` is
    /// on: every estimate is then already extrapolated.
    public var retestFailures: Bool
    /// The largest accepted relative error (see the pass rule above). Default 1e-6.
    public var tolerance: Double
    /// The floor of the relative error's denominator, per unit of loss: the effective floor
    /// is `relativeFloor · max(1, |L(θ)|)`. Default 1e-4 (see above for why).
    public var relativeFloor: Double

    /// Creates options; every argument has the documented default.
    /// - Parameters:
    ///   - mode: Full or directional checking.
    ///   - step: The finite-difference step.
    ///   - richardson: Whether to use Richardson extrapolation.
    ///   - retestFailures: Whether a comparison that fails with plain central differences is
    ///     re-tested with Richardson extrapolation before it counts as failing.
    ///   - tolerance: The largest accepted relative error.
    ///   - relativeFloor: The relative error's floor per unit of loss.
    public init(
        mode: Mode = .full, step: StepSize = .automatic, richardson: Bool = false,
        retestFailures: Bool = true, tolerance: Double = 1e-6, relativeFloor: Double = 1e-4
    ) {
        self.mode = mode
        self.step = step
        self.richardson = richardson
        self.retestFailures = retestFailures
        self.tolerance = tolerance
        self.relativeFloor = relativeFloor
    }

    /// The base of the automatic step (see `StepSize.automatic`) for plain central
    /// differences or, if `richardson`, for their Richardson extrapolation.
    static func automaticStepBase(richardson: Bool) -> Double {
        richardson ? pow(Double.ulpOfOne, 0.2) : cbrt(Double.ulpOfOne)
    }

    /// Whether failing comparisons are re-tested: asked for, and not already extrapolated.
    var retestsFailures: Bool { retestFailures && !richardson }

    /// Throws if any option is out of range.
    func validate() throws {
        if case let .directional(count, _) = mode, count < 1 {
            throw GradientCheckError.invalidOption("directional mode needs at least 1 direction, got \(count)")
        }
        if case let .fixed(h) = step, !(h > 0 && h.isFinite) {
            throw GradientCheckError.invalidOption("a fixed step must be positive and finite, got \(h)")
        }
        guard tolerance >= 0, tolerance.isFinite else {
            throw GradientCheckError.invalidOption("tolerance must be ≥ 0 and finite, got \(tolerance)")
        }
        guard relativeFloor > 0, relativeFloor.isFinite else {
            throw GradientCheckError.invalidOption("relativeFloor must be positive and finite, got \(relativeFloor)")
        }
    }
}

extension GradientCheckOptions {
    /// Written flat and readable: `"mode": "full"`, or `"mode": "directional"` with
    /// `"directions": K` and `"direction_seed": S`; `"step": "automatic"` or the fixed step's
    /// number; snake_case keys.
    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: AnyCodingKey.self)
        switch mode {
        case .full:
            try c.encode("full", forKey: AnyCodingKey("mode"))
        case let .directional(count, seed):
            try c.encode("directional", forKey: AnyCodingKey("mode"))
            try c.encode(count, forKey: AnyCodingKey("directions"))
            try c.encode(seed, forKey: AnyCodingKey("direction_seed"))
        }
        switch step {
        case .automatic: try c.encode("automatic", forKey: AnyCodingKey("step"))
        case .fixed(let h): try c.encode(h, forKey: AnyCodingKey("step"))
        }
        try c.encode(richardson, forKey: AnyCodingKey("richardson"))
        try c.encode(retestFailures, forKey: AnyCodingKey("retest_failures"))
        try c.encode(tolerance, forKey: AnyCodingKey("tolerance"))
        try c.encode(relativeFloor, forKey: AnyCodingKey("relative_floor"))
    }

    /// Reads the form `encode(to:)` writes and GateLab 0.2.0's (camelCase keys, the enums in
    /// Codable's nested form `{"full": {}}`, `{"directional": {"count": 4, "seed": 5}}`,
    /// `{"fixed": {"_0": 1e-5}}`). Options without `retestFailures` (written before re-tests
    /// existed) decode with it off: what that check did.
    public init(from decoder: Decoder) throws {
        let c = try LegacyKeyDecoder(base: decoder).container(keyedBy: AnyCodingKey.self)
        let mode: Mode
        switch try? c.decode(String.self, forKey: AnyCodingKey("mode")) {
        case "full"?: mode = .full
        case "directional"?: mode = .directional(count: try c.value("directions"), seed: try c.value("direction_seed"))
        case let other?:
            throw DecodingError.dataCorruptedError(forKey: AnyCodingKey("mode"), in: c, debugDescription: "unknown mode '\(other)' (full or directional)")
        case nil: mode = try c.value("mode")   // 0.2.0's nested form
        }
        let step: StepSize
        if let h = try? c.decode(Double.self, forKey: AnyCodingKey("step")) {
            step = .fixed(h)
        } else if let name = try? c.decode(String.self, forKey: AnyCodingKey("step")) {
            guard name == "automatic" else {
                throw DecodingError.dataCorruptedError(forKey: AnyCodingKey("step"), in: c, debugDescription: "unknown step '\(name)' (automatic or a number)")
            }
            step = .automatic
        } else {
            step = try c.value("step")   // 0.2.0's nested form
        }
        self.init(mode: mode, step: step, richardson: try c.value("richardson"),
                  retestFailures: try c.optionalValue("retest_failures") ?? false,
                  tolerance: try c.value("tolerance"), relativeFloor: try c.value("relative_floor"))
    }
}
