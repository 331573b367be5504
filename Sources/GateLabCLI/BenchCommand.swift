import ArgumentParser
import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGSL

/// `gatelab bench`: the speed benchmark against PyTorch's and JAX's numbers.
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time one forward + backward pass per configuration (median of repetitions) and compare with the machine's DGEMM rate.",
        discussion: """
            Each configuration runs in its own child process, so that its peak resident memory \
            is its own. Prints one JSON line per configuration with --json: \
            {"name","cell","B","I","H","T","fwd_bwd_s","gflops","peak_rss_mb","dgemm_gflops","dgemm_fraction","fwd_bwd_all_s","core_round_trip_ns"}, \
            then one line with the machine's DGEMM rate (measured once, before the configurations). \
            fwd_bwd_all_s lists every timed repetition, in order: their spread shows how steady \
            the machine was. With --precision f32 the network computes in single precision \
            (SGEMM, float activations) and each line has "precision":"f32"; gflops and \
            dgemm_fraction are still stated against the DGEMM rate. --long-steps takes \
            --precision f32 too (its memory budget then holds twice the steps).

            dgemm_gflops is the DGEMM rate (n = 1024, OpenBLAS's thread count) measured just \
            before the configuration's process and just after it (the median of six readings); \
            dgemm_fraction is gflops over it. Taking both rates in the same minute keeps the \
            fraction meaningful on a machine whose speed drifts from minute to minute (a shared \
            or virtual one).

            core_round_trip_ns: the time a cache line takes to go from one CPU to another and \
            back (two readings before the configuration's process, two after), the price of \
            every hand-off between GateLab's two threads. A virtual machine whose two vCPUs \
            the host places on different L3 caches shows hundreds of ns instead of tens, and \
            two-thread runs are slower then; absent when the process may use one CPU only.
            """)

    @Option(help: "Configs file in the format of Benchmarks/configs.json.")
    var configs: String = "Benchmarks/configs.json"
    @Option(help: "Timed repetitions per configuration (after one warm-up); the median is reported.")
    var repetitions: Int = 5
    @Option(help: "Run only the configurations with these names (comma-separated).")
    var only: String?
    @Flag(help: "One JSON line per configuration.")
    var json = false
    @OptionGroup var precision: PrecisionOption
    @Flag(help: .hidden) var child = false
    @Option(help: "Instead of the configs: one long sequence of this many steps (e.g. 1000000), LSTM B=1 I=1 H=32 unless --cell/--hidden say otherwise, within --memory-budget.")
    var longSteps: Int?
    @Option(help: "With --long-steps: the cell.") var cell = "lstm"
    @Option(help: "With --long-steps: hidden units.") var hidden = 32
    @Option(help: "With --long-steps: memory budget of the unrolled storage, in MB (checkpointing beyond it).")
    var memoryBudget = 160

    /// Timed repetitions are kept (for their spread): bounded so the list stays small.
    static let largestRepetitions = 10_000

    func validate() throws {
        guard (1...Self.largestRepetitions).contains(repetitions) else {
            throw ValidationError("--repetitions must be between 1 and \(Self.largestRepetitions), got \(repetitions)")
        }
        if longSteps == nil {
            try refuseIneffective(["--cell", "--hidden", "--memory-budget"], "without --long-steps (the configurations give the cells and sizes)")
        } else {
            try refuseIneffective(["--configs", "--only", "--repetitions"], "with --long-steps (one timed sequence instead of the configurations)")
        }
    }

    func run() throws {
        if let longSteps {
            guard longSteps >= 1, hidden >= 1, memoryBudget >= 1 else { throw ValidationError("--long-steps, --hidden and --memory-budget must be positive") }
            guard memoryBudget <= 1 << 30 else { throw ValidationError("--memory-budget must be at most \(1 << 30) MB, got \(memoryBudget)") }
            try Benchmark.checkFits(cell: cell, hidden: hidden, steps: longSteps)
            let r = try Benchmark.longSequence(cell: cell, hidden: hidden, steps: longSteps, memoryBudget: memoryBudget << 20,
                                               precision: precision.precision)
            let rss = Benchmark.peakResidentMegabytes()
            if json {
                try printLine(LongSequenceLine(cell: cell, B: 1, I: 1, H: hidden, T: longSteps, fwd_bwd_s: decimals(r.seconds, 3),
                                               peak_rss_mb: decimals(rss, 1), segment: r.segment, memory_budget_mb: memoryBudget,
                                               grad_norm_x0: r.firstInputGradient, precision: precision.recorded))
            } else {
                print("\(cell) B=1 I=1 H=\(hidden) T=\(longSteps)\(precision.precision == .f32 ? " float32" : ""): forward+backward \(String(format: "%.2f", r.seconds)) s, peak RSS \(String(format: "%.1f", rss)) MB, "
                      + "segment \(r.segment) steps (budget \(memoryBudget) MB), ‖∂L/∂x_0‖ = \(r.firstInputGradient)")
            }
            return
        }
        var list = try Benchmark.configurations(at: configs)
        if let only {
            let names = Set(only.split(separator: ",").map(String.init))
            let unknown = names.subtracting(list.map(\.name))
            guard unknown.isEmpty else { throw ValidationError("unknown configuration(s): \(unknown.sorted().joined(separator: ", "))") }
            list = list.filter { names.contains($0.name) }
        }
        if child {   // run in this process and print the raw result
            Self.exitWhenOrphaned()
            for c in list {
                let r = try Benchmark.run(c, repetitions: repetitions, precision: precision.precision)
                print("\(c.name) \(r.seconds) \(r.gflops) \(Benchmark.peakResidentMegabytes()) \(r.repetitions.map { String($0) }.joined(separator: ","))")
            }
            return
        }
        let dgemm = BLAS.measureDGEMMRate(n: 1024, repetitions: 5)
        if !json { print("machine DGEMM rate (OpenBLAS, n = 1024, \(BLAS.threads) threads): \(String(format: "%.1f", dgemm)) GFLOP/s") }
        for c in list {
            // The DGEMM rate just before and just after the configuration's process (median of
            // six readings), so that both rates are taken in the same minute.
            var readings = measureDGEMM()
            var trips = measureRoundTrips()
            let (seconds, gflops, rss, all) = try runChild(c)
            trips += measureRoundTrips()
            readings += measureDGEMM()
            let rate = readings.sorted()[readings.count / 2]
            if json {
                try printLine(ConfigurationLine(name: c.name, cell: c.cell, B: c.batch, I: c.input, H: c.hidden, T: c.steps,
                                                fwd_bwd_s: decimals(seconds, 6), gflops: decimals(gflops, 2, significant: 3), peak_rss_mb: decimals(rss, 1),
                                                dgemm_gflops: decimals(rate, 2), dgemm_fraction: decimals(gflops / rate, 3, significant: 3),
                                                fwd_bwd_all_s: all.map { decimals($0, 6) }, precision: precision.recorded,
                                                core_round_trip_ns: trips.isEmpty ? nil : trips.map { decimals($0, 1) }))
            } else {
                print(String(format: "%-28@ %10.6f s (%.6f–%.6f) %8.2f GFLOP/s %6.1f%% of DGEMM (%.1f GFLOP/s alongside) %8.1f MB",
                             c.name as NSString, seconds, all.min() ?? seconds, all.max() ?? seconds, gflops, 100 * gflops / rate, rate, rss)
                      + (trips.isEmpty ? "" : String(format: ", cores' round trip %.0f–%.0f ns", trips.min()!, trips.max()!)))
            }
            fflush(stdout)
        }
        if json { try printLine(MachineLine(dgemm_gflops: decimals(dgemm, 2), blas: BLAS.configuration, threads: BLAS.threads)) }
    }

    // The --json lines, written by JSONEncoder (keys sorted). The property names are the keys:
    // the peers' scripts (shared/bench) use the same ones.

    /// One configuration's result.
    struct ConfigurationLine: Encodable {
        var name, cell: String
        var B, I, H, T: Int
        var fwd_bwd_s, gflops, peak_rss_mb, dgemm_gflops, dgemm_fraction: Double
        var fwd_bwd_all_s: [Double]
        /// "f32" for a float32 run; absent (nil) for float64.
        var precision: String?
        /// The cores' round trip (ns), twice before the configuration's process and twice
        /// after; absent on one CPU.
        var core_round_trip_ns: [Double]?
    }

    /// The long-sequence run's result.
    struct LongSequenceLine: Encodable {
        var cell: String
        var B, I, H, T: Int
        var fwd_bwd_s, peak_rss_mb: Double
        var segment, memory_budget_mb: Int
        var grad_norm_x0: Double
        /// "f32" for a float32 run; absent (nil) for float64.
        var precision: String?
    }

    /// The machine's DGEMM rate and BLAS, after the configurations.
    struct MachineLine: Encodable {
        var dgemm_gflops: Double
        var blas: String
        var threads: Int
    }

    /// Prints `line` as one line of JSON.
    private func printLine(_ line: some Encodable) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        print(String(decoding: try encoder.encode(line), as: UTF8.self))
    }

    /// `x` rounded to `places` decimals (the nearest float64 to that decimal, which prints as it),
    /// or to more where that keeps at least `significant` digits: a tiny configuration's rate
    /// (0.004 GFLOP/s on a loaded machine) must not print as 0.
    private func decimals(_ x: Double, _ places: Int, significant: Int = 0) -> Double {
        guard x.isFinite, x != 0 else { return x }
        let needed = significant - 1 - Int(log10(abs(x)).rounded(.down))
        let scale = pow(10, Double(max(places, min(needed, 300))))
        return (x * scale).rounded() / scale
    }

    /// Two readings of the cores' round trip (`coreRoundTripNanoseconds`), none on one CPU.
    private func measureRoundTrips() -> [Double] { (0..<2).compactMap { _ in coreRoundTripNanoseconds() } }

    /// Three readings of the DGEMM rate, then a pause of 0.3 s: OpenBLAS's threads keep
    /// spinning for about 0.1 s after a product and would compete with the next passes.
    private func measureDGEMM() -> [Double] {
        defer { Thread.sleep(forTimeInterval: 0.3) }
        return (0..<3).map { _ in BLAS.measureDGEMMRate(n: 1024, repetitions: 1) }
    }

    /// A child must not outlive its parent (a killed `bench` left its child running a billion
    /// repetitions). prctl(PR_SET_PDEATHSIG) is a variadic C function Swift cannot call, so a
    /// thread watches the parent instead: when the process is re-parented (the parent died),
    /// it exits at once with status 3, within a quarter of a second.
    static func exitWhenOrphaned() {
        // The parent names itself: a parent that died before this line ran is noticed too.
        let parent = ProcessInfo.processInfo.environment["GATELAB_BENCH_PARENT"].flatMap { pid_t($0) } ?? getppid()
        let watcher = Thread {
            while true {
                if getppid() != parent { _exit(3) }
                usleep(250_000)
            }
        }
        watcher.start()
    }

    /// Runs one configuration in a child `gatelab bench --child` and reads its line.
    private func runChild(_ c: Benchmark.Configuration) throws -> (Double, Double, Double, [Double]) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        p.arguments = ["bench", "--child", "--configs", configs, "--only", c.name, "--repetitions", String(repetitions),
                       "--precision", precision.precision.rawValue]
        p.environment = ProcessInfo.processInfo.environment.merging(["GATELAB_BENCH_PARENT": String(getpid())]) { $1 }
        let pipe = Pipe()
        p.standardOutput = pipe
        try p.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        let fields = String(decoding: data, as: UTF8.self).split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard p.terminationStatus == 0, fields.count == 5, let s = Double(fields[1]), let g = Double(fields[2]), let m = Double(fields[3]) else {
            throw ValidationError("benchmark of \(c.name) failed (exit \(p.terminationStatus))")
        }
        let all = fields[4].split(separator: ",").compactMap { Double($0) }
        return (s, g, m, all)
    }
}
