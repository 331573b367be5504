import Testing
@testable import GateLabReproductions

private let nbsp = "\u{202F}"

private func record(_ preset: String, _ variant: String, seed: UInt64, solved: Bool, sequences: Int,
                    milestones: [Milestone] = [], network: String? = nil) throws -> TrialRecord {
    var p = try Presets.parameters(preset, variant: variant)
    if network == "tanh-rnn" { p = p.withTanhRNNControl() }
    return TrialRecord(preset: preset, variant: variant, seed: seed, parameters: p, solved: solved, sequences: sequences, trainingSteps: 0,
                       wrong: 1, testCount: 2560, testMSE: 0.001, milestones: milestones, cergOutcome: nil, meanTestStreamLength: nil, seconds: 0)
}

@Suite("Reports name every LSTM row of the paper's tables, with the trials run and the paper's count")
struct PaperRowsTests {
    @Test("Every LSTM row of H&S 1997 Tables 1–9 and Gers 2000 Table 2, with a preset variant that exists and the paper's trials")
    func rowsExist() throws {
        let rows = PaperResults.rows
        let h = rows.filter { $0.preset.hasPrefix("hochreiter1997") }
        // Table 1: 5 rows; 2: 2a (2b is in §5.2's text); 3: nine (q, p); 4: 3; 5: 3; 6: 2; 7: 3;
        // 8: two n_seq levels; 9: 6a, 6b.
        #expect(h.count == 5 + 2 + 9 + 3 + 3 + 2 + 3 + 2 + 2)
        #expect(Set(h.map(\.table)) == Set((1...9).map { "H&S 1997 Table \($0)" } + ["H&S 1997 §5.2"]))
        #expect(rows.filter { $0.preset == "gers2000-cerg" }.count == 5)
        for row in rows {
            // The variant exists (no typo can leave a row without trials).
            _ = try Presets.parameters(row.preset, variant: row.variant)
            if let published = PaperResults.result(preset: row.preset, variant: row.variant) {
                #expect(published.trials == row.trials, "\(row.label)")
            }
        }
        #expect(h.first { $0.label == "Exp. 2c, q = 1000, p = 50" }?.variant == "2c-9")
        #expect(h.filter { $0.table == "H&S 1997 Table 3" }.allSatisfy { $0.trials == 20 })
        #expect(h.filter { $0.preset.hasSuffix("exp2a") || $0.preset.hasSuffix("exp2b") }.allSatisfy { $0.trials == 18 })
        #expect(h.filter { $0.preset == "hochreiter1997-exp5" }.map(\.stage) == ["n_seq<140", "n_seq<13"])
    }

    @Test("The coverage table: trials here of the paper's, solved (or reached, for a stage); rows without trials say none; controls not counted")
    func coverage() throws {
        let records = [
            try record("hochreiter1997-exp4", "T=100", seed: 1, solved: true, sequences: 70_000),
            try record("hochreiter1997-exp4", "T=100", seed: 2, solved: false, sequences: 1_000_000),
            try record("hochreiter1997-exp4", "T=100", seed: 1, solved: false, sequences: 1_000_000, network: "tanh-rnn"),
            try record("hochreiter1997-exp5", "T=100", seed: 1, solved: false, sequences: 2_000_000,
                       milestones: [Milestone(name: "n_seq<140", sequences: 700_000, wrong: 200, testCount: 2560, testMSE: 0.0005)]),
        ]
        let section = ReproductionReport.coverageSection(records)
        let lines = section.split(separator: "\n").map(String.init)
        #expect(lines.contains("| H&S 1997 Table 7 | Exp. 4, T = 100 | `hochreiter1997-exp4` T=100 | 10 | 2 of 10 | 1/2 |"), "\(section)")
        #expect(lines.contains("| H&S 1997 Table 7 | Exp. 4, T = 1000 | `hochreiter1997-exp4` T=1000 | 10 | none | – |"))
        #expect(lines.contains("| H&S 1997 Table 8 | Exp. 5, T = 100, n_seq = 140 | `hochreiter1997-exp5` T=100 (n_seq<140) | 10 | 1 of 10 | 1/1 |"))
        #expect(lines.contains("| H&S 1997 Table 8 | Exp. 5, T = 100, n_seq = 13 | `hochreiter1997-exp5` T=100 (n_seq<13) | 10 | 1 of 10 | 0/1 |"))
        #expect(lines.contains("| H&S 1997 Table 2 | Exp. 2a, p = 100 | `hochreiter1997-exp2a` p=100 | 18 | none | – |"))
        // Only the papers the records come from.
        #expect(!section.contains("Gers 2000"))
        #expect(lines.filter { $0.hasPrefix("| H&S 1997 ") }.count == 31)
        // And the section opens the report.
        #expect(ReproductionReport.body(records).sections.first == section)
        // A full set counts as all.
        let thirty = try (1...30).map { try record("hochreiter1997-exp1", "1-1", seed: UInt64($0), solved: $0 <= 3, sequences: 50_000) }
        #expect(ReproductionReport.coverageSection(thirty).contains("| 30 | 30 (all) | 3/30 |"))
    }

    @Test("The stages table: per row and stage the trials that reached it, sequences until then, the test there; finals and frozen tests are not stages")
    func stages() throws {
        func st(_ name: String, _ n: Int, wrong: Int = 3, count: Int = 256, mse: Double? = 0.002) -> Milestone {
            Milestone(name: name, sequences: n, wrong: wrong, testCount: count, testMSE: mse)
        }
        let records = [
            try record("hochreiter1997-exp3a", "T=100,N=3", seed: 1, solved: true, sequences: 40_000,
                       milestones: [st("ST1", 10_000, wrong: 0), st("ST2", 30_000, wrong: 0), st("final", 40_000, count: 2560)]),
            try record("hochreiter1997-exp3a", "T=100,N=3", seed: 2, solved: false, sequences: 2_000_000,
                       milestones: [st("ST1", 20_000, wrong: 0), st("final", 2_000_000, count: 2560)]),
        ]
        let section = ReproductionReport.stagesSection(records)
        let lines = section.split(separator: "\n").map(String.init)
        #expect(lines.contains("| T=100,N=3 | ST1 | 2/2 [34 %, 100 %] | 15\(nbsp)000 | 15\(nbsp)000 | 10\(nbsp)000–20\(nbsp)000 | 0.0 of 256 | 0.002 |"), "\(section)")
        #expect(lines.contains("| T=100,N=3 | ST2 | 1/2 [9 %, 91 %] | 30\(nbsp)000 | 30\(nbsp)000 | 30\(nbsp)000–30\(nbsp)000 | 0.0 of 256 | 0.002 |"))
        #expect(!section.contains("| final |"))
        // A stage without a test (Exps. 2a/2b's cell added) shows no test columns.
        let grown = try record("hochreiter1997-exp2a", "p=100", seed: 1, solved: false, sequences: 5_000_000,
                               milestones: [st("cells added", 4_100, wrong: 0, count: 0, mse: nil)])
        #expect(ReproductionReport.stagesSection([grown]).contains("| p=100 | cells added | 1/1 [21 %, 100 %] | 4\(nbsp)100 | 4\(nbsp)100 | 4\(nbsp)100–4\(nbsp)100 | – | – |"))
        // CERG's success is not a stage.
        let cerg = try record("gers2000-cerg", "forget-gates", seed: 1, solved: true, sequences: 9_000,
                              milestones: [Milestone(name: "perfect", sequences: 9_000, wrong: 0, testCount: 10, testMSE: nil)])
        #expect(ReproductionReport.stagesSection([cerg]).isEmpty)
        // No stages, no section.
        #expect(ReproductionReport.stagesSection([try record("hochreiter1997-exp4", "T=100", seed: 1, solved: true, sequences: 1)]).isEmpty)
    }
}
