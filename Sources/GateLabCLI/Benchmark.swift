import ArgumentParser
import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabInterchange
import GateLabSupport

/// The speed benchmark: one forward and one backward pass over a whole sequence, loss = sum
/// of squares of the last hidden state, gradients for every parameter, float64 — the same
/// work as `shared/bench/torch_rnn_bench.py` and `jax_rnn_bench.py`, on the same shapes.
enum Benchmark {
    /// One configuration of a configs file (`shared/bench/configs.json` format).
    struct Configuration: Sendable, Equatable {
        /// Stable name; results are compared by it.
        var name: String
        /// `lstm`, `gru` or `rnn`.
        var cell: String
        /// B, I, H, T.
        var batch: Int, input: Int, hidden: Int, steps: Int
        /// Creates a configuration.
        init(name: String, cell: String, batch: Int, input: Int, hidden: Int, steps: Int) {
            self.name = name; self.cell = cell; self.batch = batch; self.input = input; self.hidden = hidden; self.steps = steps
        }
        /// Gate blocks G of the cell (4, 3, 1).
        var gates: Int { BuiltinCells.builtin(cell)?.gateCount ?? 0 }
        /// FLOPs of one forward and backward pass, counted as 3 · 2 · B · (I + H) · G · H · T.
        var flops: Double { 6 * Double(batch) * Double(input + hidden) * Double(gates) * Double(hidden) * Double(steps) }
    }

    /// One configuration's timing.
    struct Result: Sendable {
        /// The configuration.
        var configuration: Configuration
        /// Median wall time of one forward + backward pass, seconds.
        var seconds: Double
        /// Every timed repetition, seconds.
        var repetitions: [Double]
        /// GFLOP/s at the median.
        var gflops: Double { configuration.flops / seconds / 1e9 }
    }

    /// Reads a configs file.
    /// - Throws: `CaseFileError` naming the file and key path (e.g. `configs[2].hidden`).
    static func configurations(at path: String) throws -> [Configuration] {
        let data: Data
        do { data = Data(try Files.contents(of: path)) } catch {
            throw CaseFileError(file: path, key: nil, message: FileError.reason(error))
        }
        let top = try JSONReader.object(data, file: path)
        guard case .array(let list)? = top["configs"] else { throw CaseFileError(file: path, key: "configs", message: "missing or not an array") }
        return try list.enumerated().map { i, item in
            guard case .object(let d) = item else { throw CaseFileError(file: path, key: "configs[\(i)]", message: "not an object") }
            let r = JSONReader(dict: d, file: path)
            func wrap<T>(_ f: () throws -> T) throws -> T {
                do { return try f() } catch var e as CaseFileError { e.key = "configs[\(i)]." + (e.key ?? ""); throw e }
            }
            let c = try wrap { Configuration(name: try r.string("name"), cell: try r.string("cell"), batch: try r.positiveInt("batch"),
                                             input: try r.positiveInt("input"), hidden: try r.positiveInt("hidden"), steps: try r.positiveInt("steps")) }
            guard BuiltinCells.builtin(c.cell) != nil, ["lstm", "gru", "rnn"].contains(c.cell) else {
                throw CaseFileError(file: path, key: "configs[\(i)].cell", message: "unknown cell '\(c.cell)' (expected lstm, gru or rnn)")
            }
            return c
        }
    }

    /// Refuses, with the numbers, a long-sequence run that cannot fit this machine's memory:
    /// its inputs and their gradients (2 · T · B · I doubles) and the parameters with their
    /// gradients, counted before anything is allocated (`--long-steps 1e12` aborted, and
    /// `--hidden Int.max` crashed in GSL).
    static func checkFits(cell: String, batch: Int = 1, input: Int = 1, hidden: Int, steps: Int) throws {
        let c = try CellLookup.cell(cell)
        let scalars = RecurrentNetwork.scalarCount(cell: c, inputSize: input, hiddenSize: hidden, layers: 1)
        let physical = Double(sysconf(Int32(_SC_PHYS_PAGES))) * Double(sysconf(Int32(_SC_PAGESIZE)))
        let needed = 8 * (2 * Double(steps) * Double(batch) * Double(input) + 2 * Double(scalars ?? Int.max))
        guard let _ = scalars, needed <= physical / 2 else {
            throw ValidationError("\(cell) H = \(hidden), T = \(steps) needs at least \(String(format: "%.3g", needed / 1048576)) MB "
                                  + "(inputs, parameters and their gradients), more than half this machine's \(Int(physical / 1048576)) MB")
        }
    }

    /// One long-sequence run (the million-step case): forward + backward over `steps` steps
    /// within `memoryBudget` bytes (checkpointing as needed), loss = Σ h_T². Returns the wall
    /// time, the segment length used, and ‖∂L/∂x_0‖ as a sanity value.
    static func longSequence(cell: String, batch: Int = 1, input: Int = 1, hidden: Int = 32, steps: Int,
                             memoryBudget: Int, seed: UInt64 = 0, precision: Precision = .f64) throws -> (seconds: Double, segment: Int, firstInputGradient: Double) {
        switch precision {
        case .f64: return try longSequence(cell: cell, batch: batch, input: input, hidden: hidden, steps: steps, memoryBudget: memoryBudget, seed: seed, in: Double.self)
        case .f32: return try longSequence(cell: cell, batch: batch, input: input, hidden: hidden, steps: steps, memoryBudget: memoryBudget, seed: seed, in: Float.self)
        }
    }

    /// The same, the network computing in `scalar` (weights and inputs drawn in float64 and
    /// rounded once when loaded; the budget counts `scalar`'s storage).
    static func longSequence<S: GateLabAutodiff.Scalar>(cell: String, batch: Int, input: Int, hidden: Int, steps: Int, memoryBudget: Int,
                                                 seed: UInt64, in scalar: S.Type) throws -> (seconds: Double, segment: Int, firstInputGradient: Double) {
        guard let c = BuiltinCells.named(cell) else { throw CaseFileError(file: "bench", key: "cell", message: "unknown cell '\(cell)'") }
        let rng = try RandomSource(seed: seed)
        var network = RecurrentNetwork(cell: c, inputSize: input, hiddenSize: hidden)
        try network.initialize(using: rng)
        let x = rng.gaussianArray(count: steps * batch * input)
        let start = DispatchTime.now().uptimeNanoseconds
        let unrolled = try UnrolledOf<S>(network: network, batch: batch, steps: steps, memoryBudget: memoryBudget)
        try unrolled.forward(inputs: x)
        let hT = unrolled.finalState[0][0].scalars
        let g = try unrolled.backward(.lastStep(hT.map { 2 * $0 }))
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        return (seconds, unrolled.segment, euclideanNorm(g.inputs[0..<(batch * input)]))
    }

    /// Times `configuration`: builds the network (PyTorch's default initialization, seeded)
    /// and the inputs (x ~ N(0, 1)) once, runs one untimed warm-up pass, then `repetitions`
    /// timed forward + backward passes.
    static func run(_ configuration: Configuration, repetitions: Int = 5, seed: UInt64 = 0, precision: Precision = .f64) throws -> Result {
        switch precision {
        case .f64: return try run(configuration, repetitions: repetitions, seed: seed, in: Double.self)
        case .f32: return try run(configuration, repetitions: repetitions, seed: seed, in: Float.self)
        }
    }

    /// The same, the network computing in `scalar` (its weights and inputs drawn in float64,
    /// then rounded once when loaded).
    static func run<S: GateLabAutodiff.Scalar>(_ configuration: Configuration, repetitions: Int, seed: UInt64, in scalar: S.Type) throws -> Result {
        let c = configuration
        let rng = try RandomSource(seed: seed)
        var network = RecurrentNetwork(cell: BuiltinCells.builtin(c.cell)!, inputSize: c.input, hiddenSize: c.hidden)
        try network.initialize(using: rng)
        let x = rng.gaussianArray(count: c.steps * c.batch * c.input)
        // Gradients for every parameter, none for the inputs (as the peers' scripts).
        let unrolled = try UnrolledOf<S>(network: network, batch: c.batch, steps: c.steps, inputGradients: false)
        func pass() throws {
            try unrolled.forward(inputs: x)
            let hT = unrolled.finalState[0][0].scalars
            try unrolled.reverse(.lastStep(hT.map { 2 * $0 }))   // L = Σ h_T², ∂L/∂h_T = 2 h_T
        }
        try pass()
        var times = [Double]()
        for _ in 0..<max(repetitions, 1) {
            let start = DispatchTime.now().uptimeNanoseconds
            try pass()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        }
        return Result(configuration: c, seconds: times.sorted()[times.count / 2], repetitions: times)
    }

    /// Peak resident memory of this process so far, in MB (getrusage's ru_maxrss).
    static func peakResidentMegabytes() -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
