import Foundation
import GateLabGSL
import Testing
@testable import GateLabTasks

/// Generators: structure of every sequence, and statistics with tolerances of several
/// standard errors (so a wrong distribution fails, a correct one passes for any seed).
@Suite struct TaskTests {
    func rng(_ seed: UInt64 = 7) -> RandomSource { try! RandomSource(seed: seed) }

    @Test func modernAddingMarkersAndBaseline() throws {
        let task = try AddingProblem(length: 30)
        let batch = task.batch(size: 4000, using: rng())
        var targets = [Double](), firstCount = [Int](repeating: 0, count: 30)
        for b in 0..<batch.size {
            let marked = (0..<30).filter { batch[$0, b, 1] == 1 }
            #expect(marked.count == 2)
            #expect(marked[0] < 15 && marked[1] >= 15)
            #expect((0..<30).allSatisfy { batch[$0, b, 1] == 0 || batch[$0, b, 1] == 1 })
            #expect((0..<30).allSatisfy { (0..<1).contains(batch[$0, b, 0]) })
            firstCount[marked[0]] += 1
            let sum = batch[marked[0], b, 0] + batch[marked[1], b, 0]
            #expect(batch.targets[0].values[b] == sum)
            targets.append(sum)
        }
        #expect(batch.targets.count == 1 && batch.targets[0].step == 29)
        // Mean 1, variance 1/6; the constant predictor 1 scores the baseline MSE 1/6.
        let mse = targets.map { ($0 - 1) * ($0 - 1) }.reduce(0, +) / Double(targets.count)
        // sd of (S−1)² is about 0.19, so 4000 samples give a standard error of 0.003.
        #expect(abs(mse - task.baseline) < 0.012, "constant-1 MSE \(mse) vs 1/6")
        #expect(abs(try Statistics.mean(targets) - 1) < 0.03)
        // First marker uniform over the first half: each position ≈ 4000/15 ≈ 267 ± 16.
        #expect(firstCount[0..<15].allSatisfy { abs($0 - 267) < 80 })
    }

    @Test func hochreiterAddingFollowsThePaper() throws {
        let task = try HochreiterAddingProblem(length: 100)
        #expect(task.steps == 110)
        let batch = task.batch(size: 3000, using: rng(3))
        var targets = [Double](), pairZeroMarked = 0, pairZeroAndEarly = 0, lengths = Set<Int>()
        for target in batch.targets {
            for (k, b) in target.rows.enumerated() {
                let n = batch.lengths[b]
                lengths.insert(n)
                #expect(target.step == n - 1)
                #expect((100...110).contains(n))
                #expect((n..<110).allSatisfy { batch[$0, b, 0] == 0 && batch[$0, b, 1] == 0 })
                // Exactly two pairs carry marker 1, both among the first T/2, one among the
                // first 10; pair 0 may be either of them and then keeps marker 1 and value 0.
                let ones = (0..<n).filter { batch[$0, b, 1] == 1 }
                #expect(ones.count == 2 && ones.allSatisfy { $0 < 50 } && ones.contains { $0 < 10 })
                #expect(batch[n - 1, b, 1] == -1)
                #expect((1..<(n - 1)).allSatisfy { ones.contains($0) || batch[$0, b, 1] == 0 })
                if ones[0] == 0 {
                    pairZeroMarked += 1
                    if ones[1] < 10 { pairZeroAndEarly += 1 }
                    #expect(batch[0, b, 0] == 0)
                } else {
                    #expect(batch[0, b, 1] == -1)
                }
                let marked = ones.map { batch[$0, b, 0] }.reduce(0, +)
                let value = target.values[k]
                #expect(abs(value - (0.5 + marked / 4)) < 1e-15)
                targets.append(value)
            }
        }
        #expect(lengths.count == 11)          // every length in [T, T + T/10] occurs
        // Pair 0 is marked with probability 1/10 + 9/10 · 1/49 ≈ 0.118 (sd ≈ 0.006 at 3000).
        #expect(abs(Double(pairZeroMarked) / 3000 - task.generator.pairZeroMarkedProbability) < 0.025)
        // Pair 0 and another of the first 10 marked: pair 0 first and the second in 1…9
        // (1/10 · 9/49), or pair 0 second and the first in 1…9 (9/10 · 1/49): 0.037 in all, about
        // 110 ± 10 of 3000; a generator that never puts the second at pair 0 gives half that.
        #expect(abs(Double(pairZeroAndEarly) / 3000 - 2 * 0.9 / 49) < 0.01, "\(pairZeroAndEarly)")
        let mean = try Statistics.mean(targets)
        #expect(abs(mean - 0.5) < 0.01)
        let mse = targets.map { ($0 - 0.5) * ($0 - 0.5) }.reduce(0, +) / Double(targets.count)
        #expect(abs(mse - task.baseline) < 0.004, "constant-0.5 MSE \(mse) vs \(task.baseline)")
        #expect(targets.allSatisfy { (0...1).contains($0) })
    }

    /// `train --task adding-hs | temporal-order` and the Exp. 4 and 6a reproductions read one
    /// generator each: a batch holds exactly the sequences the generator draws from the same state,
    /// laid out row by row.
    @Test func paperTasksBatchTheirGeneratorsSequences() throws {
        let adding = try HochreiterAddingProblem(length: 100)
        let order = try TemporalOrder(length: 100)
        let cases: [(any ForgettingTask, any SequenceTask)] = [(adding, MarkedPairTask(.adding, T: 100)), (order, TemporalOrderTask.sixA)]
        for (task, generator) in cases {
            let batch = task.batch(size: 5, using: rng(21))
            let source = rng(21)
            let sequences = (0..<5).map { _ in generator.sample(using: source) }
            #expect(batch == TaskBatch(sequences: sequences, loss: task.loss, steps: task.steps))
            for (b, sequence) in sequences.enumerated() {
                #expect(batch.lengths[b] == sequence.length)
                for t in 0..<sequence.length {
                    for i in 0..<task.inputSize { #expect(batch[t, b, i] == sequence.inputs[t * task.inputSize + i]) }
                }
            }
        }
    }

    /// The layout itself: padding after each sequence's end, targets by step with their rows in
    /// order, classes from one-hot targets, and the batch's step count.
    @Test func batchLayoutOfSequences() throws {
        var short = TaskSequence(inputSize: 2, outputSize: 3), long = TaskSequence(inputSize: 2, outputSize: 3)
        short.reset(length: 2)
        short.inputs = [1, 2, 3, 4]
        short.targets[1 * 3 + 2] = 1; short.hasTarget[1] = true
        long.reset(length: 3)
        long.inputs = [5, 6, 7, 8, 9, 10]
        long.targets[0 * 3 + 1] = 1; long.hasTarget[0] = true
        long.targets[1 * 3 + 0] = 1; long.hasTarget[1] = true
        let classes = TaskBatch(sequences: [short, long], loss: .crossEntropy(classes: 3), steps: 4)
        #expect(classes.steps == 4 && classes.lengths == [2, 3])
        #expect(classes.inputs == [1, 2, 5, 6, 3, 4, 7, 8, 0, 0, 9, 10, 0, 0, 0, 0])
        #expect(classes.targets == [StepTargets(step: 0, rows: [1], classes: [1]), StepTargets(step: 1, rows: [0, 1], classes: [2, 0])])
        let values = TaskBatch(sequences: [short, long], loss: .meanSquaredError(outputs: 3))
        #expect(values.steps == 3)
        #expect(values.targets[1] == StepTargets(step: 1, rows: [0, 1], values: [0, 0, 1, 1, 0, 0]))
    }

    @Test func copyMemoryLayoutBalanceAndBaseline() throws {
        let task = try CopyMemory(length: 15)
        let batch = task.batch(size: 2000, using: rng(5))
        #expect(batch.steps == 35 && batch.targets.count == 35)
        var counts = [Int](repeating: 0, count: 9)
        for b in 0..<batch.size {
            for t in 0..<35 { #expect((0..<10).map { batch[t, b, $0] }.reduce(0, +) == 1) }
            #expect(batch[24, b, 9] == 1)                       // delimiter after T − 1 blanks
            for k in 0..<10 {
                let symbol = (1...8).first { batch[k, b, $0] == 1 }!
                #expect(batch.targets[25 + k].classes[b] == symbol)
                counts[symbol] += 1
            }
            #expect((0..<25).allSatisfy { batch.targets[$0].classes[b] == 0 })
        }
        // 20000 symbols, 2500 expected per category, sd ≈ 47.
        #expect(counts[1...].allSatisfy { abs($0 - 2500) < 200 }, "\(counts)")
        #expect(batch.targets.filter(\.scored).count == 10)
        // The memoryless predictor (blank, then uniform) scores 10 ln 8 / (T + 20).
        let memoryless = Double(10) * log(8.0) / 35
        #expect(abs(task.baseline - memoryless) < 1e-15)
    }

    @Test func recallTargetIsTheFirstInputAndBalanced() throws {
        let task = try FirstInputRecall(length: 12)
        let batch = task.batch(size: 4000, using: rng(9))
        var counts = [Int](repeating: 0, count: 8)
        for b in 0..<batch.size {
            let first = (0..<8).first { batch[0, b, $0] == 1 }!
            #expect(batch.targets[0].classes[b] == first)
            #expect(batch.targets[0].step == 12)
            counts[first] += 1
        }
        #expect(counts.allSatisfy { abs($0 - 500) < 90 }, "\(counts)")
    }

    @Test func agreementLabelsTheLatestSubject() throws {
        let task = try SubjectAgreement(length: 40, subjects: 3)
        let batch = task.batch(size: 4000, using: rng(11))
        var ones = 0, changed = 0
        for b in 0..<batch.size {
            let subjects = (0..<40).filter { t in (4..<8).contains { batch[t, b, $0] == 1 } }
            #expect(subjects.count == 3)
            #expect(batch[40, b, 8] == 1)
            let gender = { (t: Int) in (4..<6).contains { batch[t, b, $0] == 1 } ? 0 : 1 }
            #expect(batch.targets[0].classes[b] == gender(subjects.last!))
            if gender(subjects.first!) != gender(subjects.last!) { changed += 1 }
            ones += batch.targets[0].classes[b]
        }
        #expect(abs(Double(ones) / 4000 - 0.5) < 0.04)
        #expect(abs(Double(changed) / 4000 - 0.5) < 0.04)
    }

    @Test func temporalOrderFollowsThePaper() throws {
        let task = try TemporalOrder(length: 100)
        #expect(task.firstRange == 10...20 && task.secondRange == 50...60)
        let batch = task.batch(size: 4000, using: rng(13))
        var classes = [Int](repeating: 0, count: 4)
        for target in batch.targets {
            for (k, b) in target.rows.enumerated() {
                let n = batch.lengths[b]
                #expect((100...110).contains(n) && target.step == n - 1)
                // E = 0, B = 1, a…d = 2…5, X = 6, Y = 7; positions 1-based in the paper.
                let symbol = { (t: Int) in (0..<8).first { batch[t, b, $0] == 1 }! }
                #expect(symbol(0) == 0 && symbol(n - 1) == 1)
                let xy = (0..<n).filter { symbol($0) >= 6 }
                #expect(xy.count == 2 && (10...20).contains(xy[0] + 1) && (50...60).contains(xy[1] + 1))
                #expect((1..<(n - 1)).filter { !xy.contains($0) }.allSatisfy { (2...5).contains(symbol($0)) })
                let c = 2 * (symbol(xy[0]) - 6) + (symbol(xy[1]) - 6)
                let v = Array(target.values[(4 * k)..<(4 * k + 4)])
                #expect(v == (0..<4).map { $0 == c ? 1 : 0 })
                classes[c] += 1
            }
        }
        #expect(classes.allSatisfy { abs($0 - 1000) < 120 }, "\(classes)")
    }

    @Test func sameSeedSameBatchAndBadInput() throws {
        for name in Tasks.names {
            let task = try Tasks.make(name, length: 30)
            #expect(task.batch(size: 3, using: rng(1)) == task.batch(size: 3, using: rng(1)))
            #expect(task.batch(size: 3, using: rng(1)) != task.batch(size: 3, using: rng(2)))
        }
        #expect(throws: TaskError.unknownTask("nope")) { try Tasks.make("nope", length: 10) }
        #expect(throws: TaskError.self) { try Tasks.make("adding-hs", length: 10) }
        #expect(throws: TaskError.self) { try Tasks.make("adding", length: 1) }
    }

    @Test func correctnessJudgements() throws {
        let hs = try HochreiterAddingProblem(length: 20)
        #expect(hs.isCorrect(prediction: [0.53], value: [0.5], label: -1))
        #expect(!hs.isCorrect(prediction: [0.55], value: [0.5], label: -1))
        let order = try TemporalOrder(length: 20)
        #expect(order.isCorrect(prediction: [0.8, 0.1, 0.2, -0.2], value: [1, 0, 0, 0], label: -1))
        #expect(!order.isCorrect(prediction: [0.6, 0.1, 0.2, 0], value: [1, 0, 0, 0], label: -1))
        let copy = try CopyMemory(length: 5)
        #expect(copy.isCorrect(prediction: [0, 3, 1], value: [], label: 1))
        #expect(!copy.isSolved(loss: 0, fractionCorrect: 0.98))
        #expect(try AddingProblem(length: 5).isSolved(loss: 0.009, fractionCorrect: 0))
    }
}
