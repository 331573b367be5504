import GateLabExperiments
import Foundation
import TOMLKit
import GateLabSupport

/// The tables of a `reproduction` report.
enum ReproductionReport {
    /// One row per trial. With a frozen-test trial among them (`StoppingCriterion.frozenTest`)
    /// a last column `sequences_until_correct` (`TrialRecord.sequencesUntilCorrect`: blank
    /// where it does not apply); without one the table is as it always was.
    static func pointsCSV(_ records: [TrialRecord]) -> String {
        let readings = hasFrozenTest(records)
        return "id,preset,variant,seed,solved,sequences,training_steps,wrong,test_count,test_mse,cerg_outcome,mean_test_stream_length,budget,seconds"
            + (readings ? ",sequences_until_correct" : "") + "\n"
            + records.map { r in
                ([r.id, r.preset, csvQuoted(r.variant), "\(r.seed)", "\(r.solved)", "\(r.sequences)", "\(r.trainingSteps)", "\(r.wrong)",
                  "\(r.testCount)", csvNumber(r.testMSE), r.cergOutcome ?? "", csvNumber(r.meanTestStreamLength), "\(r.parameters.budget)",
                  String(format: "%.1f", r.seconds)] + (readings ? [r.sequencesUntilCorrect.map(String.init) ?? ""] : [])).joined(separator: ",")
            }.joined(separator: "\n") + "\n"
    }

    /// Whether a trial among `records` is stopped by a frozen test.
    static func hasFrozenTest(_ records: [TrialRecord]) -> Bool {
        records.contains { if case .frozenTest = $0.parameters.criterion { true } else { false } }
    }

    /// The two readings of Exp. 2c's criterion side by side (only where a preset has frozen-test
    /// trials): per row, the trials solved, the stop, and the sequences until the net was judged
    /// correct (`TrialRecord.sequencesUntilCorrect`), the number the two readings share.
    static func readingsSection(_ ofPreset: [TrialRecord]) -> String {
        func reading(_ c: StoppingCriterion) -> (order: Int, text: String)? {
            switch c {
            case .successiveCorrect(let n): return (0, "running window: \(count(Double(n))) successive correct training sequences")
            case .frozenTest(let n, let every): return (1, "frozen test: \(count(Double(n))) fresh sequences every \(count(Double(every)))")
            default: return nil
            }
        }
        let tasks = unique(ofPreset.map(\.parameters.task))
        let labels = unique(ofPreset.filter { reading($0.parameters.criterion) != nil }.map(rowLabel)).sorted { a, b in
            let ra = ofPreset.first { rowLabel($0) == a }!, rb = ofPreset.first { rowLabel($0) == b }!
            let ka = (tasks.firstIndex(of: ra.parameters.task)!, reading(ra.parameters.criterion)!.order)
            let kb = (tasks.firstIndex(of: rb.parameters.task)!, reading(rb.parameters.criterion)!.order)
            return ka < kb
        }
        guard !labels.isEmpty else { return "" }
        var md = "\n### The stopping criterion read two ways\n\n"
        md += "Exp. 2c's success rule (\"for 10,000 successive random sequences, the final-prediction error of both output units is always "
            + "below 0.2\", `Notes/papers/hochreiter1997.md`) read as a running window over training, "
            + "and as a frozen test of fresh sequences with the weights fixed. The window needs its 10\u{202F}000 correct sequences after the net "
            + "has become correct, the frozen test passes (within its schedule) once it has; so \"until correct\" is the frozen test's stop "
            + "and the window's stop minus its 10\u{202F}000, the number the two readings share. Over solved trials (mean, median, min–max).\n\n"
        md += "| variant | reading | trials | solved | stop: mean | until correct: mean | median | min–max |\n"
        md += "|---|---|---|---|---|---|---|---|\n"
        for label in labels {
            let rows = ofPreset.filter { rowLabel($0) == label }
            let solved = rows.filter(\.solved)
            var line = "| \(label) | \(reading(rows[0].parameters.criterion)!.text) | \(rows.count) | \(solved.count)/\(rows.count) |"
            let until = solved.compactMap(\.sequencesUntilCorrect).map(Double.init)
            if until.isEmpty {
                line += " – | – | – | – |"
            } else {
                let stop = spread(solved.map { Double($0.sequences) }), u = spread(until)
                line += " \(count(stop.mean)) | \(count(u.mean)) | \(count(u.median)) | \(count(u.min))–\(count(u.max)) |"
            }
            md += line + "\n"
        }
        return md
    }

    /// The papers' rows (`PaperResults.rows`) of every paper the records' presets come from:
    /// per row, the trials run here beside the paper's number, and how many solved (for a row
    /// that is a stage of a trial, how many reached it). Rows without trials are listed too.
    static func coverageSection(_ records: [TrialRecord]) -> String {
        func paper(_ preset: String) -> Substring { preset.prefix { $0 != "-" } }
        let papers = Set(records.map { paper($0.preset) })
        let rows = PaperResults.rows.filter { papers.contains(paper($0.preset)) }
        guard !rows.isEmpty else { return "" }
        var md = "## The paper's rows and the trials run\n\n"
        md += "Every row of the paper's results tables with an LSTM result, whether or not `Notes/papers` gives its numbers: "
            + "the trials of it in this report (the paper's network and learning rule; the controls and the second reading of a criterion "
            + "are not counted), beside the paper's number of trials, and how many solved (for a row that is a stage of a trial, "
            + "how many reached that stage).\n\n"
        md += "| table | row | preset, variant | paper's trials | trials here | solved |\n|---|---|---|---|---|---|\n"
        for row in rows {
            let trials = records.filter { $0.preset == row.preset && $0.variant == row.variant && rowLabel($0) == $0.variant }
            let solved = row.stage.map { stage in trials.filter { $0.milestones.contains { $0.name == stage } }.count }
                ?? trials.filter(\.solved).count
            let here = trials.isEmpty ? "none" : trials.count >= row.trials ? "\(trials.count) (all)" : "\(trials.count) of \(row.trials)"
            md += "| \(row.table) | \(row.label) | `\(row.preset)` \(row.variant)\(row.stage.map { " (\($0))" } ?? "") | \(row.trials) | \(here) | "
                + (trials.isEmpty ? "–" : "\(solved)/\(trials.count)") + " |\n"
        }
        return md
    }

    /// The stages the trials of a preset passed on their way (their milestones other than the
    /// final and frozen tests: Exp. 3's ST1 and ST2, Exp. 5's n_seq levels, Exps. 2a/2b's
    /// adding of the cell), per row: trials that reached each, sequences until then, and the
    /// test taken there.
    static func stagesSection(_ ofPreset: [TrialRecord]) -> String {
        // The trial's end (its final test; CERG's `perfect` is its success, in the main table)
        // and the frozen tests of Exp. 2c's second reading are not stages.
        let notStages: Set = ["final", "final (test set)", "frozen-test", "perfect"]
        let names = unique(ofPreset.flatMap { $0.milestones.map(\.name) }.filter { !notStages.contains($0) })
        guard !names.isEmpty else { return "" }
        var md = "\n### Stages\n\n"
        md += "The stages the trials passed on their way (" + names.map { "`\($0)`" }.joined(separator: ", ") + "): per row, the trials that "
            + "reached each (with its 95 % Wilson interval), the training sequences until then over those trials (mean, median, min–max), "
            + "and the test taken there (wrong sequences and test MSE, means over those trials).\n\n"
        md += "| variant | stage | reached (95 % CI) | sequences: mean | median | min–max | wrong | test MSE |\n|---|---|---|---|---|---|---|---|\n"
        for label in unique(ofPreset.map(rowLabel)) {
            let rows = ofPreset.filter { rowLabel($0) == label }
            for name in names {
                let reached = rows.compactMap { r in r.milestones.first { $0.name == name } }
                guard !reached.isEmpty else { continue }
                let n = spread(reached.map { Double($0.sequences) })
                let interval = BinomialInterval.wilson(successes: reached.count, trials: rows.count)
                var line = "| \(label) | \(name) | \(reached.count)/\(rows.count) [\(percent(interval.lowerBound)), \(percent(interval.upperBound))] "
                    + "| \(count(n.mean)) | \(count(n.median)) | \(count(n.min))–\(count(n.max)) |"
                let tested = reached.filter { $0.testCount > 0 }
                if tested.isEmpty {
                    line += " – | – |"
                } else {
                    let wrong = tested.map { Double($0.wrong) }.reduce(0, +) / Double(tested.count)
                    line += String(format: " %.1f of %d |", wrong, tested[0].testCount)
                    let mses = tested.compactMap(\.testMSE)
                    line += mses.isEmpty ? " – |" : String(format: " %.3g |", mses.reduce(0, +) / Double(mses.count))
                }
                md += line + "\n"
            }
        }
        return md
    }

    /// A row of the report: the variant, and "full BPTT" for the full-gradient control.
    static func rowLabel(_ r: TrialRecord) -> String {
        if case .tanhRNN(let hidden) = r.parameters.network { return r.variant + " (tanh RNN, \(hidden) units, full BPTT)" }
        return r.variant + (r.parameters.gradient == .full ? " (full BPTT)" : "")
    }

    static func unique<T: Hashable>(_ xs: [T]) -> [T] { var s = Set<T>(); return xs.filter { s.insert($0).inserted } }

    static func count(_ x: Double) -> String {
        let n = Int(x.rounded())
        var digits = String(abs(n)), out = ""
        while digits.count > 3 { out = "\u{202F}" + digits.suffix(3) + out; digits = String(digits.dropLast(3)) }
        return (n < 0 ? "−" : "") + digits + out
    }

    static func percent(_ x: Double) -> String { String(format: "%.0f %%", 100 * x) }

    /// Mean, median, min and max of `xs` (not empty).
    static func spread(_ xs: [Double]) -> (mean: Double, median: Double, min: Double, max: Double) {
        let s = xs.sorted()
        let median = s.count % 2 == 1 ? s[s.count / 2] : (s[s.count / 2 - 1] + s[s.count / 2]) / 2
        return (s.reduce(0, +) / Double(s.count), median, s.first!, s.last!)
    }

    /// The verdict of one row: sequence count within a factor of 2 of the paper's mean, and
    /// the paper's success rate inside GateLab's 95 % interval.
    static func verdict(paper: PaperResult?, meanSequences: Double?, interval: ClosedRange<Double>) -> String {
        guard let paper else { return "no published figure here" }
        var parts = [String]()
        if let rate = paper.successRate {
            parts.append(interval.contains(rate) ? "rate agrees" : "rate differs")
        }
        if let published = paper.meanSequences {
            if let mean = meanSequences {
                let ratio = mean / published
                parts.append(ratio >= 0.5 && ratio <= 2 ? "sequences within 2×" : String(format: "sequences %.2g× the paper's", ratio))
            } else {
                parts.append("no solved trial to compare sequences")
            }
        }
        return parts.joined(separator: "; ")
    }

    /// One figure per preset: the share of a row's trials that had met the stopping criterion
    /// after n training sequences (streams), a step line per row (its learning curve over trials),
    /// and the paper's mean sequence count as a dashed vertical line where it gives one.
    static func figures(_ records: [TrialRecord]) -> [Figure] {
        var out = [Figure]()
        for preset in unique(records.map(\.preset)) {
            let ofPreset = records.filter { $0.preset == preset }
            let labels = unique(ofPreset.map(rowLabel))
            guard ofPreset.contains(where: \.solved) else { continue }
            let last = Double(ofPreset.map(\.sequences).max() ?? 1)
            var series = [FigureSeries]()
            for label in labels {
                let rows = ofPreset.filter { rowLabel($0) == label }
                let times = rows.filter(\.solved).map { Double($0.sequences) }.sorted()
                var points: [(x: Double, y: Double, low: Double, high: Double)] = [(0, 0, .nan, .nan)]
                for (i, x) in times.enumerated() {
                    points.append((x, Double(i) / Double(rows.count), .nan, .nan))
                    points.append((x, Double(i + 1) / Double(rows.count), .nan, .nan))
                }
                points.append((last, Double(times.count) / Double(rows.count), .nan, .nan))
                series.append(FigureSeries(title: "\(label) (\(rows.count) trials)", points: points, band: false, colorKey: label))
                if let mean = PaperResults.result(preset: preset, variant: rows[0].variant)?.meanSequences, rows[0].parameters.gradient == .truncated {
                    series.append(FigureSeries(title: "\(label): paper's mean", points: [(mean, 0, .nan, .nan), (mean, 1, .nan, .nan)],
                                               band: false, colorKey: label, dashKey: "paper"))
                }
            }
            let unit = ofPreset[0].parameters.task == .continualReber ? "training streams" : "training sequences"
            out.append(Figure(file: "figures/solved-\(preset).svg",
                              caption: "\(preset): share of each row's trials that had met the stopping criterion after n \(unit) "
                                + "(a step per solved trial; unsolved trials stop at their budget), the paper's mean dashed where it gives one.",
                              title: "\(preset): trials solved", xLabel: unit, yLabel: "share of trials solved",
                              panels: [FigurePanel(title: preset, series: series)]))
        }
        return out
    }

    /// The section of the gradient profile (`TrainedNetGradientProfile`), when its figure was drawn.
    static func profileSection(_ profile: TrainedNetGradientProfile, figure: Figure) -> String {
        let T = profile.steps
        let far = min(10, T - 1)   // the distances from which on the curves are summarised by their range
        func describe(_ r: TrialRecord, _ c: [Double]) -> String {
            let tail = c[far...]
            return "the \(r.solved ? "solved" : "unsolved") net (\(count(Double(r.sequences))) sequences, \(r.wrong) of \(r.testCount) wrong"
                + (r.testMSE.map { String(format: ", test MSE %.3g", $0) } ?? "") + ") "
                + String(format: "has log10‖∂L/∂y_c(t)‖ = %.2f at k = 0, %.2f at k = %d, and between %.2f and %.2f at every k from %d to %d",
                         c[0], c[far / 2], far / 2, tail.min()!, tail.max()!, far, T - 1)
        }
        var md = "## Gradient profile of a solved and an unsolved network\n\n"
        md += "The probe (`gatelab probe`'s `GradientProbe`) on trained 1997 networks: the \(TrainedNetGradientProfile.preset) trial "
            + "\(profile.records[0].variant), seed \(profile.records[0].seed) (the solved LSTM trial of the grid with the fewest training steps, "
            + "so retraining it for this figure takes seconds; the stored record is checked against the retrained trial), and the same trial "
            + "stopped after \(count(Double(TrainedNetGradientProfile.unsolvedBudget))) training sequences. Their weights are carried into `Cells/lstm1997.cell` by "
            + "`Architecture.network(cell:weights:)`, and the probe runs one sequence of the task (T = \(T), seed \(TrainedNetGradientProfile.sequenceSeed)) "
            + "with the loss L = net_k(T), the output unit's net input at the last step (∂L/∂y_c(T) = the output unit's weights on the cells), "
            + "through the full gradient of the cell file, not the truncated one the trials learned with. "
        let described = zip(profile.records, profile.curves).map { describe($0, $1) }.joined(separator: "; ")
        md += described.prefix(1).uppercased() + described.dropFirst() + ".\n\n"
        md += Report.figure(figure)
        return md
    }

    static func body(_ records: [TrialRecord], figures: [Figure] = [], profile: TrainedNetGradientProfile? = nil) -> ReportBody {
        let seconds = records.reduce(0) { $0 + $1.seconds }
        let generated = "\(records.count) trials, " + String(format: "%.0f s", seconds) + " of training in all (sum of the trials' wall times)."
        var sections = [String]()
        let coverage = coverageSection(records)
        if !coverage.isEmpty { sections.append(coverage) }
        for preset in unique(records.map(\.preset)) {
            let ofPreset = records.filter { $0.preset == preset }
            let cerg = ofPreset.first?.parameters.task == .continualReber
            var md = "## \(preset)\n\n"
            md += "Per variant (a row of the paper's table): trials, solved with its 95 % Wilson interval beside the paper's rate; "
                + "training \(cerg ? "streams" : "sequences") to success over the solved trials (mean, median, min–max) beside the paper's mean "
                + "(and range); the final test's wrong \(cerg ? "test streams (of 10, error before 100 000 symbols)" : "sequences (mean over solved trials, of the test's size)") "
                + "beside the paper's; the verdict (sequences within a factor of 2 of the paper's mean; the paper's rate inside the interval).\n\n"
            md += "| variant | trials | solved (95 % CI) | paper | \(cerg ? "streams" : "sequences"): mean | median | min–max | paper mean (range) | wrong | paper wrong |"
                + (cerg ? " perfect / good / rest | paper |" : "") + " verdict |\n"
            md += "|---|---|---|---|---|---|---|---|---|---|" + (cerg ? "---|---|" : "") + "---|\n"
            for label in unique(ofPreset.map(rowLabel)) {
                let rows = ofPreset.filter { rowLabel($0) == label }
                let variant = rows[0].variant
                let solved = rows.filter(\.solved)
                let interval = BinomialInterval.wilson(successes: solved.count, trials: rows.count)
                let paper = PaperResults.result(preset: preset, variant: variant)
                var line = "| \(label) | \(rows.count) | \(solved.count)/\(rows.count) = \(percent(Double(solved.count) / Double(rows.count))) "
                    + "[\(percent(interval.lowerBound)), \(percent(interval.upperBound))] | "
                line += paper?.successRate.map { "\(percent($0)) of \(paper!.trials)" } ?? "–"
                var meanSequences: Double?
                if solved.isEmpty {
                    line += " | – | – | – |"
                } else {
                    let s = spread(solved.map { Double($0.sequences) })
                    meanSequences = s.mean
                    line += " | \(count(s.mean)) | \(count(s.median)) | \(count(s.min))–\(count(s.max)) |"
                }
                if let mean = paper?.meanSequences {
                    line += " \(count(mean))" + (paper?.sequenceRange.map { " (\(count($0.lowerBound))–\(count($0.upperBound)))" } ?? "") + " |"
                } else {
                    line += " – |"
                }
                if solved.isEmpty {
                    line += " – |"
                } else {
                    let w = spread(solved.map { Double($0.wrong) })
                    line += String(format: " %.1f", w.mean) + " (\(Int(w.min))–\(Int(w.max))) of \(solved[0].testCount) |"
                }
                line += paper?.wrongOf2560.map { " \(formatNumber($0)) of 2560 |" } ?? " – |"
                if cerg {
                    let outcomes = ["perfect", "good", "rest"].map { o in rows.filter { $0.cergOutcome == o }.count }
                    line += " \(outcomes.map(String.init).joined(separator: " / ")) |"
                    if let paper, let p = paper.successRate, let g = paper.goodRate, let r = paper.restRate {
                        line += " \(percent(p)) / \(percent(g)) / \(percent(r)) |"
                    } else {
                        line += " – |"
                    }
                }
                line += " \(verdict(paper: paper, meanSequences: meanSequences, interval: interval)) |\n"
                md += line
            }
            let unsolved = ofPreset.filter { !$0.solved }
            if !unsolved.isEmpty {
                md += "\nUnsolved trials stopped at their budget: " + unique(unsolved.map(rowLabel)).map { v in
                    let rs = unsolved.filter { rowLabel($0) == v }
                    return "\(v): \(rs.count) (budget \(count(Double(rs[0].parameters.budget))))"
                }.joined(separator: "; ") + ".\n"
            }
            if let source = ofPreset.compactMap({ PaperResults.result(preset: preset, variant: $0.variant)?.source }).first {
                md += "\nPaper figures: \(source) (`Notes/papers/\(preset.prefix { $0 != "-" }).md`).\n"
            } else {
                md += "\nThe paper's results for this experiment are withheld from `Notes/papers`: GateLab's numbers only.\n"
            }
            md += stagesSection(ofPreset)
            if hasFrozenTest(ofPreset) { md += readingsSection(ofPreset) }
            for f in figures where f.file == "figures/solved-\(preset).svg" { md += "\n" + Report.figure(f) }
            sections.append(md)
        }
        if let profile, let figure = figures.first(where: { $0.file == profile.figure.file }) {
            sections.append(profileSection(profile, figure: figure))
        }
        return ReportBody(generated: generated, sections: sections, files: [
            "- `points.csv`: one row per trial (preset, variant, seed, solved, sequences, wrong, test MSE, CERG outcome, budget, wall time"
                + (hasFrozenTest(records) ? "; sequences until the net was judged correct, where a row reads Exp. 2c's criterion as a frozen test or a running window" : "")
                + ").",
            "- `results/curves/<id>.csv`: the tests each trial took (`name,sequences,wrong,test_count,test_mse`).",
        ], rerun: "Re-running the command regenerates this file bit for bit from the stored trials (a fresh run gives the same results, "
            + "in other wall times)")
    }
}
