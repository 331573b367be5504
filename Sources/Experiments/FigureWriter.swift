import Foundation

/// One line of a figure: its curve and, optionally, a band around it.
public struct FigureSeries {
    /// The legend entry.
    public var title: String
    /// (x, y, band low, band high); the band is drawn when `band` is true.
    public var points: [(x: Double, y: Double, low: Double, high: Double)]
    /// Whether to draw the band from `low` to `high`.
    public var band: Bool

    /// A series; see the properties.
    public init(title: String, points: [(x: Double, y: Double, low: Double, high: Double)], band: Bool = true) {
        self.title = title
        self.points = points
        self.band = band
    }
}

/// One figure of a report.
public struct Figure {
    /// The SVG's path relative to the output folder (`figures/grad-h-T100.svg`).
    public var file: String
    /// The caption under it in the report.
    public var caption: String
    /// The title drawn on it.
    public var title: String
    /// Axis labels.
    public var xLabel: String, yLabel: String
    /// Its lines.
    public var series: [FigureSeries]
    /// A logarithmic y axis.
    public var logY = false

    /// A figure; see the properties.
    public init(file: String, caption: String, title: String, xLabel: String, yLabel: String, series: [FigureSeries], logY: Bool = false) {
        self.file = file
        self.caption = caption
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
        self.logY = logY
    }

    /// The file name without folder and extension (`grad-h-T100`).
    public var stem: String { ((file as NSString).lastPathComponent as NSString).deletingPathExtension }
}

/// Draws the figures of every kind's report with gnuplot (Debian's `gnuplot-nox` is enough:
/// the SVG terminal needs no display), found on `PATH`: for each figure a data file and a
/// script under `results/plots/`, gnuplot run as a subprocess, its output renamed into
/// place only when it succeeded. A failure is returned, for the report to say, never
/// swallowed.
public struct FigureWriter {
    /// gnuplot's name on `PATH`, or a path.
    public var gnuplot: String
    /// The output folder the figure paths are relative to.
    public var directory: String

    /// A writer for `directory`.
    public init(gnuplot: String = "gnuplot", directory: String) {
        self.gnuplot = gnuplot
        self.directory = directory
    }

    /// Draws `figures`.
    /// - Returns: the figures drawn, and a line for each that was not (or one line when
    ///   gnuplot is missing).
    public func draw(_ figures: [Figure]) -> (drawn: [Figure], problems: [String]) {
        guard !figures.isEmpty else { return ([], []) }
        guard let executable = Files.executable(named: gnuplot) else {
            return ([], ["\(gnuplot): gnuplot not found on PATH (Debian/Ubuntu: apt-get install gnuplot-nox)"])
        }
        var drawn = [Figure](), problems = [String]()
        do {
            try Files.makeDirectory(directory + "/figures")
            try Files.makeDirectory(directory + "/results/plots")
        } catch {
            return ([], ["\(error)"])
        }
        for f in figures {
            do {
                try plot(f, executable: executable)
                drawn.append(f)
            } catch {
                problems.append("\(f.file): \(error)")
            }
        }
        return (drawn, problems)
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]

    /// Writes the figure's data and script and runs gnuplot on them.
    func plot(_ f: Figure, executable: String) throws {
        let dataPath = "results/plots/\(f.stem).dat", scriptPath = "results/plots/\(f.stem).gp"
        var data = ""
        for (i, s) in f.series.enumerated() {
            if i > 0 { data += "\n\n" }
            data += "# \(s.title)\n"
            for p in s.points { data += [p.x, p.y, p.low, p.high].map { $0.isFinite ? $0.description : "NaN" }.joined(separator: " ") + "\n" }
        }
        try Files.write(data, to: directory + "/" + dataPath)
        let tmpOutput = Files.temporaryPath(for: f.file)
        var script = """
            set terminal svg size 960,600 dynamic noenhanced font "sans,12" background rgb "white"
            set output \(quoted(tmpOutput))
            set title \(quoted(f.title))
            set xlabel \(quoted(f.xLabel))
            set ylabel \(quoted(f.yLabel))
            set grid
            set offsets graph 0, graph 0, graph 0.04, graph 0.02

            set key outside right top Left reverse
            set style fill transparent solid 0.18 noborder

            """
        if f.logY { script += "set logscale y\n" }
        // Every band first, then every line, so no band covers a line.
        var bands = [String](), lines = [String]()
        for (i, s) in f.series.enumerated() {
            let color = Self.palette[i % Self.palette.count], dash = i / Self.palette.count + 1
            if s.band { bands.append("\(quoted(dataPath)) index \(i) using 1:3:4 with filledcurves lc rgb \(quoted(color)) notitle") }
            lines.append("\(quoted(dataPath)) index \(i) using 1:2 with lines lw 2 dt \(dash) lc rgb \(quoted(color)) title \(quoted(s.title))")
        }
        script += "plot " + (bands + lines).joined(separator: ", \\\n     ") + "\nunset output\n"
        try Files.write(script, to: directory + "/" + scriptPath)
        try run(executable, scriptPath, outputs: [f.file])
    }

    /// Runs gnuplot on `scriptPath` in the output folder, then renames each of `outputs`'
    /// temporaries into place.
    /// - Throws: `ExperimentError.io` with gnuplot's first error line when it fails.
    func run(_ executable: String, _ scriptPath: String, outputs: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [scriptPath]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ExperimentError.io(path: executable, message: "cannot start gnuplot (\(error.localizedDescription))")
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let temporaries = outputs.map { directory + "/" + Files.temporaryPath(for: $0) }
        guard process.terminationStatus == 0, temporaries.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else {
            for t in temporaries { try? FileManager.default.removeItem(atPath: t) }
            let first = stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? "no message"
            throw ExperimentError.io(path: outputs[0], message: "gnuplot failed (exit \(process.terminationStatus)): \(first)")
        }
        for (tmp, output) in zip(temporaries, outputs) {
            guard rename(tmp, directory + "/" + output) == 0 else {
                throw ExperimentError.io(path: directory + "/" + output, message: "cannot rename gnuplot's output into place")
            }
        }
    }

    /// A gnuplot string literal (double quotes, backslashes and quotes escaped).
    func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
