import Foundation
import GateLabSupport

/// One line of a figure: its curve and, optionally, a band around it.
public struct FigureSeries {
    /// The legend entry.
    public var title: String
    /// (x, y, band low, band high); the band is drawn when `band` is true.
    public var points: [(x: Double, y: Double, low: Double, high: Double)]
    /// Whether to draw the band from `low` to `high`.
    public var band: Bool
    /// Lines with the same colour key have the same colour within a panel (the cell);
    /// `"baseline"` is drawn grey.
    public var colorKey: String
    /// Lines with the same dash key have the same line style throughout the figure (the
    /// setting: forget bias, initialization, …); the first setting that appears is solid.
    public var dashKey: String
    /// How the series is drawn.
    public var style: Style

    /// How a series is drawn.
    public enum Style: Sendable {
        /// A line through (x, y), with the band from `low` to `high` when `band` is set.
        case line
        /// A marker at each (x, y) (a strip or a scatter plot).
        case points
        /// A box from `low` to `high` (the quartiles) at each x, with a bar at y (the median).
        case box
        /// A bar from 0 to y at each x.
        case bars
    }

    /// A series; see the properties. An empty `title` leaves it out of the legend.
    public init(title: String, points: [(x: Double, y: Double, low: Double, high: Double)], band: Bool = true,
                colorKey: String? = nil, dashKey: String = "", style: Style = .line) {
        self.title = title
        self.points = points
        self.band = band
        self.colorKey = colorKey ?? title
        self.dashKey = dashKey
        self.style = style
    }
}

/// One panel of a figure: at most about eight lines, so that colours do not repeat and the
/// legend stays readable.
public struct FigurePanel {
    /// The panel's title (a cell family, a length).
    public var title: String
    /// Its lines.
    public var series: [FigureSeries]

    /// A panel; see the properties.
    public init(title: String, series: [FigureSeries]) {
        self.title = title
        self.series = series
    }
}

/// One figure of a report: panels side by side (two columns), drawn as an SVG and a PNG.
public struct Figure {
    /// The SVG's path relative to the output folder (`figures/grad-h-T100.svg`); the PNG is
    /// beside it (`pngFile`).
    public var file: String
    /// The caption under it in the report.
    public var caption: String
    /// The title drawn above the panels.
    public var title: String
    /// Axis labels.
    public var xLabel: String, yLabel: String
    /// The panels.
    public var panels: [FigurePanel]
    /// A logarithmic y axis.
    public var logY = false
    /// A logarithmic x axis.
    public var logX = false
    /// Named ticks on the x axis instead of numbers (categories such as cells at x = 1, 2, …).
    public var xTicks: [(x: Double, label: String)] = []

    /// A figure; see the properties.
    public init(file: String, caption: String, title: String, xLabel: String, yLabel: String, panels: [FigurePanel], logY: Bool = false) {
        self.file = file
        self.caption = caption
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.panels = panels
        self.logY = logY
    }

    /// The file name without folder and extension (`grad-h-T100`).
    public var stem: String { ((file as NSString).lastPathComponent as NSString).deletingPathExtension }
    /// The PNG beside the SVG.
    public var pngFile: String { (file as NSString).deletingPathExtension + ".png" }

    /// Splits `series` into panels of at most `limit` lines: one panel per group (in the
    /// order groups first appear), a group larger than `limit` cut between colour keys
    /// (a cell's lines stay together), each part titled `group (1/3)`, ….
    public static func panels(_ series: [FigureSeries], groupedBy group: (FigureSeries) -> String, limit: Int = 8) -> [FigurePanel] {
        var order = [String](), members = [String: [FigureSeries]]()
        for s in series {
            let g = group(s)
            if members[g] == nil { order.append(g) }
            members[g, default: []].append(s)
        }
        return order.flatMap { g -> [FigurePanel] in
            // Each colour key's lines together (in order of first appearance), packed greedily
            // into parts of at most `limit` lines.
            var keys = [String](), byKey = [String: [FigureSeries]]()
            for s in members[g]! {
                if byKey[s.colorKey] == nil { keys.append(s.colorKey) }
                byKey[s.colorKey, default: []].append(s)
            }
            let runs = keys.map { byKey[$0]! }
            var parts = [[FigureSeries]]()
            for run in runs {
                if let last = parts.last, last.count + run.count <= limit { parts[parts.count - 1] += run } else { parts.append(run) }
            }
            return parts.enumerated().map { FigurePanel(title: parts.count == 1 ? g : "\(g) (\($0 + 1)/\(parts.count))", series: $1) }
        }
    }
}

/// How a figure is drawn, decided before gnuplot sees it: the panels that have something to
/// show, each line's colour and dash pattern, and the axis ranges — from the data, shared by
/// every panel, so that panels compare on one scale.
public struct FigureLayout {
    /// The panels drawn: only series with a finite point, only panels with such a series.
    public var panels: [FigurePanel]
    /// Per panel, per series: its colour (`#rrggbb`).
    public var colors: [[String]]
    /// Per panel, per series: its gnuplot dash pattern (`solid`, `(12,6)`, …).
    public var dashes: [[String]]
    /// The x axis: the data's smallest to largest x (nil when there is no finite x).
    public var xRange: ClosedRange<Double>?
    /// The y axis: the data's smallest to largest value, lines and bands, padded by 4% of the
    /// span on each side (in log10 for a logarithmic axis; nil without a finite value).
    public var yRange: ClosedRange<Double>?
}

extension Figure {
    /// The figure as it will be drawn (see `FigureLayout`). Colours follow the colour key
    /// (the cell) through the whole figure — the same cell the same colour in every panel —
    /// when the palette has colours enough, else panel by panel (distinct within a panel);
    /// `"baseline"` is grey. Dash patterns follow the dash key (the setting) through the
    /// figure when there are patterns enough, else a cell's settings in order.
    public var layout: FigureLayout {
        func finite(_ p: (x: Double, y: Double, low: Double, high: Double)) -> Bool {
            p.x.isFinite && p.y.isFinite && (!logY || p.y > 0) && (!logX || p.x > 0)
        }
        let shown = panels.map { FigurePanel(title: $0.title, series: $0.series.filter { $0.points.contains(where: finite) }) }
            .filter { !$0.series.isEmpty }
        func order(_ keys: [String]) -> [String: Int] {
            var out = [String: Int]()
            for k in keys where out[k] == nil { out[k] = out.count }
            return out
        }
        let all = shown.flatMap(\.series)
        let figureColors = order(all.map(\.colorKey).filter { $0 != "baseline" })
        let figureDashes = order(all.map(\.dashKey))
        // Beside a grey baseline, the palette's own grey would pass for it.
        let palette = all.contains { $0.colorKey == "baseline" } ? FigureWriter.palette.filter { $0 != "#7f7f7f" } : FigureWriter.palette
        let dashes = FigureWriter.dashes
        var colors = [[String]](), styles = [[String]]()
        for panel in shown {
            let colorOf = figureColors.count <= palette.count ? figureColors : order(panel.series.map(\.colorKey).filter { $0 != "baseline" })
            colors.append(panel.series.map { $0.colorKey == "baseline" ? "#888888" : palette[colorOf[$0.colorKey]! % palette.count] })
            if figureDashes.count <= dashes.count {
                styles.append(panel.series.map { dashes[figureDashes[$0.dashKey]!] })
            } else {
                // Too many settings for one style each: a cell's settings in order (its colour
                // tells the cells apart), the first solid.
                var perCell = [String: [String: Int]]()
                for s in all where perCell[s.colorKey]?[s.dashKey] == nil { perCell[s.colorKey, default: [:]][s.dashKey] = perCell[s.colorKey]?.count ?? 0 }
                styles.append(panel.series.map { dashes[perCell[$0.colorKey]![$0.dashKey]! % dashes.count] })
            }
        }
        var xs = [Double](), ys = [Double]()
        for s in all {
            for p in s.points where finite(p) {
                xs.append(p.x)
                ys.append(p.y)
                if s.band || s.style == .box { ys += [p.low, p.high].filter { $0.isFinite && (!logY || $0 > 0) } }
                if s.style == .bars && !logY { ys.append(0) }   // bars rise from 0
            }
        }
        var yRange: ClosedRange<Double>?
        if let low = ys.min(), let high = ys.max() {
            let (a, b) = logY ? (Foundation.log10(low), Foundation.log10(high)) : (low, high)
            let pad = b > a ? 0.04 * (b - a) : max(Swift.abs(a) * 0.1, 0.5)
            yRange = logY ? Foundation.pow(10, a - pad)...Foundation.pow(10, b + pad) : (a - pad)...(b + pad)
        }
        var xRange: ClosedRange<Double>?
        if let low = xs.min(), let high = xs.max() { xRange = high > low ? low...high : (low - 1)...(high + 1) }
        return FigureLayout(panels: shown, colors: colors, dashes: styles, xRange: xRange, yRange: yRange)
    }
}

extension FigureSeries {
    /// A line over seeds: at each x, the median of the seeds' values, with a band from the
    /// smallest to the largest (non-finite values left out; a point where none is finite is
    /// NaN, a gap).
    /// - Parameters:
    ///   - title: the legend entry (`FigureSeries.title`).
    ///   - xs: the x values, one per point.
    ///   - values: per x, one value per seed.
    ///   - colorKey: the colour key (`FigureSeries.colorKey`); nil: `title`.
    ///   - dashKey: the dash key (`FigureSeries.dashKey`).
    public static func overSeeds(title: String, xs: [Double], values: [[Double]], colorKey: String? = nil, dashKey: String = "") -> FigureSeries {
        FigureSeries(title: title, points: zip(xs, values).map { x, v in
            let f = v.filter(\.isFinite)
            guard let low = f.min(), let high = f.max() else { return (x, .nan, .nan, .nan) }
            return (x, median(f), low, high)
        }, band: true, colorKey: colorKey, dashKey: dashKey)
    }

    /// The median of `values` (the mean of the middle two for an even count); NaN when empty.
    public static func median(_ values: [Double]) -> Double {
        guard !values.isEmpty else { return .nan }
        let s = values.sorted(), n = s.count
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2
    }
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
        // As many gnuplots at once as there are CPUs (the PNGs take most of a report's time).
        let width = max(1, AvailableCPUs.count)
        for start in stride(from: 0, to: figures.count, by: width) {
            let batch = figures[start..<min(start + width, figures.count)]
            var running = [(Figure, Result<Gnuplot, Error>)]()
            for f in batch {
                running.append((f, Result { try Gnuplot(executable, directory: directory, scriptPath: try prepare(f), outputs: [f.file, f.pngFile]) }))
            }
            for (f, started) in running {
                do {
                    try started.get().finish()
                    drawn.append(f)
                } catch {
                    problems.append("\(f.file): \(FileError.reason(error))")
                }
            }
        }
        return (drawn, problems)
    }

    static let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f",
                          "#393b79", "#ad494a", "#637939", "#7b4173"]
    /// Dash patterns for settings, in order: solid, dashed, dotted, dash-dot, long dash, …
    static let dashes = ["solid", "(12,6)", "(3,4)", "(12,5,3,5)", "(24,8)", "(6,3,3,3,3,3)"]

    /// Writes the figure's data and scripts: `results/plots/<stem>.dat` (every series, one
    /// gnuplot index each), `<stem>.body.gp` (the panels) and `<stem>.gp` (the SVG, then the
    /// PNG), whose path it returns.
    func prepare(_ f: Figure) throws -> String {
        let dataPath = "results/plots/\(f.stem).dat", bodyPath = "results/plots/\(f.stem).body.gp"
        let scriptPath = "results/plots/\(f.stem).gp"
        let layout = f.layout
        guard !layout.panels.isEmpty else {
            throw FileError.io(path: f.file, message: "no finite point to draw")
        }
        var data = "", index = 0
        let columns = layout.panels.count > 1 ? 2 : 1
        let rows = (layout.panels.count + columns - 1) / columns
        // Panels placed by hand (not `multiplot layout`), so that a lone panel in the last
        // row spans the width instead of leaving an empty slot beside it.
        let top = 0.96, height = top / Double(rows)
        var body = """
            set multiplot title \(quoted(f.title)) noenhanced
            set grid
            set xlabel \(quoted(f.xLabel))
            set ylabel \(quoted(f.yLabel))
            set key below Left reverse maxcols 2 samplen 3 noenhanced
            set style fill transparent solid 0.18 noborder

            """
        if f.logY { body += "set logscale y\n" }
        if f.logX { body += "set logscale x\n" }
        if !f.xTicks.isEmpty {
            // Categories (cells at x = 1, 2, …): named ticks, and the range around them.
            let ticks = f.xTicks.map { "\(quoted($0.label)) \($0.x)" }.joined(separator: ", ")
            body += "set xtics (\(ticks)) rotate by -30 left\nset xrange [\(f.xTicks.map(\.x).min()! - 0.6):\(f.xTicks.map(\.x).max()! + 0.6)]\n"
        } else if let x = layout.xRange {
            body += "set xrange [\(x.lowerBound):\(x.upperBound)]\n"
        }
        if let y = layout.yRange { body += "set yrange [\(y.lowerBound):\(y.upperBound)]\n" }
        if layout.panels.contains(where: { $0.series.contains { $0.style == .box || $0.style == .bars } }) {
            body += "set boxwidth 0.5\n"
        }
        for (p, panel) in layout.panels.enumerated() {
            let row = p / columns, column = p % columns
            let alone = column == 0 && p == layout.panels.count - 1
            let width = alone ? 1.0 : 1.0 / Double(columns)
            body += "set origin \(Double(column) / Double(columns)),\(top - Double(row + 1) * height)\n"
            body += "set size \(width),\(height)\n"
            // Every band first, then every line, so no band covers a line.
            var bands = [String](), lines = [String]()
            for (s, series) in panel.series.enumerated() {
                if index > 0 { data += "\n\n" }
                data += "# \(panel.title): \(series.title)\n"
                for q in series.points { data += [q.x, q.y, q.low, q.high].map { $0.isFinite ? $0.description : "NaN" }.joined(separator: " ") + "\n" }
                let color = layout.colors[p][s], dash = layout.dashes[p][s]
                let title = series.title.isEmpty ? "notitle" : "title \(quoted(series.title))"
                switch series.style {
                case .line:
                    if series.band { bands.append("\(quoted(dataPath)) index \(index) using 1:3:4 with filledcurves lc rgb \(quoted(color)) notitle") }
                    lines.append("\(quoted(dataPath)) index \(index) using 1:2 with lines lw 2 dt \(dash) lc rgb \(quoted(color)) \(title)")
                case .points:
                    lines.append("\(quoted(dataPath)) index \(index) using 1:2 with points pt 7 ps 0.55 lc rgb \(quoted(color)) \(title)")
                case .box:
                    // Boxes behind the markers: quartiles as a candlestick without whiskers, the median a thick bar.
                    bands.append("\(quoted(dataPath)) index \(index) using 1:3:3:4:4 with candlesticks lc rgb \(quoted(color)) lw 1.5 fs transparent solid 0.15 \(title)")
                    bands.append("\(quoted(dataPath)) index \(index) using 1:2:2:2:2 with candlesticks lc rgb \(quoted(color)) lw 3 notitle")
                case .bars:
                    bands.append("\(quoted(dataPath)) index \(index) using 1:2 with boxes lc rgb \(quoted(color)) fs transparent solid 0.45 \(title)")
                }
                index += 1
            }
            body += "set title \(quoted(panel.title)) noenhanced\n"
            body += "plot " + (bands + lines).joined(separator: ", \\\n     ") + "\n"
        }
        body += "unset multiplot\n"
        try Files.write(data, to: directory + "/" + dataPath)
        try Files.write(body, to: directory + "/" + bodyPath)
        // Each panel with its legend below it: taller rows for longer legends.
        let legendRows = layout.panels.map { ($0.series.count + 1) / 2 }.max() ?? 1
        let width = columns == 1 ? 960 : 1400, pixels = rows * (330 + 18 * legendRows) + 40
        let script = """
            set terminal svg size \(width),\(pixels) dynamic noenhanced font "sans,11" background rgb "white"
            if (!exists("svg_output")) svg_output = \(quoted(f.file))
            if (!exists("png_output")) png_output = \(quoted(f.pngFile))
            set output svg_output
            load \(quoted(bodyPath))
            unset output
            set terminal pngcairo size \(width),\(pixels) noenhanced font "sans,10" background rgb "white"
            set output png_output
            load \(quoted(bodyPath))
            unset output

            """
        try Files.write(script, to: directory + "/" + scriptPath)
        return scriptPath
    }

    /// A gnuplot string literal (double quotes, backslashes and quotes escaped).
    func quoted(_ s: String) -> String { Self.gnuplotString(s) }

    /// A gnuplot string literal (double quotes, backslashes and quotes escaped).
    static func gnuplotString(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}

/// One gnuplot process drawing a figure's outputs under temporary names, renamed into place
/// when it succeeded.
struct Gnuplot {
    let process = Process()
    let errors = Pipe()
    let directory: String, outputs: [String], executable: String

    /// Starts gnuplot on `scriptPath` in `directory`.
    /// - Throws: `FileError.io` when it cannot start.
    init(_ executable: String, directory: String, scriptPath: String, outputs: [String]) throws {
        self.executable = executable
        self.directory = directory
        self.outputs = outputs
        process.executableURL = URL(fileURLWithPath: executable)
        // The outputs' temporary names are this process's own (`Files.processTemporaryPath`),
        // given to the script as variables, so that two runs drawing into one folder never
        // rename each other's files away. Run by hand, the script writes the final names.
        let temporaries = outputs.map { Files.processTemporaryPath(for: $0) }
        process.arguments = ["-e", "svg_output = \(FigureWriter.gnuplotString(temporaries[0])); png_output = \(FigureWriter.gnuplotString(temporaries[1]))",
                             scriptPath]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw FileError.io(path: executable, message: "cannot start gnuplot (\(error.localizedDescription))")
        }
    }

    /// Whether the SVG or PNG at `path` is whole: an SVG ends with `</svg>`, a PNG with
    /// its IEND chunk.
    static func isComplete(_ path: String, png: Bool) -> Bool {
        guard let bytes = try? Files.contents(of: path) else { return false }
        if png {
            let iend: [UInt8] = [0x49, 0x45, 0x4E, 0x44]
            return bytes.count >= 12 && Array(bytes[(bytes.count - 8)..<(bytes.count - 4)]) == iend
        }
        let tail = String(decoding: bytes.suffix(64), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return tail.hasSuffix("</svg>")
    }

    /// Waits for gnuplot, then renames each output's temporary into place.
    /// - Throws: `FileError.io` with gnuplot's first error line when it failed.
    func finish() throws {
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let temporaries = outputs.map { directory + "/" + Files.processTemporaryPath(for: $0) }
        guard process.terminationStatus == 0, temporaries.allSatisfy({ FileManager.default.fileExists(atPath: $0) }) else {
            for t in temporaries { try? FileManager.default.removeItem(atPath: t) }
            let first = stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? "no message"
            throw FileError.io(path: outputs[0], message: "gnuplot failed (exit \(process.terminationStatus)): \(first)")
        }
        // gnuplot exits 0 even when the disk filled up under it: a figure is renamed into
        // place only when it is complete (an SVG's closing tag, a PNG's IEND chunk), so a
        // truncated one never takes the final name; the old figure, if any, stays.
        for (tmp, output) in zip(temporaries, outputs) where !Self.isComplete(tmp, png: output.hasSuffix(".png")) {
            for t in temporaries { try? FileManager.default.removeItem(atPath: t) }
            throw FileError.io(path: output, message: "gnuplot wrote an incomplete file (disk full?); the figure was not replaced")
        }
        for (tmp, output) in zip(temporaries, outputs) { try Files.renameIntoPlace(tmp, directory + "/" + output) }
    }
}
