import Foundation
import Testing
import GateLabGSL

/// The tests and intervals of variant studies, against values computed independently: by
/// hand, by enumerating every sign assignment, or with mpmath's regularized incomplete beta
/// function and erf at 30 digits (the script's values are quoted beside each case).
@Suite("Hypothesis tests")
struct HypothesisTestsTests {
    @Test("Welch's t-test: t, Welch–Satterthwaite df and two-sided p of two fixed samples")
    func welch() throws {
        // t = −3/√2.5, df = 6.25/1.0625; p from mpmath: 2·½·I_{df/(df+t²)}(df/2, ½).
        let a = try Statistics.welchTest([1, 2, 3, 4, 5], [2, 4, 6, 8, 10])
        #expect(isClose(a.t, -1.897366596101027599, tolerance: 1e-12))
        #expect(isClose(a.degreesOfFreedom, 5.882352941176471, tolerance: 1e-12))
        #expect(isClose(a.p, 0.107531194930627237, tolerance: 1e-10))
        let b = try Statistics.welchTest([20.1, 22.3, 19.8, 25.0, 21.7, 23.3], [18.2, 17.9, 20.5, 16.4, 19.0, 18.8, 17.1])
        #expect(isClose(b.t, 3.963668496333628, tolerance: 1e-10))
        #expect(isClose(b.degreesOfFreedom, 8.641362787155062, tolerance: 1e-10))
        #expect(isClose(b.p, 0.003562365897003887, tolerance: 1e-10))
        // Symmetric in the order of the samples, but for t's sign.
        let swapped = try Statistics.welchTest([2, 4, 6, 8, 10], [1, 2, 3, 4, 5])
        #expect(swapped.t == -a.t && swapped.p == a.p)
        // No spread at all: equal means are no difference, different ones certain.
        #expect(try Statistics.welchTest([1, 1], [1, 1]).p == 1)
        #expect(try Statistics.welchTest([1, 1], [2, 2]).p == 0)
        #expect(throws: InvalidArgumentError.self) { try Statistics.welchTest([1], [1, 2]) }
        #expect(throws: InvalidArgumentError.self) { try Statistics.welchTest([1, .infinity], [1, 2]) }
    }

    @Test("signed-rank test: exact p from the null distribution, checked by enumerating every sign assignment")
    func signedRankExact() {
        // All five positive: W⁺ = 15, P(W⁺ ≥ 15) = 1/32, two-sided 1/16.
        let all = Statistics.signedRankTest([1, 2, 3, 4, 5])
        #expect(all.wPlus == 15 && all.count == 5 && all.exact && all.p == 0.0625)
        // One negative of rank 1 among six: W⁺ = 20; P(W⁺ ≥ 20) = 2/64.
        let one = Statistics.signedRankTest([-1, 2, 3, 4, 5, 6])
        #expect(one.wPlus == 20 && one.p == 0.0625)
        // Ten mixed differences: W⁺ = 43, p = 0.130859375 (2¹⁰ assignments enumerated).
        let mixed = Statistics.signedRankTest([0.5, -1.2, 2.3, 3.1, -0.2, 4.4, 5.0, -6.1, 7.7, 8.3])
        #expect(mixed.wPlus == 43 && mixed.exact && isClose(mixed.p, 0.130859375, tolerance: 1e-15))
        // Zeros are dropped; no non-zero difference is no evidence.
        #expect(Statistics.signedRankTest([0, 1, 2, 3, 4, 5]).p == 0.0625)
        #expect(Statistics.signedRankTest([0, 0]).p == 1)
        // A diverged run of one cell ranks above everything; both diverged (∞ − ∞) is a tie.
        let diverged = Statistics.signedRankTest([.infinity, 1, 2, 3, 4, .nan])
        #expect(diverged.wPlus == 15 && diverged.count == 5)
    }

    @Test("signed-rank test: normal approximation with zeros dropped and the tie correction")
    func signedRankNormal() {
        // 60 differences (4 zeros, many ties): n = 56, W⁺ = 1286, z = 3.98610508…,
        // p = 6.71667735884592e−5 (the formula evaluated independently in mpmath).
        let pattern: [Double] = [1, 1, -2, 2, 3, 0, 3, 3, -4, 5, 6, 6, -7, 8, 9, 10]
        let d = Array((0..<4).flatMap { _ in pattern }.prefix(60))
        let r = Statistics.signedRankTest(d)
        #expect(r.count == 56 && r.wPlus == 1286 && !r.exact)
        #expect(isClose(r.z!, 3.986105084688135, tolerance: 1e-12))
        #expect(isClose(r.p, 6.71667735884592e-5, tolerance: 1e-15))
    }

    @Test("Holm's correction: step-down products, monotone, capped at 1, in the given order")
    func holm() {
        // Sorted 0.005, 0.01, 0.03, 0.04 → 4·0.005, 3·0.01, 2·0.03, max(0.06, 1·0.04).
        let h = Statistics.holm([0.01, 0.04, 0.03, 0.005])
        #expect(isClose(h, [0.03, 0.06, 0.06, 0.02], tolerance: 1e-15))
        #expect(Statistics.holm([0.5, 0.9]) == [1, 1])
        let withNaN = Statistics.holm([0.01, .nan, 0.02])
        #expect(withNaN[0] == 0.02 && withNaN[1].isNaN && withNaN[2] == 0.02)
    }

    @Test("Wilson's interval at 95 %: 8 of 10, and the ends 0 and n")
    func wilson() throws {
        let w = try Statistics.wilsonInterval(successes: 8, trials: 10)
        #expect(isClose(w.lower, 0.490162471536641703, tolerance: 1e-12) && isClose(w.upper, 0.943317848545624745, tolerance: 1e-12))
        let none = try Statistics.wilsonInterval(successes: 0, trials: 20)
        #expect(none.lower == 0 && isClose(none.upper, 0.161125158052819387, tolerance: 1e-12))
        let all = try Statistics.wilsonInterval(successes: 20, trials: 20)
        #expect(isClose(all.lower, 0.838874841947180613, tolerance: 1e-12) && all.upper == 1)
        #expect(throws: InvalidArgumentError.self) { try Statistics.wilsonInterval(successes: 3, trials: 2) }
    }

    @Test("bootstrap interval: the same seed gives the same interval, it contains the statistic, a constant sample collapses")
    func bootstrap() throws {
        let xs: [Double] = [3.1, 2.7, 4.4, 3.9, 5.2, 2.2, 3.3, 4.8, 3.0, 4.1, 3.6, 2.9]
        let mean = { (s: [Double]) in s.reduce(0, +) / Double(s.count) }
        let a = try Statistics.bootstrapInterval(xs, statistic: mean, seed: 7)
        let b = try Statistics.bootstrapInterval(xs, statistic: mean, seed: 7)
        #expect(a == b)
        #expect(try Statistics.bootstrapInterval(xs, statistic: mean, seed: 8) != a)
        #expect(a.lower < mean(xs) && mean(xs) < a.upper)
        // About ±1.96 standard errors: sd ≈ 0.86, se ≈ 0.25, so the interval is roughly 1 wide.
        #expect(a.upper - a.lower > 0.6 && a.upper - a.lower < 1.4, "\(a)")
        #expect(a.lower >= xs.min()! && a.upper <= xs.max()!)
        let constant = try Statistics.bootstrapInterval([2, 2, 2], statistic: mean, seed: 1)
        #expect(constant.lower == 2 && constant.upper == 2)
    }

    @Test("additive fit: the shares of a known additive function are its effects' variances over the total")
    func additiveShares() throws {
        // y = f₁(x₁) + f₂(x₂) + f₃(c): cubic polynomials lie in the cubic spline space and a
        // categorical effect in the one-hot space, so the fit is exact and each share is
        // var(fⱼ) / var(y) computed directly.
        let rng = try RandomSource(seed: 11)
        let n = 200
        let x1 = rng.uniformArray(count: n), x2 = rng.uniformArray(count: n, low: -2, high: 2)
        let c = (0..<n).map { _ in ["a", "b", "c"][rng.integer(below: 3)] }
        let f1 = x1.map { 2 * $0 * $0 * $0 - $0 }, f2 = x2.map { 0.3 * $0 * $0 }, f3 = c.map { ["a": 0.0, "b": 0.5, "c": -0.25][$0]! }
        let y = (0..<n).map { f1[$0] + f2[$0] + f3[$0] }
        func variance(_ v: [Double]) -> Double { let m = v.reduce(0, +) / Double(v.count); return v.reduce(0) { $0 + ($1 - m) * ($1 - m) } }
        let fit = try AdditiveFit(features: [.continuous(x1), .continuous(x2), .categorical(c)], response: y)
        for (share, f) in zip(fit.shares, [f1, f2, f3]) {
            #expect(isClose(share, variance(f) / variance(y), tolerance: 1e-9), "\(fit.shares)")
        }
        #expect(isClose(fit.rSquared, 1, tolerance: 1e-9))
        #expect(isClose(fit.remainder, 1 - fit.rSquared, tolerance: 0) && isClose(fit.remainder, 0, tolerance: 1e-9))
        // A feature with no effect gets (nearly) no share; noise goes to the remainder.
        let noise = rng.gaussianArray(count: n, standardDeviation: 0.2)
        let noisyY = zip(f1, noise).map(+)
        let noisy = try AdditiveFit(features: [.continuous(x1), .continuous(rng.uniformArray(count: n))], response: noisyY)
        #expect(noisy.shares[1] < 0.03, "\(noisy.shares)")
        #expect(isClose(noisy.shares[0], variance(f1) / variance(noisyY), tolerance: 0.05), "\(noisy.shares) \(variance(f1) / variance(noisyY))")
        #expect(isClose(noisy.remainder, 1 - variance(f1) / variance(noisyY), tolerance: 0.06), "\(noisy.remainder)")
        #expect(throws: InvalidArgumentError.self) { try AdditiveFit(features: [.continuous(x1)], response: Array(repeating: 1, count: n)) }
        #expect(throws: InvalidArgumentError.self) { try AdditiveFit(features: [.continuous([1, 2, 3, 4, 5])], response: [1, 2, 3, 4, 6]) }
        // Two features that vary together (every value repeated as in a pooled paired study of
        // few samples) are refused, not split arbitrarily.
        let a = (0..<40).map { Double($0 % 4) }, b = a.map { 10 - 2 * $0 }
        #expect(throws: InvalidArgumentError.self) { try AdditiveFit(features: [.continuous(a), .continuous(b)], response: a.map { $0 * $0 + 1 }) }
    }
}
