import Testing
@testable import GateLabAutodiff
import GateLabGSL

@Suite("Graph building, shapes, errors, printing")
struct GraphTests {
    @Test func shapeErrorNamesOpAndBothShapes() throws {
        let g = Graph()
        let w = g.parameter("W", rows: 4, cols: 3)
        let x = g.input("x", rows: 2, cols: 5)
        let y = tanh(w • x)   // x is 2×5, W needs 3 columns: caught while building, no crash
        #expect(!y.node.isValid)
        #expect(throws: AutodiffError.self) { try Program(graph: g) }
        let message = "\(g.firstError!)"
        #expect(message.contains("matmul"))
        #expect(message.contains("x 2×5") && message.contains("W 4×3"), "\(message)")
    }

    @Test func broadcastMismatchIsReported() {
        let g = Graph()
        _ = g.parameter("a", rows: 3, cols: 4) + g.parameter("b", rows: 2, cols: 4)
        #expect("\(g.firstError!)".contains("do not broadcast"))
    }

    @Test func feedOfWrongShapeIsAnError() throws {
        let g = Graph()
        let x = g.input("x", rows: 2, cols: 3)
        _ = sum(x)
        let p = try Program(graph: g)
        #expect(throws: AutodiffError.feedShape(name: "x", expected: Shape(2, 3), got: Shape(3, 2))) {
            try p.set(x, Tensor(rows: 3, cols: 2))
        }
    }

    @Test func labelsHaveNoGradientAndSayingSoIsAnError() throws {
        let g = Graph()
        let z = g.parameter("z", rows: 2, cols: 3)
        let y = g.input("y", rows: 2, cols: 1)
        let loss = softmaxCrossEntropy(z, labels: y)
        let p = try Program(graph: g)
        try p.set(z, Tensor(rows: 2, cols: 3, repeating: 0.1))
        try p.set(y, Tensor([[0], [2]]))
        try p.forward()
        try p.backward(from: loss)
        #expect(throws: AutodiffError.self) { try p.gradient(of: y) }
        #expect(abs(p.value(of: loss)[0, 0] - log(3.0)) < 1e-15)
    }

    @Test func badLabelIsAnErrorNotACrash() throws {
        let g = Graph()
        let z = g.parameter("z", rows: 2, cols: 3)
        let y = g.input("y", rows: 2, cols: 1)
        _ = softmaxCrossEntropy(z, labels: y)
        let p = try Program(graph: g)
        try p.set(y, Tensor([[0], [3]]))
        #expect(throws: ProgramError.self) { try p.forward() }
    }

    @Test func printsEquationsWithTheGivenNames() {
        let g = Graph()
        let x = g.input("x", rows: 1, cols: 3), c = g.input("c", rows: 1, cols: 2)
        let W = g.parameter("W_f", rows: 2, cols: 3), b = g.parameter("b_f", rows: 1, cols: 2)
        let f = sigmoid(W • x + b).named("f")
        let c2 = (f ⊙ c + (1 - f) ⊙ tanh(W • x)).named("c'")
        let text = EquationPrinter(graph: g).render([c2])
        #expect(text == "f = σ(W_f x + b_f)\nc' = f ⊙ c + (1 − f) ⊙ tanh(W_f x)")
        let latex = EquationPrinter(graph: g, format: .latex).render([c2])
        #expect(latex.contains("f = \\sigma\\left(W_{f} x + b_{f}\\right)"), "\(latex)")
        #expect(latex.contains("f \\odot c + \\left(1 - f\\right) \\odot \\tanh"), "\(latex)")
        let dot = EquationPrinter(graph: g, format: .dot).render([c2])
        #expect(dot.hasPrefix("digraph") && dot.contains("label=\"f = σ\"") && dot.contains("label=\"W_f\""))
    }

    @Test func matmulRunsThroughOpenBLAS() {
        #expect(BLAS.dgemmProvider().contains("openblas"), "cblas_dgemm comes from \(BLAS.dgemmProvider())")
    }

    @Test func underflowFreeNorm() {
        #expect(abs(euclideanNorm([3e-200, 4e-200]) / 5e-200 - 1) < 1e-15)
        #expect(abs(euclideanNorm([3e200, 4e200]) / 5e200 - 1) < 1e-15)
    }
}

@Suite("Recurrences: hoisting and carried gradients")
struct RecurrenceTests {
    /// h' = tanh(W x + U h + b) over T steps, loss Σ_t r ⊙ h_t; checked against a hand loop.
    @Test func unrolledMatchesHandLoopAndGradientCheck() throws {
        let (T, B, I, H) = (6, 2, 3, 4)
        let rng = try RandomSource(seed: 11)
        let g = Graph()
        let x = g.input("x", rows: B, cols: I), h = g.input("h", rows: B, cols: H)
        let W = g.parameter("W", rows: H, cols: I), U = g.parameter("U", rows: H, cols: H), b = g.parameter("b", rows: 1, cols: H)
        let wx = W • x, uh = U • h, wxb = wx + b
        let h2 = tanh(wxb + uh).named("h'")
        let p = try Program(graph: g, steps: T, recurrence: [(h, h2)], keep: [h2])
        // x • W is hoisted over all steps; the recurrent product is not, and the bias is added
        // in the step's fused sum (tanh of four addends: one instruction with the product).
        #expect(p.placement[x.id].storage == .sequence)
        #expect(p.placement[wx.id].storage == .sequence && p.placement[uh.id].storage != .sequence)
        #expect(p.placement[wxb.id].storage != .sequence)
        #expect(p.instructionCounts == (hoisted: 1, perStep: 2, rowSections: 0), "\(p.instructionCounts)")
        let xs = rng.uniformArray(count: T * B * I, low: -1, high: 1)
        let r = rng.uniformArray(count: T * B * H, low: -1, high: 1)
        var theta = [rng.uniformArray(count: H * I, low: -0.5, high: 0.5), rng.uniformArray(count: H * H, low: -0.5, high: 0.5),
                     rng.uniformArray(count: H, low: -0.5, high: 0.5), rng.uniformArray(count: B * H, low: -0.5, high: 0.5)]
        let leaves = [W, U, b, h]
        func run(_ th: [[Double]]) throws -> Double {
            for (v, s) in zip(leaves, th) { try p.set(v, Tensor(rows: v.shape.rows, cols: v.shape.cols, scalars: s)) }
            try p.setSequence(x, xs)
            try p.forward()
            var loss = 0.0
            for t in 0..<T { for k in 0..<(B * H) { loss += r[t * B * H + k] * p.value(of: h2, step: t).scalars[k] } }
            return loss
        }
        let loss = try run(theta)
        // Hand loop.
        var hh = theta[3], expected = 0.0
        for t in 0..<T {
            var next = [Double](repeating: 0, count: B * H)
            for bi in 0..<B { for j in 0..<H {
                var a = theta[2][j]
                for i in 0..<I { a += theta[0][j * I + i] * xs[t * B * I + bi * I + i] }
                for k in 0..<H { a += theta[1][j * H + k] * hh[bi * H + k] }
                next[bi * H + j] = Foundation.tanh(a)
                expected += r[t * B * H + bi * H + j] * next[bi * H + j]
            } }
            hh = next
        }
        #expect(abs(loss - expected) < 1e-13)
        try p.backward(seed: { s in
            let gr = s.gradient(of: h2)
            for k in 0..<(B * H) { gr[k] += r[s.step * B * H + k] }
        })
        let analytic = try leaves.map { try p.gradient(of: $0).scalars }
        let tensors = zip(zip(["W", "U", "b", "h0"], leaves), zip(theta, analytic)).map {
            CheckedTensor(name: $0.0, rows: $0.1.shape.rows, cols: $0.1.shape.cols, values: $1.0, analyticGradient: $1.1)
        }
        let report = try GradientChecker().check(tensors, loss: run)
        #expect(report.passed, "\(report.table())")
        theta[0][0] += 0  // silence mutation warning
    }
}
import Foundation
import GateLabGradCheck

@Suite("Finding the first NaN")
struct NonFiniteTests {
    @Test func namesOpValueAndStep() throws {
        // h' = log(h) ⊙ 0.5 + x: h goes negative at some step, log gives NaN there.
        let g = Graph()
        let x = g.input("x", rows: 1, cols: 2), h = g.input("h", rows: 1, cols: 2)
        let w = g.parameter("w", rows: 1, cols: 2)
        let z = (w ⊙ h + x).named("z")
        let h2 = (sqrt(z) + 0).named("h'")
        let p = try Program(graph: g, steps: 6, recurrence: [(h, h2)])
        try p.set(w, Tensor([[1, 1]]))
        try p.set(h, Tensor([[1, 1]]))
        try p.setSequence(x, [0, 0, 0, 0, 0, 0, -9, 0, 0, 0, 0, 0])   // step 3: z = h + x < 0 in column 0
        try p.forward()   // unchecked: runs through, NaN propagates
        do {
            try p.forward(checkFinite: true)
            Issue.record("no error")
        } catch let ProgramError.nonFinite(op, value, step, _, _) {
            #expect(op == "sqrt" && step == 3, "\(op) \(value) \(step)")
        }
    }

    /// A gate's recurrent products are fused into one GEMM and read in place by the gate's
    /// sum; the first ∞ must still be found in the product that made it, at its step.
    @Test func findsItInAProductReadInPlace() throws {
        let g = Graph()
        let x = g.input("x", rows: 1, cols: 2), h = g.input("h", rows: 1, cols: 2)
        let w1 = g.parameter("w1", rows: 2, cols: 2), w2 = g.parameter("w2", rows: 2, cols: 2)
        let u = (w1 • h).named("u"), v = (w2 • h).named("v")
        let h2 = (u + x + v).named("h'")
        let p = try Program(graph: g, steps: 4, recurrence: [(h, h2)])
        try p.set(w1, Tensor([[1e200, 0], [0, 1]]))
        try p.set(w2, Tensor([[0, 0], [0, 1]]))
        try p.set(h, Tensor([[1, 1]]))
        try p.setSequence(x, [Double](repeating: 0, count: 8))
        do {   // step 0: u = (1e200, 1); step 1: u = 1e200 · 1e200 = ∞
            try p.forward(checkFinite: true)
            Issue.record("no error")
        } catch let ProgramError.nonFinite(op, value, step, number, _) {
            #expect(op.hasPrefix("matmul") && value == "u" && step == 1 && number == .infinity, "\(op) \(value) \(step) \(number)")
        }
    }
}
