import Foundation
import Testing
@testable import GateLabGradCheck
import GateLabGSL

// MARK: - Known functions with hand-written gradients

/// A loss with hand-written gradients: `tensors` hold the correct analytic gradient.
struct Problem: Sendable, CustomTestStringConvertible {
    var name: String
    var tensors: [CheckedTensor]
    var loss: @Sendable ([[Double]]) throws -> Double
    var testDescription: String { name }

    /// The same problem with one tensor's analytic gradient replaced.
    func replacingGradient(of tensorName: String, with transform: ([Double]) -> [Double]) -> Problem {
        var copy = self
        let t = copy.tensors.firstIndex { $0.name == tensorName }!
        copy.tensors[t].analyticGradient = transform(copy.tensors[t].analyticGradient)
        return copy
    }
}

/// `rows × inner` times `inner × cols`, row-major.
func matmul(_ a: [Double], _ b: [Double], rows: Int, inner: Int, cols: Int) -> [Double] {
    (0..<rows * cols).map { ij in
        (0..<inner).reduce(0) { $0 + a[ij / cols * inner + $1] * b[$1 * cols + ij % cols] }
    }
}

func transpose(_ a: [Double], rows: Int, cols: Int) -> [Double] {
    (0..<rows * cols).map { ji in a[ji % rows * cols + ji / rows] }
}

/// L = Σ sin(a_ij) · b_ij²; ∂L/∂a = cos(a) · b², ∂L/∂b = 2 sin(a) · b.
let sineTimesSquare: Problem = {
    let a = [0.3, -1.2, 2.0, 0.7, -0.4, 1.5], b = [1.1, -0.5, 0.8, 2.2, -1.7, 0.05]
    return Problem(
        name: "Σ sin(a)·b²",
        tensors: [
            CheckedTensor(name: "a", rows: 2, cols: 3, values: a,
                          analyticGradient: zip(a, b).map { cos($0) * $1 * $1 }),
            CheckedTensor(name: "b", rows: 2, cols: 3, values: b,
                          analyticGradient: zip(a, b).map { 2 * sin($0) * $1 }),
        ],
        loss: { p in zip(p[0], p[1]).reduce(0) { $0 + sin($1.0) * $1.1 * $1.1 } })
}()

/// L = xᵀAx with A not symmetric; ∂L/∂x = (A + Aᵀ)x, ∂L/∂A = x xᵀ.
let quadraticForm: Problem = {
    let n = 4
    let x = [0.5, -1.0, 2.0, 0.25]
    let A = [2.0, -0.3, 0.1, 0.0, 0.7, 1.5, -0.2, 0.4, -1.1, 0.0, 3.0, 0.6, 0.2, 0.9, -0.5, 1.0]
    let symmetric = zip(A, transpose(A, rows: n, cols: n)).map(+)
    @Sendable func xAx(_ p: [[Double]]) -> Double {
        zip(p[0], matmul(p[1], p[0], rows: n, inner: n, cols: 1)).reduce(0) { $0 + $1.0 * $1.1 }
    }
    return Problem(
        name: "xᵀAx",
        tensors: [
            CheckedTensor(name: "x", rows: n, cols: 1, values: x,
                          analyticGradient: matmul(symmetric, x, rows: n, inner: n, cols: 1)),
            CheckedTensor(name: "A", rows: n, cols: n, values: A,
                          analyticGradient: matmul(x, x, rows: n, inner: 1, cols: n)),
        ],
        loss: xAx)
}()

/// L = s · ½ Σ_ij ((PQ)_ij + c_j)²: a matrix product, a broadcast bias row and a 1×1 scale.
/// With G = s · (PQ + c): ∂L/∂P = G Qᵀ, ∂L/∂Q = Pᵀ G, ∂L/∂c = column sums of G,
/// ∂L/∂s = ½ Σ (PQ + c)².
let matrixProduct: Problem = {
    let P = [0.2, -0.7, 1.3, 0.5, 0.9, -1.1]                                  // 2×3
    let Q = [1.0, 0.3, -0.6, 0.8, -0.2, 0.4, 1.7, -0.9, 0.5, -1.3, 0.1, 0.6]  // 3×4
    let c = [0.1, -0.2, 0.3, -0.4]                                            // 1×4
    let s = 1.7
    @Sendable func residual(_ P: [Double], _ Q: [Double], _ c: [Double]) -> [Double] {
        matmul(P, Q, rows: 2, inner: 3, cols: 4).enumerated().map { $1 + c[$0 % 4] }
    }
    let r = residual(P, Q, c), G = r.map { s * $0 }
    return Problem(
        name: "s·½‖PQ + c‖²",
        tensors: [
            CheckedTensor(name: "P", rows: 2, cols: 3, values: P,
                          analyticGradient: matmul(G, transpose(Q, rows: 3, cols: 4), rows: 2, inner: 4, cols: 3)),
            CheckedTensor(name: "Q", rows: 3, cols: 4, values: Q,
                          analyticGradient: matmul(transpose(P, rows: 2, cols: 3), G, rows: 3, inner: 2, cols: 4)),
            CheckedTensor(name: "c", rows: 1, cols: 4, values: c,
                          analyticGradient: (0..<4).map { G[$0] + G[4 + $0] }),
            CheckedTensor(name: "s", rows: 1, cols: 1, values: [s],
                          analyticGradient: [r.reduce(0) { $0 + $1 * $1 } / 2]),
        ],
        loss: { p in p[3][0] * residual(p[0], p[1], p[2]).reduce(0) { $0 + $1 * $1 } / 2 })
}()

/// L = Σ tanh(w_ij) · t_ij; ∂L/∂w = (1 − y²) · t with y = tanh(w).
let tanhLayer: Problem = {
    let w = [0.4, -1.3, 0.9, 2.1, -0.2, 0.6], t = [1.0, -2.0, 0.5, 0.3, 1.5, -0.8]
    return Problem(
        name: "Σ tanh(w)·t",
        tensors: [CheckedTensor(name: "w", rows: 3, cols: 2, values: w,
                                analyticGradient: zip(w, t).map { (1 - tanh($0) * tanh($0)) * $1 })],
        loss: { p in zip(p[0], t).reduce(0) { $0 + tanh($1.0) * $1.1 } })
}()

let allModes: [GradientCheckOptions.Mode] = [.full, .directional(count: 8, seed: 42)]

func run(_ problem: Problem, _ options: GradientCheckOptions = GradientCheckOptions()) throws -> GradientCheckReport {
    try GradientChecker(options: options).check(problem.tensors, loss: problem.loss)
}

/// The worst relative error anywhere in a report.
func worstRelativeError(_ report: GradientCheckReport) -> Double {
    (report.tensors.map(\.worstRelative.relativeError) + report.directions.map(\.relativeError)).max()!
}

@Test(arguments: [sineTimesSquare, quadraticForm, matrixProduct, tanhLayer], allModes)
func correctGradientsPass(problem: Problem, mode: GradientCheckOptions.Mode) throws {
    let report = try run(problem, GradientCheckOptions(mode: mode))
    #expect(report.passed, "\(report.table())")
    #expect(worstRelativeError(report) < 5e-8, "\(report.table())")
    let richardson = try run(problem, GradientCheckOptions(mode: mode, richardson: true))
    #expect(richardson.passed, "\(richardson.table())")
    #expect(worstRelativeError(richardson) < 1e-9, "\(richardson.table())")
}

// MARK: - Wrong gradients fail, and the report says where

@Test func oneWrongElementFailsAndIsNamed() throws {
    let wrong = sineTimesSquare.replacingGradient(of: "b") { g in
        var g = g
        g[5] += 1e-4  // element (1, 2)
        return g
    }
    let report = try run(wrong)
    #expect(!report.passed)
    let a = try #require(report.tensors.first { $0.name == "a" })
    let b = try #require(report.tensors.first { $0.name == "b" })
    #expect(a.passed)
    #expect(!b.passed && b.failingElementCount == 1)
    #expect(b.worstRelative.row == 1 && b.worstRelative.col == 2)
    #expect(b.worstAbsolute == b.worstRelative)
    #expect(abs(b.worstRelative.absoluteError - 1e-4) < 1e-9)

    let text = report.table()
    let analytic = String(format: "%.10g", wrong.tensors[1].analyticGradient[5])
    let numeric = String(format: "%.10g", b.worstRelative.numeric)
    #expect(analytic != numeric)
    let failRow = try #require(text.split(separator: "\n").first { $0.hasPrefix("b ") })
    for needle in ["[1, 2]", analytic, numeric, "FAIL"] {
        #expect(failRow.contains(needle), "\(needle) missing from:\n\(text)")
    }
    // The failing tensor's own table: heading, then the element with both values.
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let heading = try #require(lines.firstIndex { $0.hasPrefix("b (2×3): 1 of 6 elements over tolerance") }, "\(text)")
    #expect(lines[heading + 1].split(separator: " ", omittingEmptySubsequences: true) == ["index", "analytic", "numeric", "rel", "err"])
    #expect(lines[heading + 2].contains("[1, 2]") && lines[heading + 2].contains(analytic) && lines[heading + 2].contains(numeric), "\(text)")
    #expect(text.contains("FAILED: 1 of 2 tensor(s) (b); "), "\(text)")
}

/// Every element of b wrong by a different amount: the report keeps the five worst, worst
/// first, and prints them under b's heading; the verdict names the tensor only.
@Test func aFailingTensorListsItsFiveWorstElements() throws {
    let wrong = sineTimesSquare.replacingGradient(of: "b") { g in
        g.enumerated().map { i, x in x + 1e-3 * Double(i + 1) }
    }
    let report = try run(wrong)
    let b = try #require(report.tensors.first { $0.name == "b" })
    #expect(b.failingElementCount == 6 && b.worstFailing.count == TensorCheckResult.shownFailures)
    #expect(b.worstFailing.map(\.relativeError) == b.worstFailing.map(\.relativeError).sorted(by: >))
    #expect(b.worstFailing[0] == b.worstRelative)
    let text = report.table()
    let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    let heading = try #require(lines.firstIndex(of: "b (2×3): 6 of 6 elements over tolerance, the worst 5:"), "\(text)")
    #expect(lines[(heading + 2)...].prefix { $0.hasPrefix("  [") }.count == 5, "\(text)")
    #expect(lines.last!.hasPrefix("FAILED: 1 of 2 tensor(s) (b); ") && lines.last!.count < 200, "\(text)")
    // Read back from JSON, with the list.
    #expect(try JSONDecoder().decode(GradientCheckReport.self, from: Data(report.json().utf8)) == report)
}

@Test(arguments: allModes)
func tanhDerivativeWrittenAsOneMinusYFails(mode: GradientCheckOptions.Mode) throws {
    let wrong = tanhLayer.replacingGradient(of: "w") { _ in
        zip(tanhLayer.tensors[0].values, [1.0, -2.0, 0.5, 0.3, 1.5, -0.8]).map { (1 - tanh($0)) * $1 }
    }
    let report = try run(wrong, GradientCheckOptions(mode: mode))
    #expect(!report.passed)
    #expect(report.table().contains("FAIL"))
    if case .full = mode {
        #expect(report.tensors[0].failingElementCount == 6)
    } else {
        #expect(report.directions.allSatisfy { !$0.passed }, "\(report.table())")
    }
    // Every failure was re-tested with Richardson extrapolation, and confirmed.
    #expect(report.retestedCount > 0 && report.clearedCount == 0, "\(report.table())")
    #expect(report.table().contains("0 cleared, \(report.retestedCount) confirmed"), "\(report.table())")
}

@Test func directionalModeCatchesOneWrongElement() throws {
    let wrong = matrixProduct.replacingGradient(of: "Q") { g in
        var g = g
        g[7] *= 1.001
        return g
    }
    let report = try run(wrong, GradientCheckOptions(mode: .directional(count: 4, seed: 7)))
    #expect(!report.passed, "\(report.table())")
    #expect(report.directions.filter(\.passed).isEmpty, "\(report.table())")
    #expect(report.table().contains("FAILED: direction(s) 0, 1, 2, 3 of 4"), "\(report.table())")
}

// MARK: - Near-zero gradients and the floor

/// ∂L/∂x₀ is 0 in exact arithmetic; reverse mode delivers roundoff from cancelling terms
/// (here 1e-14 in a loss of size ~40) while the symmetric difference of the even cos(x₀)
/// is exactly 0. Without a floor that is a relative error of 1; the default floor judges it
/// absolutely (|a − n| ≤ tolerance · floor) and passes.
@Test func nearZeroGradientIsJudgedAbsolutely() throws {
    let problem = Problem(
        name: "cos(x₀) + Σ y³",
        tensors: [CheckedTensor(name: "x", rows: 1, cols: 1, values: [0], analyticGradient: [1e-14]),
                  CheckedTensor(name: "y", rows: 1, cols: 2, values: [2, 3], analyticGradient: [12, 27])],
        loss: { p in cos(p[0][0]) + p[1].reduce(0) { $0 + $1 * $1 * $1 } })
    let report = try run(problem)
    #expect(report.passed, "\(report.table())")
    #expect(report.tensors[0].worstRelative.numeric == 0)
    #expect(report.floor == 1e-4 * 36)
    let noFloor = try run(problem, GradientCheckOptions(relativeFloor: 1e-300))
    #expect(!noFloor.passed)
    #expect(noFloor.tensors[0].worstRelative.relativeError == 1)
    #expect(noFloor.tensors[1].passed)
}

/// Scaling the loss by a power of two scales every value, difference and the floor exactly,
/// so the relative errors, and the verdict, must not change at all.
@Test func relativeErrorsAreInvariantUnderScalingTheLoss() throws {
    let scale = 0x1p20
    var scaled = sineTimesSquare
    scaled.tensors = scaled.tensors.map { t in
        var t = t
        t.analyticGradient = t.analyticGradient.map { $0 * scale }
        return t
    }
    scaled.loss = { p in try sineTimesSquare.loss(p) * scale }
    for mode in allModes {
        let original = try run(sineTimesSquare, GradientCheckOptions(mode: mode))
        let report = try run(scaled, GradientCheckOptions(mode: mode))
        #expect(report.floor == original.floor * scale)
        #expect(report.tensors.map(\.worstRelative.relativeError) == original.tensors.map(\.worstRelative.relativeError))
        #expect(report.directions.map(\.relativeError) == original.directions.map(\.relativeError))
        #expect(report.passed)
    }
}

// MARK: - Richardson extrapolation

/// exp(3x) has f‴ = 27·exp(3x): central differences carry an h²·f‴/6 error that
/// Richardson extrapolation cancels. (The plain run must not re-test its failures, which at
/// h = 1e-3, relative error 1.5e-6, it has: that would replace them by Richardson's values.)
@Test(arguments: [GradientCheckOptions.StepSize.automatic, .fixed(1e-3)])
func richardsonBeatsCentralDifferences(step: GradientCheckOptions.StepSize) throws {
    let x = [0.5, 1.0, 1.5]
    let problem = Problem(
        name: "Σ exp(3x)",
        tensors: [CheckedTensor(name: "x", rows: 1, cols: 3, values: x, analyticGradient: x.map { 3 * exp(3 * $0) })],
        loss: { p in p[0].reduce(0) { $0 + exp(3 * $1) } })
    let plain = try run(problem, GradientCheckOptions(step: step, retestFailures: false))
    let extrapolated = try run(problem, GradientCheckOptions(step: step, richardson: true))
    let plainError = plain.tensors[0].worstAbsolute.absoluteError
    let extrapolatedError = extrapolated.tensors[0].worstAbsolute.absoluteError
    #expect(extrapolatedError * 20 < plainError, "plain \(plainError), Richardson \(extrapolatedError)")
}

// MARK: - Re-testing failures with Richardson extrapolation

/// L = Σ sin(x_i) + Σ y_j². With the fixed step h = 1e-2 the central difference of sin has
/// the relative truncation error f‴h²/(6f′) = −h²/6 ≈ −1.7e-5 at every x (17 × the
/// tolerance), while Richardson's is h⁴/480 ≈ 2e-11; the quadratic's central difference is
/// exact up to rounding. All gradients are right.
let largeThirdDerivative: Problem = {
    let x = [0.3, 1.0, -0.7, 1.4], y = [0.5, -2.0]
    return Problem(
        name: "Σ sin(x) + Σ y²",
        tensors: [CheckedTensor(name: "x", rows: 1, cols: 4, values: x, analyticGradient: x.map(cos)),
                  CheckedTensor(name: "y", rows: 2, cols: 1, values: y, analyticGradient: y.map { 2 * $0 })],
        loss: { p in p[0].reduce(0) { $0 + sin($1) } + p[1].reduce(0) { $0 + $1 * $1 } })
}()

@Test func aFalseAlarmOfCentralDifferencesIsClearedByTheRetest() throws {
    let step = GradientCheckOptions.StepSize.fixed(1e-2)
    // Without the re-test: every sin element fails, on truncation error alone.
    let plain = try run(largeThirdDerivative, GradientCheckOptions(step: step, retestFailures: false))
    #expect(!plain.passed)
    #expect(plain.tensors[0].failingElementCount == 4 && plain.tensors[1].passed, "\(plain.table())")
    #expect(plain.tensors[0].worstRelative.relativeError > 1e-5, "\(plain.table())")
    #expect(plain.retestedCount == 0 && !plain.tensors[0].worstRelative.retested)
    #expect(!plain.table().contains("re-tested"))

    // With it (the default): the four are re-tested, cleared, and the check passes.
    var calls = 0
    let report = try GradientChecker(options: GradientCheckOptions(step: step)).check(largeThirdDerivative.tensors) { p in
        calls += 1
        return try largeThirdDerivative.loss(p)
    }
    #expect(report.passed, "\(report.table())")
    let x = report.tensors[0], y = report.tensors[1]
    #expect(x.passed && x.failingElementCount == 0 && x.retestedElementCount == 4 && x.clearedElementCount == 4)
    #expect(y.passed && y.retestedElementCount == 0 && y.clearedElementCount == 0)
    #expect(report.retestedCount == 4 && report.clearedCount == 4)
    // The reported comparison is the re-test's: Richardson's error, flagged as re-tested.
    #expect(x.worstRelative.retested && x.worstRelative.relativeError < 1e-9, "\(report.table())")
    #expect(!y.worstRelative.retested)
    // 1 + 2 per element + 4 per re-tested element, as `check` documents.
    #expect(calls == 1 + 2 * 6 + 4 * 4)

    let lines = report.table().split(separator: "\n")
    #expect(lines.count == 1 + 2 + 1 + 1)
    #expect(lines[3] == "4 element(s) failed with central differences and were re-tested with Richardson "
                       + "extrapolation: 4 cleared (x: 4), 0 confirmed", "\(report.table())")
    #expect(lines[4].hasPrefix("passed: 2 tensor(s)"))
    let decoded = try JSONDecoder().decode(GradientCheckReport.self, from: Data(report.json().utf8))
    #expect(decoded == report)

    // A report written before re-tests existed (no re-test fields) still decodes: nothing
    // re-tested, and its options without re-tests.
    func strip(_ x: Any) -> Any {
        if let d = x as? [String: Any] {
            return d.filter { !["retested", "retested_element_count", "cleared_element_count", "retest_failures"].contains($0.key) }.mapValues(strip)
        }
        if let a = x as? [Any] { return a.map(strip) }
        return x
    }
    let old = try JSONSerialization.data(withJSONObject: strip(try JSONSerialization.jsonObject(with: Data(report.json().utf8))))
    #expect(!String(decoding: old, as: UTF8.self).contains("retest"))
    let older = try JSONDecoder().decode(GradientCheckReport.self, from: old)
    #expect(older.retestedCount == 0 && older.clearedCount == 0 && !older.options.retestFailures)
    #expect(older.tensors.map(\.name) == report.tensors.map(\.name) && older.loss == report.loss)

    // With Richardson throughout there is nothing to re-test.
    let richardson = try run(largeThirdDerivative, GradientCheckOptions(step: step, richardson: true))
    #expect(richardson.passed && richardson.retestedCount == 0, "\(richardson.table())")
}

@Test func aWrongGradientFailsTheRetestToo() throws {
    let wrong = largeThirdDerivative.replacingGradient(of: "x") { g in
        var g = g
        // Element (0, 2), 5 × the tolerance off, towards the plain difference: the plain
        // relative error, 1.2e-5, is smaller than that of the right value (1.7e-5).
        g[2] *= 1 - 5e-6
        return g
    }
    let report = try run(wrong, GradientCheckOptions(step: .fixed(1e-2)))
    #expect(!report.passed, "\(report.table())")
    let x = report.tensors[0]
    #expect(!x.passed && x.failingElementCount == 1 && x.retestedElementCount == 4 && x.clearedElementCount == 3)
    #expect(x.worstRelative.row == 0 && x.worstRelative.col == 2 && x.worstRelative.retested)
    #expect(abs(x.worstRelative.relativeError - 5e-6) < 1e-9, "\(report.table())")
    #expect(report.tensors[1].passed)
    #expect(report.retestedCount == 4 && report.clearedCount == 3)
    let lines = report.table().split(separator: "\n")
    #expect(lines[lines.count - 2] == "4 element(s) failed with central differences and were re-tested with Richardson "
                                     + "extrapolation: 3 cleared (x: 3), 1 confirmed (x: 1)", "\(report.table())")
    #expect(lines.last!.hasPrefix("FAILED: 1 of 2 tensor(s) (x); "), "\(report.table())")
    #expect(report.table().contains("x (1×4): 1 of 4 elements over tolerance:"), "\(report.table())")
}

@Test func directionsAreRetestedToo() throws {
    let options = GradientCheckOptions(mode: .directional(count: 8, seed: 11), step: .fixed(1e-2))
    var noRetest = options
    noRetest.retestFailures = false
    let plain = try run(largeThirdDerivative, noRetest)
    let failed = plain.directions.filter { !$0.passed }.map(\.index)
    #expect(!failed.isEmpty, "the fixture must make some directions fail: \(plain.table())")

    let report = try run(largeThirdDerivative, options)
    #expect(report.passed, "\(report.table())")
    #expect(report.directions.filter(\.retested).map(\.index) == failed)
    #expect(report.retestedCount == failed.count && report.clearedCount == failed.count)
    #expect(report.table().contains("\(failed.count) direction(s) failed with central differences and were re-tested "
                                    + "with Richardson extrapolation: \(failed.count) cleared ("
                                    + failed.map { "\($0)" }.joined(separator: ", ") + "), 0 confirmed"), "\(report.table())")

    // A wrong gradient: the re-test confirms every direction's failure.
    let wrong = largeThirdDerivative.replacingGradient(of: "y") { g in g.map { $0 * 1.01 } }
    let confirmed = try run(wrong, options)
    #expect(!confirmed.passed)
    #expect(confirmed.directions.allSatisfy { $0.retested && !$0.passed }, "\(confirmed.table())")
    #expect(confirmed.retestedCount == 8 && confirmed.clearedCount == 0)
    #expect(confirmed.table().contains("8 direction(s) failed with central differences and were re-tested "
                                       + "with Richardson extrapolation: 0 cleared, 8 confirmed (0, 1, 2, 3, 4, 5, 6, 7)"))
}

// MARK: - Invalid input is an error, not a crash

@Test func shapeMismatchIsAnErrorNamingTheTensor() throws {
    let checker = GradientChecker()
    let badValues = CheckedTensor(name: "W_z", rows: 2, cols: 3, values: [1, 2, 3, 4, 5], analyticGradient: Array(repeating: 0, count: 6))
    #expect(throws: GradientCheckError.shapeMismatch(tensor: "W_z", rows: 2, cols: 3, valueCount: 5, gradientCount: 6)) {
        try checker.check([badValues]) { _ in 0 }
    }
    #expect(GradientCheckError.shapeMismatch(tensor: "W_z", rows: 2, cols: 3, valueCount: 5, gradientCount: 6)
        .description.contains("'W_z'"))
    let badGradient = CheckedTensor(name: "b", rows: 1, cols: 2, values: [1, 2], analyticGradient: [1])
    #expect(throws: GradientCheckError.shapeMismatch(tensor: "b", rows: 1, cols: 2, valueCount: 2, gradientCount: 1)) {
        try checker.check([badGradient]) { _ in 0 }
    }
    let empty = CheckedTensor(name: "e", rows: 0, cols: 3, values: [], analyticGradient: [])
    #expect(throws: GradientCheckError.emptyShape(tensor: "e", rows: 0, cols: 3)) {
        try checker.check([empty]) { _ in 0 }
    }
    #expect(throws: GradientCheckError.noTensors) { try checker.check([]) { _ in 0 } }
}

@Test func invalidOptionsAndNonFiniteLossAreErrors() throws {
    let tensors = sineTimesSquare.tensors
    for options in [GradientCheckOptions(mode: .directional(count: 0, seed: 1)),
                    GradientCheckOptions(step: .fixed(-1e-3)), GradientCheckOptions(relativeFloor: 0)] {
        #expect(throws: GradientCheckError.self) { try GradientChecker(options: options).check(tensors) { _ in 0 } }
    }
    #expect(throws: GradientCheckError.nonFiniteLoss(.infinity)) {
        try GradientChecker().check(tensors) { _ in .infinity }
    }
}

@Test func lossErrorsPropagate() throws {
    struct Diverged: Error, Equatable { var call: Int }
    var calls = 0
    #expect(throws: Diverged(call: 4)) {
        try GradientChecker().check(sineTimesSquare.tensors) { p in
            calls += 1
            if calls == 4 { throw Diverged(call: calls) }
            return try sineTimesSquare.loss(p)
        }
    }
}

@Test func nonFiniteNumericValueFailsAndIsShown() throws {
    let problem = Problem(
        name: "log",
        tensors: [CheckedTensor(name: "x", rows: 1, cols: 2, values: [1, 0], analyticGradient: [1, 1])],
        loss: { p in p[0][1] == 0 ? log(p[0][0]) : log(p[0][0]) + .nan })
    let report = try run(problem)
    #expect(!report.passed)
    #expect(report.tensors[0].worstRelative.col == 1)
    #expect(report.table().contains("nan"))
    #expect(try report.json().contains("\"nan\""))
}

// MARK: - Determinism, reports

@Test func sameSeedSameReportDifferentSeedDifferentDirections() throws {
    let options = GradientCheckOptions(mode: .directional(count: 5, seed: 2024))
    let first = try run(quadraticForm, options), second = try run(quadraticForm, options)
    #expect(first == second)
    #expect(try first.json() == second.json())
    let other = try run(quadraticForm, GradientCheckOptions(mode: .directional(count: 5, seed: 2025)))
    #expect(first.directions.map(\.analytic) != other.directions.map(\.analytic))
}

@Test func directionsAreSeededUnitVectors() throws {
    // The directions come from the project's one seeded generator (GSL's mt19937): the same
    // seed gives the same directions, each of unit length, and they are spread over the sphere.
    let a = try RandomSource(seed: 9), b = try RandomSource(seed: 9)
    let first = (0..<200).map { _ in GradientChecker.unitVector(dimension: 37, using: a) }
    let again = (0..<200).map { _ in GradientChecker.unitVector(dimension: 37, using: b) }
    #expect(first == again)
    for v in first { #expect(abs(v.reduce(0) { $0 + $1 * $1 } - 1) < 1e-14) }
    let meanFirst = first.map { $0[0] }.reduce(0, +) / 200
    #expect(abs(meanFirst) < 0.05, "the first coordinate's mean \(meanFirst)")
}

@Test func passingTableAndJSONRoundTrip() throws {
    let report = try run(matrixProduct)
    let lines = report.table().split(separator: "\n")
    #expect(lines.count == 1 + 4 + 1)
    #expect(lines[0].hasPrefix("tensor") && lines[0].hasSuffix("status"))
    #expect(lines[1].hasPrefix("P ") && lines[1].contains("2×3") && lines[1].hasSuffix("ok"))
    #expect(lines.last!.hasPrefix("passed: 4 tensor(s)"))

    let decoded = try JSONDecoder().decode(GradientCheckReport.self, from: Data(report.json().utf8))
    #expect(decoded == report)
}
