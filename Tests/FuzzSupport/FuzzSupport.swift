import Foundation

// What the fuzz tests share (FuzzTests, CellLanguageTests' LanguageFuzzTests,
// GateLabCLITests' CommandLineFuzzTests): one seeded generator, the measures their bounds are
// checked with, and how many inputs a run takes.

/// A small seeded generator (SplitMix64): every run fuzzes the same inputs, and a failure
/// names an input (seed and index) that can be replayed. The fuzzers do not use GSLKit's
/// `RandomSource` (the engine's MT19937), so that the inputs named in Notes/reliability.md
/// stay the same whatever the engine's generator does.
public struct SplitMix64 {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// 0 ..< n (0 for n ≤ 1).
    public mutating func below(_ n: Int) -> Int { Int(next() % UInt64(max(n, 1))) }
    public mutating func pick<T>(_ xs: [T]) -> T { xs[below(xs.count)] }
}

public enum FuzzMeasure {
    /// Inputs per target: `GATELAB_FUZZ_INPUTS` (the long run of `make fuzz`), else `ci`.
    public static func inputs(ci: Int) -> Int {
        ProcessInfo.processInfo.environment["GATELAB_FUZZ_INPUTS"].flatMap { Int($0) } ?? ci
    }

    /// When a fuzz target that starts now must stop: `GATELAB_FUZZ_SECONDS` from now (a shared
    /// machine cannot promise a count in a given time; `make fuzz FUZZ_SECONDS=…` then runs the
    /// largest count that fits and prints how many inputs each target took), else never. Each
    /// target counts its own budget: the suites do not all start at once, and a budget counted
    /// from the first input left the last ones none.
    public static func deadline() -> Date? {
        ProcessInfo.processInfo.environment["GATELAB_FUZZ_SECONDS"].flatMap { Double($0) }.map { Date().addingTimeInterval($0) }
    }

    /// This thread's CPU time, in seconds: unlike the wall clock, it does not grow when other
    /// processes (or the suite's other tests) take the cores, so a bound on it does not make a
    /// test fail on a loaded machine.
    public static func threadSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    /// The process's peak resident memory, in kB.
    public static func peakResidentKilobytes() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss
    }
}
