import Foundation
import Testing
@testable import GateLabExperiments
import GateLabSupport

/// The pieces of the experiment pipeline that no kind owns: figure panels.
@Suite struct ExperimentsTests {

    /// What a figure draws: series without a finite point and panels left empty are dropped;
    /// a cell keeps its colour in every panel and cells in one panel differ; the axes come
    /// from the data (bands included), shared by every panel.
    @Test func theLayoutDropsEmptyPanelsAndTakesItsRangesFromTheData() {
        let nan = Double.nan
        let a = FigureSeries(title: "a", points: [(0, -3, -4, -2), (10, -1, -1.5, -0.5)], colorKey: "rnn")
        let b = FigureSeries(title: "b", points: [(0, -2, nan, nan), (10, -6, nan, nan)], band: false, colorKey: "lstm", dashKey: "fb 1")
        let empty = FigureSeries(title: "nothing", points: [(0, nan, nan, nan)], colorKey: "gru")
        let f = Figure(file: "figures/x.svg", caption: "", title: "", xLabel: "", yLabel: "", panels: [
            FigurePanel(title: "one", series: [a, b]), FigurePanel(title: "empty", series: [empty]),
            FigurePanel(title: "two", series: [b, a]),
        ])
        let layout = f.layout
        #expect(layout.panels.map(\.title) == ["one", "two"])
        #expect(layout.colors[0][0] == layout.colors[1][1] && layout.colors[0][1] == layout.colors[1][0])
        #expect(layout.colors[0][0] != layout.colors[0][1])
        #expect(layout.dashes[0] == ["solid", "(12,6)"])
        #expect(layout.xRange == 0...10)
        // Data from −6 to −0.5 (the band's top), padded by 4% of the span.
        let y = layout.yRange!
        #expect(abs(y.lowerBound - (-6 - 0.22)) < 1e-12 && abs(y.upperBound - (-0.5 + 0.22)) < 1e-12, "\(y)")
        // A logarithmic axis pads in decades and ignores values ≤ 0.
        var log = Figure(file: "figures/l.svg", caption: "", title: "", xLabel: "", yLabel: "", panels: [
            FigurePanel(title: "", series: [FigureSeries(title: "l", points: [(0, 1, nan, nan), (1, 0.001, nan, nan), (2, 0, nan, nan)], band: false)]),
        ])
        log.logY = true
        let ly = log.layout.yRange!
        #expect(abs(Foundation.log10(ly.lowerBound) - (-3.12)) < 1e-9 && abs(Foundation.log10(ly.upperBound) - 0.12) < 1e-9, "\(ly)")
    }

    /// A line over seeds is their median, with the band from the smallest to the largest.
    @Test func aLineOverSeedsIsTheMedianWithTheRangeAsItsBand() {
        let s = FigureSeries.overSeeds(title: "s", xs: [0, 1, 2], values: [[3, 1, 2], [4, 1, 2, 10], [.nan, .nan]])
        #expect(s.band)
        #expect(s.points[0].y == 2 && s.points[0].low == 1 && s.points[0].high == 3)
        #expect(s.points[1].y == 3 && s.points[1].low == 1 && s.points[1].high == 10)
        #expect(s.points[2].y.isNaN)
    }

    /// Panels hold at most eight lines, keep a colour's (a cell's) lines together, follow the
    /// groups (families) in order, and number the parts of a group that needs several.
    @Test func panelsKeepACellsLinesTogetherAndHoldAtMostEight() {
        func s(_ cell: String, _ setting: String) -> FigureSeries {
            FigureSeries(title: "\(cell) \(setting)", points: [], colorKey: cell, dashKey: setting)
        }
        // Interleaved as a grid lists them: every cell at one setting, then at the next.
        let lstms = ["lstm", "lstm-nig", "lstm-nfg", "lstm-cifg"]
        var series = lstms.map { s($0, "") } + lstms.map { s($0, "fb 1") } + lstms.map { s($0, "chrono") }
        series += [s("gru", ""), s("gru_reset_before", "")]
        let panels = Figure.panels(series, groupedBy: { String($0.colorKey.prefix { $0 != "-" && $0 != "_" }) })
        #expect(panels.map(\.title) == ["lstm (1/2)", "lstm (2/2)", "gru"])
        #expect(panels.map(\.series.count) == [6, 6, 2])
        #expect(panels[0].series.map(\.colorKey) == ["lstm", "lstm", "lstm", "lstm-nig", "lstm-nig", "lstm-nig"])
        #expect(panels.allSatisfy { $0.series.count <= 8 })
        #expect(panels.flatMap(\.series).count == series.count)
    }
}
