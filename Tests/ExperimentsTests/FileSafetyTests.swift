import Foundation
import Testing
@testable import GateLabExperiments
import GateLabSupport

/// Figures that are never left truncated, nor reported failed when they were drawn (the reader
/// and the writer themselves: `SupportTests`).
@Suite struct FileSafetyTests {
    func scratch() throws -> String {
        let dir = NSTemporaryDirectory() + "gatelab-files-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    func figure() -> Figure {
        let series = FigureSeries(title: "a", points: [(x: 1, y: 1, low: 0.5, high: 1.5), (x: 2, y: 2, low: 1.5, high: 2.5)])
        return Figure(file: "figures/f.svg", caption: "c", title: "t", xLabel: "x", yLabel: "y", panels: [FigurePanel(title: "p", series: [series])])
    }

    /// Item 9: gnuplot exits 0 on a full disk with a truncated file. A stand-in gnuplot does
    /// exactly that: the figure is reported not drawn, and the old figure stays whole.
    @Test func aTruncatedFigureNeverTakesTheFinalName() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let fake = dir + "/fake-gnuplot"
        try Files.write("""
            #!/bin/sh
            svg=$(printf '%s' "$2" | sed -n 's/^svg_output = "\\([^"]*\\)".*/\\1/p')
            png=$(printf '%s' "$2" | sed -n 's/.*png_output = "\\([^"]*\\)".*/\\1/p')
            printf '<svg><g>cut off' > "$svg"
            printf 'PNG' > "$png"
            exit 0

            """, to: fake)
        chmod(fake, 0o755)
        try Files.makeDirectory(dir + "/figures")
        try Files.write("<svg>old</svg>\n", to: dir + "/figures/f.svg")
        let (drawn, problems) = FigureWriter(gnuplot: fake, directory: dir).draw([figure()])
        #expect(drawn.isEmpty)
        #expect(problems.count == 1 && problems[0].contains("incomplete"), "\(problems)")
        #expect(Files.read(dir + "/figures/f.svg") == "<svg>old</svg>\n")
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: dir + "/figures").filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty, "\(leftovers)")
    }

    /// Item 8: a figure's temporaries are this process's own (two `gatelab run` into one folder
    /// shared one name, and one found its file renamed away: GateLabCLITests runs two at once);
    /// the script still names the final files when run by hand.
    @Test(.enabled(if: Files.executable(named: "gnuplot") != nil)) func figuresUseThisProcesssTemporaries() throws {
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(Files.processTemporaryPath(for: "figures/f.svg").hasSuffix(".\(getpid()).tmp"))
        let (drawn, problems) = FigureWriter(directory: dir).draw([figure()])
        #expect(drawn.count == 1 && problems.isEmpty, "\(problems)")
        #expect(Files.read(dir + "/figures/f.svg")?.contains("</svg>") == true)
        #expect(Files.read(dir + "/results/plots/f.gp")?.contains("if (!exists(\"svg_output\")) svg_output = \"figures/f.svg\"") == true)
    }
}
