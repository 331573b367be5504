@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabTraining
import GateLabSupport

/// Experiment files of kind `train`: parsing, bad input, a resumable grid and its report.
@Suite struct ExperimentTests {
    let source = """
        name = "tiny"
        kind = "train"
        [defaults]
        hidden = 3
        batch = 2
        updates = 4
        eval_every = 2
        eval_size = 2
        profile_every = 0
        task = "adding"
        steps = [4, 6]
        [[grid]]
        cell = ["rnn", "gru"]
        [[grid]]
        cell = "lstm"
        forget_bias = [0, 1]
        [quick]
        length = 4
        """

    @Test func gridIsTheProductOfEachBlocksLists() throws {
        let e = try TrainingExperiment(source: source, file: "tiny.toml")
        #expect(e.points.count == 8)
        #expect(e.quickPoints.count == 4)
        #expect(Set(e.points.map(\.id)).contains("adding_T6_lstm_H3_fb0_seed1"))
        #expect(e.kind == "train")
        // `length` and `seed` are other names of `steps` and `seeds`; both at once is an error.
        #expect(throws: ExperimentError.file(file: "t.toml", line: 5, keyPath: "grid[1].steps", message: "'steps' and another name of 'steps' are both given")) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\nlength = 5\nsteps = 5\n", file: "t.toml")
        }
    }

    @Test func badFilesAreRefusedNamingTheKey() throws {
        #expect(throws: ExperimentError.file(file: "t.toml", line: 4, keyPath: "grid[1].colour", message: "unknown key 'colour'; valid keys here: task, cell, steps, hidden, layers, batch, updates, eval_every, eval_size, optimizer, lr, momentum, clip, forget_bias, input_noise, stop_when_solved, precision, seeds, profile_every, schedule (also length = steps, seed = seeds)")) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncolour = 1\n", file: "t.toml")
        }
        let bad = try #require(throws: ExperimentError.self) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncell = \"nope\"\n", file: "t.toml")
        }
        #expect(bad.description.hasPrefix("t.toml:4: grid[1].cell: unknown cell 'nope'"), "\(bad)")
        let badPrecision = try #require(throws: ExperimentError.self) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncell = \"rnn\"\nprecision = \"f16\"\n", file: "t.toml")
        }
        #expect(badPrecision.description == "t.toml:5: grid[1].precision: unknown precision 'f16'; valid: f32, f64", "\(badPrecision)")
    }

    /// `precision = "f32"` reaches the configuration (and the run id); absent, or "f64", is
    /// float64 with no precision recorded, so float64 records keep their bytes.
    @Test func precisionIsAGridKey() throws {
        let e = try TrainingExperiment(source: source.replacingOccurrences(of: "[quick]", with: "[[grid]]\ncell = \"gru\"\nprecision = \"f32\"\n[quick]"), file: "tiny.toml")
        let gru = e.points.filter { $0.configuration.cell == "gru" }
        #expect(gru.map(\.configuration.precision) == [nil, nil, .f32, .f32])
        #expect(Set(gru.map(\.id)).count == 4, "the float32 runs have their own ids")
        #expect(gru.filter { $0.configuration.precision == .f32 }.allSatisfy { $0.id.contains("f32") }, "\(gru.map(\.id))")
        #expect(e.points.filter { $0.configuration.cell != "gru" }.allSatisfy { $0.configuration.precision == nil })
    }

    @Test func gridRunsResumesAndReports() throws {
        let e = try TrainingExperiment(source: source, file: "tiny.toml")
        let dir = NSTemporaryDirectory() + "gatelab-grid-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var options = RunOptions(version: "v")
        options.quick = true
        options.outputDirectory = dir
        options.progress = .silent
        let runner = ExperimentRunner(experiment: e, options: options)
        let first = try runner.run()
        #expect(first.computed == 4)
        let again = try runner.run()
        #expect(again.computed == 0 && again.reused == 4)
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(report.contains("| lstm fb=0 |") && report.contains("| baseline |"))
        #expect(try String(contentsOfFile: dir + "/points.csv", encoding: .utf8).split(separator: "\n").count == 5)
    }

    /// A training run's record carries its cell file's hash; editing the file between two
    /// runs computes exactly that cell's runs again (the summary counts them apart).
    @Test func editingACellFileRecomputesExactlyItsRuns() throws {
        let dir = NSTemporaryDirectory() + "gatelab-train-inputs-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let mgu = try String(contentsOf: root.appendingPathComponent("Cells/mgu.cell"), encoding: .utf8)
        try mgu.write(toFile: dir + "/m.cell", atomically: true, encoding: .utf8)
        let file = source.replacingOccurrences(of: "cell = [\"rnn\", \"gru\"]", with: "cell = [\"rnn\", \"m.cell\"]")
        let e = try TrainingExperiment(source: file, file: dir + "/tiny.toml")
        var options = RunOptions(version: "v")
        options.quick = true
        options.outputDirectory = dir + "/out"
        options.progress = .silent
        #expect(try ExperimentRunner(experiment: e, options: options).run().computed == 4)
        let ids = e.quickPoints.filter { $0.configuration.cell.hasSuffix(".cell") }.map(\.id)
        #expect(ids.count == 1)
        let line = try String(contentsOfFile: dir + "/out/results/points/\(ids[0]).json", encoding: .utf8)
        let record = try TrainingRecord(json: SealedLine.unseal(line.trimmingCharacters(in: .newlines)).body)
        #expect(record.inputs == [dir + "/m.cell": try ContentHash.ofFile(dir + "/m.cell")] && record.recordFormat == 2)
        try (mgu + "\n# a comment\n").write(toFile: dir + "/m.cell", atomically: true, encoding: .utf8)
        let again = try ExperimentRunner(experiment: e, options: options).run()
        #expect(again.computed == 1 && again.reused == 3 && again.inputChanged == 1)
        #expect(again.inputChanges == ["\(ids[0]): \(dir)/m.cell changed since it was computed"])
    }

    /// A training run's id names a cell file by its declared name, unique among the grid's
    /// cells (a file declaring a built-in cell's name never passes for it); built-in cells'
    /// ids are as before.
    @Test func idsNameCellFilesByTheirDeclaredNames() throws {
        let dir = NSTemporaryDirectory() + "gatelab-train-names-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir + "/x", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: dir + "/exp", withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let lstm = try String(contentsOf: root.appendingPathComponent("Cells/lstm.cell"), encoding: .utf8)
        try lstm.write(toFile: dir + "/x/y.cell", atomically: true, encoding: .utf8)   // declares `cell lstm`
        let file = source.replacingOccurrences(of: "cell = [\"rnn\", \"gru\"]", with: "cell = [\"rnn\", \"../x/y.cell\"]")
        let e = try TrainingExperiment(source: file, file: dir + "/exp/tiny.toml")
        let ids = e.points.map(\.id)
        #expect(ids.contains("adding_T4_lstm-file_H3_fb1_seed1") && ids.contains("adding_T4_lstm_H3_fb1_seed1"), "\(ids)")
        #expect(ids.contains("adding_T4_rnn_H3_seed1") && ids.contains("adding_T6_lstm_H3_fb0_seed1"))
        #expect(ids.allSatisfy { !$0.hasPrefix(".") && !$0.contains("..") && !$0.contains("/") })
        // Alone, a run is named the same way (`gatelab train --cell ../x/y.cell`).
        var c = TrainingConfiguration()
        c.cell = dir + "/x/y.cell"
        #expect(c.id == "adding_T50_lstm-file_H128_fb1_seed1")
    }

    /// The committed example records (Notes/examples/) are records of the current format.
    @Test func theExampleRecordsAreOfTheCurrentFormat() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("Notes/examples/training-records.jsonl"), encoding: .utf8)
        for line in text.split(separator: "\n").map(String.init) {
            let (body, intact) = SealedLine.unseal(line)
            let record = try TrainingRecord(json: body)
            let again = try record.json()
            #expect(intact == true && record.recordFormat == RecordFormat.current && again == body)
        }
    }
}
