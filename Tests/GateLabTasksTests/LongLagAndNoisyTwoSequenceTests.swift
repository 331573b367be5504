import GateLabGSL
import Testing
@testable import GateLabTasks

/// The one-hot index of each step's input (and of each step's target).
private func symbols(_ s: TaskSequence) -> (inputs: [Int], targets: [Int]) {
    let n = s.inputSize
    func hot(_ values: [Double], _ t: Int) -> Int {
        let row = values[(t * n)..<((t + 1) * n)]
        #expect(row.reduce(0, +) == 1 && row.allSatisfy { $0 == 0 || $0 == 1 }, "step \(t) is not one-hot")
        return row.firstIndex(of: 1)! - t * n
    }
    return ((0..<s.length).map { hot(s.inputs, $0) }, (0..<s.length).map { hot(s.targets, $0) })
}

@Suite("H&S 1997 Exps. 2a, 2b, 3b and 3c: generators match the paper's set-ups")
struct LongLagAndNoisyTwoSequenceTests {
    @Test("Exp. 2a: only (x, a_1…a_{p−1}, x) and (y, a_1…a_{p−1}, y), p steps, next-symbol targets at every step, classes ≈ 1/2")
    func exp2a() throws {
        let rng = try RandomSource(seed: 21)
        let task = LongLagTask(p: 100, randomMiddle: false)
        #expect(task.inputSize == 101 && task.outputSize == 101)
        var seen = Set<[Int]>()
        var ys = 0
        let n = 4000
        for _ in 0..<n {
            let s = task.sample(using: rng)
            #expect(s.length == 100 && s.hasTarget.allSatisfy { $0 } && s.expected == nil)
            let (inputs, targets) = symbols(s)
            let first = inputs[0]
            #expect(first == 99 || first == 100, "x = 99, y = 100")
            #expect(Array(inputs[1...]) == Array(0..<99), "the middle is a_1 … a_99")
            #expect(Array(targets[..<99]) == Array(inputs[1...]), "each target is the next element")
            #expect(targets[99] == first, "the last element repeats the first")
            #expect(s.label == (first == 100 ? 1 : 0))
            seen.insert(inputs)
            ys += first == 100 ? 1 : 0
        }
        #expect(seen.count == 2)
        #expect(abs(Double(ys) / Double(n) - 0.5) < 0.025)
    }

    @Test("Exp. 2b: random middle uniform over a_1…a_{p−1} (never x or y), the last target repeats the first, classes ≈ 1/2")
    func exp2b() throws {
        let rng = try RandomSource(seed: 22)
        let task = LongLagTask(p: 100, randomMiddle: true)
        var counts = [Int](repeating: 0, count: 99)
        var ys = 0
        let n = 3000
        for _ in 0..<n {
            let s = task.sample(using: rng)
            #expect(s.length == 100 && s.hasTarget.allSatisfy { $0 })
            let (inputs, targets) = symbols(s)
            let first = inputs[0]
            #expect(first == 99 || first == 100)
            #expect(inputs[1...].allSatisfy { $0 < 99 }, "the middle holds only a_1 … a_99")
            #expect(Array(targets[..<99]) == Array(inputs[1...]))
            #expect(targets[99] == first)
            for symbol in inputs[1...] { counts[symbol] += 1 }
            ys += first == 100 ? 1 : 0
        }
        // 297 000 draws, 3000 expected per symbol (s.d. ≈ 54): every count within 10 %.
        let expected = Double(n * 99) / 99
        #expect(counts.allSatisfy { abs(Double($0) - expected) < 0.1 * expected }, "\(counts.min()!)…\(counts.max()!)")
        // χ² with 98 degrees of freedom: mean 98, s.d. 14; 160 is beyond 4 s.d.
        let chi2 = counts.map { (Double($0) - expected) * (Double($0) - expected) / expected }.reduce(0, +)
        #expect(chi2 < 160, "χ² = \(chi2)")
        #expect(abs(Double(ys) / Double(n) - 0.5) < 0.03)
        // Two different sequences differ in their middles.
        #expect(task.sample(using: rng).inputs != task.sample(using: rng).inputs)
    }

    @Test("The new generators are deterministic for a seed and differ between seeds")
    func determinism() throws {
        let tasks: [any SequenceTask] = [LongLagTask(p: 100, randomMiddle: true), TwoSequenceTask.threeB(T: 100, N: 3),
                                         TwoSequenceTask.threeC(T: 100, N: 1)]
        for task in tasks {
            func draw(_ seed: UInt64) throws -> [TaskSequence] {
                let rng = try RandomSource(seed: seed)
                return (0..<20).map { _ in task.sample(using: rng) }
            }
            #expect(try draw(5) == draw(5))
            #expect(try draw(5) != draw(6))
        }
    }

    @Test("Exp. 3b: lengths uniform in [T, T + T/10], the first N elements ±1 plus noise of mean 0 and variance 0.2, later elements the same noise, targets 1/0",
          arguments: [3, 1])
    func exp3b(N: Int) throws {
        let rng = try RandomSource(seed: 23)
        let task = TwoSequenceTask.threeB(T: 100, N: N)
        var informationNoise: [Double] = [], laterNoise: [Double] = []
        var lengths = [Int](repeating: 0, count: 11)
        var classOne = 0
        let n = 20_000
        for _ in 0..<n {
            let s = task.sample(using: rng)
            #expect((100...110).contains(s.length))
            lengths[s.length - 100] += 1
            let sign = s.label == 0 ? 1.0 : -1.0
            for t in 0..<N { informationNoise.append(s.inputs[t] - sign) }
            laterNoise.append(contentsOf: s.inputs[N..<s.length])
            #expect(s.targets[s.length - 1] == (s.label == 0 ? 1 : 0) && s.expected == nil)
            #expect(s.hasTarget.filter { $0 }.count == 1 && s.hasTarget.last == true)
            classOne += s.label == 0 ? 1 : 0
        }
        #expect(abs(try Statistics.mean(informationNoise)) < 0.01)
        #expect(abs(try Statistics.variance(informationNoise) - 0.2) < 0.01)
        #expect(abs(try Statistics.mean(laterNoise)) < 0.005)
        #expect(abs(try Statistics.variance(laterNoise) - 0.2) < 0.005)
        // The noise is there: no first element is exactly ±1.
        #expect(!informationNoise.contains(0))
        // Each of the 11 lengths ≈ 1/11 of the sequences.
        #expect(lengths.allSatisfy { abs(Double($0) / Double(n) - 1.0 / 11) < 0.01 }, "\(lengths)")
        #expect(abs(Double(classOne) / Double(n) - 0.5) < 0.015)
    }

    @Test("Exp. 3c: inputs as in 3a (first N exactly ±1), noise-free targets 0.2 / 0.8 by class, target noise of mean 0 and variance 0.1 (s.d. ≈ 0.32)")
    func exp3c() throws {
        let rng = try RandomSource(seed: 24)
        let task = TwoSequenceTask.threeC(T: 100, N: 3)
        var targetNoise: [Double] = [], laterNoise: [Double] = []
        var classOne = 0
        let n = 20_000
        for _ in 0..<n {
            let s = task.sample(using: rng)
            #expect((100...110).contains(s.length))
            let sign = s.label == 0 ? 1.0 : -1.0
            #expect(s.inputs[0..<3].allSatisfy { $0 == sign })
            laterNoise.append(contentsOf: s.inputs[3..<s.length])
            let expected = try #require(s.expected)
            #expect(expected.count == s.length)
            #expect(expected[s.length - 1] == (s.label == 0 ? 0.2 : 0.8))
            #expect(expected[..<(s.length - 1)].allSatisfy { $0 == 0 })
            targetNoise.append(s.targets[s.length - 1] - expected[s.length - 1])
            #expect(s.hasTarget.filter { $0 }.count == 1 && s.hasTarget.last == true)
            classOne += s.label == 0 ? 1 : 0
        }
        #expect(abs(try Statistics.mean(targetNoise)) < 0.007)
        #expect(abs(try Statistics.variance(targetNoise) - 0.1) < 0.004)
        #expect(abs(try Statistics.mean(laterNoise)) < 0.005)
        #expect(abs(try Statistics.variance(laterNoise) - 0.2) < 0.005)
        #expect(abs(Double(classOne) / Double(n) - 0.5) < 0.015)
    }

    @Test("Exp. 3a's generator is unchanged by the 3b/3c options: its draws in their order (class, length, noise), first N exactly ±1, no expected targets")
    func exp3aUnchanged() throws {
        let a = try RandomSource(seed: 25), b = try RandomSource(seed: 25)
        for _ in 0..<50 {
            let s = TwoSequenceTask(T: 100, N: 3).sample(using: a)
            // The 3a draws written out: class, length, then one Gaussian per element after N.
            let classOne = b.integer(below: 2) == 0
            let length = 100 + b.integer(below: 11)
            var inputs = [Double](repeating: classOne ? 1 : -1, count: 3)
            for _ in 3..<length { inputs.append(b.gaussian(mean: 0, standardDeviation: 0.2.squareRoot())) }
            #expect(s.inputs == inputs && s.targets.last == (classOne ? 1 : 0) && s.expected == nil)
        }
    }
}
