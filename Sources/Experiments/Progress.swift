import Foundation

/// Progress of a run on stderr: a bar with the ETA redrawn in place on a terminal, one plain
/// line per finished point otherwise (logs, CI). The ETA divides the remaining estimated work
/// by the rate measured so far.
public final class ProgressReporter {
    /// How progress is shown.
    public enum Style: Sendable {
        /// A bar redrawn in place (`\r`): for terminals.
        case bar
        /// One line per point.
        case lines
        /// Nothing.
        case silent

        /// `bar` when stderr is a terminal, `lines` otherwise.
        public static var automatic: Style { isatty(STDERR_FILENO) != 0 ? .bar : .lines }
    }

    private let style: Style
    private let total: Int
    private let totalWork: Double
    private var done = 0
    private var doneWork = 0.0
    private var computeSeconds = 0.0
    private let write: (String) -> Void

    /// Creates a reporter for `total` points of `totalWork` estimated work units.
    /// - Parameter write: where text goes (stderr by default; tests capture it).
    public init(total: Int, totalWork: Double, style: Style,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total
        self.totalWork = totalWork
        self.style = style
        self.write = write
        if style == .bar, total > 0 { write(bar(current: nil)) }
    }

    /// Records a finished point that took `seconds` and `work` units.
    public func finished(_ id: String, seconds: Double, work: Double) {
        done += 1
        doneWork += work
        computeSeconds += seconds
        switch style {
        case .bar: write(bar(current: id))
        case .lines:
            write("[\(done)/\(total)] \(id) \(String(format: "%.2f", seconds)) s" + (done < total ? ", ETA \(Self.duration(eta))" : "") + "\n")
        case .silent: break
        }
    }

    /// Ends the bar's line.
    public func close() {
        if style == .bar, total > 0 { write("\n") }
    }

    /// Seconds left at the rate so far.
    var eta: Double {
        guard doneWork > 0 else { return .nan }
        return (totalWork - doneWork) * computeSeconds / doneWork
    }

    private func bar(current id: String?) -> String {
        let width = 30
        let fraction = totalWork > 0 ? min(1, doneWork / totalWork) : 1
        let filled = Int((fraction * Double(width)).rounded(.down))
        let text = "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + "\(done)/\(total) points" + (done < total ? ", ETA \(Self.duration(eta))" : ", \(Self.duration(computeSeconds))")
            + (id.map { "  \($0)" } ?? "")
        return "\r\u{1B}[K" + text
    }

    /// `42 s`, `3 min 05 s`, `1 h 02 min`; `?` before anything is measured.
    static func duration(_ s: Double) -> String {
        guard s.isFinite else { return "?" }
        let t = Int(s.rounded())
        if t < 60 { return "\(t) s" }
        if t < 3600 { return String(format: "%d min %02d s", t / 60, t % 60) }
        return String(format: "%d h %02d min", t / 3600, (t % 3600) / 60)
    }
}
