@testable import Experiments
import Foundation
import Testing
@testable import Training

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
        #expect(throws: ExperimentError.file(file: "t.toml", line: 4, keyPath: "grid[1].colour", message: "unknown key 'colour'; valid keys here: task, cell, steps, hidden, layers, batch, updates, eval_every, eval_size, optimizer, lr, momentum, clip, forget_bias, input_noise, stop_when_solved, precision, seeds, profile_every (also length = steps, seed = seeds)")) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncolour = 1\n", file: "t.toml")
        }
        let bad = try #require(throws: ExperimentError.self) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncell = \"nope\"\n", file: "t.toml")
        }
        #expect(bad.description.hasPrefix("t.toml:4: grid[1].cell: unknown cell 'nope'"), "\(bad)")
        let badPrecision = try #require(throws: ExperimentError.self) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncell = \"rnn\"\nprecision = \"f16\"\n", file: "t.toml")
        }
        #expect(badPrecision.description == "t.toml:5: grid[1].precision: unknown precision 'f16'; use \"f64\" or \"f32\"", "\(badPrecision)")
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
}
