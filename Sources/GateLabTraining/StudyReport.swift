import GateLabExperiments
import Foundation
import GateLabTasks
import GateLabGSL
import GateLabSupport

/// The analysis of a `study`: per cell the distribution of the test metric, each cell against
/// the baseline with tests, the hyperparameters' importance, and the figures; written as
/// CSVs, figures and `report.md` (through `Report`).
enum StudyReport {
    /// The significance level of the verdicts.
    static let alpha = 0.05

    /// One cell's trials of one task, by sample number.
    struct CellTrials {
        let name: String
        let baseline: Bool
        let records: [StudyRecord]
        var metrics: [Double] { records.map(\.metric) }
    }

    /// What is computed for one cell.
    struct CellSummary {
        var name: String, baseline: Bool, trials: Int, diverged: Int
        var median: Double, lower: Double, upper: Double
        var bestCount: Int, bestMean: Double, bestLow: Double, bestHigh: Double
        var solved: Int, solvedLow: Double, solvedHigh: Double
        /// Whether the task has a criterion (the solved columns mean something).
        var hasCriterion: Bool
    }

    /// What the report says of a task: its loss in words, whether it has a criterion, and its
    /// validation and test sets (the task's own splits, or sets drawn from fixed seeds).
    struct TaskFacts {
        var loss: String, hasCriterion: Bool
        var validation: String, test: String

        init(_ r: StudyRecord) {
            let c = r.training.configuration
            let task = try? Tasks.make(c.task, length: c.length)
            switch task?.loss {
            case .meanSquaredError?: loss = "mean squared error"
            case .crossEntropy?: loss = "cross-entropy"
            case .bernoulli?: loss = "Bernoulli negative log-likelihood per step"
            case nil: loss = "loss"
            }
            hasCriterion = task?.hasCriterion ?? true
            func pieces(_ split: HeldOutSplit) -> Int? {
                task?.heldOut(split, batchSize: c.batch).map { $0.reduce(0) { $0 + $1.lengths.filter { $0 > 0 }.count } }
            }
            validation = pieces(.validation).map { "the task's validation split (\($0) sequences)" }
                ?? "\(c.evalSize) sequences drawn from seed \(c.evalSeed)"
            test = pieces(.test).map { "the task's test split (\($0) sequences)" } ?? "\(c.evalSize) sequences drawn from seed \(r.testSeed)"
        }
    }

    /// One cell against the baseline.
    struct Comparison {
        var name: String
        var welch: Statistics.WelchTest?, welchHolm: Double?
        var signedRank: Statistics.SignedRankTest, signedRankHolm: Double
        var medianDifference: Double
        var welchVerdict: String { verdict(welchHolm, lower: (welch?.t ?? 0) < 0) }
        var signedRankVerdict: String { verdict(signedRankHolm, lower: medianDifference < 0) }

        func verdict(_ p: Double?, lower: Bool) -> String {
            guard let p, !p.isNaN else { return "—" }
            return p < StudyReport.alpha ? (lower ? "better" : "worse") : "no significant difference"
        }
    }

    /// The importance fit of one group of trials (a cell, or all pooled).
    struct Importance {
        var group: String, trials: Int
        var shares: [Double]?, remainder: Double?, rSquared: Double?
        var problem: String?
    }

    static func write(_ records: [StudyRecord], points: [StudyPoint], context: ReportContext) throws -> [String] {
        var sections = [String](), figures = [Figure]()
        var cellsCSV = ["study,cell,baseline,trials,diverged,median,q1,q3,best_count,best_mean,best_mean_low,best_mean_high,solved,solved_low,solved_high"]
        var testsCSV = ["study,cell,baseline,welch_t,welch_df,welch_p,welch_p_holm,welch_verdict,wilcoxon_w_plus,wilcoxon_n,wilcoxon_exact,wilcoxon_p,wilcoxon_p_holm,wilcoxon_verdict,median_difference"]
        var importanceCSV = ["study,group,trials,hyperparameter,share"]
        var pointsCSV = [String]()
        let studies = unique(records.map(\.study))
        var analyses = [(study: String, cells: [CellSummary], comparisons: [Comparison], importance: [Importance], keys: [String], space: [String], trials: [CellTrials], facts: TaskFacts)]()
        for study in studies {
            let rs = records.filter { $0.study == study }
            let cells = unique(rs.map(\.cell)).map { name in
                CellTrials(name: name, baseline: rs.first { $0.cell == name }!.baseline, records: rs.filter { $0.cell == name }.sorted { $0.sample < $1.sample })
            }
            let facts = TaskFacts(rs[0])
            let summaries = try cells.enumerated().map { try summary($1, seed: UInt64($0 + 1), hasCriterion: facts.hasCriterion) }
            let comparisons = try compare(cells)
            let keys = rs[0].values.map(\.key)
            let importance = importanceFits(cells, keys: keys)
            let space = points.first { $0.study == study }?.space ?? []
            analyses.append((study, summaries, comparisons, importance, keys, space, cells, facts))
            for s in summaries {
                cellsCSV.append([study, s.name, "\(s.baseline)", "\(s.trials)", "\(s.diverged)", csvNumber(s.median), csvNumber(s.lower), csvNumber(s.upper),
                                 "\(s.bestCount)", csvNumber(s.bestMean), csvNumber(s.bestLow), csvNumber(s.bestHigh),
                                 s.hasCriterion ? "\(s.solved)" : "", s.hasCriterion ? csvNumber(s.solvedLow) : "",
                                 s.hasCriterion ? csvNumber(s.solvedHigh) : ""].map(csvQuoted).joined(separator: ","))
            }
            for c in comparisons {
                testsCSV.append([study, c.name, cells.first { $0.baseline }!.name, csvNumber(c.welch?.t), csvNumber(c.welch?.degreesOfFreedom),
                                 csvNumber(c.welch?.p), csvNumber(c.welchHolm), c.welchVerdict, csvNumber(c.signedRank.wPlus), "\(c.signedRank.count)",
                                 "\(c.signedRank.exact)", csvNumber(c.signedRank.p), csvNumber(c.signedRankHolm), c.signedRankVerdict,
                                 csvNumber(c.medianDifference)].map(csvQuoted).joined(separator: ","))
            }
            for i in importance {
                guard let shares = i.shares else { continue }
                for (k, share) in zip(keys + ["interactions+noise"], shares + [i.remainder!]) {
                    importanceCSV.append([study, i.group, "\(i.trials)", k, csvNumber(share)].map(csvQuoted).joined(separator: ","))
                }
            }
            if pointsCSV.isEmpty {
                pointsCSV.append((["id", "study", "cell", "sample", "seed"] + keys + ["updates", "best_validation", "best_update", "final_validation",
                                                                                     "test", "test_fraction_correct", "solved", "diverged", "seconds"]).joined(separator: ","))
            }
            for r in rs {
                let byKey = Dictionary(uniqueKeysWithValues: r.values.map { ($0.key, $0.value.text) })
                pointsCSV.append(([r.id, r.study, r.cell, "\(r.sample)", "\(r.training.configuration.seed)"] + keys.map { byKey[$0] ?? "" }
                    + ["\(r.training.updates)", csvNumber(r.bestValidation), r.bestUpdate.map(String.init) ?? "", csvNumber(r.finalValidation),
                       csvNumber(r.test), csvNumber(r.testFractionCorrect), "\(r.training.solved)", "\(r.training.diverged)",
                       String(format: "%.1f", r.training.seconds)]).map(csvQuoted).joined(separator: ","))
            }
            if context.figures { figures += studyFigures(study, cells: cells, summaries: summaries, importance: importance, keys: keys) }
        }
        try Files.write(cellsCSV.joined(separator: "\n") + "\n", to: context.directory + "/cells.csv")
        try Files.write(testsCSV.joined(separator: "\n") + "\n", to: context.directory + "/tests.csv")
        try Files.write(importanceCSV.joined(separator: "\n") + "\n", to: context.directory + "/importance.csv")
        try Files.write(pointsCSV.joined(separator: "\n") + "\n", to: context.directory + "/points.csv")
        let (drawn, problems) = context.figures ? context.figureWriter.draw(figures) : ([], [])
        for a in analyses {
            sections.append(section(a.study, cells: a.cells, comparisons: a.comparisons, importance: a.importance, keys: a.keys,
                                    space: a.space, trials: a.trials, facts: a.facts, figures: drawn.filter { $0.file.hasPrefix("figures/\(a.study)-") }))
        }
        if !records.isEmpty {
            sections.append(setup(analyses.map { ($0.study, $0.trials[0].records[0], $0.facts) }, points: points))
        }
        let seconds = records.reduce(0) { $0 + $1.training.seconds }
        let cellsPerStudy = studies.map { s in Set(records.filter { $0.study == s }.map(\.cell)).count }
        let samplesPerStudy = studies.map { s in Set(records.filter { $0.study == s }.map(\.sample)).count }
        let generated = "\(records.count) trials (" + zip(studies, zip(cellsPerStudy, samplesPerStudy)).map { "\($0): \($1.0) cells × \($1.1) samples" }
            .joined(separator: "; ") + "), " + String(format: "%.0f s", seconds) + " of training in all (sum of the trials' wall times)."
        try Report.write(ReportBody(generated: generated, sections: sections, files: [
            "- `cells.csv`: per task and cell, the metric's median and quartiles, the mean of the best 10 % with its bootstrap 95 % interval, the solved count with its Wilson 95 % interval.",
            "- `tests.csv`: each cell against the baseline: Welch's t-test on the best 10 %, Wilcoxon's signed-rank test on the paired samples, both Holm-corrected, and the verdicts.",
            "- `importance.csv`: per task, cell and pooled, each hyperparameter's share of the metric's variance (main effect), and the rest (interactions and noise).",
            "- `points.csv`: one row per trial: its sample, seed, best and final validation loss, test loss at the best validation evaluation, solved, diverged, wall time.",
        ], rerun: "Re-running the command reuses every stored trial and regenerates this file bit for bit"),
            versions: unique(records.compactMap(\.gatelabVersion)), figureProblems: problems, context: context)
        return problems
    }

    // MARK: Statistics

    /// The p-quantile of values where +∞ (diverged) counts as the worst: the quantile is +∞
    /// when it falls among them.
    static func quantile(_ xs: [Double], _ p: Double) -> Double {
        let sorted = xs.sorted()
        guard !sorted.isEmpty else { return .nan }
        let position = p * Double(sorted.count - 1)
        let lo = Int(position.rounded(.down)), hi = min(lo + 1, sorted.count - 1)
        let frac = position - Double(lo)
        if frac == 0 || sorted[lo] == sorted[hi] { return sorted[lo] }
        if !sorted[hi].isFinite { return .infinity }
        return sorted[lo] + frac * (sorted[hi] - sorted[lo])
    }

    /// How many of n trials are "the best 10 %": ⌈n/10⌉, at least 2 (a t-test needs two).
    static func bestCount(_ n: Int) -> Int { min(n, max(2, (n + 9) / 10)) }

    /// The mean of the lowest `bestCount` values (+∞ when a diverged run is among them).
    static func bestMean(_ xs: [Double]) -> Double {
        let best = xs.sorted().prefix(bestCount(xs.count))
        return best.reduce(0, +) / Double(best.count)
    }

    static func summary(_ c: CellTrials, seed: UInt64, hasCriterion: Bool) throws -> CellSummary {
        let m = c.metrics, n = m.count
        let bootstrap = try Statistics.bootstrapInterval(m, statistic: bestMean, seed: seed)
        let solved = c.records.filter(\.training.solved).count
        let wilson = try Statistics.wilsonInterval(successes: solved, trials: n)
        return CellSummary(name: c.name, baseline: c.baseline, trials: n, diverged: m.filter { !$0.isFinite }.count,
                           median: quantile(m, 0.5), lower: quantile(m, 0.25), upper: quantile(m, 0.75),
                           bestCount: bestCount(n), bestMean: bestMean(m), bestLow: bootstrap.lower, bestHigh: bootstrap.upper,
                           solved: solved, solvedLow: wilson.lower, solvedHigh: wilson.upper, hasCriterion: hasCriterion)
    }

    /// Each cell but the baseline against it, the p-values Holm-corrected across the cells.
    static func compare(_ cells: [CellTrials]) throws -> [Comparison] {
        guard let base = cells.first(where: \.baseline) else { return [] }
        let baseBySample = Dictionary(uniqueKeysWithValues: base.records.map { ($0.sample, $0.metric) })
        let baseBest = Array(base.metrics.sorted().prefix(bestCount(base.records.count)))
        var out = [Comparison]()
        for c in cells where !c.baseline {
            let best = Array(c.metrics.sorted().prefix(bestCount(c.records.count)))
            let welch = (best + baseBest).allSatisfy(\.isFinite) && best.count >= 2 && baseBest.count >= 2 ? try Statistics.welchTest(best, baseBest) : nil
            // Paired: the same sample of both cells; ∞ − ∞ (both diverged) is a tie.
            let differences = c.records.compactMap { r -> Double? in
                guard let b = baseBySample[r.sample] else { return nil }
                if !r.metric.isFinite && !b.isFinite { return 0 }
                return r.metric - b
            }
            out.append(Comparison(name: c.name, welch: welch, welchHolm: nil, signedRank: Statistics.signedRankTest(differences),
                                  signedRankHolm: .nan, medianDifference: quantile(differences, 0.5)))
        }
        let welchHolm = Statistics.holm(out.map { $0.welch?.p ?? .nan })
        let rankHolm = Statistics.holm(out.map(\.signedRank.p))
        for k in out.indices {
            out[k].welchHolm = out[k].welch == nil ? nil : welchHolm[k]
            out[k].signedRankHolm = rankHolm[k]
        }
        return out
    }

    /// The additive fit of the finite trials of each cell, then of all cells pooled.
    static func importanceFits(_ cells: [CellTrials], keys: [String]) -> [Importance] {
        func fit(_ group: String, _ records: [StudyRecord]) -> Importance {
            let finite = records.filter { $0.metric.isFinite }
            let features = keys.map { key -> AdditiveFit.Feature in
                let values = finite.map { r in r.values.first { $0.key == key }! }
                switch values.first?.scale ?? .linear {
                case .log: return .continuous(values.map { Foundation.log($0.value.number ?? 1) })
                case .linear: return .continuous(values.map { $0.value.number ?? 0 })
                case .categorical: return .categorical(values.map(\.value.text))
                }
            }
            do {
                let f = try AdditiveFit(features: features, response: finite.map(\.metric))
                return Importance(group: group, trials: finite.count, shares: f.shares, remainder: f.remainder, rSquared: f.rSquared)
            } catch {
                return Importance(group: group, trials: finite.count, problem: "\(error)")
            }
        }
        return cells.map { fit($0.name, $0.records) } + [fit("pooled", cells.flatMap(\.records))]
    }

    // MARK: Text

    static func number(_ x: Double?) -> String {
        guard let x, !x.isNaN else { return "—" }
        if x.isInfinite { return x > 0 ? "diverged" : "-∞" }
        return String(format: "%.4g", x)
    }

    static func pValue(_ p: Double?) -> String {
        guard let p, !p.isNaN else { return "—" }
        return p < 1e-4 ? String(format: "%.1e", p) : String(format: "%.4f", p)
    }

    static func section(_ study: String, cells: [CellSummary], comparisons: [Comparison], importance: [Importance], keys: [String],
                        space: [String], trials: [CellTrials], facts: TaskFacts, figures: [Figure]) -> String {
        let base = cells.first { $0.baseline }?.name ?? "—"
        let r = trials[0].records[0].training
        var md = "## \(study)\n\n"
        md += "Task \(r.configuration.task), T = \(r.configuration.length); metric: the test \(facts.loss) at the best validation evaluation "
            + "(early stopping), lower is better; a diverged run counts as the worst. "
            + (facts.hasCriterion ? "Criterion for solved: \(r.criterion). " : "The task has no criterion for solved (\(r.criterion)). ")
            + "Baseline cell: **\(base)**.\n\n"
        md += "### Cells\n\n| cell | trials | diverged | median [quartiles] | mean of best 10 % [95 % bootstrap] |"
            + (facts.hasCriterion ? " solved [95 % Wilson] |\n|---|---:|---:|---|---|---|\n" : "\n|---|---:|---:|---|---|\n")
        for c in cells {
            md += "| \(c.name)\(c.baseline ? " (baseline)" : "") | \(c.trials) | \(c.diverged) | \(number(c.median)) [\(number(c.lower)), \(number(c.upper))] "
                + "| \(number(c.bestMean)) [\(number(c.bestLow)), \(number(c.bestHigh))] (best \(c.bestCount)) |"
                + (facts.hasCriterion ? " \(c.solved)/\(c.trials) [\(String(format: "%.2f", c.solvedLow)), \(String(format: "%.2f", c.solvedHigh))] |\n" : "\n")
        }
        md += "\n### Against the baseline (\(base))\n\n"
        md += "Welch's t-test on the best 10 % of each cell (Greff et al.'s test) and Wilcoxon's signed-rank test on the paired samples (the same "
            + "hyperparameters for both cells; zero differences dropped; exact for up to \(Statistics.signedRankExactLimit) untied differences, else the "
            + "normal approximation with tie correction). p-values Holm-corrected across the \(comparisons.count) cells, verdicts at α = \(alpha).\n\n"
        md += "| cell | Welch t (df) | p | p (Holm) | verdict, best 10 % | median paired difference | W⁺ (n) | p | p (Holm) | verdict, paired |\n"
            + "|---|---|---:|---:|---|---:|---|---:|---:|---|\n"
        for c in comparisons {
            let welch = c.welch.map { String(format: "%.3g (%.3g)", $0.t, $0.degreesOfFreedom) } ?? "— (a diverged run among the best)"
            md += "| \(c.name) | \(welch) | \(pValue(c.welch?.p)) | \(pValue(c.welchHolm)) | \(c.welchVerdict) | \(number(c.medianDifference)) "
                + "| \(formatNumber(c.signedRank.wPlus)) (\(c.signedRank.count)\(c.signedRank.exact ? ", exact" : "")) | \(pValue(c.signedRank.p)) "
                + "| \(pValue(c.signedRankHolm)) | \(c.signedRankVerdict) |\n"
        }
        md += "\n### Hyperparameter importance\n\n"
        md += "Share of the metric's variance (finite trials) explained by each hyperparameter's main effect: an additive least-squares fit of cubic "
            + "B-splines per hyperparameter (on the log scale for log-uniform ones; categories one-hot), the variance of each fitted effect over the "
            + "variance of the metric. R² is the share the additive fit explains in all; the rest, 1 − R², is what no main effect explains: "
            + "interactions and noise. With few samples the fitted effects are correlated and their shares can add up to more than R²: "
            + "the shares rank the hyperparameters, R² bounds the main effects.\n\n"
        md += "| group | trials | " + keys.joined(separator: " | ") + " | interactions + noise | R² |\n|---|---:|" + keys.map { _ in "---:" }.joined(separator: "|") + "|---:|---:|\n"
        for i in importance {
            if let shares = i.shares {
                md += "| \(i.group) | \(i.trials) | " + shares.map { String(format: "%.3f", $0) }.joined(separator: " | ")
                    + String(format: " | %.3f | %.3f |\n", i.remainder!, i.rSquared!)
            } else {
                md += "| \(i.group) | \(i.trials) | " + keys.map { _ in "—" }.joined(separator: " | ") + " | — | — |\n"
            }
        }
        let problems = unique(importance.compactMap(\.problem))
        if !problems.isEmpty { md += "\nNot fitted: " + problems.joined(separator: "; ") + ".\n" }
        md += "\n"
        for f in figures { md += Report.figure(f) }
        return md
    }

    /// The design, then each task's fixed settings, validation and test sets.
    static func setup(_ tasks: [(study: String, record: StudyRecord, facts: TaskFacts)], points: [StudyPoint]) -> String {
        var md = "## Set-up\n\n"
        md += "Each cell trained once at every hyperparameter sample (a paired design): the samples drawn once from the study's seed "
            + "(\(points.first?.studySeed ?? 0), mt19937) with each run's initialization seed, and shared by every cell.\n\n"
        let spaces = unique(points.map { $0.space.joined(separator: "; ") })
        md += "- Search: " + spaces.joined(separator: " | ") + ".\n"
        for (study, r, facts) in tasks {
            let c = r.training.configuration
            md += "- \(study), fixed (as in its first trial, where not searched): \(c.optimizer.rawValue), batch \(c.batch), \(c.updates) updates, "
                + "clip \(c.clip.map { formatNumber($0) } ?? "none"); validation set: \(facts.validation), every \(c.evalEvery) updates; "
                + "test set: \(facts.test), evaluated at each new best validation loss; "
                + (c.stopWhenSolved == false ? "training the whole budget" : "stopping when solved") + ".\n"
        }
        return md
    }

    // MARK: Figures

    static func studyFigures(_ study: String, cells: [CellTrials], summaries: [CellSummary], importance: [Importance], keys: [String]) -> [Figure] {
        var out = [Figure]()
        let finite = cells.flatMap(\.metrics).filter(\.isFinite)
        let logY = (finite.min() ?? 0) > 0 && (finite.max() ?? 1) / (finite.min() ?? 1) > 20
        func color(_ c: CellTrials) -> String { c.baseline ? "baseline" : c.name }
        // 1. Box and strip: every cell on one axis.
        var series = [FigureSeries]()
        for (k, (c, s)) in zip(cells, summaries).enumerated() {
            let x = Double(k + 1)
            if s.median.isFinite {
                series.append(FigureSeries(title: "", points: [(x, s.median, s.lower, s.upper.isFinite ? s.upper : (finite.max() ?? s.median))],
                                           colorKey: color(c), style: .box))
            }
            let strip = c.records.filter { $0.metric.isFinite }.map { r in
                // A fixed jitter by sample number (golden-ratio steps), so the figure is the same every time.
                (x: x + 0.36 * ((Double(r.sample) * 0.618_033_988_7).truncatingRemainder(dividingBy: 1) - 0.5), y: r.metric, low: Double.nan, high: Double.nan)
            }
            series.append(FigureSeries(title: "", points: strip, colorKey: color(c), style: .points))
        }
        var boxes = Figure(file: "figures/\(study)-cells.svg",
                           caption: "\(study): the test metric of every trial (dots) and each cell's median and quartiles (box), one column per cell; "
                               + "the baseline grey. Diverged trials are not drawn: " + summaries.map { "\($0.name) \($0.diverged)" }.joined(separator: ", ") + ".",
                           title: "\(study): test metric per cell", xLabel: "cell", yLabel: "test loss at best validation loss",
                           panels: [FigurePanel(title: study, series: series)], logY: logY)
        boxes.xTicks = cells.enumerated().map { (Double($0 + 1), $1.baseline ? "\($1.name) (baseline)" : $1.name) }
        out.append(boxes)
        // 2. The metric against the learning rate, with a smoothed marginal per cell.
        if let lrKey = keys.first(where: { $0 == "lr" }) {
            var series = [FigureSeries]()
            for c in cells {
                let pts = c.records.compactMap { r -> (Double, Double)? in
                    guard r.metric.isFinite, let lr = r.values.first(where: { $0.key == lrKey })?.value.number, lr > 0 else { return nil }
                    return (lr, r.metric)
                }
                guard !pts.isEmpty else { continue }
                series.append(FigureSeries(title: "", points: pts.map { ($0.0, $0.1, .nan, .nan) }, colorKey: color(c), style: .points))
                series.append(FigureSeries(title: c.baseline ? "\(c.name) (baseline)" : c.name, points: smoothed(pts, logY: logY).map { ($0.0, $0.1, .nan, .nan) },
                                           band: false, colorKey: color(c)))
            }
            var f = Figure(file: "figures/\(study)-lr.svg",
                           caption: "\(study): the test metric against the learning rate, every trial a dot, each cell's marginal smoothed by a Gaussian "
                               + "kernel (0.15 decades wide in the learning rate) as a line; diverged trials left out.",
                           title: "\(study): test metric against the learning rate", xLabel: "learning rate", yLabel: "test loss at best validation loss",
                           panels: [FigurePanel(title: study, series: series)], logY: logY)
            f.logX = true
            out.append(f)
        }
        // 3. Importance: pooled bars, each cell's shares as dots.
        if importance.contains(where: { $0.shares != nil }) {
            let names = keys + ["interactions+noise"]
            var series = [FigureSeries]()
            if let pooled = importance.last, let shares = pooled.shares {
                series.append(FigureSeries(title: "pooled", points: (shares + [pooled.remainder!]).enumerated().map { (Double($0 + 1), $1, .nan, .nan) },
                                           colorKey: "baseline", style: .bars))
            }
            for (c, i) in zip(cells, importance) {
                guard let shares = i.shares else { continue }
                let x = (shares + [i.remainder!]).enumerated().map { k, s in
                    (Double(k + 1) + 0.5 * (Double(cells.firstIndex { $0.name == c.name }! + 1) / Double(cells.count + 1) - 0.5), s, Double.nan, Double.nan)
                }
                series.append(FigureSeries(title: c.name, points: x, colorKey: c.name, style: .points))
            }
            var f = Figure(file: "figures/\(study)-importance.svg",
                           caption: "\(study): share of the metric's variance explained by each hyperparameter's main effect (additive B-spline fit), "
                               + "pooled over the cells (bars) and per cell (dots); the last column is what the fit leaves unexplained (1 − R²): interactions and noise.",
                           title: "\(study): hyperparameter importance", xLabel: "hyperparameter", yLabel: "share of variance",
                           panels: [FigurePanel(title: study, series: series)])
            f.xTicks = names.enumerated().map { (Double($0 + 1), $1) }
            out.append(f)
        }
        // 4. Training curves: the held-out loss's median and quartiles over the samples, per cell.
        let curveCells = cells.filter { $0.records.contains { !$0.training.diverged } }
        var curveSeries = [FigureSeries]()
        for c in curveCells {
            let runs = c.records.filter { !$0.training.diverged && !$0.training.evaluations.isEmpty }
            let updates = unique(runs.flatMap { $0.training.evaluations.map(\.update) }).sorted()
            let pts = updates.map { u -> (Double, Double, Double, Double) in
                // A run that stopped early (solved) keeps its last value.
                let ys = runs.map { r in (r.training.evaluations.last { $0.update <= u } ?? r.training.evaluations[0]).loss }
                return (Double(u), quantile(ys, 0.5), quantile(ys, 0.25), quantile(ys, 0.75))
            }
            curveSeries.append(FigureSeries(title: c.baseline ? "\(c.name) (baseline)" : c.name, points: pts.map { ($0.0, max($0.1, 1e-12), max($0.2, 1e-12), max($0.3, 1e-12)) },
                                            colorKey: color(c)))
        }
        if !curveSeries.isEmpty {
            // At most four cells a panel, the baseline in each.
            let baseline = curveSeries.first { $0.colorKey == "baseline" }
            let others = curveSeries.filter { $0.colorKey != "baseline" }
            let groups = stride(from: 0, to: max(others.count, 1), by: 3).map { Array(others[$0..<min($0 + 3, others.count)]) }
            let panels = groups.enumerated().map { k, g in
                FigurePanel(title: groups.count == 1 ? study : "\(study) (\(k + 1)/\(groups.count))", series: (baseline.map { [$0] } ?? []) + g)
            }
            out.append(Figure(file: "figures/\(study)-curves.svg",
                              caption: "\(study): validation loss against updates, the median over each cell's samples (line) and their quartiles (band); "
                                  + "diverged trials left out, a trial that stopped early holds its last value. The baseline in every panel.",
                              title: "\(study): training curves over the samples", xLabel: "updates", yLabel: "validation loss", panels: panels, logY: true))
        }
        return out
    }

    /// A Nadaraya–Watson smoother of y against log10 x on 40 points over x's range (of log y
    /// when `logY`, so that the line follows the dots' middle on that axis).
    static func smoothed(_ pts: [(Double, Double)], logY: Bool) -> [(Double, Double)] {
        let xs = pts.map { Foundation.log10($0.0) }, ys = pts.map { logY ? Foundation.log10($0.1) : $0.1 }
        guard let lo = xs.min(), let hi = xs.max(), hi > lo else { return pts }
        let width = 0.15
        return (0..<40).map { k in
            let x = lo + (hi - lo) * Double(k) / 39
            var sw = 0.0, sy = 0.0
            for (xi, yi) in zip(xs, ys) {
                let w = Foundation.exp(-0.5 * ((xi - x) / width) * ((xi - x) / width))
                sw += w; sy += w * yi
            }
            let y = sw > 1e-300 ? sy / sw : .nan
            return (Foundation.pow(10, x), logY ? Foundation.pow(10, y) : y)
        }
    }

    static func unique<T: Hashable>(_ xs: [T]) -> [T] { var s = Set<T>(); return xs.filter { s.insert($0).inserted } }
}
