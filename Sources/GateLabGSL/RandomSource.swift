internal import CGateLabGSL

/// A seeded GSL random number generator (`gsl_rng`): the one source of randomness for
/// initialisation, sampling and shuffling, so that a run is reproduced by its seed.
///
/// A `RandomSource` is not safe to share between threads: give each thread its own `copy()`
/// or its own seed.
public final class RandomSource {
    private let rng: UnsafeMutablePointer<gsl_rng>

    /// The seed this source was created with (a `copy()` keeps its original's seed).
    public let seed: UInt64

    /// GSL's name of the algorithm, e.g. `"mt19937"`.
    public var generatorName: String { String(cString: gsl_rng_name(rng)) }

    /// The names GSL accepts as `generator`, in GSL's order (from `gsl_rng_types_setup`).
    public static var availableGenerators: [String] { generatorTypes().map(\.name) }

    private static func generatorTypes() -> [(name: String, type: UnsafePointer<gsl_rng_type>)] {
        GSLCall.installErrorHandler()
        var types = [(name: String, type: UnsafePointer<gsl_rng_type>)]()
        guard var entry = gsl_rng_types_setup() else { return types }
        while let type = entry.pointee {
            types.append((String(cString: type.pointee.name), type))
            entry += 1
        }
        return types
    }

    /// Creates a generator and seeds it (`gsl_rng_alloc`, `gsl_rng_set`).
    ///
    /// GSL passes the seed to the algorithm as an `unsigned long`, and each algorithm keeps
    /// what it uses: `mt19937` keeps the low 32 bits, and replaces seed 0 with its default
    /// seed 4357, so seeds 0 and 4357 give the same stream.
    /// - Parameters:
    ///   - seed: The seed.
    ///   - generator: A GSL generator name (see `availableGenerators`); `"mt19937"` by default.
    /// - Throws: `InvalidArgumentError` listing the valid names if `generator` is unknown.
    public init(seed: UInt64, generator: String = "mt19937") throws {
        let caller = "RandomSource.init"
        guard let type = RandomSource.generatorTypes().first(where: { $0.name == generator })?.type else {
            throw InvalidArgumentError(
                function: caller,
                message: "unknown generator \"\(generator)\"; valid names: "
                    + RandomSource.availableGenerators.joined(separator: ", "))
        }
        guard let rng = try GSLCall.value(caller, { gsl_rng_alloc(type) }) else {
            throw GSLError(function: caller, reason: "gsl_rng_alloc returned NULL", file: "", line: 0,
                           code: Int(GSL_ENOMEM))
        }
        gsl_rng_set(rng, UInt(truncatingIfNeeded: seed))
        self.rng = rng
        self.seed = seed
    }

    private init(cloning other: RandomSource) {
        // gsl_rng_clone only fails when malloc does, and Swift itself traps in that case.
        guard let rng = try? GSLCall.value("RandomSource.copy", { gsl_rng_clone(other.rng) }) else {
            fatalError("RandomSource.copy: gsl_rng_clone failed (out of memory)")
        }
        self.rng = rng
        self.seed = other.seed
    }

    deinit { gsl_rng_free(rng) }

    /// An independent generator in the same state: both produce the same continuation.
    public func copy() -> RandomSource { RandomSource(cloning: self) }

    /// A uniform double in [0, 1) (`gsl_rng_uniform`).
    public func uniform() -> Double { gsl_rng_uniform(rng) }

    /// A uniform double in [a, b) (`gsl_ran_flat`).
    /// - Parameters:
    ///   - a: The lower bound (included).
    ///   - b: The upper bound (excluded).
    public func uniform(_ a: Double, _ b: Double) -> Double { gsl_ran_flat(rng, a, b) }

    /// A normal deviate N(mean, standardDeviation²).
    ///
    /// Uses GSL's ziggurat sampler (`gsl_ran_gaussian_ziggurat`, Marsaglia & Tsang 2000),
    /// which is several times faster than the Box–Muller `gsl_ran_gaussian` and exact;
    /// streams therefore differ from code that uses `gsl_ran_gaussian`.
    /// - Parameters:
    ///   - mean: The mean.
    ///   - standardDeviation: The standard deviation.
    public func gaussian(mean: Double = 0, standardDeviation: Double = 1) -> Double {
        mean + gsl_ran_gaussian_ziggurat(rng, standardDeviation)
    }

    /// A uniform integer in 0..<n (`gsl_rng_uniform_int`, unbiased by rejection).
    ///
    /// Like `Int.random(in:)`, an impossible range is a programming error and traps.
    /// - Parameter n: The exclusive upper bound: 1 ≤ n ≤ the generator's range
    ///   (2³² − 1 for `mt19937`).
    public func integer(below n: Int) -> Int {
        let range = rng.pointee.type.pointee.max - rng.pointee.type.pointee.min
        precondition(n >= 1 && UInt(n) <= range,
                     "RandomSource.integer(below: \(n)): n must be in 1...\(range) for \(generatorName)")
        return Int(gsl_rng_uniform_int(rng, UInt(n)))
    }

    /// Shuffles `array` uniformly at random (`gsl_ran_shuffle`, Fisher–Yates).
    ///
    /// GSL shuffles a list of indices, which are then applied, so any element type is safe.
    /// - Parameter array: The array to shuffle in place.
    public func shuffle<T>(_ array: inout [T]) {
        guard array.count > 1 else { return }
        var order = Array(0..<array.count)
        order.withUnsafeMutableBufferPointer {
            gsl_ran_shuffle(rng, $0.baseAddress, $0.count, MemoryLayout<Int>.stride)
        }
        let original = array
        for (position, source) in order.enumerated() { array[position] = original[source] }
    }

    /// `k` distinct integers drawn uniformly from 0..<n, in increasing order (`gsl_ran_choose`).
    /// - Parameters:
    ///   - k: How many to draw.
    ///   - n: The exclusive upper bound of the range.
    /// - Throws: `InvalidArgumentError` if `k` or `n` is negative; `GSLError` (from GSL) if `k > n`.
    public func choose(_ k: Int, from n: Int) throws -> [Int] {
        let caller = "RandomSource.choose"
        try require(k >= 0 && n >= 0, caller, "k and n must be non-negative, got k = \(k), n = \(n)")
        var source = Array(0..<n)
        var chosen = [Int](repeating: 0, count: k)
        try GSLCall.status(caller) {
            chosen.withUnsafeMutableBufferPointer { destination in
                source.withUnsafeMutableBufferPointer {
                    gsl_ran_choose(rng, destination.baseAddress, k, $0.baseAddress, n, MemoryLayout<Int>.stride)
                }
            }
        }
        return chosen
    }

    /// `count` uniform doubles in [low, high).
    /// - Parameters:
    ///   - count: How many values (≥ 0).
    ///   - low: The lower bound (included).
    ///   - high: The upper bound (excluded).
    public func uniformArray(count: Int, low: Double = 0, high: Double = 1) -> [Double] {
        (0..<count).map { _ in gsl_ran_flat(rng, low, high) }
    }

    /// `count` normal deviates N(mean, standardDeviation²), drawn as by `gaussian(mean:standardDeviation:)`.
    /// - Parameters:
    ///   - count: How many values (≥ 0).
    ///   - mean: The mean.
    ///   - standardDeviation: The standard deviation.
    public func gaussianArray(count: Int, mean: Double = 0, standardDeviation: Double = 1) -> [Double] {
        (0..<count).map { _ in mean + gsl_ran_gaussian_ziggurat(rng, standardDeviation) }
    }

    /// The generator's raw state (`gsl_rng_state`, `gsl_rng_size` bytes), for checkpoints.
    ///
    /// The bytes are meaningful only to a source with the same `generatorName`; store the
    /// name beside them. They are in this machine's byte order.
    public func stateBytes() -> [UInt8] {
        let size = gsl_rng_size(rng)
        let state = UnsafeRawBufferPointer(start: gsl_rng_state(rng), count: size)
        return Array(state)
    }

    /// Puts the generator back into a state saved by `stateBytes()`: the draws that follow
    /// are those that followed the save.
    /// - Parameter stateBytes: Bytes from `stateBytes()` of a source with the same generator.
    /// - Throws: `InvalidArgumentError` if the size does not match this generator's state.
    public func restore(stateBytes: [UInt8]) throws {
        let size = gsl_rng_size(rng)
        try require(stateBytes.count == size, "RandomSource.restore",
                    "state has \(stateBytes.count) bytes but a \(generatorName) state has \(size); "
                        + "was it saved from a different generator?")
        // The state is read by GSL as its C struct: a damaged one must not index out of it.
        // MT19937's is {unsigned long mt[624]; int mti}: mti in 0...624, mt not all zero.
        try require(stateBytes.contains { $0 != 0 }, "RandomSource.restore", "state is all zero")
        if generatorName == "mt19937" && size >= 624 * MemoryLayout<UInt>.size + 4 {
            let at = 624 * MemoryLayout<UInt>.size
            let mti = stateBytes[at..<(at + 4)].withUnsafeBytes { $0.loadUnaligned(as: Int32.self) }
            try require((0...624).contains(mti), "RandomSource.restore", "state's position \(mti) is outside 0…624")
            try require(stateBytes[0..<at].contains { $0 != 0 }, "RandomSource.restore", "state's words are all zero")
        }
        stateBytes.withUnsafeBytes { saved in
            if let bytes = saved.baseAddress { gsl_rng_state(rng).copyMemory(from: bytes, byteCount: size) }
        }
    }
}

/// A generator is saved as its name, seed and state bytes (`{"generator", "seed", "state"}`),
/// and reads back in the same state: a resumed run continues the stream bit for bit. The one
/// form of every saved generator (the papers' trials keep theirs in their checkpoints).
extension RandomSource: Codable {
    enum CodingKeys: String, CodingKey { case generator, seed, state }

    /// Reads a saved generator.
    /// - Parameter decoder: holds `generator`, `seed` and `state`.
    /// - Throws: `InvalidArgumentError` for an unknown generator or state bytes of another
    ///   size; the decoder's errors for a missing key.
    public convenience init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        try self.init(seed: try container.decode(UInt64.self, forKey: .seed),
                      generator: try container.decode(String.self, forKey: .generator))
        try restore(stateBytes: try container.decode([UInt8].self, forKey: .state))
    }

    /// Saves the generator's name, seed and state.
    /// - Parameter encoder: receives `generator`, `seed` and `state`.
    public func encode(to encoder: Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(generatorName, forKey: .generator)
        try container.encode(seed, forKey: .seed)
        try container.encode(stateBytes(), forKey: .state)
    }
}
