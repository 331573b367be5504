internal import CGateLabGSL

/// Descriptive statistics, least-squares lines and confidence intervals over `[Double]`,
/// computed by GSL. Empty (or too short) input throws; it never traps.
public enum Statistics {
    /// The arithmetic mean (`gsl_stats_mean`).
    /// - Parameter xs: At least one value.
    public static func mean(_ xs: [Double]) throws -> Double {
        try xs.withChecked("Statistics.mean", minimumCount: 1) { gsl_stats_mean($0, 1, $1) }
    }

    /// The sample variance with Bessel's correction, Σ(x − x̄)² / (n − 1) (`gsl_stats_variance`).
    /// - Parameter xs: At least two values.
    public static func variance(_ xs: [Double]) throws -> Double {
        try xs.withChecked("Statistics.variance", minimumCount: 2) { gsl_stats_variance($0, 1, $1) }
    }

    /// The sample standard deviation, √variance (`gsl_stats_sd`).
    /// - Parameter xs: At least two values.
    public static func standardDeviation(_ xs: [Double]) throws -> Double {
        try xs.withChecked("Statistics.standardDeviation", minimumCount: 2) { gsl_stats_sd($0, 1, $1) }
    }

    /// The median: the middle value, or the mean of the two middle values for even n
    /// (`gsl_stats_median_from_sorted_data` on a sorted copy).
    /// - Parameter xs: At least one value.
    public static func median(_ xs: [Double]) throws -> Double {
        try xs.sorted().withChecked("Statistics.median", minimumCount: 1) {
            gsl_stats_median_from_sorted_data($0, 1, $1)
        }
    }

    /// The p-quantile with linear interpolation between order statistics, as
    /// `gsl_stats_quantile_from_sorted_data` (on a sorted copy): with sorted values
    /// x₀ … xₙ₋₁, it is x_⌊δ⌋ + (δ − ⌊δ⌋)(x_⌊δ⌋₊₁ − x_⌊δ⌋), δ = (n − 1)p (NumPy's default).
    /// - Parameters:
    ///   - xs: At least one value.
    ///   - p: The probability, in [0, 1].
    public static func quantile(_ xs: [Double], _ p: Double) throws -> Double {
        let caller = "Statistics.quantile"
        try require(p >= 0 && p <= 1, caller, "p must be in [0, 1], got \(p)")
        return try xs.sorted().withChecked(caller, minimumCount: 1) {
            gsl_stats_quantile_from_sorted_data($0, 1, $1, p)
        }
    }

    /// The smallest value (`gsl_stats_min`).
    /// - Parameter xs: At least one value.
    public static func min(_ xs: [Double]) throws -> Double {
        try xs.withChecked("Statistics.min", minimumCount: 1) { gsl_stats_min($0, 1, $1) }
    }

    /// The largest value (`gsl_stats_max`).
    /// - Parameter xs: At least one value.
    public static func max(_ xs: [Double]) throws -> Double {
        try xs.withChecked("Statistics.max", minimumCount: 1) { gsl_stats_max($0, 1, $1) }
    }

    /// A least-squares line y = intercept + slope·x with GSL's covariance estimate.
    public struct LinearFit: Equatable, Sendable {
        /// c₀, the value at x = 0.
        public let intercept: Double
        /// c₁, the change in y per unit x.
        public let slope: Double
        /// Var(c₀).
        public let cov00: Double
        /// Cov(c₀, c₁).
        public let cov01: Double
        /// Var(c₁).
        public let cov11: Double
        /// The residual sum of squares Σ(yᵢ − c₀ − c₁xᵢ)².
        public let sumSquares: Double
        /// The number of points.
        public let count: Int

        /// The standard error of the slope, √cov11.
        public var slopeStandardError: Double { cov11.squareRoot() }
        /// The standard error of the intercept, √cov00.
        public var interceptStandardError: Double { cov00.squareRoot() }
    }

    /// Fits y = c₀ + c₁x by ordinary least squares (`gsl_fit_linear`).
    ///
    /// Without weights, GSL estimates the covariance of (c₀, c₁) from the scatter about the
    /// line: cov = s²(XᵀX)⁻¹ with s² = sumSquares / (n − 2). With exactly two points there are
    /// no residual degrees of freedom: the line is exact and the covariances (so the standard
    /// errors) are NaN.
    /// - Parameters:
    ///   - x: The abscissae, at least two and not all equal.
    ///   - y: The ordinates, as many as `x`.
    /// - Throws: `InvalidArgumentError` for mismatched lengths, fewer than two points or a
    ///   constant `x`; `GSLError` if GSL reports a failure.
    public static func linearFit(x: [Double], y: [Double]) throws -> LinearFit {
        let caller = "Statistics.linearFit"
        try require(x.count == y.count, caller, "x has \(x.count) values but y has \(y.count); pass one y per x")
        try require(x.count >= 2, caller, "a line needs at least 2 points, got \(x.count)")
        try require(x.contains { $0 != x[0] }, caller, "all x values are equal (\(x[0])); the slope is undefined")
        var c0 = 0.0, c1 = 0.0, cov00 = 0.0, cov01 = 0.0, cov11 = 0.0, sumSquares = 0.0
        try GSLCall.status(caller) {
            gsl_fit_linear(x, 1, y, 1, x.count, &c0, &c1, &cov00, &cov01, &cov11, &sumSquares)
        }
        if x.count == 2 { (cov00, cov01, cov11) = (.nan, .nan, .nan) }
        return LinearFit(intercept: c0, slope: c1, cov00: cov00, cov01: cov01, cov11: cov11,
                         sumSquares: sumSquares, count: x.count)
    }

    /// The two-sided Student-t confidence interval for the mean:
    /// x̄ ± t_{(1+level)/2, n−1} · s/√n (quantile from `gsl_cdf_tdist_Pinv`).
    /// - Parameters:
    ///   - xs: At least two values (one value has no spread to estimate).
    ///   - level: The confidence level, in (0, 1); 0.95 by default.
    /// - Returns: The mean, the interval's bounds, and its half-width.
    /// - Throws: `InvalidArgumentError` for fewer than two values or a level outside (0, 1).
    public static func meanConfidenceInterval(_ xs: [Double], level: Double = 0.95) throws
        -> (mean: Double, lower: Double, upper: Double, halfWidth: Double)
    {
        let caller = "Statistics.meanConfidenceInterval"
        try require(level > 0 && level < 1, caller, "level must be in (0, 1), e.g. 0.95; got \(level)")
        try require(xs.count >= 2, caller, "a confidence interval needs at least 2 values, got \(xs.count)")
        let mean = try mean(xs)
        let sd = try standardDeviation(xs)
        let t = try GSLCall.value(caller) { gsl_cdf_tdist_Pinv((1 + level) / 2, Double(xs.count - 1)) }
        let halfWidth = t * sd / Double(xs.count).squareRoot()
        return (mean, mean - halfWidth, mean + halfWidth, halfWidth)
    }
}

private extension Array where Element == Double {
    /// Checks the length, then runs a GSL statistics routine on (data, n).
    func withChecked(_ caller: String, minimumCount: Int,
                     _ body: (UnsafePointer<Double>, Int) -> Double) throws -> Double
    {
        try require(count >= minimumCount, caller,
                    "needs at least \(minimumCount) value\(minimumCount == 1 ? "" : "s"), got \(count)")
        return try GSLCall.value(caller) { withUnsafeBufferPointer { body($0.baseAddress!, $0.count) } }
    }
}
