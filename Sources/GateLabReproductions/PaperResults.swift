/// The papers' published numbers, beside which the `reproduction` report puts GateLab's.
///
/// Sources (paraphrased with the numbers verbatim in `Notes/papers/`):
/// - H&S 1997 Table 1 (embedded Reber grammar; LSTM rows, means of 30 trials; the caption gives
///   3 800 – 24 100 for the 3×2, α = 0.5 row; one failure in each 97 % row);
/// - H&S 1997 Table 7 (adding problem; means of 10 trials; "wrong" of 2560 test sequences;
///   370 000 – 2 020 000 at T = 1000);
/// - Gers, Schmidhuber & Cummins 2000 Table 2 (CERG; 100 networks per row; percentages of
///   perfect / good / rest; the mean training streams of the perfect networks).
/// The results of H&S Exps. 2, 3, 5 and 6 are withheld from `Notes/papers` on purpose: rows
/// of those presets show GateLab's numbers only. `PaperResults.rows` lists every LSTM row of
/// the tables all the same, with its trial count.
public struct PaperResult: Sendable, Equatable {
    /// Where the number comes from, e.g. "H&S 1997 Table 7".
    public var source: String
    /// Trials (networks) the paper's figure is over.
    public var trials: Int
    /// The paper's success rate (0…1): Table 1's %, Table 2's % perfect; nil where not given.
    public var successRate: Double?
    /// Mean training sequences (CERG: streams) until success, of the successful trials.
    public var meanSequences: Double?
    /// The range of single trials, where the paper gives one.
    public var sequenceRange: ClosedRange<Double>?
    /// Wrong test sequences of 2560 (Table 7).
    public var wrongOf2560: Double?
    /// Gers Table 2: % good and % rest (of 100).
    public var goodRate: Double?, restRate: Double?

    init(_ source: String, trials: Int, success: Double? = nil, mean: Double? = nil, range: ClosedRange<Double>? = nil,
         wrong: Double? = nil, good: Double? = nil, rest: Double? = nil) {
        (self.source, self.trials, successRate, meanSequences, sequenceRange, wrongOf2560, goodRate, restRate)
            = (source, trials, success, mean, range, wrong, good, rest)
    }
}

public enum PaperResults {
    /// Preset name → variant → the paper's figure. A variant that is absent has no published
    /// number available here.
    public static let table: [String: [String: PaperResult]] = [
        // H&S 1997 Table 1, LSTM rows (α, net) = Table 10 rows 1-1 … 1-5.
        "hochreiter1997-exp1": [
            "1-1": PaperResult("H&S 1997 Table 1", trials: 30, success: 1.00, mean: 39_740),
            "1-2": PaperResult("H&S 1997 Table 1", trials: 30, success: 1.00, mean: 21_730),
            "1-3": PaperResult("H&S 1997 Table 1", trials: 30, success: 0.97, mean: 14_060),
            "1-4": PaperResult("H&S 1997 Table 1", trials: 30, success: 0.97, mean: 9_500),
            "1-5": PaperResult("H&S 1997 Table 1", trials: 30, success: 1.00, mean: 8_440, range: 3_800...24_100),
        ],
        // H&S 1997 Table 7. Every trial stopped by ST3 (the table gives no failures).
        "hochreiter1997-exp4": [
            "T=100": PaperResult("H&S 1997 Table 7", trials: 10, success: 1.0, mean: 74_000, wrong: 1),
            "T=500": PaperResult("H&S 1997 Table 7", trials: 10, success: 1.0, mean: 209_000, wrong: 0),
            "T=1000": PaperResult("H&S 1997 Table 7", trials: 10, success: 1.0, mean: 853_000, range: 370_000...2_020_000, wrong: 1),
        ],
        // Gers et al. 2000 Table 2 (perfect % (streams); good %; rest %).
        "gers2000-cerg": [
            "standard-external-reset": PaperResult("Gers 2000 Table 2", trials: 100, success: 0.74, mean: 7_441, good: 0, rest: 0.26),
            "standard": PaperResult("Gers 2000 Table 2", trials: 100, success: 0, good: 0.01, rest: 0.99),
            "state-decay-0.9": PaperResult("Gers 2000 Table 2", trials: 100, success: 0, good: 0, rest: 1.00),
            "forget-gates": PaperResult("Gers 2000 Table 2", trials: 100, success: 0.18, mean: 18_889, good: 0.29, rest: 0.53),
            "forget-gates-alpha-decay": PaperResult("Gers 2000 Table 2", trials: 100, success: 0.62, mean: 14_087, good: 0.06, rest: 0.32),
        ],
    ]

    /// The paper's figure for a preset's variant, or nil.
    public static func result(preset: String, variant: String) -> PaperResult? { table[preset]?[variant] }

    /// Every row of the papers' results tables that has an LSTM result (H&S 1997 Tables 1–9 and
    /// Exp. 2b, reported in §5.2's text; Gers 2000 Table 2), in the paper's order, with the preset and variant that reproduce it
    /// and the paper's number of trials (`Notes/papers/`). A report names each one, with the
    /// trials it ran, whether or not the paper's numbers are given here.
    public static let rows: [PaperRow] = {
        var rows = [PaperRow]()
        func add(_ table: String, _ label: String, _ preset: String, _ variant: String, trials: Int, stage: String? = nil) {
            rows.append(PaperRow(table: table, label: label, preset: preset, variant: variant, trials: trials, stage: stage))
        }
        let h = "H&S 1997 Table"
        for (variant, label) in [("1-1", "4 blocks × 1, α = 0.1"), ("1-2", "3 blocks × 2, α = 0.1"), ("1-3", "3 blocks × 2, α = 0.2"),
                                 ("1-4", "4 blocks × 1, α = 0.5"), ("1-5", "3 blocks × 2, α = 0.5")] {
            add("\(h) 1", "Exp. 1, \(label)", "hochreiter1997-exp1", variant, trials: 30)
        }
        add("\(h) 2", "Exp. 2a, p = 100", "hochreiter1997-exp2a", "p=100", trials: 18)
        // Exp. 2b is placed under §5.2, which describes it: Notes/papers does not say whether its
        // result is a row of Table 2 (2a's) or given in the text.
        add("H&S 1997 §5.2", "Exp. 2b, p = 100", "hochreiter1997-exp2b", "p=100", trials: 18)
        for row in Presets.exp2cRows {
            add("\(h) 3", "Exp. 2c, q = \(row.q), p = \(row.p)", "hochreiter1997-exp2c", row.name, trials: 20)
        }
        for (table, exp, conditions) in [("4", "3a", ["T=100,N=3", "T=100,N=1", "T=1000,N=3"]), ("5", "3b", ["T=100,N=3", "T=100,N=1", "T=1000,N=1"]),
                                         ("6", "3c", ["T=100,N=3", "T=100,N=1"])] {
            for c in conditions {
                add("\(h) \(table)", "Exp. \(exp), \(c.replacingOccurrences(of: ",", with: ", ").replacingOccurrences(of: "=", with: " = "))",
                    "hochreiter1997-exp\(exp)", c, trials: 10)
            }
        }
        for t in [100, 500, 1000] { add("\(h) 7", "Exp. 4, T = \(t)", "hochreiter1997-exp4", "T=\(t)", trials: 10) }
        for n in [140, 13] {
            add("\(h) 8", "Exp. 5, T = 100, n_seq = \(n)", "hochreiter1997-exp5", "T=100", trials: 10, stage: "n_seq<\(n)")
        }
        add("\(h) 9", "Exp. 6a", "hochreiter1997-exp6a", "6a", trials: 20)
        add("\(h) 9", "Exp. 6b", "hochreiter1997-exp6b", "6b", trials: 10)
        for (variant, label) in [("standard-external-reset", "standard LSTM, external reset"), ("standard", "standard LSTM"),
                                 ("state-decay-0.9", "LSTM with state decay (0.9)"), ("forget-gates", "LSTM with forget gates"),
                                 ("forget-gates-alpha-decay", "LSTM with forget gates and decaying α")] {
            add("Gers 2000 Table 2", label, "gers2000-cerg", variant, trials: 100)
        }
        return rows
    }()
}

/// A row of a paper's results table (see `PaperResults.rows`).
public struct PaperRow: Sendable, Equatable {
    /// The table, e.g. "H&S 1997 Table 3".
    public var table: String
    /// The row in the paper's terms, e.g. "Exp. 2c, q = 100, p = 100".
    public var label: String
    /// The preset and variant whose trials reproduce it.
    public var preset: String, variant: String
    /// The paper's number of trials (networks).
    public var trials: Int
    /// Where the row is a stage of the variant's trials (a `Milestone` name, e.g. Exp. 5's
    /// `n_seq<140`), that stage; nil where the row is the trial's end.
    public var stage: String?
}

/// A binomial proportion's confidence interval.
public enum BinomialInterval {
    /// The Wilson score interval for `successes` of `trials` at the normal quantile `z`
    /// (1.959963984540054 for 95 %). It stays inside [0, 1] and is not degenerate at 0 or n
    /// successes, unlike the Wald interval; with n = 0 it is all of [0, 1].
    /// - Parameters:
    ///   - k: the successes.
    ///   - n: the trials.
    ///   - z: The two-sided normal quantile.
    public static func wilson(successes k: Int, trials n: Int, z: Double = 1.959963984540054) -> ClosedRange<Double> {
        guard n > 0 else { return 0...1 }
        let nn = Double(n), p = Double(k) / nn, z2 = z * z
        let centre = (p + z2 / (2 * nn)) / (1 + z2 / nn)
        let half = z / (1 + z2 / nn) * (p * (1 - p) / nn + z2 / (4 * nn * nn)).squareRoot()
        // At k = 0 and k = n the bound is exactly 0 or 1 (rounding could leave 1e-17).
        return (k == 0 ? 0 : max(0, centre - half))...(k == n ? 1 : min(1, centre + half))
    }
}
