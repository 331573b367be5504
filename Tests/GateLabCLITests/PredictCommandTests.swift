import Foundation
import GateLabInterchange
import Testing

/// `gatelab predict` on the bare PyTorch fixtures (Tests/CellsTests/Fixtures/models,
/// make_pytorch_models.py): the written outputs equal PyTorch's to 1e-12.
@Suite("gatelab predict")
struct PredictCommandTests {
    static func model(_ name: String) -> String { CommandLineTool.packageRoot.appendingPathComponent("Tests/CellsTests/Fixtures/models/" + name).path }

    @Test(arguments: [("bare-lstm2.safetensors", "bare-inputs-lstm2.npz", "bare-lstm2.expected.npz", "out.npz"),
                      ("bare-lstm2.npz", "bare-inputs-lstm2.npz", "bare-lstm2.expected.npz", "out.json"),
                      ("bare-gru-nobias.npz", "bare-inputs-gru-fortran.npy", "bare-gru-nobias.expected.npz", "out.safetensors")])
    func outputsEqualPyTorchs(weights: String, inputs: String, expected: String, output: String) throws {
        let dir = try TemporaryDirectory()
        let out = dir.path(output)
        let run = try CommandLineTool.run(["predict", "--weights", Self.model(weights), "--inputs", Self.model(inputs), "--output", out])
        #expect(run.status == 0 && run.stderr.isEmpty, "\(run)")
        #expect(run.lines.first?.hasPrefix("wrote \(out): output [") == true, "\(run)")
        let mine = try ArrayArchive.read(out), pytorch = try ArrayArchive.read(Self.model(expected))
        #expect(Set(mine.arrays.map(\.name)) == Set(pytorch.arrays.map(\.name)))
        for b in pytorch.arrays {
            let a = try #require(mine[b.name])
            #expect(a.shape == b.shape)
            let worst = zip(a.values, b.values).map { abs($0 - $1) }.max() ?? .infinity
            #expect(worst <= 1e-12, "\(weights) \(b.name): \(worst)")
        }
        #expect(mine.metadata["cell"] != nil && mine.metadata["gatelab_version"] != nil)
    }

    @Test func badRequestsAreOneLineErrors() throws {
        let dir = try TemporaryDirectory()
        let lstm = Self.model("bare-lstm2.safetensors"), inputs = Self.model("bare-inputs-lstm2.npz")
        expectOneLineError(try CommandLineTool.run(["predict", "--weights", lstm, "--inputs", inputs, "--output", dir.path("o.npy")]),
                           mentions: [".npy file cannot hold"])
        // The output may not be the model or the inputs.
        let copy = dir.path("m.safetensors")
        try FileManager.default.copyItem(atPath: lstm, toPath: copy)
        expectOneLineError(try CommandLineTool.run(["predict", "--weights", copy, "--inputs", inputs, "--output", copy]), mentions: ["same file as --weights"])
        #expect(try Data(contentsOf: URL(fileURLWithPath: copy)) == Data(contentsOf: URL(fileURLWithPath: lstm)))
        // Inputs of another input size, or without x, name the file and the key.
        let ones = try dir.write("x.json", #"{"x": [[1, 2]]}"#)
        expectOneLineError(try CommandLineTool.run(["predict", "--weights", lstm, "--inputs", ones, "--output", dir.path("g.npz")]),
                           mentions: [ones, "key 'x': expected shape [T, B, 3] or [T, 3]"])
        expectOneLineError(try CommandLineTool.run(["predict", "--weights", lstm, "--inputs", Self.model("bare-lstm2.expected.npz"), "--output", dir.path("x.npz")]),
                           mentions: ["bare-lstm2.expected.npz", "key 'x': missing"])
        // A bare state_dict with a surplus and a missing key: one message listing both.
        var archive = try ArrayArchive.read(lstm)
        archive.arrays.removeAll { $0.name == "lstm.weight_hh_l1" }
        archive.arrays.append(NamedArray(name: "stray", shape: [1], values: [1]))
        try archive.write(to: dir.path("broken.safetensors"))
        expectOneLineError(try CommandLineTool.run(["weights", "check", dir.path("broken.safetensors")]),
                           mentions: ["missing lstm.weight_hh_l1 [20, 5]", "surplus stray"])
    }

    @Test func aBareRNNNeedsCellAndRefusesReLU() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("rnn.npz")
        // weights init writes metadata; drop it to get a bare state_dict.
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "rnn", "--input", "2", "--hidden", "3", "--output", file]).status == 0)
        var archive = try ArrayArchive.read(file)
        archive.metadata = [:]
        try archive.write(to: file)
        expectOneLineError(try CommandLineTool.run(["weights", "check", file]), mentions: [file, "--cell rnn"])
        expectOneLineError(try CommandLineTool.run(["weights", "check", file, "--cell", "rnn_relu"]), mentions: ["no ReLU RNN"])
        let check = try CommandLineTool.run(["weights", "check", file, "--cell", "rnn"])
        #expect(check.status == 0 && check.stdout.contains("rnn_tanh, input_size 2, hidden_size 3, num_layers 1"), "\(check)")
    }

    /// The size refusal of `weights init` names the real limit, not "a JSON weights file".
    @Test func weightsInitSaysWhyASizeIsRefusedInAnyFormat() throws {
        let dir = try TemporaryDirectory()
        let run = try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "2", "--hidden", "20000", "--output", dir.path("w.npz")])
        expectOneLineError(run, mentions: ["memory budget of 1024 MB"])
        #expect(!run.stderr.contains("JSON"), "\(run)")
    }
}
