import Foundation
import Testing
@testable import GateLabExperiments
import GateLabSupport

/// Issue #17: the one writer, the one reader, the one output-path rule, and figures that are
/// never left truncated or reported failed when they were drawn.
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

    @Test func theReaderIsBounded() throws {
        #expect(throws: FileError.self) { try Files.contents(of: "/dev/zero", limit: 1 << 20) }
        let dir = try scratch()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: FileError.self) { try Files.contents(of: dir) }
        try Files.write("12345", to: dir + "/five")
        #expect(throws: FileError.self) { try Files.contents(of: dir + "/five", limit: 4) }
        #expect(try Files.contents(of: dir + "/five", limit: 5) == Array("12345".utf8))
    }

    @Test func theOutputPathRule() throws {
        #expect(throws: FileError.self) { try Files.checkOutputPath("", what: "--output") }
        try Files.checkOutputPath("/tmp/x", what: "--output")          // the command line may write anywhere
        try Files.checkOutputPath("../x", what: "--output")
        for bad in ["/tmp/x", "../x", "a/../../x", ".."] {
            #expect(throws: FileError.self) { try Files.checkOutputPath(bad, what: "[output] dir", fromFile: true) }
        }
        try Files.checkOutputPath("Notes/x", what: "[output] dir", fromFile: true)
        #expect(throws: FileError.self) { try Files.write("x", to: "") }
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
