/// A failure of the experiment machinery outside the experiment file: a file that cannot be
/// written, a setting the Slurm scripts cannot carry, gnuplot missing or failing.
public enum ExperimentError: Error, Equatable, CustomStringConvertible {
    /// A file or folder could not be read, written or created; or a tool could not run.
    case io(path: String, message: String)
    /// A setting is out of range or unusable.
    case invalid(String)

    public var description: String {
        switch self {
        case let .io(path, m): return "\(path): \(m)"
        case .invalid(let m): return m
        }
    }
}
