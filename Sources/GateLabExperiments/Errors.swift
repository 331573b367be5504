import GateLabSupport

/// Every failure of the experiment machinery, for every kind, as one type: a malformed
/// experiment file (with its file, line and key), a bad shard, a merge refused, a setting the
/// Slurm scripts cannot carry. Each is one line a user can act on (`description`); a refused
/// merge also lists its problems (`lines`). A file that cannot be read or written is a
/// `FileError`.
public enum ExperimentError: Error, Equatable, CustomStringConvertible {
    /// A malformed experiment file: the file, the 1-based line when known, the key path
    /// (`grid[2].cell`; `[[grid]]` blocks counted from 1) when one is at fault, what is wrong.
    case file(file: String, line: Int?, keyPath: String?, message: String)
    /// A bad shard specification, from `--shard` or the Slurm environment.
    case shard(String)
    /// `gatelab merge` refused: the grid is incomplete or inconsistent. `summary` is one line;
    /// `problems` names every problem (`MergeProblem.line`), capped per kind.
    case merge(summary: String, problems: [String])
    /// A setting is out of range or unusable.
    case invalid(String)

    /// The merge refusal for an experiment named `name` with `problems` (at most `limit`
    /// named per kind).
    public static func merge(name: String, summary: String, problems: [MergeProblem], limit: Int = 20) -> ExperimentError {
        .merge(summary: "\(name): cannot merge: \(summary); nothing written (finish or resubmit the shards, or merge with --partial)",
               problems: MergeProblem.list(problems, limit: limit))
    }

    /// One line: `file:line: key: message`, `path: message`, or the message. A line break
    /// inside (a value quoted from the file, such as a multi-line string given as `kind`) is
    /// written `\n` (found by FuzzTests).
    public var description: String {
        oneLine.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    private var oneLine: String {
        switch self {
        case let .file(file, line, keyPath, message):
            return "\(file)" + (line.map { ":\($0)" } ?? "") + ": " + (keyPath.map { "\($0): " } ?? "") + message
        case .shard(let m), .invalid(let m): return m
        case .merge(let summary, _): return summary
        }
    }

    /// A refused merge's problems, one per line (empty for the other cases).
    public var lines: [String] {
        if case .merge(_, let problems) = self { return problems }
        return []
    }
}
