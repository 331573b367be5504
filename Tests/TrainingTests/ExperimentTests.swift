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
        length = [4, 6]
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
        #expect(TrainingExperiment.kind(of: source) == "train")
    }

    @Test func badFilesAreRefusedNamingTheKey() {
        #expect(throws: TrainingError.badConfiguration("t.toml: grid[1].colour: unknown setting; valid: task, cell, length, hidden, layers, batch, updates, eval_every, eval_size, optimizer, lr, momentum, clip, forget_bias, seed, profile_every")) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncolour = 1\n", file: "t.toml")
        }
        #expect(throws: TrainingError.self) {
            try TrainingExperiment(source: "name = \"x\"\nkind = \"train\"\n[[grid]]\ncell = \"nope\"\n", file: "t.toml")
        }
    }

    @Test func gridRunsResumesAndReports() throws {
        let e = try TrainingExperiment(source: source, file: "tiny.toml")
        let dir = NSTemporaryDirectory() + "gatelab-grid-\(getpid())"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let runner = TrainingGridRunner(experiment: e, quick: true, directory: dir)
        let first = try runner.run()
        #expect(first.computed == 4)
        let again = try runner.run()
        #expect(again.computed == 0 && again.records.map(\.id) == first.records.map(\.id))
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(report.contains("| lstm fb=0 |") && report.contains("| baseline |"))
        #expect(try String(contentsOfFile: dir + "/points.csv", encoding: .utf8).split(separator: "\n").count == 5)
    }
}
