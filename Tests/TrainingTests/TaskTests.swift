import Foundation
import GSLKit
import Testing
@testable import Training

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
        var targets = [Double](), firstAtZero = 0, lengths = Set<Int>()
        for target in batch.targets {
            for (k, b) in target.rows.enumerated() {
                let n = batch.lengths[b]
                lengths.insert(n)
                #expect(target.step == n - 1)
                #expect((100...110).contains(n))
                #expect(batch[0, b, 1] == -1 && batch[n - 1, b, 1] == -1)
                #expect((n..<110).allSatisfy { batch[$0, b, 0] == 0 && batch[$0, b, 1] == 0 })
                let ones = (0..<n).filter { batch[$0, b, 1] == 1 }
                if ones.count == 1 {       // the first marked pair was pair 0: X1 = 0
                    firstAtZero += 1
                    #expect(batch[0, b, 0] == 0)
                    #expect((1..<49).contains(ones[0]))
                } else {
                    #expect(ones.count == 2)
                    #expect(ones.allSatisfy { $0 < 49 })
                    #expect(ones.contains { $0 < 10 })      // the first among the first 10
                }
                // Target 0.5 + (X1 + X2)/4 over the pairs marked 1 (X1 = 0 when pair 0 was).
                let marked = ones.map { batch[$0, b, 0] }.reduce(0, +)
                let value = target.values[k]
                #expect(abs(value - (0.5 + marked / 4)) < 1e-15)
                targets.append(value)
            }
        }
        #expect(lengths.count == 11)          // every length in [T, T + T/10] occurs
        #expect(abs(Double(firstAtZero) / 3000 - 0.1) < 0.03)
        let mean = try Statistics.mean(targets)
        #expect(abs(mean - 0.5) < 0.01)
        let mse = targets.map { ($0 - 0.5) * ($0 - 0.5) }.reduce(0, +) / Double(targets.count)
        #expect(abs(mse - task.baseline) < 0.004, "constant-0.5 MSE \(mse) vs \(task.baseline)")
        #expect(targets.allSatisfy { (0...1).contains($0) })
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
        let batch = task.batch(size: 4000, using: rng(13))
        var classes = [Int](repeating: 0, count: 4)
        for target in batch.targets {
            for (k, b) in target.rows.enumerated() {
                let n = batch.lengths[b]
                #expect((100...110).contains(n) && target.step == n - 1)
                let symbol = { (t: Int) in (0..<8).first { batch[t, b, $0] == 1 }! }
                #expect(symbol(0) == 7 && symbol(n - 1) == 6)
                let xy = (0..<n).filter { (4...5).contains(symbol($0)) }
                #expect(xy.count == 2 && (10...20).contains(xy[0]) && (50...60).contains(xy[1]))
                #expect((1..<(n - 1)).filter { !xy.contains($0) }.allSatisfy { symbol($0) < 4 })
                let c = 2 * (symbol(xy[0]) - 4) + (symbol(xy[1]) - 4)
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
