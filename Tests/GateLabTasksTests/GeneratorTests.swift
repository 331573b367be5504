import GateLabGSL
import Testing
@testable import GateLabTasks

@Suite("Task generators match the papers' set-ups")
struct GeneratorTests {
    @Test("Embedded Reber strings are accepted by the grammar, minimum length 9, mean length ≈ 12")
    func embeddedReber() throws {
        let rng = try RandomSource(seed: 1)
        var lengths: [Double] = []
        for _ in 0..<20_000 {
            let string = Reber.embeddedString(using: rng)
            #expect(Reber.accepts(string))
            lengths.append(Double(string.count))
        }
        #expect(try Statistics.min(lengths) == 9)
        let mean = try Statistics.mean(lengths)
        #expect(abs(mean - 12) < 0.1, "mean ERG length \(mean)")
        // The grammar rejects broken strings: wrong repeat, missing E, illegal edge.
        let sym: (String) -> [Reber.Symbol] = { text in
            text.map { c in Reber.Symbol.allCases.first { "\($0)" == String(c) }! }
        }
        #expect(Reber.accepts(sym("BTBTXSETE")))
        #expect(!Reber.accepts(sym("BTBTXSEPE")))
        #expect(!Reber.accepts(sym("BTBTXXETE")))
        #expect(!Reber.accepts(sym("BTBTXSET")))
    }

    @Test("Exp. 1 sequences: one-hot next-symbol targets at every step, legal successors include the target")
    func exp1Coding() throws {
        let rng = try RandomSource(seed: 2)
        let task = EmbeddedReberTask()
        for _ in 0..<200 {
            let string = Reber.embeddedString(using: rng)
            var sequence = TaskSequence(inputSize: 7, outputSize: 7)
            task.code(string, into: &sequence)
            #expect(sequence.length == string.count - 1)
            for t in 0..<sequence.length {
                let row = (t * 7)..<(t * 7 + 7)
                #expect(sequence.targets[row].reduce(0, +) == 1)
                #expect(sequence.targets[t * 7 + string[t + 1].rawValue] == 1)
                #expect(sequence.legal[t * 7 + string[t + 1].rawValue] == 1)
                let legalCount = sequence.legal[row].reduce(0, +)
                #expect(legalCount == 1 || legalCount == 2)
            }
            // The penultimate prediction (after the inner E) has exactly one legal successor:
            // the T or P of step 2.
            let t = sequence.length - 2
            #expect(sequence.legal[(t * 7)..<(t * 7 + 7)].reduce(0, +) == 1)
            #expect(sequence.legal[t * 7 + string[1].rawValue] == 1)
        }
    }

    @Test("Exp. 1 data: 256 training strings, 256 test strings none of which is a training string")
    func exp1DataSets() throws {
        let rng = try RandomSource(seed: 3)
        let (training, test) = EmbeddedReberTask.dataSets(using: rng)
        #expect(training.count == 256 && test.count == 256)
        let trainingSet = Set(training.map { $0.map(\.rawValue) })
        #expect(test.allSatisfy { !trainingSet.contains($0.map(\.rawValue)) })
    }

    @Test("The continual stream chains whole strings with legal-successor masks and no gaps")
    func continualStream() throws {
        let rng = try RandomSource(seed: 4)
        var stream = ContinualReberStream()
        var current: [Reber.Symbol] = []
        var strings = 0
        var previousMask = 1 << Reber.Symbol.B.rawValue
        for _ in 0..<10_000 {
            let (input, mask, starts) = stream.next(using: rng)
            // Each symbol is a legal successor of the previous one (B after the final E).
            #expect(previousMask & (1 << input) != 0)
            previousMask = mask
            if starts {
                #expect(input == Reber.Symbol.B.rawValue)
                if !current.isEmpty { #expect(Reber.accepts(current)); strings += 1 }
                current = []
            }
            current.append(Reber.Symbol(rawValue: input)!)
        }
        #expect(strings > 700)
    }

    @Test("Exp. 2c: prefix b, x|y, q distractors; lengths q + 3 + k with k geometric (mean 9); one trigger e")
    func distractors() throws {
        let rng = try RandomSource(seed: 5)
        let task = DistractorTask(q: 50, p: 50)
        var extra: [Double] = []
        var classes = 0.0
        var sequence = TaskSequence(inputSize: 54, outputSize: 2)
        for _ in 0..<20_000 {
            task.generate(into: &sequence, using: rng)
            let symbols = (0..<sequence.length).map { t in
                (0..<54).first { sequence.inputs[t * 54 + $0] == 1 }!
            }
            #expect(symbols[0] == 51)
            #expect(symbols[1] == 52 || symbols[1] == 53)
            #expect(symbols.last == 50)
            #expect(symbols[2..<(symbols.count - 1)].allSatisfy { $0 < 50 })
            #expect(sequence.length >= 50 + 3)
            extra.append(Double(sequence.length - 53))
            // Only the final step (input e) has a target, the class of step 2.
            #expect(sequence.hasTarget.filter { $0 }.count == 1 && sequence.hasTarget.last == true)
            #expect(sequence.targets[(sequence.length - 1) * 2 + (symbols[1] - 52)] == 1)
            classes += Double(symbols[1] - 52)
        }
        // k = number of distractors beyond q: P(k) = 0.9^k · 0.1, mean 9; P(0) = 0.1.
        let mean = try Statistics.mean(extra)
        #expect(abs(mean - 9) < 0.3, "mean k \(mean)")
        let zeroShare = Double(extra.filter { $0 == 0 }.count) / Double(extra.count)
        #expect(abs(zeroShare - 0.1) < 0.01)
        #expect(abs(classes / 20_000 - 0.5) < 0.02)
    }

    @Test("Exp. 3a: lengths in [T, T + T/10], first N elements ±1 by class, noise of variance 0.2")
    func twoSequence() throws {
        let rng = try RandomSource(seed: 6)
        let task = TwoSequenceTask(T: 100, N: 3)
        var noise: [Double] = []
        var sequence = TaskSequence(inputSize: 1, outputSize: 1)
        for _ in 0..<2000 {
            task.generate(into: &sequence, using: rng)
            #expect((100...110).contains(sequence.length))
            let sign = sequence.inputs[0]
            #expect(sequence.inputs[0..<3].allSatisfy { $0 == sign && abs($0) == 1 })
            #expect(sequence.targets[sequence.length - 1] == (sign > 0 ? 1 : 0))
            noise.append(contentsOf: sequence.inputs[3..<sequence.length])
        }
        #expect(abs(try Statistics.mean(noise)) < 0.01)
        #expect(abs(try Statistics.variance(noise) - 0.2) < 0.01)
    }

    @Test("Exp. 4: lengths in [T, T + T/10], exactly two markers, first in 1…10 and second in 1…T/2, mean target ≈ 0.5",
          arguments: [100, 500])
    func adding(T: Int) throws {
        let rng = try RandomSource(seed: 7)
        let task = MarkedPairTask(.adding, T: T)
        var targets: [Double] = []
        var lengths = Set<Int>()
        var sequence = TaskSequence(inputSize: 2, outputSize: 1)
        for _ in 0..<5000 {
            task.generate(into: &sequence, using: rng)
            let n = sequence.length
            lengths.insert(n)
            #expect(n >= T && n <= T + T / 10)
            let marked = (0..<n).filter { sequence.inputs[2 * $0 + 1] == 1 }
            #expect(marked.count == 2)
            #expect(marked[0] < T / 2 && marked[1] < T / 2)
            #expect(marked.contains { $0 < 10 })
            // Markers: −1 on the first and last pair unless marked, 0 elsewhere.
            for t in 0..<n where !marked.contains(t) {
                #expect(sequence.inputs[2 * t + 1] == ((t == 0 || t == n - 1) ? -1 : 0))
            }
            #expect((0..<n).allSatisfy { abs(sequence.inputs[2 * $0]) <= 1 })
            let x = marked.map { sequence.inputs[2 * $0] }
            let target = sequence.targets[n - 1]
            #expect(abs(target - (0.5 + (x[0] + x[1]) / 4)) < 1e-15)
            #expect(target >= 0 && target <= 1)
            #expect(sequence.hasTarget.filter { $0 }.count == 1)
            targets.append(target)
        }
        #expect(lengths.min() == T && lengths.max() == T + T / 10)
        #expect(abs(try Statistics.mean(targets) - 0.5) < 0.01)
    }

    @Test("Exp. 5: values in [0, 1], target X1·X2, a marked first pair holds 1.0")
    func multiplication() throws {
        let rng = try RandomSource(seed: 8)
        let task = MarkedPairTask(.multiplication, T: 100)
        var targets: [Double] = []
        var firstMarked = 0
        var sequence = TaskSequence(inputSize: 2, outputSize: 1)
        for _ in 0..<5000 {
            task.generate(into: &sequence, using: rng)
            let marked = (0..<sequence.length).filter { sequence.inputs[2 * $0 + 1] == 1 }
            #expect(marked.count == 2)
            let x = marked.map { sequence.inputs[2 * $0] }
            #expect(x.allSatisfy { $0 >= 0 && $0 <= 1 })
            if marked[0] == 0 { firstMarked += 1; #expect(x[0] == 1.0) }
            targets.append(sequence.targets[sequence.length - 1])
            #expect(sequence.targets[sequence.length - 1] == x[0] * x[1])
        }
        #expect(firstMarked > 0)
        // E[X1·X2] = 1/4, except when pair 1 is marked (probability 0.1 + 0.9/49): then 1 · 1/2.
        let expected = 0.25 + (0.1 + 0.9 / 49) * 0.25
        #expect(abs(try Statistics.mean(targets) - expected) < 0.01)
    }

    @Test("Exps. 6a/6b: E first, B last, X|Y only in the relevant ranges, class frequencies ≈ 1/4 and 1/8")
    func temporalOrder() throws {
        let rng = try RandomSource(seed: 9)
        for task in [TemporalOrderTask.sixA, .sixB] {
            var counts = [Int](repeating: 0, count: task.outputSize)
            var sequence = TaskSequence(inputSize: 8, outputSize: task.outputSize)
            let n = 16_000
            for _ in 0..<n {
                task.generate(into: &sequence, using: rng)
                #expect((100...110).contains(sequence.length))
                let symbols = (0..<sequence.length).map { t in (0..<8).first { sequence.inputs[t * 8 + $0] == 1 }! }
                #expect(symbols.first == 0 && symbols.last == 1)
                let relevant = symbols.indices.filter { symbols[$0] >= 6 }
                #expect(relevant.count == task.relevantRanges.count)
                var label = 0
                for (position, range) in zip(relevant, task.relevantRanges) {
                    #expect(range.contains(position + 1))
                    label = 2 * label + (symbols[position] == 7 ? 1 : 0)
                }
                #expect(label == sequence.label)
                #expect(sequence.targets[(sequence.length - 1) * task.outputSize + label] == 1)
                counts[label] += 1
            }
            let expected = 1.0 / Double(task.outputSize)
            for count in counts { #expect(abs(Double(count) / Double(n) - expected) < 0.015) }
        }
    }
}
