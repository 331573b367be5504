@testable import GateLabExperiments
import Foundation
import GateLabGSL
import GateLabInterchange
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import Testing

/// `weights = [...]` in a probe experiment: saved networks as grid points, paths relative to
/// the experiment file.
@Suite("Probe experiments over saved networks")
struct SavedModelGridTests {
    @Test func savedNetworksAreGridPointsWithTheFilesCellAndSizes() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CellsTests/Fixtures/models")
        let file = fixtures.appendingPathComponent("grid.toml").path   // never written: only its directory matters
        let source = """
            name = "saved"
            kind = "probe"
            [defaults]
            steps = 40
            seeds = 2
            [[grid]]
            weights = ["pytorch-lstm.npz", "gatelab-gru.json"]
            """
        let e = try ProbeExperiment(source: source, file: file)
        #expect(e.points.map(\.id) == ["lstm_T40_H6_I2_w-pytorch-lstm_seed1", "lstm_T40_H6_I2_w-pytorch-lstm_seed2",
                                       "gru_T40_H8_I2_w-gatelab-gru_seed1", "gru_T40_H8_I2_w-gatelab-gru_seed2"])
        #expect(e.points[0].configuration.weights == fixtures.appendingPathComponent("pytorch-lstm.npz").path)

        // The point probes the file's weights: the same curve as a probe of the network itself.
        let record = try ProbeKind.run(e.points[0], experiment: "saved", version: "test")
        let network = try SavedModel.read(fixtures.appendingPathComponent("pytorch-lstm.npz").path).network
        let rng = try GSLKitRandom.source(seed: 1)
        let x = rng.gaussianArray(count: 40 * 2), scale = 1 / Double(6).squareRoot()
        let r = rng.gaussianArray(count: 6).map { $0 * scale }
        let direct = try GradientProbe.run(ProbeSetup(network: network, batch: 1, steps: 40, inputs: x, readout: r))
        #expect(record.curves == direct.curves)
        // Records read back with the weights key.
        #expect(try ProbeRecord(jsonLine: record.jsonLine, context: "t").configuration.weights == e.points[0].configuration.weights)

        // Keys the file decides are refused; a missing file is named.
        let clash = source + "\ncell = \"gru\"\n"
        #expect { try ProbeExperiment(source: clash, file: file) } throws: { "\($0)".contains("cell comes from the weights files") }
        let missing = source.replacingOccurrences(of: "gatelab-gru.json", with: "nosuch.npz")
        #expect { try ProbeExperiment(source: missing, file: file) } throws: { "\($0)".contains("nosuch.npz") && "\($0)".contains("weights") }
    }

    @Test func pathsAreRelativeToTheExperimentFile() throws {
        func path(_ p: String, _ file: String) -> String { TOMLReader(file: file, source: "").path(p) }
        #expect(path("../Notes/m.npz", "Experiments/x.toml") == "Notes/m.npz")
        #expect(path("m.npz", "x.toml") == "m.npz")
        #expect(path("/abs/m.npz", "Experiments/x.toml") == "/abs/m.npz")
        #expect(path("./a/../m.npz", "/w/E/x.toml") == "/w/E/m.npz")
    }

    @Test func cellPathsAreRelativeToTheExperimentFileWithAHint() throws {
        // Run from the package root, where Cells/mgu.cell exists.
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let previous = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(previous) }
        let good = "name = \"c\"\nkind = \"probe\"\n[[grid]]\ncell = \"../Cells/mgu.cell\"\nsteps = 5\n"
        let e = try ProbeExperiment(source: good, file: "Experiments/c.toml")
        #expect(e.points.first?.configuration.cell == "Cells/mgu.cell")
        let old = good.replacingOccurrences(of: "../Cells", with: "Cells")
        #expect { try ProbeExperiment(source: old, file: "Experiments/c.toml") } throws: {
            "\($0)".contains("no such cell file 'Experiments/Cells/mgu.cell'") && "\($0)".contains("'../Cells/mgu.cell'")
        }
    }
}

/// The probe's random stream (mt19937), as `ProbeSetup` draws it.
enum GSLKitRandom {
    static func source(seed: UInt64) throws -> GateLabGSL.RandomSource { try GateLabGSL.RandomSource(seed: seed, generator: "mt19937") }
}

@Suite("Probe experiments on a saved network's task inputs")
struct TaskInputGridTests {
    @Test func taskInputsAreAnAxisWithTheTasksLength() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CellsTests/Fixtures/models")
        let file = fixtures.appendingPathComponent("grid.toml").path
        let source = """
            name = "saved"
            kind = "probe"
            [defaults]
            steps = 40
            [[grid]]
            weights = "gatelab-gru.json"
            task_inputs = [false, true]
            """
        let e = try ProbeExperiment(source: source, file: file)
        #expect(e.points.map(\.id) == ["gru_T40_H8_I2_w-gatelab-gru_seed1", "gru_T10_H8_I2_w-gatelab-gru_task_seed1"])
        let record = try ProbeKind.run(e.points[1], experiment: "saved", version: "test")
        #expect(record.curves.topH.count == 10)
        #expect(record.jsonLine.contains("\"task_inputs\":true"))
        #expect(try ProbeRecord(jsonLine: record.jsonLine, context: "t").configuration == e.points[1].configuration)
        #expect(!(try ProbeKind.run(e.points[0], experiment: "saved", version: "test")).jsonLine.contains("task_inputs"))
        // A file without a task cannot be probed on task inputs.
        let noTask = source.replacingOccurrences(of: "gatelab-gru.json", with: "pytorch-gru.npz")
        #expect { try ProbeExperiment(source: noTask, file: file) } throws: { "\($0)".contains("task_inputs needs a network saved by gatelab train") }
    }
}

@Suite("A saved network's task metadata: each key named for its own fault")
struct TaskMetadataMessageTests {
    @Test func aBadLengthIsNamedNotAMissingTask() throws {
        let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CellsTests/Fixtures/models")
        var model = try SavedModel.read(fixtures.appendingPathComponent("gatelab-gru.json").path)
        model.metadata["length"] = "ten"
        #expect { try ProbeSetup.task(of: model, file: "m.json") } throws: { "\($0)" == "m.json: key 'length': expected a positive integer, got 'ten'" }
        model.metadata["length"] = nil
        #expect { try ProbeSetup.task(of: model, file: "m.json") } throws: { "\($0)".hasPrefix("m.json: key 'length': missing") }
        model.metadata["task"] = nil
        #expect { try ProbeSetup.task(of: model, file: "m.json") } throws: { "\($0)".hasPrefix("m.json: key 'task': missing") }
    }
}
