@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabTraining
import GateLabSupport

/// Experiment files of kind `study`: bad input named by file, line and key; a tiny study run
/// end to end (shared samples, resumed, the report rewritten byte for byte).
@Suite struct StudyTests {
    /// The repository's root (the tests read the shipped cell files).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    static func source(cifg: String = root + "/Cells/lstm-cifg.cell", samples: String = "3", search: String = """
        lr = {log_uniform = [1e-3, 1e-1]}
        hidden = {uniform_int = [2, 4]}
        momentum = {uniform = [0, 0.9]}
        """, baseline: String = "\"lstm\"") -> String {
        """
        name = "tiny-study"
        kind = "study"
        [defaults]
        cells = ["lstm", "\(cifg)"]
        baseline = \(baseline)
        samples = \(samples)
        seed = 3
        optimizer = "sgd"
        batch = 2
        updates = 4
        eval_every = 2
        eval_size = 2
        stop_when_solved = false
        [defaults.search]
        \(search)
        [[grid]]
        task = "adding"
        steps = 4
        [quick]
        samples = 2
        """
    }

    func refusal(_ text: String) throws -> String {
        let e = try #require(throws: ExperimentError.self) { try Experiment<StudyKind>(source: text, file: "s.toml") }
        return e.description
    }

    @Test func badStudyFilesAreRefusedNamingFileLineAndKey() throws {
        #expect(try refusal(Self.source(search: "lr = {log_uniform = [1e-2, 1e-2]}"))
                == "s.toml:15: defaults.search.lr: an empty range [0.01, 0.01]: give low < high, or fix the setting outside [search]")
        #expect(try refusal(Self.source(search: "momentum = {uniform = [0.9, 0.1]}"))
                == "s.toml:15: defaults.search.momentum: an inverted range [0.9, 0.1]: give low < high")
        #expect(try refusal(Self.source(search: "lr = {log_uniform = [0, 0.1]}"))
                == "s.toml:15: defaults.search.lr: a log-uniform range must lie above 0, got [0, 0.1]")
        #expect(try refusal(Self.source(search: "hidden = {log_uniform_int = [0, 8]}"))
                == "s.toml:15: defaults.search.hidden: a log-uniform range must lie above 0, got [0, 8]")
        let unknown = try refusal(Self.source(search: "lrr = {log_uniform = [1e-3, 1e-1]}"))
        #expect(unknown.hasPrefix("s.toml:15: defaults.search.lrr: unknown hyperparameter 'lrr' (did you mean 'lr'?); searchable: "), "\(unknown)")
        #expect(try refusal(Self.source(baseline: "\"gru\""))
                == "s.toml:5: defaults.baseline: baseline 'gru' is not among the cells (lstm, lstm-cifg); name one of them")
        #expect(try refusal(Self.source(samples: "0")) == "s.toml:6: defaults.samples: must be between 1 and 10000 (samples per cell), got 0")
        #expect(try refusal(Self.source(samples: "10001")) == "s.toml:6: defaults.samples: must be between 1 and 10000 (samples per cell), got 10001")
        let distribution = try refusal(Self.source(search: "lr = {log_normal = [1e-3, 1e-1]}"))
        #expect(distribution == "s.toml:15: defaults.search.lr: unknown distribution 'log_normal'; valid: log_uniform, uniform, log_uniform_int, uniform_int, choice", "\(distribution)")
        // A drawn value the setting refuses is named at the search key (through `train`'s setter).
        #expect(try refusal(Self.source(search: "optimizer = {choice = [\"sgd\", \"adamw\"]}")).hasPrefix("s.toml:15: defaults.search.optimizer: unknown optimizer 'adamw'"))
        #expect(try refusal(Self.source(samples: "[1, 2]")).hasPrefix("s.toml:6: defaults.samples: a study takes one value here"))
    }

    @Test func cellsAreNamedByNameNeverByPath() throws {
        let e = try Experiment<StudyKind>(source: Self.source(), file: "s.toml")
        #expect(e.points.count == 6 && e.quickPoints.count == 4)
        #expect(StudyKind.safeName("../x") == "--x" && StudyKind.safeName(".hidden") == "hidden" && StudyKind.safeName("a b/c") == "a-b-c")
        #expect(StudyKind.uniqueName("lstm", among: ["lstm", "lstm-2"]) == "lstm-3")
        #expect(Set(e.points.map(\.cell)) == ["lstm", "lstm-cifg"])
        #expect(e.points.allSatisfy { !$0.id.hasPrefix(".") && !$0.id.contains("..") && !$0.id.contains("/") }, "\(e.points.map(\.id))")
        // The baseline may be named by the cell's name as well as by its file.
        let byName = try Experiment<StudyKind>(source: Self.source(baseline: "\"lstm-cifg\""), file: "s.toml")
        #expect(byName.points.filter(\.baseline).allSatisfy { $0.cell == "lstm-cifg" })
        // The quick samples are the first of the full ones.
        #expect(e.quickPoints.map(\.values) == e.points.filter { $0.sample <= 2 }.map(\.values))
    }

    @Test func aTinyStudyRunsSharesItsSamplesAndRewritesItsReportByteForByte() throws {
        let e = try Experiment<StudyKind>(source: Self.source(), file: "tiny-study.toml")
        let dir = NSTemporaryDirectory() + "gatelab-study-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RunOptions(version: "v")
        options.outputDirectory = dir
        options.progress = .silent
        let runner = ExperimentRunner(experiment: e, options: options)
        let first = try runner.run()
        #expect(first.computed == 6 && first.complete)
        let files = ["report.md", "cells.csv", "tests.csv", "importance.csv", "points.csv"]
        let before = try files.map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
        let records = try String(contentsOfFile: dir + "/results/results.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try StudyRecord(jsonLine: String(SealedLine.unseal(String($0)).body)) }
        #expect(records.count == 6)
        // Paired: sample i has the same values and the same seed in both cells; samples differ.
        for sample in 1...3 {
            let pair = records.filter { $0.sample == sample }
            #expect(pair.count == 2 && pair[0].values == pair[1].values
                    && pair[0].training.configuration.seed == pair[1].training.configuration.seed)
            #expect(Set(pair.map(\.training.configuration.cell)).count == 2)
        }
        #expect(Set(records.map(\.values)).count == 3)
        #expect(records.allSatisfy { $0.test != nil && $0.bestValidation != nil && $0.training.updates == 4 })
        #expect(records.filter(\.baseline).allSatisfy { $0.cell == "lstm" })
        // The record holds the whole training configuration, the sample applied.
        let r = records[0]
        #expect(r.training.configuration.learningRate == r.values.first { $0.key == "lr" }!.value.number)
        #expect(r.training.configuration.hidden == Int(r.values.first { $0.key == "hidden" }!.value.number!))
        let again = try runner.run()
        #expect(again.computed == 0 && again.reused == 6)
        let after = try files.map { try String(contentsOfFile: dir + "/" + $0, encoding: .utf8) }
        #expect(before == after)
        #expect(before[0].contains("### Against the baseline (lstm)") && before[0].contains("| lstm-cifg |"))
    }

    /// A trial's record carries the content hash of its cell file; editing the file computes
    /// that cell's trials again and reuses the built-in cell's.
    @Test func editingACellFileRecomputesItsTrialsOnly() throws {
        let dir = NSTemporaryDirectory() + "gatelab-study-inputs-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cifg = try String(contentsOfFile: Self.root + "/Cells/lstm-cifg.cell", encoding: .utf8)
        try cifg.write(toFile: dir + "/c.cell", atomically: true, encoding: .utf8)
        let e = try Experiment<StudyKind>(source: Self.source(cifg: dir + "/c.cell", samples: "2"), file: dir + "/s.toml")
        var options = RunOptions(version: "v")
        options.outputDirectory = dir + "/out"
        options.progress = .silent
        #expect(try ExperimentRunner(experiment: e, options: options).run().computed == 4)
        let records = try String(contentsOfFile: dir + "/out/results/results.jsonl", encoding: .utf8).split(separator: "\n")
            .map { try StudyRecord(jsonLine: String(SealedLine.unseal(String($0)).body)) }
        let hash = try ContentHash.ofFile(dir + "/c.cell")
        #expect(records.filter { $0.cell == "lstm-cifg" }.allSatisfy { $0.inputs == [dir + "/c.cell": hash] && $0.recordFormat == 2 })
        #expect(records.filter { $0.cell == "lstm" }.allSatisfy { $0.inputs == nil && $0.recordFormat == 2 })
        try (cifg + "\n# edited\n").write(toFile: dir + "/c.cell", atomically: true, encoding: .utf8)
        let again = try ExperimentRunner(experiment: e, options: options).run()
        #expect(again.computed == 2 && again.reused == 2 && again.inputChanged == 2)
    }

    /// The committed Greff et al. study is the one its notes describe: 11 cells (the peephole
    /// LSTM the baseline) × 30 shared samples on the adding problem and the chorales; the quick
    /// slice 3 of the cells at 16 samples (enough for the importance fit) and 300 updates.
    @Test func theGreffStudyFileIsTheOneItsNotesDescribe() throws {
        let file = Self.root + "/Experiments/greff2017.toml"
        let e = try Experiment<StudyKind>(source: try String(contentsOfFile: file, encoding: .utf8), file: file)
        let full = e.points(quick: false), quick = e.points(quick: true)
        #expect(full.count == 2 * 11 * 30 && quick.count == 2 * 3 * 16)
        #expect(Set(quick.map(\.cell)) == ["lstm-peephole", "lstm-nfg", "lstm-cifg"] && quick.allSatisfy { $0.configuration.updates == 300 })
        #expect(Set(full.map(\.study)) == ["adding-T30", "chorales"])
        #expect(Set(full.map(\.cell)).count == 11 && full.filter(\.baseline).allSatisfy { $0.cell == "lstm-peephole" })
        // Paired: every cell of a task has the same 30 samples.
        for study in ["adding-T30", "chorales"] {
            let samples = Dictionary(grouping: full.filter { $0.study == study }, by: \.sample)
            #expect(samples.count == 30 && samples.values.allSatisfy { Set($0.map(\.values)).count == 1 && $0.count == 11 })
        }
        #expect(full.filter { $0.study == "chorales" }.allSatisfy { $0.configuration.task == "chorales" && $0.configuration.updates == 800 })
    }

    /// Per task, the report says what it measured: a task without a criterion (the chorales)
    /// has no solved column, and each task names its own validation and test sets and fixed
    /// settings (the chorales' own splits; the adding problem's sets drawn from seeds).
    @Test func eachTaskIsReportedWithItsOwnLossSetsAndSettings() throws {
        let source = Self.source(samples: "2").replacingOccurrences(of: "[[grid]]\ntask = \"adding\"\nsteps = 4\n", with: """
            [[grid]]
            task = "adding"
            steps = 4
            [[grid]]
            task = "chorales"
            steps = 16
            batch = 64
            updates = 2

            """) + "\n[output]\nfigures = false\n"
        #expect(source.contains("task = \"chorales\""))
        let e = try Experiment<StudyKind>(source: source, file: Self.root + "/Experiments/tiny-study.toml")
        let dir = NSTemporaryDirectory() + "gatelab-study-tasks-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RunOptions(version: "v")
        options.outputDirectory = dir
        options.progress = .silent
        #expect(try ExperimentRunner(experiment: e, options: options).run().computed == 8)
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        let chorales = String(report[report.range(of: "## chorales-T16")!.lowerBound...])
        let adding = String(report[report.range(of: "## adding-T4")!.lowerBound..<report.range(of: "## chorales-T16")!.lowerBound])
        #expect(adding.contains("solved [95 % Wilson]") && adding.contains("the test mean squared error at the best validation evaluation"))
        #expect(!chorales.contains("solved [95 % Wilson]") && chorales.contains("The task has no criterion for solved"))
        #expect(chorales.contains("the test Bernoulli negative log-likelihood per step"))
        #expect(report.contains("- chorales-T16, fixed (as in its first trial, where not searched): sgd, batch 64, 2 updates")
                && report.contains("validation set: the task's validation split (") && report.contains("test set: the task's test split ("))
        #expect(report.contains("- adding-T4, fixed (as in its first trial, where not searched): sgd, batch 2, 4 updates")
                && report.contains("validation set: 2 sequences drawn from seed"))
        let rows = try String(contentsOfFile: dir + "/cells.csv", encoding: .utf8).split(separator: "\n").filter { $0.hasPrefix("chorales-T16,") }
        #expect(rows.count == 2 && rows.allSatisfy { $0.hasSuffix(",,,") })
    }

    @Test func inputNoiseIsATrainingSettingAbsentFromRecordsByDefault() throws {
        var c = TrainingConfiguration()
        c.task = "adding"; c.length = 4; c.hidden = 2; c.batch = 2; c.updates = 3; c.evalEvery = 3; c.evalSize = 2; c.profileEvery = 0
        let line = try RecordJSON.line(c)
        #expect(!line.contains("input_noise") && !line.contains("stop_when_solved"))
        let plain = try Trainer(c).run()
        var noisy = c
        noisy.inputNoise = 0.5
        let noisyLine = try RecordJSON.line(noisy)
        #expect(noisyLine.contains("\"input_noise\":0.5") && noisy.id != c.id)
        let withNoise = try Trainer(noisy).run()
        #expect(withNoise.trainLoss != plain.trainLoss)
        #expect(withNoise.evaluations[0] == plain.evaluations[0], "the held-out set has no noise")
        #expect(try Trainer(noisy).run().trainLoss == withNoise.trainLoss)
    }
}
