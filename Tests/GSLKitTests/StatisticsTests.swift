import Testing
import GateLabGSL

@Suite("Statistics")
struct StatisticsTests {
    @Test("mean, sample variance, standard deviation, min, max of a textbook sample")
    func descriptive() throws {
        let xs: [Double] = [2, 4, 4, 4, 5, 5, 7, 9]
        #expect(try Statistics.mean(xs) == 5)
        #expect(isClose(try Statistics.variance(xs), 32.0 / 7, tolerance: 1e-14))
        #expect(isClose(try Statistics.standardDeviation(xs), (32.0 / 7).squareRoot(), tolerance: 1e-14))
        #expect(try Statistics.min(xs) == 2 && Statistics.max(xs) == 9)
    }

    @Test("median of odd and even lengths, unsorted input left untouched")
    func median() throws {
        let odd: [Double] = [5, 1, 3]
        #expect(try Statistics.median(odd) == 3 && odd == [5, 1, 3])
        #expect(try Statistics.median([4, 1, 3, 2]) == 2.5)
        #expect(try Statistics.median([7]) == 7)
    }

    @Test("quantiles of 1...101 are 1 + 100p; interpolation between order statistics")
    func quantiles() throws {
        let xs = (1...101).reversed().map(Double.init)
        for p in [0, 0.01, 0.25, 0.5, 0.9, 0.975, 1] {
            #expect(isClose(try Statistics.quantile(xs, p), 1 + 100 * p, tolerance: 1e-12), "p = \(p)")
        }
        #expect(try Statistics.quantile([1, 2, 3, 4], 0.5) == 2.5)
        #expect(isClose(try Statistics.quantile([10, 20], 0.3), 13, tolerance: 1e-12))
        #expect(throws: InvalidArgumentError.self) { try Statistics.quantile(xs, 1.5) }
    }

    @Test("empty or too short input is an error, never a crash")
    func emptyInput() {
        let functions: [([Double]) throws -> Double] = [
            Statistics.mean, Statistics.variance, Statistics.standardDeviation, Statistics.median,
            Statistics.min, Statistics.max, { try Statistics.quantile($0, 0.5) },
        ]
        for function in functions { #expect(throws: InvalidArgumentError.self) { try function([]) } }
        #expect(throws: InvalidArgumentError.self) { try Statistics.variance([1]) }
    }

    @Test("an exact line y = 3x − 2: slope 3, intercept −2, zero standard errors")
    func exactLine() throws {
        let x = (0..<10).map(Double.init)
        let fit = try Statistics.linearFit(x: x, y: x.map { 3 * $0 - 2 })
        #expect(isClose(fit.slope, 3, tolerance: 1e-12) && isClose(fit.intercept, -2, tolerance: 1e-12))
        #expect(isClose(fit.slopeStandardError, 0, tolerance: 1e-12))
        #expect(isClose(fit.interceptStandardError, 0, tolerance: 1e-12))
        #expect(isClose(fit.sumSquares, 0, tolerance: 1e-20) && fit.count == 10)
    }

    @Test("a noisy line matches the textbook OLS formulas, covariances from the residuals")
    func noisyLine() throws {
        let rng = try RandomSource(seed: 31)
        let x = (0..<200).map { Double($0) / 10 }
        let y = x.map { 1.5 * $0 + 4 + rng.gaussian(standardDeviation: 0.7) }
        let fit = try Statistics.linearFit(x: x, y: y)
        let n = Double(x.count), xBar = x.reduce(0, +) / n, yBar = y.reduce(0, +) / n
        let sxx = x.reduce(0) { $0 + ($1 - xBar) * ($1 - xBar) }
        let sxy = zip(x, y).reduce(0) { $0 + ($1.0 - xBar) * ($1.1 - yBar) }
        let slope = sxy / sxx, intercept = yBar - slope * xBar
        let residuals = zip(x, y).map { $1 - intercept - slope * $0 }
        let s2 = residuals.reduce(0) { $0 + $1 * $1 } / (n - 2)
        #expect(isClose(fit.slope, slope, tolerance: 1e-12) && isClose(fit.intercept, intercept, tolerance: 1e-10))
        #expect(isClose(fit.slopeStandardError, (s2 / sxx).squareRoot(), tolerance: 1e-12))
        #expect(isClose(fit.interceptStandardError, (s2 * (1 / n + xBar * xBar / sxx)).squareRoot(), tolerance: 1e-12))
        #expect(isClose(fit.cov01, -xBar * s2 / sxx, tolerance: 1e-12))
        #expect(abs(fit.slope - 1.5) < 4 * fit.slopeStandardError)
    }

    @Test("a fit needs matching lengths, two points and varying x; two points have NaN errors")
    func fitErrors() throws {
        #expect(throws: InvalidArgumentError.self) { try Statistics.linearFit(x: [1], y: [2]) }
        #expect(throws: InvalidArgumentError.self) { try Statistics.linearFit(x: [], y: []) }
        #expect(throws: InvalidArgumentError.self) { try Statistics.linearFit(x: [1, 2, 3], y: [1, 2]) }
        #expect(throws: InvalidArgumentError.self) { try Statistics.linearFit(x: [2, 2, 2], y: [1, 2, 3]) }
        let two = try Statistics.linearFit(x: [0, 2], y: [1, 5])
        #expect(two.slope == 2 && two.intercept == 1 && two.slopeStandardError.isNaN)
    }

    @Test("Student-t confidence interval against a hand computation (t_{0.975,4} = 2.7764451051977987)")
    func confidenceInterval() throws {
        let ci = try Statistics.meanConfidenceInterval([1, 2, 3, 4, 5])
        let halfWidth = 2.7764451051977987 * 2.5.squareRoot() / 5.0.squareRoot()
        #expect(ci.mean == 3)
        #expect(isClose(ci.halfWidth, halfWidth, tolerance: 1e-12))
        #expect(isClose(ci.lower, 3 - halfWidth, tolerance: 1e-12) && isClose(ci.upper, 3 + halfWidth, tolerance: 1e-12))
        // Two values, 90%: t_{0.95,1} = tan(0.45π) = 6.313751514675043.
        let narrow = try Statistics.meanConfidenceInterval([0, 2], level: 0.9)
        #expect(isClose(narrow.halfWidth, 6.313751514675043 * 2.0.squareRoot() / 2.0.squareRoot(), tolerance: 1e-9))
        #expect(throws: InvalidArgumentError.self) { try Statistics.meanConfidenceInterval([1]) }
        #expect(throws: InvalidArgumentError.self) { try Statistics.meanConfidenceInterval([1, 2], level: 1) }
    }
}
