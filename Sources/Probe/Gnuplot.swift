import Foundation

/// Draws figures with gnuplot (Debian's `gnuplot-nox` is enough: the SVG terminal needs no
/// display): a generated script and data file, gnuplot run as a subprocess.
struct Gnuplot {
    /// The executable, as found on `PATH`.
    let executable: String

    /// Finds `name` on `PATH`.
    /// - Throws: `ProbeError.io` when it is not installed.
    init(named name: String) throws {
        guard let path = Files.executable(named: name) else {
            throw ProbeError.io(path: name, message: "gnuplot not found on PATH (Debian/Ubuntu: apt-get install gnuplot-nox)")
        }
        executable = path
    }

    /// One line of a figure: its mean curve and its band.
    struct Series {
        /// The legend entry.
        var title: String
        /// (x, line, band low, band high).
        var points: [(x: Double, y: Double, low: Double, high: Double)]
    }

    /// Writes `series` to `dataPath`, a script to `scriptPath`, and runs gnuplot in
    /// `directory` to draw `output` (an SVG, paths relative to `directory`), atomically: to a
    /// temporary name, renamed when gnuplot succeeded.
    /// - Throws: `ProbeError.io` with gnuplot's first error line when it fails.
    func plot(_ series: [Series], title: String, xLabel: String, yLabel: String,
              directory: String, dataPath: String, scriptPath: String, output: String) throws {
        var data = ""
        for (i, s) in series.enumerated() {
            if i > 0 { data += "\n\n" }
            data += "# \(s.title)\n"
            for p in s.points { data += [p.x, p.y, p.low, p.high].map { $0.isFinite ? $0.description : "NaN" }.joined(separator: " ") + "\n" }
        }
        try Files.write(data, to: directory + "/" + dataPath)
        let tmpOutput = Files.temporaryPath(for: output)
        var script = """
            set terminal svg size 960,600 dynamic noenhanced font "sans,12" background rgb "white"
            set output \(quoted(tmpOutput))
            set title \(quoted(title))
            set xlabel \(quoted(xLabel))
            set ylabel \(quoted(yLabel))
            set grid
            set offsets graph 0, graph 0, graph 0.04, graph 0.02

            set key outside right top Left reverse
            set style fill transparent solid 0.18 noborder

            """
        let palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
        // Every band first, then every line, so no band covers a line.
        var bands = [String](), lines = [String]()
        for (i, s) in series.enumerated() {
            let color = palette[i % palette.count], dash = i / palette.count + 1
            bands.append("\(quoted(dataPath)) index \(i) using 1:3:4 with filledcurves lc rgb \(quoted(color)) notitle")
            lines.append("\(quoted(dataPath)) index \(i) using 1:2 with lines lw 2 dt \(dash) lc rgb \(quoted(color)) title \(quoted(s.title))")
        }
        let clauses = bands + lines
        script += "plot " + clauses.joined(separator: ", \\\n     ") + "\nunset output\n"
        try Files.write(script, to: directory + "/" + scriptPath)

        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = [scriptPath]
        process.currentDirectoryURL = URL(fileURLWithPath: directory)
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do { try process.run() } catch {
            throw ProbeError.io(path: executable, message: "cannot start gnuplot (\(error.localizedDescription))")
        }
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let target = directory + "/" + output, tmp = directory + "/" + tmpOutput
        guard process.terminationStatus == 0, FileManager.default.fileExists(atPath: tmp) else {
            try? FileManager.default.removeItem(atPath: tmp)
            let first = stderr.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.first { !$0.isEmpty } ?? "no message"
            throw ProbeError.io(path: output, message: "gnuplot failed (exit \(process.terminationStatus)): \(first)")
        }
        guard rename(tmp, target) == 0 else {
            throw ProbeError.io(path: target, message: "cannot rename gnuplot's output into place")
        }
    }

    /// A gnuplot string literal (double quotes, backslashes and quotes escaped).
    private func quoted(_ s: String) -> String {
        "\"" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
    }
}
