import GateLabProbe
import GateLabAutodiff
import GateLabExperiments
import Foundation

/// Writes `report.md` for an experiment's results: the set-up, a table of the summaries
/// (mean ± 95% CI over seeds), SVG figures drawn by gnuplot, the weight spectra and Jacobian
/// singular values, and the hand-written `interpretation.md` found beside it, if any.
///
/// Figures: for each length T, log10‖∂L/∂h_t‖ against distance k, one line per
/// configuration — the median over seeds — with a band from the smallest to the largest
/// value over seeds, all cells on one axis (`panels(_:T:)`); plus the first 200 steps of the longest T, and log10‖∂L/∂c_t‖ of the
/// LSTM configurations at the longest T. Curves longer than 600 points are thinned to every
/// ⌈T/600⌉-th distance (and the last). The report has no time
/// stamps, so the same results give the same bytes.
struct ReportWriter {
    /// Figures thin longer curves to about this many distances (they are nearly straight
    /// lines; more points only make the SVG larger).
    static let maxPoints = 600
    static let xLabel = "distance k = T - 1 - t (steps back from the loss)"

    let context: ReportContext
    let tables: ResultTables

    var directory: String { context.directory }

    /// The groups of the summary, figures, weights and Jacobians: the float64 ones when there
    /// are any (float32 groups have their own section), else all.
    var mainGroups: [ResultTables.Group] {
        let f64 = tables.groups.filter { $0.configuration.precision == .f64 }
        return f64.isEmpty ? tables.groups : f64
    }

    /// The float32 groups, when the experiment has float64 ones too (else they are the main groups).
    var float32Groups: [ResultTables.Group] { tables.groups.filter { $0.configuration.precision == .f32 } }

    /// Writes the figures (when asked for) and the report.
    /// - Returns: why figures could not be drawn (empty when they were).
    func write() throws -> [String] {
        let (drawn, problems) = context.figures ? context.figureWriter.draw(figures()) : ([], [])
        try Report.write(body(figures: drawn), versions: Array(Set(tables.records.map(\.version))).sorted(),
                         figureProblems: problems, context: context)
        return problems
    }

    /// Every figure, with its series.
    func figures() -> [Figure] {
        let mainGroups = mainGroups
        let names = Self.displayNames(mainGroups.map(\.configuration.cell))
        let lengths = Array(Set(mainGroups.map(\.configuration.steps))).sorted()
        let subject = mainGroups.contains { $0.configuration.weights != nil } ? "the cell and saved network" : "the cell"
        func lines(_ panels: [FigurePanel]) -> String {
            "one line per configuration (colour: \(subject); line style: its setting), the median over its seeds; the band spans "
                + "the smallest to the largest value over seeds; "
                + (panels.count == 1 ? "every configuration on one axis" : "one panel per cell family, every panel on the same axes")
        }
        var out = lengths.map { T -> Figure in
            let groups = mainGroups.filter { $0.configuration.steps == T }
            let drawn = panels(groups.map { series($0, upTo: T - 1, names: names) }, T: T)
            return Figure(file: "figures/grad-h-T\(T).svg",
                          caption: "log10‖∂L/∂h_t‖ against distance k for T = \(T): \(lines(drawn)).",
                          title: "Gradient reaching step t from a loss at the last step (T = \(T)); median and min-max over seeds",
                          xLabel: Self.xLabel, yLabel: "log10 ||dL/dh_t||", panels: drawn)
        }
        if let longest = lengths.last, longest > 200 {
            let groups = mainGroups.filter { $0.configuration.steps == longest }
            out.append(Figure(file: "figures/grad-h-near-T\(longest).svg",
                              caption: "The first 200 steps back from the loss for T = \(longest) (same lines and bands).",
                              title: "The first 200 steps back from the loss (T = \(longest)); median and min-max over seeds",
                              xLabel: Self.xLabel, yLabel: "log10 ||dL/dh_t||", panels: panels(groups.map { series($0, upTo: 200, names: names) }, T: longest)))
        }
        if let longest = lengths.last {
            let withCell = mainGroups.filter { $0.configuration.steps == longest && $0.records[0].curves.topC != nil }
            if !withCell.isEmpty {
                out.append(Figure(file: "figures/grad-c-T\(longest).svg",
                                  caption: "log10‖∂L/∂c_t‖, the gradient along the LSTM's cell state, for T = \(longest) (same lines and bands).",
                                  title: "Gradient along the LSTM cell state (T = \(longest)); median and min-max over seeds",
                                  xLabel: Self.xLabel, yLabel: "log10 ||dL/dc_t||",
                                  panels: panels(withCell.map { series($0, upTo: longest - 1, cellState: true, names: names) }, T: longest)))
            }
        }
        return out
    }

    /// The median and range over seeds of a group's top-layer log10‖∂L/∂h_t‖ (or ‖∂L/∂c_t‖)
    /// for k ≤ `last`, thinned to at most about `maxPoints` distances; titled and coloured by
    /// the cell's name (`names`), styled by its setting.
    func series(_ g: ResultTables.Group, upTo last: Int, cellState: Bool = false, names: [String: String]) -> FigureSeries {
        let stride = max(1, Int((Double(last + 1) / Double(Self.maxPoints)).rounded(.up)))
        var ks = Array(Swift.stride(from: 0, through: last, by: stride))
        if ks.last != last { ks.append(last) }
        let curves = g.records.map { cellState ? $0.curves.topC! : $0.curves.topH }
        // What is compared (the cell, by its declared name, and a saved network's file) takes
        // the colour; the rest of the label (forget bias, initialization, task inputs, …) the
        // line style.
        var subject = g.records[0].cellLabel
        var setting = g.label.hasPrefix(subject + ", ") ? String(g.label.dropFirst(subject.count + 2)) : ""
        if let w = g.configuration.weights {
            let file = (w as NSString).lastPathComponent
            subject += ", " + file
            if setting.hasPrefix(file) { setting = String(setting.dropFirst(file.count)).trimmingCharacters(in: CharacterSet(charactersIn: ", ")) }
        }
        return FigureSeries.overSeeds(title: setting.isEmpty ? subject : "\(subject), \(setting)", xs: ks.map(Double.init),
                                      values: ks.map { k in curves.map { $0[k] } }, colorKey: subject, dashKey: setting)
    }

    /// Lines that fit one panel (at most `onePanel`) share it: every cell on one axis. More are
    /// split into one panel per cell family (at most eight lines each; a larger family cut
    /// between cells), all panels on the same axes (`FigureLayout`).
    static let onePanel = 12
    func panels(_ series: [FigureSeries], T: Int) -> [FigurePanel] {
        if series.count <= Self.onePanel { return [FigurePanel(title: "T = \(T)", series: series)] }
        return Figure.panels(series, groupedBy: { Self.family($0.colorKey) })
    }

    /// A cell's family, for panels: the name up to its first `-` or `_`
    /// (`lstm-nig` and `lstm`: `lstm`; `gru_reset_before`: `gru`).
    static func family(_ cell: String) -> String {
        let name = ((cell as NSString).lastPathComponent as NSString).deletingPathExtension
        return String(name.prefix { !"-_, ".contains($0) })
    }

    /// The names figures give cells: a built-in cell its own, a cell file its base name
    /// without folder or `.cell` (`Cells/lstm-nig.cell`: `lstm-nig`), with ` (file)` after
    /// it when a built-in cell of the grid has that name too (`Cells/lstm.cell` beside `lstm`).
    static func displayNames(_ cells: [String]) -> [String: String] {
        var out = [String: String]()
        let builtins = Set(cells.filter { !$0.contains("/") && !$0.hasSuffix(".cell") })
        for cell in cells where out[cell] == nil {
            if builtins.contains(cell) { out[cell] = cell; continue }
            let base = ((cell as NSString).lastPathComponent as NSString).deletingPathExtension
            out[cell] = builtins.contains(base) ? "\(base) (file)" : base
        }
        return out
    }

    // MARK: Markdown

    /// The probe's sections: set-up, summary table, figures, weight spectra, Jacobians.
    func body(figures: [Figure]) -> ReportBody {
        let records = tables.records
        let seeds = Set(tables.groups.map(\.records.count)).sorted()
        let generated = "\(records.count) grid points, \(tables.groups.count) configurations × "
            + "\(seeds.map(String.init).joined(separator: "/")) seeds, random generator mt19937."
        var md = """
            ## Set-up

            - **Probe.** For each seed: weights drawn as configured, then inputs x_t ~ N(0, s²) (s = `input_scale`), \
            then a readout r ~ N(0, 1)/√H, all from one mt19937 stream; zero initial state; loss \
            L = Σ_j r_j h_T[j] on the last output only. One reverse pass with per-step rescaling records \
            log10‖∂L/∂h_t‖ exactly even far below float64's 1e-308.
            - **Distance** k = T − 1 − t for steps t = 0 … T − 1: k = 0 is the output the loss reads, k = T − 1 the first step.
            - **Decay rate**: least-squares slope (GSL `gsl_fit_linear`) of log10‖∂L/∂h_t‖ against k over \
            \(fitWindowText()) per seed, in decades per step; a rate of −0.01 loses a factor 10 every 100 steps.
            - **Fall by 10³ / 10⁶**: the first k at which log10‖∂L/∂h_t‖ is 3 (6) below its value at k = 0; \
            "not within T" when it never falls that far.
            - **LSTM cell state**: the same decay rate for log10‖∂L/∂c_t‖, the path the forget gate scales (— for other cells).
            - **log10‖∂L/∂h₀‖, log10‖∂L/∂c₀‖**: what reaches the first step; **log10 ‖∂L/∂x₀‖/‖∂L/∂x_T−1‖**: how many \
            decades less the first input matters than the last one.
            - Tables give the mean ± the half-width of the two-sided 95% Student-t confidence interval over seeds.
            - Recurrent weights: spectral norm σ_max and spectral radius ρ of each recurrent block W_h* \
            (W_hh for the tanh RNN; W_hi, W_hf, W_hg, W_ho for the LSTM; W_hr, W_hz, W_hn for the GRU). \
            One-step Jacobian J = ∂s_t/∂s_{t−1} of the whole state s (h, and c for the LSTM) of sequence 0, computed \
            through the graph at a few distances.


            """
        md += "## Summary\n\n"
        md += "| configuration | T | seeds | decay rate of ‖∂L/∂h_t‖ (log10/step) | decay rate of ‖∂L/∂c_t‖ | fall by 10³ at k "
            + "| fall by 10⁶ at k | log10‖∂L/∂h₀‖ | log10‖∂L/∂c₀‖ | log10 ‖∂L/∂x₀‖/‖∂L/∂x_T−1‖ |\n"
        md += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for g in mainGroups {
            let a = g.aggregate
            let cells = ["decay_rate", "decay_rate_c", "drop_1e3", "drop_1e6", "log10_h_t0", "log10_c_t0", "x_first_over_last"]
                .map { a[$0].map(\.text) ?? "—" }
            md += "| \(g.label) | \(g.configuration.steps) | \(g.records.count) | " + cells.joined(separator: " | ") + " |\n"
        }
        md += "\n## Figures\n\n"
        for f in figures { md += Report.figure(f) }
        md += "## Recurrent weights\n\n"
        md += "Spectral norm and radius of each recurrent block (they do not depend on T: the weights are drawn first).\n\n"
        md += "| configuration | block | σ_max | ρ |\n| --- | --- | ---: | ---: |\n"
        var seen = Set<String>()
        for g in mainGroups where !seen.contains(g.label) {
            seen.insert(g.label)
            for w in g.records[0].summary.recurrentWeights {
                let suffix = g.configuration.layers > 1 ? "_l\(w.layer)" : ""
                let norm = g.aggregate["sigma_max_\(w.name)\(suffix)"]?.text ?? "—", radius = g.aggregate["rho_\(w.name)\(suffix)"]?.text ?? "—"
                md += "| \(g.label) | \(w.name)\(suffix) (\(w.gate)) | \(norm) | \(radius) |\n"
            }
        }
        md += "\n## One-step Jacobians\n\n"
        md += "Largest singular value of J = ∂s_t/∂s_{t−1} (whole state, sequence 0) at the sampled distances k.\n\n"
        md += "| configuration | T | σ_max(J) by distance |\n| --- | ---: | --- |\n"
        for g in mainGroups {
            let parts = g.records[0].summary.jacobians.map { j in "k = \(j.distance): " + (g.aggregate["jacobian_sigma_max_k\(j.distance)"]?.text ?? "—") }
            md += "| \(g.label) | \(g.configuration.steps) | \(parts.isEmpty ? "—" : parts.joined(separator: "; ")) |\n"
        }
        md += float32Section()
        return ReportBody(generated: generated, sections: [md], files: [
            "- `points.csv`: one row per grid point (parameters, seed, every scalar summary).",
            "- `summary.csv`: one row per configuration and summary: seeds, mean, 95% CI half-width, min, max (long format).",
        ])
    }

    /// The float32 section (empty without float32 points): how far back the gradient an
    /// ordinary float32 reverse pass carries survives, against the exact decay.
    func float32Section() -> String {
        let groups = float32Groups
        guard !groups.isEmpty else { return "" }
        var md = "\n## Float32: how far back the gradient survives\n\n"
        md += "The same probes run in float32 (`precision = \"f32\"`: weights, inputs and readout rounded to float once; "
            + "every product and activation in single precision). The exact curve is the rescaled reverse pass, as above; "
            + "besides it, one ordinary float32 reverse pass without rescaling records what a float32 network actually "
            + "carries back. Its gradient does not fade smoothly: once its largest element falls below float32's "
            + "smallest normal number 2^-126 ≈ 1.2e-38 it loses bits, and below half the smallest subnormal, "
            + "2^-149 ≈ 1.4e-45, it is exactly 0, and stays 0 for every earlier step. Columns: the first distance k at which "
            + "the carried gradient's largest element is subnormal, and at which the carried ‖∂L/∂h_t‖ is exactly 0; "
            + "the first k at which the exact ‖∂L/∂h_t‖ falls below 2^-126 and 2^-149; the exact log10‖∂L/∂h_t‖ at the "
            + "carried gradient's first zero; and the exact decay rate in float32. \"not within T\": the carried gradient "
            + "never got there within T steps.\n\n"
        md += "| configuration | T | seeds | float32: largest element subnormal at k | float32: exactly 0 at k "
            + "| exact ‖∂L/∂h_t‖ < 2^-126 at k | exact ‖∂L/∂h_t‖ < 2^-149 at k | exact log10‖∂L/∂h_t‖ at the zero | decay rate (log10/step) |\n"
        md += "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n"
        for g in groups {
            let a = g.aggregate
            let cells = ["f32_subnormal_distance", "f32_zero_distance", "exact_below_2e-126", "exact_below_2e-149", "exact_log10_h_at_f32_zero", "decay_rate"]
                .map { a[$0].map(\.text) ?? "—" }
            md += "| \(g.label) | \(g.configuration.steps) | \(g.records.count) | " + cells.joined(separator: " | ") + " |\n"
        }
        return md
    }

    /// "k = 0 … T − 1" or the configured window.
    func fitWindowText() -> String {
        let maxima = Set(tables.records.map { $0.configuration.summary.fitMaxDistance ?? -1 })
        if maxima == [-1] { return "the whole curve, k = 0 … T − 1," }
        return "k = 0 … min(T − 1, fit_max_distance) (fit_max_distance: "
            + maxima.sorted().map { $0 < 0 ? "none" : String($0) }.joined(separator: ", ") + "),"
    }
}
