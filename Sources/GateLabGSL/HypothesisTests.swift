internal import CGateLabGSL

// Tests and intervals for comparing samples (variant studies: Greff et al. 2017, "LSTM: A
// Search Space Odyssey"): Welch's t-test, Wilcoxon's signed-rank test, Holm's correction,
// Wilson's interval for a proportion and a seeded percentile bootstrap. GSL gives the
// distributions (`gsl_cdf_*`); the signed-rank test, which GSL lacks, is written here.

extension Statistics {
    /// The result of Welch's unequal-variance t-test.
    public struct WelchTest: Equatable, Sendable {
        /// t = (x̄ − ȳ) / √(s²ₓ/nₓ + s²ᵧ/nᵧ): negative when the first sample's mean is lower.
        public let t: Double
        /// The Welch–Satterthwaite degrees of freedom.
        public let degreesOfFreedom: Double
        /// The two-sided p-value, 2·Q(|t|) of Student's t with `degreesOfFreedom`
        /// (`gsl_cdf_tdist_Q`).
        public let p: Double
    }

    /// Welch's two-sample t-test of equal means without assuming equal variances (Greff et
    /// al.'s test on the best 10 % of each variant's trials).
    ///
    /// When both samples have zero variance the statistic is undefined: equal means give
    /// t = 0, p = 1; different means give t = ±∞, p = 0.
    /// - Parameters:
    ///   - x: at least two finite values.
    ///   - y: at least two finite values.
    /// - Throws: `InvalidArgumentError` for fewer than two values or a non-finite one.
    public static func welchTest(_ x: [Double], _ y: [Double]) throws -> WelchTest {
        let caller = "Statistics.welchTest"
        try require(x.count >= 2 && y.count >= 2, caller, "each sample needs at least 2 values, got \(x.count) and \(y.count)")
        try require((x + y).allSatisfy(\.isFinite), caller, "the samples must be finite")
        let mx = try mean(x), my = try mean(y)
        let vx = try variance(x) / Double(x.count), vy = try variance(y) / Double(y.count)
        let se2 = vx + vy
        guard se2 > 0 else {
            return mx == my ? WelchTest(t: 0, degreesOfFreedom: .nan, p: 1)
                            : WelchTest(t: mx < my ? -.infinity : .infinity, degreesOfFreedom: .nan, p: 0)
        }
        let t = (mx - my) / se2.squareRoot()
        let df = se2 * se2 / (vx * vx / Double(x.count - 1) + vy * vy / Double(y.count - 1))
        let q = try GSLCall.value(caller) { gsl_cdf_tdist_Q(Swift.abs(t), df) }
        return WelchTest(t: t, degreesOfFreedom: df, p: Swift.min(1, 2 * q))
    }

    /// The result of Wilcoxon's signed-rank test.
    public struct SignedRankTest: Equatable, Sendable {
        /// W⁺: the sum of the ranks of the positive differences (zeros dropped, ties given
        /// their average rank).
        public let wPlus: Double
        /// The number of non-zero differences ranked.
        public let count: Int
        /// The two-sided p-value.
        public let p: Double
        /// Whether `p` comes from the exact null distribution (else the normal approximation).
        public let exact: Bool
        /// The normal approximation's z (with continuity correction), nil when exact.
        public let z: Double?
    }

    /// The largest number of non-zero differences for which the exact distribution is used.
    public static let signedRankExactLimit = 50

    /// Wilcoxon's signed-rank test of a paired sample's differences: whether they are
    /// symmetric about zero.
    ///
    /// Zero differences are dropped (Wilcoxon's convention), the others ranked by absolute
    /// value with ties given their average rank. With at most `signedRankExactLimit`
    /// differences and no ties, p is exact: the null distribution of W⁺ over the 2ⁿ sign
    /// assignments, counted by dynamic programming, p = min(1, 2·min(P(W⁺ ≤ w), P(W⁺ ≥ w))).
    /// Otherwise the normal approximation: mean n(n+1)/4, variance n(n+1)(2n+1)/24 −
    /// Σ(t³ − t)/48 over tie groups of size t, and a continuity correction of ½.
    /// An infinite difference (one run of a pair diverged) ranks above every finite one;
    /// a NaN difference (both diverged: ∞ − ∞) counts as zero.
    /// - Parameter differences: the paired differences xᵢ − yᵢ.
    /// - Returns: W⁺ and p; with no non-zero difference, W⁺ = 0 and p = 1.
    public static func signedRankTest(_ differences: [Double]) -> SignedRankTest {
        let nonZero = differences.filter { !$0.isNaN && $0 != 0 }
        let n = nonZero.count
        guard n > 0 else { return SignedRankTest(wPlus: 0, count: 0, p: 1, exact: true, z: nil) }
        // Average ranks of |d| (1-based), ties by groups of equal absolute value.
        let order = nonZero.indices.sorted { Swift.abs(nonZero[$0]) < Swift.abs(nonZero[$1]) }
        var ranks = [Double](repeating: 0, count: n)
        var tieCorrection = 0.0, ties = false
        var start = 0
        while start < n {
            var end = start
            while end + 1 < n && Swift.abs(nonZero[order[end + 1]]) == Swift.abs(nonZero[order[start]]) { end += 1 }
            let average = Double(start + end + 2) / 2
            for k in start...end { ranks[order[k]] = average }
            let t = Double(end - start + 1)
            if t > 1 { ties = true; tieCorrection += t * t * t - t }
            start = end + 1
        }
        var wPlus = 0.0
        for (d, r) in zip(nonZero, ranks) where d > 0 { wPlus += r }
        if n <= signedRankExactLimit && !ties {
            // counts[s] = the number of sign assignments of ranks 1…n whose positive ranks sum to s.
            let total = n * (n + 1) / 2
            var counts = [Double](repeating: 0, count: total + 1)
            counts[0] = 1
            for r in 1...n {
                for s in stride(from: total, through: r, by: -1) { counts[s] += counts[s - r] }
            }
            let all = counts.reduce(0, +), w = Int(wPlus)
            let lower = counts[0...w].reduce(0, +) / all, upper = counts[w...total].reduce(0, +) / all
            return SignedRankTest(wPlus: wPlus, count: n, p: Swift.min(1, 2 * Swift.min(lower, upper)), exact: true, z: nil)
        }
        let nd = Double(n)
        let mean = nd * (nd + 1) / 4
        let variance = nd * (nd + 1) * (2 * nd + 1) / 24 - tieCorrection / 48
        guard variance > 0 else { return SignedRankTest(wPlus: wPlus, count: n, p: 1, exact: false, z: 0) }
        let deviation = wPlus - mean
        let corrected = deviation == 0 ? 0 : (Swift.abs(deviation) - 0.5) * (deviation < 0 ? -1 : 1)
        let z = corrected / variance.squareRoot()
        let p = Swift.min(1, 2 * gsl_cdf_ugaussian_Q(Swift.abs(z)))
        return SignedRankTest(wPlus: wPlus, count: n, p: p, exact: false, z: z)
    }

    /// Holm's step-down correction of p-values for multiple comparisons: sorted ascending,
    /// the k-th smallest (from 0) becomes max over j ≤ k of min(1, (m − j)·p₍ⱼ₎).
    /// Rejecting where the corrected value is below α controls the family-wise error rate.
    /// - Parameter ps: the p-values (NaN stays NaN and is left out of the family).
    /// - Returns: the corrected p-values, in the order given.
    public static func holm(_ ps: [Double]) -> [Double] {
        let valid = ps.indices.filter { !ps[$0].isNaN }.sorted { ps[$0] < ps[$1] }
        let m = valid.count
        var out = ps
        var running = 0.0
        for (k, i) in valid.enumerated() {
            running = Swift.max(running, Swift.min(1, Double(m - k) * ps[i]))
            out[i] = running
        }
        return out
    }

    /// Wilson's score interval for a proportion (Wilson 1927): better than the normal
    /// interval near 0 and 1 and never outside [0, 1].
    /// - Parameters:
    ///   - successes: 0…trials.
    ///   - trials: at least 1.
    ///   - level: the confidence level in (0, 1); 0.95 by default (z from `gsl_cdf_ugaussian_Pinv`).
    public static func wilsonInterval(successes: Int, trials: Int, level: Double = 0.95) throws -> (lower: Double, upper: Double) {
        let caller = "Statistics.wilsonInterval"
        try require(trials >= 1 && (0...trials).contains(successes), caller, "need 0 ≤ successes ≤ trials and trials ≥ 1, got \(successes) of \(trials)")
        try require(level > 0 && level < 1, caller, "level must be in (0, 1), got \(level)")
        let z = gsl_cdf_ugaussian_Pinv((1 + level) / 2)
        let n = Double(trials), p = Double(successes) / n, z2 = z * z
        let centre = (p + z2 / (2 * n)) / (1 + z2 / n)
        let half = z / (1 + z2 / n) * (p * (1 - p) / n + z2 / (4 * n * n)).squareRoot()
        return (Swift.max(0, centre - half), Swift.min(1, centre + half))
    }

    /// A percentile bootstrap interval of `statistic` over `xs`: `resamples` resamples of
    /// `xs` with replacement drawn from a `RandomSource` seeded with `seed` (so the same
    /// call gives the same interval), the statistic of each, and the (1 ∓ level)/2 quantiles.
    /// - Parameters:
    ///   - xs: at least one value.
    ///   - statistic: what to compute on a sample (e.g. the mean of its best 10 %).
    ///   - resamples: at least 1 (2000 by default).
    ///   - level: in (0, 1).
    ///   - seed: the resampling generator's seed (mt19937).
    public static func bootstrapInterval(_ xs: [Double], statistic: ([Double]) throws -> Double, resamples: Int = 2000,
                                         level: Double = 0.95, seed: UInt64) throws -> (lower: Double, upper: Double) {
        let caller = "Statistics.bootstrapInterval"
        try require(!xs.isEmpty && resamples >= 1, caller, "need at least one value and one resample")
        try require(level > 0 && level < 1, caller, "level must be in (0, 1), got \(level)")
        let rng = try RandomSource(seed: seed)
        var values = [Double]()
        values.reserveCapacity(resamples)
        var sample = [Double](repeating: 0, count: xs.count)
        for _ in 0..<resamples {
            for k in sample.indices { sample[k] = xs[rng.integer(below: xs.count)] }
            values.append(try statistic(sample))
        }
        let finite = values.filter { !$0.isNaN }
        try require(!finite.isEmpty, caller, "the statistic is NaN on every resample")
        // Infinities (a resample of diverged runs) sort to the ends, as the worst values do.
        let sorted = finite.sorted()
        func at(_ p: Double) -> Double {
            let position = p * Double(sorted.count - 1)
            let lo = Int(position.rounded(.down)), hi = Swift.min(lo + 1, sorted.count - 1)
            let frac = position - Double(lo)
            if frac == 0 || sorted[lo] == sorted[hi] { return sorted[lo] }
            return sorted[lo] + frac * (sorted[hi] - sorted[lo])
        }
        return (at((1 - level) / 2), at((1 + level) / 2))
    }
}
