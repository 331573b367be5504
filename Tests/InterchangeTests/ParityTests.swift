import GateLabAutodiff
@testable import GateLabCells
import Foundation
import GateLabGSL
import GateLabInterchange
import Testing

@Suite("PyTorch and Keras parity on the reference cases")
struct ParityTests {
    @Test func fixturesArePresent() {
        let names = Fixtures.referenceCases.map { ($0 as NSString).lastPathComponent }
        #expect(names == ["gru-2layer.json", "gru-reset-before-small.json", "gru-small.json", "lstm-long.json", "lstm-small.json", "rnn-small.json"])
    }

    @Test(arguments: Fixtures.referenceCases)
    func everyTensorAgreesTo1e10(_ path: String) throws {
        let c = try ReferenceCase(contentsOf: path)
        let agreements = try c.verify()
        var keys = ["loss", "h", "h_last", "d_x", "d_h0", "grad_norm_x"]
        for k in 0..<c.network.layers { keys += ["weight_ih", "weight_hh", "bias_ih", "bias_hh"].map { "d_\($0)_l\(k)" } }
        if c.network.cell.stateNames.count == 2 { keys += ["c_last", "d_c0"] }
        #expect(Set(agreements.map(\.key)) == Set(keys), "every tensor of the case is compared")
        for a in agreements {
            #expect(a.error <= 1e-10, "\(path): \(a.key) normwise relative error \(a.error)")
        }
    }

    @Test func aWrongWeightIsNoticed() throws {
        // The comparison can fail: perturb one weight by 1e-6 and the outputs disagree.
        var c = try ReferenceCase(contentsOf: Fixtures.directory.appendingPathComponent("lstm-small.json").path)
        c.network.weights[0]["W_hf"]![0, 0] += 1e-6
        let worst = try c.verify().map(\.error).max()!
        #expect(worst > 1e-10)
    }
}

@Suite("Weights interchange")
struct InterchangeTests {
    @Test func stateDictRoundTripIsExact() throws {
        for cell in BuiltinCells.all.map(\.cell) {
            var net = RecurrentNetwork(cell: cell, inputSize: 3, hiddenSize: 5, layers: 2)
            try net.initialize(using: RandomSource(seed: 4))
            var copy = RecurrentNetwork(cell: cell, inputSize: 3, hiddenSize: 5, layers: 2)
            try copy.load(stateDict: Dictionary(uniqueKeysWithValues: net.stateDict().map { ($0.key, $0.value) }))
            for k in 0..<2 { #expect(copy.weights[k] == net.weights[k]) }
            #expect(net.stateDict().map(\.key) == ["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
                                                    "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1"])
        }
    }

    @Test func weightsFileRoundTripIsBitIdentical() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        for cell in BuiltinCells.all.map(\.cell) {
            var net = RecurrentNetwork(cell: cell, inputSize: 2, hiddenSize: 3, layers: 2)
            try net.initialize(.init(recurrentWeights: .orthogonal(gain: 1.1)), using: RandomSource(seed: 9))
            let path = dir.appendingPathComponent("\(cell.name).json").path
            try WeightsFile.write(net, to: path)
            let back = try WeightsFile.read(path)
            #expect(back.cell.name == cell.name && back.layers == 2 && back.inputSize == 2 && back.hiddenSize == 3)
            for k in 0..<2 {
                for (name, t) in net.weights[k] {
                    #expect(back.weights[k][name]!.scalars.map(\.bitPattern) == t.scalars.map(\.bitPattern))
                }
            }
        }
    }

    @Test func aReferenceCaseIsAWeightsFile() throws {
        let path = Fixtures.directory.appendingPathComponent("gru-2layer.json").path
        let net = try WeightsFile.read(path)
        let c = try ReferenceCase(contentsOf: path)
        #expect(net.weights[1] == c.network.weights[1])
    }

    @Test func wrongShapeNamesTheKey() {
        var net = RecurrentNetwork(cell: LSTM(), inputSize: 3, hiddenSize: 5)
        #expect(throws: InterchangeError.wrongShape(key: "weight_hh_l0", expected: Shape(20, 5), got: Shape(5, 20))) {
            try net.load(stateDict: ["weight_ih_l0": Tensor(rows: 20, cols: 3), "weight_hh_l0": Tensor(rows: 5, cols: 20),
                                     "bias_ih_l0": Tensor(rows: 1, cols: 20), "bias_hh_l0": Tensor(rows: 1, cols: 20)])
        }
    }
}

@Suite("Malformed case files: one error naming file and key")
struct BadCaseTests {
    /// A valid case's dictionary with one change applied.
    func mutated(_ change: (inout [String: Any]) -> Void) throws -> [String: Any] {
        let data = try Data(contentsOf: Fixtures.directory.appendingPathComponent("rnn-small.json"))
        var dict = try JSONSerialization.jsonObject(with: data) as! [String: Any]
        change(&dict)
        return dict
    }

    func expectError(_ key: String?, containing text: String, _ change: (inout [String: Any]) -> Void) throws {
        do {
            guard case .object(let dict) = JSONValue(any: try mutated(change)) else { fatalError() }
            _ = try ReferenceCase(dict, file: "case.json")
            Issue.record("no error for \(key ?? "file")")
        } catch let e as CaseFileError {
            #expect(e.file == "case.json" && e.key == key, "\(e)")
            #expect(e.description.contains(text), "\(e)")
            #expect(!e.description.contains("\n"))
        }
    }

    @Test func missingKey() throws { try expectError("d_h0", containing: "missing") { $0["d_h0"] = nil } }
    @Test func unknownCell() throws { try expectError("cell", containing: "unknown cell 'lstmx'") { $0["cell"] = "lstmx" } }
    @Test func wrongShape() throws {
        try expectError("x", containing: "expected shape [7][2][3]") { d in d["x"] = Array((d["x"] as! [Any]).dropLast()) }
    }
    @Test func raggedArray() throws {
        try expectError("weight_hh_l0", containing: "ragged") { d in
            var w = d["weight_hh_l0"] as! [[Any]]; w[2] = Array(w[2].dropLast()); d["weight_hh_l0"] = w
        }
    }
    @Test func notANumber() throws {
        try expectError("h0", containing: "not a number") { d in
            var h = d["h0"] as! [[[Any]]]; h[0][1][2] = "NaN"; d["h0"] = h
        }
    }
    @Test func nonFiniteNumber() throws {
        try expectError("R", containing: "not finite") { d in
            var r = d["R"] as! [[[Any]]]; r[3][0][0] = Double.infinity; d["R"] = r
        }
    }
    @Test func badSize() throws { try expectError("hidden_size", containing: "positive integer") { $0["hidden_size"] = 2.5 } }

    @Test func unreadableJSON() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID()).json").path
        try "{\"cell\": \"lstm\", ".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(throws: CaseFileError.self) { try ReferenceCase(contentsOf: path) }
        #expect(throws: CaseFileError.self) { try ReferenceCase(contentsOf: "/nonexistent/case.json") }
    }
}
