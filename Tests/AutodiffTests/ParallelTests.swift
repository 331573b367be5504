import Foundation
import Testing
@testable import GateLabAutodiff

@Suite("The helper thread: split work runs each part exactly once, from any thread")
struct HelperThreadTests {
    @Test func eachPartRunsOnceFromOneThread() {
        for _ in 0..<10_000 {
            var hits = [0, 0]
            hits.withUnsafeMutableBufferPointer { h in Parallel.two { h[$0] += 1 } }
            #expect(hits == [1, 1])
        }
    }

    /// Callers on several threads at once (the helper is busy for all but one of them: they
    /// run both parts themselves), and nested calls from inside a part.
    @Test func concurrentAndNestedCallers() {
        let callers = 4, rounds = 2_000
        let counts = UnsafeMutablePointer<Int>.allocate(capacity: callers * 4)
        counts.initialize(repeating: 0, count: callers * 4)
        defer { counts.deallocate() }
        DispatchQueue.concurrentPerform(iterations: callers) { c in
            let mine = counts + 4 * c
            for _ in 0..<rounds {
                Parallel.two { part in
                    mine[part] += 1
                    Parallel.two { inner in (mine + 2)[part] += inner + 1 }   // nested: +1 +2
                }
            }
        }
        for c in 0..<callers {
            #expect(Array(UnsafeBufferPointer(start: counts + 4 * c, count: 4)) == [rounds, rounds, 3 * rounds, 3 * rounds])
        }
    }

    /// Products split into column or row blocks give the bits of one single-threaded DGEMM,
    /// for every transposition and for shapes that do not divide evenly.
    @Test(arguments: [(false, false), (false, true), (true, false), (true, true)])
    func splitProductsKeepTheirBits(_ transposes: (Bool, Bool)) {
        // OpenBLAS single-threaded, as every program runs it: this test may run before any
        // program is built in the process (its own threads pick other kernels by size).
        Parallel.prepare
        let (ta, tb) = transposes
        for (m, n, k) in [(64, 1000, 70), (300, 40, 129), (17, 33, 200)] {
            let a = (0..<(m * k)).map { sin(Double($0) * 0.37) }, b = (0..<(k * n)).map { cos(Double($0) * 0.11) }
            let c0 = (0..<(m * n)).map { Double($0 % 7) - 3 }
            func product(split: Bool) -> [UInt64] {
                var c = c0
                Parallel.withThresholds(split ? .splitEverything : .splitNothing) {
                    c.withUnsafeMutableBufferPointer { c in
                        MatMul.product(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, beta: 1, c.baseAddress!, n)
                    }
                }
                return c.map(\.bitPattern)
            }
            #expect(product(split: true) == product(split: false), "m \(m) n \(n) k \(k)")
        }
    }
}

@Suite("Split thresholds are a program's option, held per thread")
struct SplitThresholdTests {
    @Test("splitNothing and splitEverything set this thread's thresholds for the body only; another thread keeps the defaults")
    func scopedToTheBodyAndTheThread() async {
        #expect(Parallel.minimumElements == 4096 && Parallel.minimumProductWork == 1 << 16)
        Parallel.withThresholds(.splitNothing) {
            #expect(Parallel.minimumElements == Int.max && Parallel.minimumProductWork == Int.max)
            Parallel.withThresholds(.splitEverything) { #expect(Parallel.minimumElements == 2 && Parallel.minimumProductWork == 1) }
            #expect(Parallel.minimumElements == Int.max, "the inner scope restored the outer one")
            let other = Thread { #expect(Parallel.minimumElements == 4096, "another thread is not affected") }
            other.start()
            while !other.isFinished { usleep(1000) }
        }
        #expect(Parallel.minimumElements == 4096 && Parallel.minimumProductWork == 1 << 16)
        Parallel.withThresholds(.all) { #expect(Parallel.minimumElements == 4096, "the optimizations alone leave the defaults") }
    }

    @Test("A program built with splitNothing does not split its states; with the defaults it does (two threads, large states)")
    func aProgramUsesItsOptions() throws {
        guard Parallel.enabled else { return }
        func program(_ options: ProgramOptions) throws -> Program {
            let g = Graph()
            let h = g.input("h", rows: 64, cols: 160), w = g.parameter("w", rows: 160, cols: 160)
            let next = tanh(w • h)
            return try Program(graph: g, steps: 2, recurrence: [(state: h, next: next)], options: options)
        }
        #expect(try program(.all).splitsStates)
        #expect(try !program(ProgramOptions.all.union(.splitNothing)).splitsStates)
    }
}

@Suite("GATELAB_THREADS is a thread count")
struct ThreadCountTests {
    @Test func countsAreCappedAtTwo() {
        #expect(Parallel.threads(environment: "1", availableCPUs: 8) == 1, "1: no helper thread, even on 8 CPUs")
        #expect(Parallel.threads(environment: "2", availableCPUs: 1) == 2, "2: one helper, even when the mask says 1")
        #expect(Parallel.threads(environment: "8", availableCPUs: 8) == 2, "every split is in two: more run as 2")
        #expect(Parallel.threads(environment: " 4 ", availableCPUs: 8) == 2)
    }

    @Test func unsetOrNotACountFollowsTheAffinityMask() {
        for value in [nil, "0", "-3", "two", ""] {
            #expect(Parallel.threads(environment: value, availableCPUs: 1) == 1, "\(value ?? "unset") on 1 CPU")
            #expect(Parallel.threads(environment: value, availableCPUs: 4) == 2, "\(value ?? "unset") on 4 CPUs")
        }
    }
}
