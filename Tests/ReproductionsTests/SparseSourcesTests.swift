import GateLabTasks
import Testing
@testable import GateLabReproductions

/// The truncated-RTRL step over one-hot inputs runs over the sources that may be nonzero
/// (`SparseSources`); these tests hold it to the same bits as the dense step.
@Suite("Truncated RTRL: one-hot inputs skipped where zero, with the same bits")
struct SparseSourcesTests {
    /// Trains one trial with zero inputs skipped and one without, on the same sequences, and
    /// compares the weights (every bit), the accumulated gradient and a frozen test.
    @Test("Training with and without skipping gives bit-identical weights and tests", arguments: [
        ("hochreiter1997-exp2a", "p=100", 60),             // connectivity B: shortcuts, no output gate, per-step updates
        ("hochreiter1997-exp2b", "p=100", 60),
        ("hochreiter1997-exp2c", "2c-1", 400),             // 54 one-hot inputs, no biases, one update per sequence
        ("hochreiter1997-exp2c", "2c-8", 20),              // 104 inputs, q = 1000
        ("hochreiter1997-exp1", "1-5", 300),               // 7 inputs: dense both ways

    ])
    func sameBits(preset: String, variant: String, sequences: Int) throws {
        var skipping = try Trial(preset: preset, variant: variant, seed: 3)
        var dense = try Trial(preset: preset, variant: variant, seed: 3)
        dense.network.withLSTM { $0.skipsZeroInputs = false }
        // Exps. 2a/2b's cell is added once the error stalls; add it at once so the cell's rows learn too.
        if preset == "hochreiter1997-exp2a" || preset == "hochreiter1997-exp2b" {
            skipping.network.withLSTM { $0.cellsActive = true }
            dense.network.withLSTM { $0.cellsActive = true }
        }
        skipping.train(atMost: sequences)
        dense.train(atMost: sequences)
        let a = try #require(skipping.network.lstm), b = try #require(dense.network.lstm)
        #expect(a.skipsZeroInputs && !b.skipsZeroInputs)
        #expect(a.weights.map(\.bitPattern) == b.weights.map(\.bitPattern), "\(preset) \(variant): weights")
        #expect(a.gradient.map(\.bitPattern) == b.gradient.map(\.bitPattern), "\(preset) \(variant): gradient")
        #expect(a.weights != (try Trial(preset: preset, variant: variant, seed: 3)).network.lstm!.weights, "the trial learned")
        let ta = skipping.test(count: 30), tb = dense.test(count: 30)
        #expect(ta.wrong == tb.wrong && ta.mse.bitPattern == tb.mse.bitPattern)
    }

    @Test("One-hot inputs take the skipping path; dense and few inputs do not")
    func whenItApplies() throws {
        func lists(_ preset: String, _ variant: String? = nil, set: [Int]) throws -> (sparse: Bool, gate: [Int], cell: [Int], output: [Int]) {
            let a = try Presets.parameters(preset, variant: variant).architecture
            let o = TruncatedRTRL.Offsets(a)
            var x = [Double](repeating: 0, count: a.inputs)
            for i in set { x[i] = 1 }
            var scratch = [Int](repeating: -1, count: SparseSources.capacity(o))
            return scratch.withUnsafeMutableBufferPointer { s in
                let l = SparseSources(o, x, s.baseAddress!)
                return (l.sparse, Array(UnsafeBufferPointer(start: l.gate, count: l.gateCount)),
                        Array(UnsafeBufferPointer(start: l.cell, count: l.cellCount)), Array(UnsafeBufferPointer(start: l.output, count: l.outputCount)))
            }
        }
        // Exp. 2c-1: z = [1, x (54), y^c (2), y^in, y^out (2 each)], no biases: rows start at z[1].
        let c = try lists("hochreiter1997-exp2c", "2c-1", set: [7])
        #expect(c.sparse && c.gate == [7] + Array(54..<60) && c.cell == [7] + Array(54..<60))
        #expect(c.output == [0, 1], "the outputs read the two cells only")
        // Exp. 2a: no recurrent sources in z; the outputs also read the inputs (shortcuts).
        let b = try lists("hochreiter1997-exp2a", set: [100])
        #expect(b.sparse && b.gate == [100] && b.cell == [100] && b.output == [0, 101])
        // 13 of 2c-1's 54 inputs set is still sparse, 14 is not; nets with fewer than 16 inputs
        // (Exp. 1's seven, the adding problem's two) never are.
        #expect(try lists("hochreiter1997-exp2c", "2c-1", set: Array(0..<13)).sparse)
        #expect(!(try lists("hochreiter1997-exp2c", "2c-1", set: Array(0..<14)).sparse))
        #expect(!(try lists("hochreiter1997-exp1", "1-1", set: [1]).sparse))
        #expect(!(try lists("hochreiter1997-exp2c", "2c-1", set: Array(0..<30)).sparse))
        #expect(!(try lists("hochreiter1997-exp4", set: [0, 1]).sparse))
        #expect(!(try lists("hochreiter1997-exp4", set: []).sparse))
    }
}
