import Foundation
import GateLabSupport

/// Progress of a run on stderr: a bar with the ETA redrawn in place on a terminal, one plain
/// line per finished point otherwise (logs, CI).
///
/// The ETA comes from the points' measured times, fitted as t = a + b·w: a fixed cost a per
/// point and a cost b per unit of the kind's estimated work w (least squares over the finished
/// points, neither part negative), summed over the remaining points and divided among the jobs.
/// A kind's work counts multiply-adds, but a small point's time is mostly per-point and
/// per-step overhead: extrapolating the first, smallest point's seconds per work unit to the
/// whole grid said "8 min 01 s" for a grid that took 2.5 s. Until two points of different
/// work are measured, every remaining point is taken to cost what the finished ones did.
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
    private let parallelism: Int
    private var done = 0
    private var doneWork = 0.0
    private var computeSeconds = 0.0
    // Sums of the fit t = a + b·w over the finished points.
    private var sumWW = 0.0, sumTW = 0.0
    private let write: (String) -> Void

    /// Creates a reporter for `total` points of `totalWork` estimated work units.
    /// - Parameters:
    ///   - total: the number of points to compute.
    ///   - totalWork: their estimated work, summed (the kind's work units).
    ///   - style: how progress is shown.
    ///   - parallelism: the points computed at once (`--jobs`): the remaining time is shared.
    ///   - write: where text goes (stderr by default; tests capture it).
    public init(total: Int, totalWork: Double, style: Style, parallelism: Int = 1,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) }) {
        self.total = total
        self.totalWork = totalWork
        self.style = style
        self.parallelism = max(1, parallelism)
        self.write = write
        if style == .bar, total > 0 { write(bar(current: nil)) }
    }

    /// Records a finished point that took `seconds` (its own computation's) and `work` units.
    public func finished(_ id: String, seconds: Double, work: Double) {
        done += 1
        doneWork += work
        computeSeconds += seconds
        sumWW += work * work
        sumTW += seconds * work
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

    /// Seconds left: the fit t = a + b·w of the finished points (see the type), over the
    /// remaining points, shared among the jobs still busy.
    var eta: Double {
        guard done > 0 else { return .nan }
        let n = Double(done), left = Double(total - done), leftWork = max(0, totalWork - doneWork)
        var a = computeSeconds / n, b = 0.0
        let spread = n * sumWW - doneWork * doneWork
        if spread > 1e-9 * n * sumWW {
            b = (n * sumTW - doneWork * computeSeconds) / spread
            a = (computeSeconds - b * doneWork) / n
            if a < 0 { (a, b) = (0, sumTW / sumWW) }
            if b < 0 { (a, b) = (computeSeconds / n, 0) }
        }
        return (a * left + b * leftWork) / Double(min(parallelism, max(1, total - done)))
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

/// Progress of one long computation — `gatelab train`, `train --preset`, a probe of several
/// seeds or a long sequence — on stderr, as one line redrawn in place: how far, the elapsed
/// time and an ETA from the rate measured so far. Only on a terminal, and never with `--json`
/// (`enabled(json:)`): logs and pipes get nothing from it. The line is redrawn at most five
/// times a second, and once a second by a timer while nothing reports (so a run that is busy
/// in one long step still shows its elapsed time); `close()` erases it, so what the command
/// prints afterwards starts on a clean line.
public final class RunProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let total: Double
    private let unit: String
    private let enabled: Bool
    private let write: (String) -> Void
    private let clock: () -> Double
    private let start: Double
    private var done = 0.0, detail = "", lastDraw = -Double.infinity, drawn = false
    private var timer: DispatchSourceTimer?

    /// Whether progress is shown: stderr is a terminal and the command does not print JSON.
    public static func enabled(json: Bool) -> Bool { !json && isatty(STDERR_FILENO) != 0 }

    /// A progress line for `total` units (`updates`, `sequences`, `seeds`).
    /// - Parameters:
    ///   - total: the units the computation will finish.
    ///   - unit: their name on the line (`updates`, `sequences`, `seeds`).
    ///   - enabled: show anything at all (`enabled(json:)`); a disabled reporter does nothing.
    ///   - ticking: redraw the elapsed time once a second while nothing reports.
    ///   - write: where text goes (stderr; tests capture it).
    ///   - clock: the time in seconds (tests step it).
    public init(total: Double, unit: String, enabled: Bool, ticking: Bool = true,
                write: @escaping (String) -> Void = { FileHandle.standardError.write(Data($0.utf8)) },
                clock: @escaping () -> Double = { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }) {
        self.total = total
        self.unit = unit
        self.enabled = enabled
        self.write = write
        self.clock = clock
        start = clock()
        guard enabled else { return }
        draw(force: true)
        if ticking {
            let t = DispatchSource.makeTimerSource(queue: DispatchQueue.global(qos: .utility))
            t.schedule(deadline: .now() + 1, repeating: 1)
            t.setEventHandler { [weak self] in self?.draw(force: true) }
            t.resume()
            timer = t
        }
    }

    deinit { timer?.cancel() }

    /// `done` units of `total` are finished; `detail` follows on the line (the last loss, …).
    public func update(_ done: Double, detail: String = "") {
        guard enabled else { return }
        lock.lock()
        self.done = done
        self.detail = detail
        lock.unlock()
        draw(force: false)
    }

    /// Runs `body` (which prints) with the line erased, then draws it again below.
    public func interrupt(_ body: () -> Void) {
        guard enabled else { return body() }
        lock.lock()
        if drawn { write("\r\u{1B}[K") }
        drawn = false
        body()
        lock.unlock()
        draw(force: true)
    }

    /// Erases the line and stops the timer.
    public func close() {
        timer?.cancel()
        timer = nil
        guard enabled else { return }
        lock.lock()
        if drawn { write("\r\u{1B}[K") }
        drawn = false
        lastDraw = .infinity   // nothing is drawn after closing
        lock.unlock()
    }

    /// The line: `1200/3000 updates (40 %), 12 s, ETA 18 s  held-out loss 0.0213`.
    func line(now: Double) -> String {
        let elapsed = now - start
        var text = "\(formatNumber(done))/\(formatNumber(total)) \(unit)"
        if total > 0 { text += String(format: " (%.0f %%)", 100 * min(1, done / total)) }
        text += ", \(ProgressReporter.duration(elapsed))"
        // The rate measured so far (units per second of this run), nothing assumed.
        if done > 0, done < total { text += ", ETA " + ProgressReporter.duration((total - done) * elapsed / done) }
        return text + (detail.isEmpty ? "" : "  " + detail)
    }

    private func draw(force: Bool) {
        lock.lock()
        defer { lock.unlock() }
        let now = clock()
        guard lastDraw != .infinity, force || now - lastDraw >= 0.2 else { return }
        lastDraw = now
        drawn = true
        write("\r\u{1B}[K" + line(now: now))
    }
}
