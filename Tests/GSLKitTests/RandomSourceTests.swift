import Foundation
import Testing
import GateLabGSL

@Suite("RandomSource")
struct RandomSourceTests {
    /// A mixed stream of draws, as bit patterns so that equality is exact.
    private func stream(_ rng: RandomSource, count: Int = 300) -> [UInt64] {
        (0..<count).flatMap { _ in
            [rng.uniform().bitPattern, rng.gaussian(mean: 1, standardDeviation: 2).bitPattern,
             UInt64(rng.integer(below: 1000)), rng.uniform(-3, 5).bitPattern]
        }
    }

    @Test("the same seed gives bit-identical sequences, for every generator tried")
    func sameSeedSameStream() throws {
        for generator in ["mt19937", "ranlxd2", "taus2"] {
            let first = try RandomSource(seed: 42, generator: generator)
            let second = try RandomSource(seed: 42, generator: generator)
            #expect(stream(first) == stream(second), "\(generator)")
            #expect(first.generatorName == generator && first.seed == 42)
        }
    }

    @Test("different seeds give different sequences")
    func differentSeedsDiffer() throws {
        #expect(try stream(RandomSource(seed: 1)) != stream(RandomSource(seed: 2)))
    }

    @Test("a saved generator (Codable) reads back in its state, for every generator tried; a wrong one is refused")
    func codableRoundTrip() throws {
        for name in ["mt19937", "ranlxd2", "taus2"] {
            let rng = try RandomSource(seed: 42, generator: name)
            _ = stream(rng, count: 17)
            let saved = try JSONEncoder().encode(rng)
            let back = try JSONDecoder().decode(RandomSource.self, from: saved)
            #expect(back.generatorName == name && back.seed == 42)
            #expect(stream(back) == stream(rng), "\(name): the continuation after a round trip")
        }
        let mt = String(decoding: try JSONEncoder().encode(try RandomSource(seed: 1)), as: UTF8.self)
        let wrong = mt.replacingOccurrences(of: "\"mt19937\"", with: "\"taus2\"")
        #expect(throws: (any Error).self) { try JSONDecoder().decode(RandomSource.self, from: Data(wrong.utf8)) }
    }

    @Test("restoring saved state reproduces the continuation, also in a fresh source")
    func stateRoundTrip() throws {
        let rng = try RandomSource(seed: 7)
        _ = stream(rng, count: 10)
        let saved = rng.stateBytes()
        let continuation = stream(rng)
        try rng.restore(stateBytes: saved)
        #expect(stream(rng) == continuation)
        let fresh = try RandomSource(seed: 999)
        try fresh.restore(stateBytes: saved)
        #expect(stream(fresh) == continuation)
    }

    @Test("restoring state of the wrong size is an error naming both sizes")
    func stateSizeMismatch() throws {
        let rng = try RandomSource(seed: 7)
        let other = try RandomSource(seed: 7, generator: "taus2")
        let error = #expect(throws: InvalidArgumentError.self) { try rng.restore(stateBytes: other.stateBytes()) }
        #expect(error?.message.contains("\(rng.stateBytes().count)") == true)
    }

    @Test("a copy continues identically and independently")
    func copyIsIndependent() throws {
        let rng = try RandomSource(seed: 3)
        _ = rng.uniform()
        let twin = rng.copy()
        #expect(stream(twin) == stream(rng))
        _ = twin.uniform()
        #expect(twin.uniform().bitPattern != rng.uniform().bitPattern)
        #expect(twin.seed == 3 && twin.generatorName == "mt19937")
    }

    @Test("choose returns sorted distinct integers in range", arguments: [(0, 10), (1, 1), (5, 10), (30, 31), (20, 20)])
    func chooseSortedDistinct(k: Int, n: Int) throws {
        let rng = try RandomSource(seed: 11)
        for _ in 0..<20 {
            let chosen = try rng.choose(k, from: n)
            #expect(chosen.count == k)
            #expect(chosen == chosen.sorted() && Set(chosen).count == k)
            #expect(chosen.allSatisfy { (0..<n).contains($0) })
        }
        #expect(throws: InvalidArgumentError.self) { try rng.choose(-1, from: n) }
    }

    @Test("shuffle is a permutation, and moves things")
    func shuffleIsPermutation() throws {
        let rng = try RandomSource(seed: 5)
        let original = (0..<52).map { "card \($0)" }
        var deck = original
        rng.shuffle(&deck)
        #expect(deck.sorted() == original.sorted())
        #expect(deck != original)
        var single = [1]
        rng.shuffle(&single)
        #expect(single == [1])
    }

    @Test("integer(below:) covers 0..<n and nothing else")
    func integerRange() throws {
        let rng = try RandomSource(seed: 9)
        let draws = (0..<2000).map { _ in rng.integer(below: 7) }
        #expect(Set(draws) == Set(0..<7))
    }

    @Test("uniform and gaussian moments on 100k draws, within 5 standard errors")
    func moments() throws {
        let rng = try RandomSource(seed: 2024)
        let n = 100_000
        let u = rng.uniformArray(count: n)
        #expect(u.allSatisfy { $0 >= 0 && $0 < 1 })
        #expect(isClose(try Statistics.mean(u), 0.5, tolerance: 5 * (1.0 / 12 / Double(n)).squareRoot()))
        let shifted = rng.uniformArray(count: 1000, low: -2, high: 3)
        #expect(shifted.allSatisfy { $0 >= -2 && $0 < 3 })
        let g = rng.gaussianArray(count: n, mean: 2, standardDeviation: 3)
        #expect(isClose(try Statistics.mean(g), 2, tolerance: 5 * 3 / Double(n).squareRoot()))
        // The sample variance's standard error is σ²√(2/(n − 1)).
        #expect(isClose(try Statistics.variance(g), 9, tolerance: 5 * 9 * (2 / Double(n - 1)).squareRoot()))
    }

    @Test("GSL's generator list is exposed")
    func generators() {
        let names = RandomSource.availableGenerators
        #expect(names.contains("mt19937") && names.contains("ranlxd2") && names.count > 30)
    }
}
