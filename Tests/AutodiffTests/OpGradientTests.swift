import Testing
@testable import GateLabAutodiff
import GateLabGradCheck
import GateLabGSL

/// Checks one op's VJP against central differences, in both modes, at every shape given.
/// The op's output is reduced by a fixed random weighting, L = Σ R ⊙ op(p₀, p₁, …), so that
/// every element of the Jacobian is exercised.
/// - Parameter analytic: when given, replaces the reverse pass's gradients: called with R and
///   the parameters' values, it returns the gradient to check (a test's deliberately wrong
///   derivative; the library ships none).
func checkOp(_ label: String, _ shapes: [Shape], positive: Bool = false, seed: UInt64 = 7, options: ProgramOptions = .all,
             analytic: ((Tensor, [[Double]]) throws -> [[Double]])? = nil,
             _ build: ([Value]) -> Value) throws -> [GradientCheckReport] {
    let rng = try RandomSource(seed: seed)
    let g = Graph()
    let params = shapes.enumerated().map { g.parameter("p\($0.offset)", rows: $0.element.rows, cols: $0.element.cols) }
    let out = build(params)
    let r = Tensor(rows: out.shape.rows, cols: out.shape.cols, scalars: rng.uniformArray(count: out.shape.count, low: -1, high: 1))
    let loss = sum(g.constant(r) ⊙ out)
    let program = try Program(graph: g, options: options)
    let values = shapes.map { positive ? rng.uniformArray(count: $0.count, low: 0.5, high: 2) : rng.uniformArray(count: $0.count, low: -1.5, high: 1.5) }
    func evaluate(_ vs: [[Double]]) throws -> Double {
        for (p, v) in zip(params, vs) { try program.set(p, Tensor(rows: p.shape.rows, cols: p.shape.cols, scalars: v)) }
        try program.forward()
        return program.value(of: loss)[0, 0]
    }
    _ = try evaluate(values)
    try program.backward(from: loss)
    let gradients = try analytic?(r, values) ?? params.map { try program.gradient(of: $0).scalars }
    let tensors = zip(zip(params, values), gradients).map { pv, gradient in
        CheckedTensor(name: "\(label).\(pv.0.name!)", rows: pv.0.shape.rows, cols: pv.0.shape.cols, values: pv.1,
                      analyticGradient: gradient)
    }
    return try [GradientCheckOptions.Mode.full, .directional(count: 6, seed: 3)].map { mode in
        try GradientChecker(options: GradientCheckOptions(mode: mode)).check(tensors, loss: evaluate)
    }
}

/// The float32 path of one op against its float64 path (issue #18): the same graph as
/// `checkOp`, run by `ProgramOf<Float>` and `ProgramOf<Double>` on the same values (rounded to
/// float first, so that both programs see identical inputs). Returns, over the op's output and
/// every operand's gradient, the worst of max|f32 − f64| / max|f64| per tensor, and whether
/// any float32 number differed from its float64 counterpart (the float path really ran).
func float32Agreement(_ shapes: [Shape], positive: Bool = false, seed: UInt64 = 7,
                      _ build: ([Value]) -> Value) throws -> (worst: Double, differs: Bool) {
    let rng = try RandomSource(seed: seed)
    let g = Graph()
    let params = shapes.enumerated().map { g.parameter("p\($0.offset)", rows: $0.element.rows, cols: $0.element.cols) }
    let out = build(params)
    let rounded = { (xs: [Double]) in xs.map { Double(Float($0)) } }
    let r = Tensor(rows: out.shape.rows, cols: out.shape.cols, scalars: rounded(rng.uniformArray(count: out.shape.count, low: -1, high: 1)))
    let loss = sum(g.constant(r) ⊙ out)
    let values = shapes.map { rounded(positive ? rng.uniformArray(count: $0.count, low: 0.5, high: 2) : rng.uniformArray(count: $0.count, low: -1.5, high: 1.5)) }
    func run<S: GateLabAutodiff.Scalar>(_ program: ProgramOf<S>) throws -> [[Double]] {
        for (p, v) in zip(params, values) { try program.set(p, Tensor(rows: p.shape.rows, cols: p.shape.cols, scalars: v)) }
        try program.forward()
        try program.backward(from: loss)
        return [program.value(of: out).scalars] + (try params.map { try program.gradient(of: $0).scalars })
    }
    let (single, double) = (try run(ProgramOf<Float>(graph: g)), try run(ProgramOf<Double>(graph: g)))
    var worst = 0.0, differs = false
    for (a, b) in zip(single, double) {
        let scale = b.map(abs).max() ?? 0
        let error = zip(a, b).map { abs($0 - $1) }.max() ?? 0
        worst = max(worst, scale > 0 ? error / scale : error)
        differs = differs || a != b
    }
    return (worst, differs)
}

/// The bound of `float32Agreement`: 32 units in the last place of float32 relative to the
/// tensor's largest element (an op here rounds a handful of times in float32; float64's own
/// error is 2^-29 times smaller).
let float32Tolerance = 32 * Double(Float.ulpOfOne)

/// The worst relative error over a report's tensors and directions.
func worstRelative(_ r: GradientCheckReport) -> Double {
    (r.tensors.map(\.worstRelative.relativeError) + r.directions.map(\.relativeError)).max() ?? 0
}

/// Shapes every elementwise op is checked at: scalar-like, row, column, general.
let elementShapes = [Shape(1, 1), Shape(1, 5), Shape(4, 1), Shape(3, 4)]

@Suite("Every primitive passes the gradient check, full and directional")
struct OpGradientTests {
    func expectPasses(_ label: String, _ shapes: [Shape], positive: Bool = false, _ build: ([Value]) -> Value) throws {
        for report in try checkOp(label, shapes, positive: positive, build) {
            #expect(report.passed, "\(label) \(shapes)\n\(report.table())")
            #expect(worstRelative(report) < 1e-7, "\(label) \(shapes): worst relative error \(worstRelative(report))")
        }
        let single = try float32Agreement(shapes, positive: positive, build)
        #expect(single.worst <= float32Tolerance, "\(label) \(shapes): float32 against float64, worst relative error \(single.worst)")
        if single.differs { differing.count += 1 }
    }

    /// Checks whose float32 results differed from float64 somewhere (counted, so that a test
    /// can see that the float path really computed in float; a fresh count per test).
    final class Count { var count = 0 }
    let differing = Count()

    @Test func binaryElementwise() throws {
        for s in elementShapes {
            try expectPasses("add", [s, s]) { $0[0] + $0[1] }
            try expectPasses("subtract", [s, s]) { $0[0] - $0[1] }
            try expectPasses("multiply", [s, s]) { $0[0] ⊙ $0[1] }
            try expectPasses("divide", [s, s], positive: true) { $0[0] / $0[1] }
        }
    }

    @Test func broadcasting() throws {
        // Row-broadcast bias, scalar, column, on either side; the broadcast operand's gradient
        // must be summed back to its own shape.
        for (a, b) in [(Shape(3, 4), Shape(1, 4)), (Shape(1, 4), Shape(3, 4)), (Shape(3, 4), Shape(1, 1)),
                       (Shape(1, 1), Shape(3, 4)), (Shape(3, 4), Shape(3, 1))] {
            try expectPasses("add", [a, b]) { $0[0] + $0[1] }
            try expectPasses("subtract", [a, b]) { $0[0] - $0[1] }
            try expectPasses("multiply", [a, b]) { $0[0] ⊙ $0[1] }
            try expectPasses("divide", [a, b], positive: true) { $0[0] / $0[1] }
        }
    }

    @Test func scalarForms() throws {
        try expectPasses("1 - z", [Shape(3, 4)]) { 1 - $0[0] }
        try expectPasses("2.5 * x + 0.5", [Shape(3, 4)]) { 2.5 * $0[0] + 0.5 }
        try expectPasses("x / 3 - 1", [Shape(3, 4)]) { $0[0] / 3 - 1 }
        try expectPasses("1 / x", [Shape(3, 4)], positive: true) { 1 / $0[0] }
    }

    @Test func unary() throws {
        for s in elementShapes {
            try expectPasses("negate", [s]) { -$0[0] }
            try expectPasses("exp", [s]) { exp($0[0]) }
            try expectPasses("log", [s], positive: true) { log($0[0]) }
            try expectPasses("square", [s]) { square($0[0]) }
            try expectPasses("sqrt", [s], positive: true) { sqrt($0[0]) }
            try expectPasses("sigmoid", [s]) { sigmoid($0[0]) }
            try expectPasses("tanh", [s]) { tanh($0[0]) }
            try expectPasses("relu", [s]) { relu($0[0]) }  // values are at least ~1e-3 away from the kink
        }
        // Every unary op but negate and relu (exact in either precision) rounds differently in
        // float32 at the 3 × 4 shape: 6 ops, at least one shape each.
        #expect(differing.count >= 6, "float32 differed from float64 in only \(differing.count) checks")
    }

    @Test func matrixProducts() throws {
        try expectPasses("matmul", [Shape(3, 4), Shape(4, 5)]) { matmul($0[0], $0[1]) }
        try expectPasses("matmul Aᵀ", [Shape(4, 3), Shape(4, 5)]) { matmul($0[0], $0[1], transposeA: true) }
        try expectPasses("matmul Bᵀ", [Shape(3, 4), Shape(5, 4)]) { matmul($0[0], $0[1], transposeB: true) }
        try expectPasses("matmul AᵀBᵀ", [Shape(4, 3), Shape(5, 4)]) { matmul($0[0], $0[1], transposeA: true, transposeB: true) }
        try expectPasses("W • x", [Shape(6, 4), Shape(1, 4)]) { $0[0] • $0[1] }
        try expectPasses("1×1 matmul", [Shape(1, 1), Shape(1, 1)]) { matmul($0[0], $0[1]) }
        // The shapes that skip DGEMM (a row, a column, an outer product), each transposition.
        for (ta, tb) in [(false, false), (false, true), (true, false), (true, true)] {
            func shape(_ r: Int, _ c: Int, _ t: Bool) -> Shape { t ? Shape(c, r) : Shape(r, c) }
            try expectPasses("row \(ta)\(tb)", [shape(1, 4, ta), shape(4, 5, tb)]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            try expectPasses("column \(ta)\(tb)", [shape(3, 4, ta), shape(4, 1, tb)]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
            try expectPasses("outer \(ta)\(tb)", [shape(3, 1, ta), shape(1, 4, tb)]) { matmul($0[0], $0[1], transposeA: ta, transposeB: tb) }
        }
    }

    @Test func structure() throws {
        try expectPasses("concat", [Shape(3, 2), Shape(3, 1), Shape(3, 4)]) { concatColumns($0) }
        try expectPasses("slice", [Shape(3, 8)]) { sliceColumns($0[0], 2..<6) }
        try expectPasses("split", [Shape(2, 8)]) { let p = split($0[0], count: 4); return p[3] ⊙ p[0] + p[1] }
    }

    /// The stop-gradient has no derivative of its own to check by differences (central
    /// differences see through it): its definition is that the reverse pass treats the stopped
    /// value as a constant. So: forward, it is the identity (bit for bit); backward, the stopped
    /// operand gets exactly zero, and the other gradient equals — to rounding — that of the same
    /// function with the stopped value replaced by a constant, which passes the gradient check.
    @Test func stopGradient() throws {
        for s in elementShapes {
            let rng = try RandomSource(seed: 11)
            let a = rng.uniformArray(count: s.count, low: -1.5, high: 1.5), b = rng.uniformArray(count: s.count, low: -1.5, high: 1.5)
            let r = Tensor(rows: s.rows, cols: s.cols, scalars: rng.uniformArray(count: s.count, low: -1, high: 1))
            func tensor(_ v: [Double]) -> Tensor { Tensor(rows: s.rows, cols: s.cols, scalars: v) }
            // Stopped: L = Σ R ⊙ (tanh(a) ⊙ sg(a ⊙ b) + sg(b)); held: sg(a ⊙ b) a constant, sg(b) dropped.
            let g = Graph()
            let (pa, pb) = (g.parameter("a", rows: s.rows, cols: s.cols), g.parameter("b", rows: s.rows, cols: s.cols))
            let stopped = tanh(pa) ⊙ GateLabAutodiff.stopGradient(pa ⊙ pb) + GateLabAutodiff.stopGradient(pb)
            let plain = tanh(pa) ⊙ (pa ⊙ pb) + pb
            let loss = sum(g.constant(r) ⊙ stopped)
            let program = try Program(graph: g)
            try program.set(pa, tensor(a)); try program.set(pb, tensor(b))
            try program.forward()
            #expect(program.value(of: stopped).scalars.map(\.bitPattern) == program.value(of: plain).scalars.map(\.bitPattern))
            try program.backward(from: loss)
            #expect(try program.gradient(of: pb).scalars.allSatisfy { $0 == 0 }, "\(s): the stopped operand got a gradient")
            let single = try float32Agreement([s, s]) { tanh($0[0]) ⊙ GateLabAutodiff.stopGradient($0[0] ⊙ $0[1]) + GateLabAutodiff.stopGradient($0[1]) }
            #expect(single.worst <= float32Tolerance, "\(s): stopGradient in float32 against float64, worst relative error \(single.worst)")

            let ab = zip(a, b).map { $0 * $1 }
            let h = Graph()
            let ha = h.parameter("a", rows: s.rows, cols: s.cols)
            let heldLoss = sum(h.constant(r) ⊙ (tanh(ha) ⊙ h.constant(tensor(ab))))
            let held = try Program(graph: h)
            func evaluate(_ vs: [[Double]]) throws -> Double {
                try held.set(ha, tensor(vs[0])); try held.forward(); return held.value(of: heldLoss)[0, 0]
            }
            _ = try evaluate([a])
            try held.backward(from: heldLoss)
            let heldGradient = try held.gradient(of: ha).scalars
            let report = try GradientChecker(options: GradientCheckOptions(mode: .full))
                .check([CheckedTensor(name: "held.a", rows: s.rows, cols: s.cols, values: a, analyticGradient: heldGradient)], loss: evaluate)
            #expect(report.passed, "\(report.table())")
            let got = try program.gradient(of: pa).scalars
            #expect(zip(got, heldGradient).allSatisfy { abs($0 - $1) <= 1e-15 * max(1, abs($1)) }, "\(s): \(got) vs \(heldGradient)")
        }
        // Printed as a call: stop(·) in text, \operatorname{sg}(·) in LaTeX.
        let g = Graph()
        let x = g.parameter("x", rows: 1, cols: 2)
        let y = (tanh(GateLabAutodiff.stopGradient(x)) + x).named("y")
        #expect(EquationPrinter(graph: g).render([y]) == "y = tanh(stop(x)) + x")
        #expect(EquationPrinter(graph: g, format: .latex).render([y]) == "y = \\tanh\\left(\\operatorname{sg}\\left(x\\right)\\right) + x")
    }

    @Test func reductions() throws {
        for s in elementShapes {
            try expectPasses("sumAll", [s]) { sum($0[0]) }
        }
    }

    @Test func losses() throws {
        let g = Graph()
        _ = g  // labels are an input: built inside the helper's graph below
        let crossEntropy = { (p: [Value]) -> Value in
            let labels = p[0].graph.constant(Tensor(rows: 4, cols: 1, scalars: [0, 2, 1, 2]))
            return softmaxCrossEntropy(p[0] * 30, labels: labels)  // large logits: log-sum-exp must not overflow
        }
        for report in try checkOp("cross-entropy", [Shape(4, 3)], crossEntropy) {
            #expect(report.passed, "\(report.table())")
        }
        let single = try float32Agreement([Shape(4, 3)], crossEntropy)
        #expect(single.worst <= float32Tolerance && single.differs, "cross-entropy in float32: \(single)")
    }

    @Test func valueUsedTwiceReceivesBothGradients() throws {
        try expectPasses("x ⊙ x + x", [Shape(3, 4)]) { $0[0] ⊙ $0[0] + $0[0] }
        // And exactly: d/dx (x·x + x) = 2x + 1.
        let g = Graph()
        let x = g.parameter("x", rows: 1, cols: 2)
        let loss = sum(x ⊙ x + x)
        let p = try Program(graph: g)
        try p.set(x, Tensor([[3, -2]]))
        try p.forward()
        try p.backward(from: loss)
        #expect(try p.gradient(of: x) == Tensor([[7, -3]]))
    }

    @Test func hardSigmoidIsComposed() throws {
        try expectPasses("hardSigmoid", [Shape(3, 4)]) { hardSigmoid($0[0] * 2) }
    }
}

/// A classic bug, written in the test (the library ships no hook for it): tanh′ as 1 − y
/// instead of 1 − y². For L = Σ R ⊙ tanh(p) the wrong gradient is R ⊙ (1 − tanh(p)), built
/// as a composed graph and evaluated forward.
func wrongTanhGradient(_ r: Tensor, _ values: [[Double]]) throws -> [[Double]] {
    let g = Graph()
    let p = g.parameter("p", rows: r.rows, cols: r.cols)
    let wrong = g.constant(r) ⊙ (1 - tanh(p))
    let program = try Program(graph: g)
    try program.set(p, Tensor(rows: r.rows, cols: r.cols, scalars: values[0]))
    try program.forward()
    return [program.value(of: wrong).scalars]
}

@Suite("The gradient checker catches a wrong VJP")
struct WrongVJPTests {
    @Test func wrongTanhDerivativeFails() throws {
        let reports = try checkOp("tanh", [Shape(3, 4)], analytic: wrongTanhGradient) { tanh($0[0]) }
        for report in reports { #expect(!report.passed, "both modes catch it") }
        #expect(reports[0].table().contains("tanh.p0"), "the failing tensor is named")
        // Full mode names the element and both values, in the failing tensor's table.
        let worst = reports[0].tensors[0].worstRelative
        let row = reports[0].table().split(separator: "\n").first { $0.hasPrefix("  [\(worst.row), \(worst.col)] ") }
        #expect(row?.contains(String(format: "%.10g", worst.analytic)) == true && row?.contains(String(format: "%.10g", worst.numeric)) == true,
                "\(reports[0].table())")
        #expect(abs(worst.analytic - worst.numeric) > 1e-3)
    }

    /// The same composed wrong gradient with the right derivative (1 − y²) passes: what fails
    /// above is the derivative, not the way the test builds it.
    @Test func theComposedRightDerivativePasses() throws {
        let right = { (r: Tensor, values: [[Double]]) throws -> [[Double]] in
            let g = Graph()
            let p = g.parameter("p", rows: r.rows, cols: r.cols)
            let y = tanh(p)
            let gradient = g.constant(r) ⊙ (1 - y ⊙ y)
            let program = try Program(graph: g)
            try program.set(p, Tensor(rows: r.rows, cols: r.cols, scalars: values[0]))
            try program.forward()
            return [program.value(of: gradient).scalars]
        }
        let reports = try checkOp("tanh", [Shape(3, 4)], analytic: right) { tanh($0[0]) }
        for report in reports { #expect(report.passed, "\(report.table())") }
    }
}

@Suite("Elementwise ops split over two cores stay correct")
struct ParallelOpTests {
    @Test func everyElementwiseOpWithRowsSplit() throws {
        let split = ProgramOptions.all.union(.splitEverything)   // every op with at least 2 rows split
        let shapes = [(Shape(5, 4), Shape(5, 4)), (Shape(5, 4), Shape(1, 4)), (Shape(1, 4), Shape(5, 4)),
                      (Shape(5, 4), Shape(1, 1)), (Shape(5, 4), Shape(5, 1))]
        for (a, b) in shapes {
            for (name, f) in [("add", { (p: [Value]) in p[0] + p[1] }), ("subtract", { $0[0] - $0[1] }),
                              ("multiply", { $0[0] ⊙ $0[1] }), ("divide", { $0[0] / $0[1] })] {
                for report in try checkOp("\(name) split", [a, b], positive: true, options: split, f) {
                    #expect(report.passed, "\(name) \(a) \(b)\n\(report.table())")
                }
            }
        }
        for (name, f) in [("tanh", { (p: [Value]) in tanh(p[0]) }), ("sigmoid", { sigmoid($0[0]) }), ("exp", { exp($0[0]) }),
                          ("sqrt", { sqrt($0[0]) }), ("gate", { sigmoid($0[0] + $0[1] + $0[2]) })] {
            for report in try checkOp("\(name) split", [Shape(6, 3), Shape(6, 3), Shape(1, 3)], positive: true, options: split, f) {
                #expect(report.passed, "\(name)\n\(report.table())")
            }
        }
    }
}
