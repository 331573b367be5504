@testable import Experiments
import Foundation
import GSLKit
import Interchange
@testable import Probe
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

    @Test func pathsAreRelativeToTheExperimentFile() {
        #expect(GridAxes.relative("../Notes/m.npz", to: "Experiments/x.toml") == "Notes/m.npz")
        #expect(GridAxes.relative("m.npz", to: "x.toml") == "m.npz")
        #expect(GridAxes.relative("/abs/m.npz", to: "Experiments/x.toml") == "/abs/m.npz")
        #expect(GridAxes.relative("./a/../m.npz", to: "/w/E/x.toml") == "/w/E/m.npz")
    }
}

/// The probe's random stream (mt19937), as `ProbeSetup` draws it.
enum GSLKitRandom {
    static func source(seed: UInt64) throws -> GSLKit.RandomSource { try GSLKit.RandomSource(seed: seed, generator: "mt19937") }
}
