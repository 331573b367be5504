import GateLabCells
import Foundation
import GateLabInterchange
import Testing

@Suite("gatelab weights")
struct WeightsCommandTests {
    @Test func initThenCheckRoundTrips() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("lstm.json")
        let written = try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "3", "--hidden", "4", "--layers", "2", "--seed", "7", "--output", file])
        #expect(written.status == 0, "\(written)")
        // 4 gates × (4×3 + 4×4 + 4 + 4) + 4 gates × (4×4 + 4×4 + 4 + 4)
        #expect(written.stdout.contains("lstm, input_size 3, hidden_size 4, num_layers 2, 304 parameters"))

        let checked = try CommandLineTool.run(["weights", "check", file])
        #expect(checked.status == 0, "\(checked)")
        #expect(checked.lines.first == "\(file): lstm, input_size 3, hidden_size 4, num_layers 2, 304 parameters")
        let shapes = checked.lines.dropFirst().prefix(8).map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
        #expect(shapes == ["weight_ih_l0 [16, 3]", "weight_hh_l0 [16, 4]", "bias_ih_l0 [16]", "bias_hh_l0 [16]",
                           "weight_ih_l1 [16, 4]", "weight_hh_l1 [16, 4]", "bias_ih_l1 [16]", "bias_hh_l1 [16]"])

        // What the library reads back: PyTorch's default range U(±1/√H), not all zero.
        let network = try WeightsFile.read(file)
        let all = network.weights.flatMap { $0.values.flatMap(\.scalars) }
        #expect(all.allSatisfy { abs($0) <= 0.5 } && all.contains { $0 != 0 })
    }

    @Test func theSeedDecidesTheWeights() throws {
        let dir = try TemporaryDirectory()
        func write(_ name: String, seed: Int) throws -> String {
            let path = dir.path(name)
            let run = try CommandLineTool.run(["weights", "init", "--cell", "gru", "--input", "2", "--hidden", "3", "--seed", "\(seed)", "--output", path])
            #expect(run.status == 0, "\(run)")
            return try String(contentsOfFile: path, encoding: .utf8)
        }
        let a = try write("a.json", seed: 5), b = try write("b.json", seed: 5), c = try write("c.json", seed: 6)
        #expect(a == b)
        #expect(a != c)
    }

    @Test func aReferenceCaseReadsAsWeights() throws {
        let file = CommandLineTool.fixtures.first { $0.hasSuffix("gru-2layer.json") }!
        let run = try CommandLineTool.run(["weights", "check", file])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.first?.contains("gru, input_size 2, hidden_size 4, num_layers 2") == true, "\(run)")
    }

    @Test func errorsAreOneLine() throws {
        let dir = try TemporaryDirectory()
        expectOneLineError(try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "3", "--hidden", "4",
                                                    "--output", dir.path("no/such/dir/w.json")]), mentions: ["no/such/dir/w.json"])
        expectOneLineError(try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "0", "--hidden", "4", "--output", dir.path("w.json")]))
        expectOneLineError(try CommandLineTool.run(["weights", "init", "--cell", "elman", "--input", "3", "--hidden", "4", "--output", dir.path("w.json")]),
                           mentions: ["elman", "lstm"])
        let bad = try dir.write("bad.json", #"{"cell": "lstm", "input_size": 3, "hidden_size": 4, "num_layers": 1}"#)
        expectOneLineError(try CommandLineTool.run(["weights", "check", bad]), mentions: [bad, "weight_ih_l0"])
        expectOneLineError(try CommandLineTool.run(["weights", "check", dir.path("absent.json")]), mentions: ["absent.json"])
    }
}
