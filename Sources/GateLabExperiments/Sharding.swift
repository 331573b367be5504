import Foundation

/// One of N shards of a grid: the points whose stable index i (their position in the grid
/// order the experiment file defines) has i mod N = K.
///
/// Interleaving, rather than contiguous blocks, spreads the grid's axes over the shards: the
/// innermost axes (seeds, then lengths) vary fastest, so every shard gets a similar mix of
/// short and long sequences and the shards of a job array finish at similar times.
public struct Shard: Equatable, Sendable, CustomStringConvertible {
    /// K, in 0 ..< count.
    public var index: Int
    /// N ≥ 1.
    public var count: Int

    /// The shard K of N.
    /// - Throws: `ExperimentError.shard` unless 0 ≤ K < N.
    public init(index: Int, count: Int) throws {
        guard count >= 1 else { throw ExperimentError.shard("the number of shards must be at least 1, got \(count)") }
        guard (0..<count).contains(index) else {
            throw ExperimentError.shard("shard \(index)/\(count): the shard number must be between 0 and \(count - 1)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `K/N` (as `--shard` takes it).
    /// - Throws: `ExperimentError.shard` naming the text for anything else.
    public init(parsing text: String) throws {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let k = Int(parts[0]), let n = Int(parts[1]) else {
            throw ExperimentError.shard("--shard '\(text)': expected K/N with whole numbers 0 ≤ K < N, e.g. 0/4")
        }
        guard n >= 1 else { throw ExperimentError.shard("--shard '\(text)': the number of shards N must be at least 1") }
        guard (0..<n).contains(k) else { throw ExperimentError.shard("--shard '\(text)': K must be between 0 and \(n - 1)") }
        try self.init(index: k, count: n)
    }

    /// The shard a Slurm job-array task runs: K = `SLURM_ARRAY_TASK_ID` −
    /// `SLURM_ARRAY_TASK_MIN` (0 when unset), N = `SLURM_ARRAY_TASK_COUNT`; nil outside a job
    /// array (neither of ID and COUNT set).
    ///
    /// A task resubmitted alone (`sbatch --array=3 …`) sees a count of 1, which is why the
    /// scripts `gatelab slurm` writes pass `--shard "$SLURM_ARRAY_TASK_ID/N"` instead.
    /// - Throws: `ExperimentError.shard` when only one of ID and COUNT is set, a value is not a whole
    ///   number, or K falls outside 0 ..< N (e.g. an array with a step, `--array=0-6:2`).
    public static func fromEnvironment(_ environment: [String: String]) throws -> Shard? {
        let id = environment["SLURM_ARRAY_TASK_ID"], count = environment["SLURM_ARRAY_TASK_COUNT"]
        if id == nil && count == nil { return nil }
        guard let id, let count else {
            throw ExperimentError.shard("SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT must be set together (found only "
                             + (id != nil ? "SLURM_ARRAY_TASK_ID" : "SLURM_ARRAY_TASK_COUNT") + "); give --shard K/N")
        }
        let minimum = environment["SLURM_ARRAY_TASK_MIN"] ?? "0"
        guard let i = Int(id), let n = Int(count), let m = Int(minimum) else {
            throw ExperimentError.shard("SLURM_ARRAY_TASK_ID=\(id), SLURM_ARRAY_TASK_COUNT=\(count), SLURM_ARRAY_TASK_MIN=\(minimum): "
                             + "expected whole numbers; give --shard K/N")
        }
        guard n >= 1, (0..<n).contains(i - m) else {
            throw ExperimentError.shard("SLURM_ARRAY_TASK_ID=\(id) − SLURM_ARRAY_TASK_MIN=\(minimum) = \(i - m) is not a shard of "
                             + "SLURM_ARRAY_TASK_COUNT=\(count) (an array with gaps or a step?); give --shard K/N")
        }
        return try Shard(index: i - m, count: n)
    }

    /// Whether the point at grid index `i` belongs to this shard.
    public func contains(_ i: Int) -> Bool { i % count == index }

    /// The grid indices of this shard among `total` points, in grid order.
    public func indices(among total: Int) -> [Int] { Array(Swift.stride(from: index, to: total, by: count)) }

    /// Whether this "shard" is the whole grid (N = 1).
    public var isWhole: Bool { count == 1 }

    /// `K/N`.
    public var description: String { "\(index)/\(count)" }
}
