import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGSL
@testable import GateLabInterchange
import Testing

/// The model-file fixtures written by numpy, safetensors and PyTorch (see
/// Tests/CellsTests/Fixtures/models/README.md and make_fixtures.py there).
enum ModelFixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CellsTests/Fixtures/models")
    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
    static func json(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: path(name)))) as! [String: Any]
    }
}

@Suite("Model files: .json, .npz, .safetensors")
struct ModelFileTests {
    static func sample() -> ArrayArchive {
        ArrayArchive(arrays: [NamedArray(name: "w", shape: [2, 3], values: [1, -2.5, 0.1, -0.0, 1e-300, .pi]),
                              NamedArray(name: "b", shape: [3], values: [7, 8, 9])],
                     metadata: ["cell": "lstm", "note": "ü ∂ \"quoted\""])
    }

    @Test(arguments: ArrayArchive.Format.allCases)
    func everyFormatRoundTripsBitForBit(format: ArrayArchive.Format) throws {
        let archive = Self.sample()
        let data = try archive.encoded(as: format)
        let back = try ArrayArchive.decode(data, format: format, file: "x.\(format.rawValue)")
        #expect(back.metadata == archive.metadata)
        for a in archive.arrays {
            let b = try #require(back[a.name])
            #expect(b.shape == a.shape)
            #expect(b.values.map(\.bitPattern) == a.values.map(\.bitPattern))
        }
        #expect(try archive.encoded(as: format) == data)   // the same archive, the same bytes
    }

    @Test func npzEntriesAreStoredWithRightCRCs() throws {
        let data = try Self.sample().encoded(as: .npz)
        let entries = try NPZ.entries(data, file: "x.npz")
        #expect(entries.map(\.name) == ["b.npy", "w.npy", "__metadata__.npy"])
        // Every .npy header is v1.0, '<f8' and ends at a multiple of 64.
        let w = entries[1].data
        #expect(Array(w.prefix(8)) == [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(w[8]) | Int(w[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        #expect(String(decoding: w[10..<(10 + headerLength)], as: UTF8.self).contains("'descr': '<f8', 'fortran_order': False, 'shape': (2, 3)"))
    }

    @Test func sha256MatchesTheStandardVectors() {
        #expect(SHA256.hex(Data("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Data()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Data(String(repeating: "a", count: 1000).utf8)) == "41edece42d63e8d9bf515a9ba6932e1c20cbc9f5a5d134645adb5db1b9737ea3")
    }

    @Test func numpyAndSafetensorsFilesReadTheSame() throws {
        for cell in ["lstm", "gru"] {
            let npz = try SavedModel.read(ModelFixtures.path("pytorch-\(cell).npz"))
            let st = try SavedModel.read(ModelFixtures.path("pytorch-\(cell).safetensors"))
            #expect(npz.network.cell.name == st.network.cell.name)
            #expect(npz.network.weights == st.network.weights)
            #expect(npz.readout?.weight == st.readout?.weight && npz.readout?.bias == st.readout?.bias)
            #expect(npz.metadata["task"] == "adding" && st.metadata["updates"] == "60")
            #expect(npz.network.hiddenSize == 6 && npz.readout?.weight.shape == Shape(1, 6))
        }
    }

    @Test func compressedNpzReadsAsTheUncompressedOne() throws {
        let compressed = try SavedModel.read(ModelFixtures.path("pytorch-lstm-compressed.npz"))
        let plain = try SavedModel.read(ModelFixtures.path("pytorch-lstm.npz"))
        #expect(compressed.network.weights == plain.network.weights && compressed.metadata == plain.metadata)
    }

    @Test(arguments: ArrayArchive.Format.allCases)
    func aSavedModelRoundTrips(format: ArrayArchive.Format) throws {
        var network = RecurrentNetwork(cell: LSTM(), inputSize: 2, hiddenSize: 3, layers: 2)
        try network.initialize(using: RandomSource(seed: 4))
        let readout = (Tensor(rows: 2, cols: 3, scalars: [1, 2, 3, 4, 5, 6]), Tensor(rows: 1, cols: 2, scalars: [0.5, -0.5]))
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-model-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("m.\(format.rawValue)").path
        try SavedModel(network: network, readout: readout, metadata: ["task": "adding"]).write(to: path)
        let back = try SavedModel.read(path)
        #expect(back.network.weights == network.weights)
        #expect(back.readout?.weight == readout.0 && back.readout?.bias == readout.1)
        #expect(back.metadata["task"] == "adding" && back.metadata["cell"] == "lstm")
    }

    @Test func namesAndShapesThatDoNotFitNameTheKey() throws {
        var archive = SavedModel(network: RecurrentNetwork(cell: GRU(form: .resetAfter), inputSize: 2, hiddenSize: 3)).archive()
        archive.arrays.removeAll { $0.name == "bias_hh_l0" }
        #expect { try SavedModel(archive, file: "f.npz") } throws: { "\($0)" == "f.npz: key 'bias_hh_l0': missing (expected shape [9])" }
        archive = SavedModel(network: RecurrentNetwork(cell: GRU(form: .resetAfter), inputSize: 2, hiddenSize: 3)).archive()
        archive.arrays[0] = NamedArray(name: archive.arrays[0].name, shape: [9, 3], values: Array(repeating: 0, count: 27))
        #expect { try SavedModel(archive, file: "f.npz") } throws: { "\($0)" == "f.npz: key 'weight_ih_l0': expected shape [9, 2], got [9, 3]" }
        archive = SavedModel(network: RecurrentNetwork(cell: GRU(form: .resetAfter), inputSize: 2, hiddenSize: 3)).archive()
        archive.arrays.append(NamedArray(name: "weight_ih_l1", shape: [1], values: [0]))
        #expect { try SavedModel(archive, file: "f.npz") } throws: { "\($0)".hasPrefix("f.npz: key 'weight_ih_l1': no such parameter") }
        archive.metadata["cell"] = "lstmm"
        #expect { try SavedModel(archive, file: "f.npz") } throws: { "\($0)".contains("key 'cell': unknown cell 'lstmm' (did you mean 'lstm'?)") }
    }

    /// GateLab trained these (`gatelab train --save`, see make_fixtures.py); PyTorch loaded
    /// them with `load_state_dict(strict=True)` and ran them on the same inputs.
    @Test(arguments: ["lstm", "gru"])
    func pytorchComputesWhatGateLabComputes(cell: String) throws {
        let model = try SavedModel.read(ModelFixtures.path("gatelab-\(cell).json"))
        #expect(model.metadata["updates"] == "40" && model.metadata["task"] == "adding")
        let ref = try ModelFixtures.json("gatelab-\(cell).pytorch.json")
        let x = (ref["x"] as! [[[Double]]]), h = (ref["h"] as! [[[Double]]]), y = (ref["y"] as! [[Double]])
        let (T, B) = (x.count, x[0].count)
        let unrolled = try Unrolled(network: model.network, batch: B, steps: T)
        try unrolled.forward(inputs: x.flatMap { $0.flatMap { $0 } })
        var worst = 0.0
        for t in 0..<T {
            for (a, b) in zip(unrolled.output(step: t).scalars, h[t].flatMap { $0 }) { worst = max(worst, abs(a - b)) }
        }
        let last = unrolled.output(step: T - 1), (w, bias) = try #require(model.readout)
        for r in 0..<B {
            for k in 0..<w.rows {
                let mine = (0..<w.cols).reduce(bias[0, k]) { $0 + w[k, $1] * last[r, $1] }
                worst = max(worst, abs(mine - y[r][k]))
            }
        }
        print("max |GateLab − PyTorch| for \(cell): \(worst)")
        #expect(worst <= 1e-12, "max |GateLab − PyTorch| = \(worst)")
    }
}

@Suite("Reference cases without gradients")
struct ForwardOnlyCaseTests {
    @Test func aCaseWithoutGradientsIsAcceptedAndVerifiesItsForwardValues() throws {
        let file = try #require(Fixtures.referenceCases.first { $0.hasSuffix("lstm-small.json") } ?? Fixtures.referenceCases.first)
        var dict = try JSONReader.object(Data(contentsOf: URL(fileURLWithPath: file)), file: file)
        for key in dict.keys where key.hasPrefix("d_") || key == "grad_norm_x" { dict[key] = nil }
        let rc = try ReferenceCase(dict, file: "forward-only.json")
        #expect(!rc.expected.keys.contains { $0.hasPrefix("d_") })
        let agreements = try rc.verify()
        #expect(Set(agreements.map(\.key)).isSuperset(of: ["loss", "h", "h_last"]))
        #expect(agreements.allSatisfy { !$0.key.hasPrefix("d_") && $0.error <= 1e-10 })
        // Some gradients but not all: the missing one is named.
        dict["d_x"] = try JSONReader.object(Data(contentsOf: URL(fileURLWithPath: file)), file: file)["d_x"]
        #expect { try ReferenceCase(dict, file: "partial.json") } throws: { "\($0)".hasPrefix("partial.json: key 'd_weight_ih_l0'") }
    }
}

@Suite("Model-file readers refuse damaged files without crashing")
struct DamagedModelFileTests {
    @Test(arguments: ArrayArchive.Format.allCases)
    func everyTruncationAndFlippedByteIsAnErrorOrTheSameArchive(format: ArrayArchive.Format) throws {
        let archive = ModelFileTests.sample()
        let data = try archive.encoded(as: format)
        for n in 0..<data.count {
            // Only JSON's trailing newline may go (the text is still the whole object).
            if let read = try? ArrayArchive.decode(data.prefix(n), format: format, file: "t") {
                #expect(format == .json && n == data.count - 1 && read.arrays == archive.arrays.sorted { $0.name < $1.name } && read.metadata == archive.metadata, "\(format) cut at \(n) of \(data.count) bytes")
            }
        }
        // A flipped byte never crashes and never changes a weight unnoticed: the content
        // checksum (and an .npz entry's CRC-32) refuse it, or it fell on bytes that carry no
        // value (padding, a metadata name).
        for i in 0..<data.count {
            var damaged = data
            damaged[i] ^= 0xFF
            if let read = try? ArrayArchive.decode(damaged, format: format, file: "t") {
                #expect(read.arrays.map(\.name) == ["b", "w"] && read.arrays.map { $0.values.map(\.bitPattern) }
                        == archive.arrays.sorted { $0.name < $1.name }.map { $0.values.map(\.bitPattern) }, "\(format): byte \(i) of \(data.count) flipped")
            }
        }
    }
}

@Suite("Model files carry a content checksum, the same in every format")
struct ModelFileChecksumTests {
    /// Every format writes the checksum; reading verifies and drops it; a converted file
    /// carries the same one.
    @Test func everyFormatCarriesTheSameChecksum() throws {
        let archive = ModelFileTests.sample()
        let expected = archive.contentChecksum()
        #expect(expected.hasPrefix("fnv1a64:"))
        for format in ArrayArchive.Format.allCases {
            let data = try archive.encoded(as: format)
            // The raw metadata as written (the format's own encoder, no verification).
            let raw: ArrayArchive
            switch format {
            case .json: raw = try ArrayJSON.decode(data, file: "x")
            case .npz: raw = try NPZ.decode(data, file: "x")
            case .safetensors: raw = try SafeTensors.decode(data, file: "x")
            }
            #expect(raw.metadata[ArrayArchive.checksumKey] == expected, "\(format)")
            #expect(try ArrayArchive.decode(data, format: format, file: "x").metadata[ArrayArchive.checksumKey] == nil)
        }
    }

    /// A checksum that does not match the content is refused in every format with one message
    /// naming the file and the key; a file without one (PyTorch's) is read.
    @Test(arguments: ArrayArchive.Format.allCases)
    func aWrongChecksumIsRefusedAndNoneIsAccepted(format: ArrayArchive.Format) throws {
        var archive = ModelFileTests.sample()
        let sorted = archive.arrays.sorted { $0.name < $1.name }
        var metadata = archive.metadata
        metadata[ArrayArchive.checksumKey] = archive.contentChecksum()
        // The checksum of other values: one weight changed after the checksum was taken.
        archive.arrays[0].values[1] = -2.5000000000000004
        let edited = archive.arrays.sorted { $0.name < $1.name }
        let data: Data
        switch format {
        case .json: data = try ArrayJSON.encode(edited, metadata: metadata)
        case .npz: data = try NPZ.encode(edited, metadata: metadata)
        case .safetensors: data = try SafeTensors.encode(edited, metadata: metadata)
        }
        #expect { try ArrayArchive.decode(data, format: format, file: "m.\(format.rawValue)") } throws: {
            "\($0)".hasPrefix("m.\(format.rawValue): key 'checksum': the arrays and metadata do not match the checksum")
        }
        let none: Data
        switch format {
        case .json: none = try ArrayJSON.encode(sorted, metadata: archive.metadata)
        case .npz: none = try NPZ.encode(sorted, metadata: archive.metadata)
        case .safetensors: none = try SafeTensors.encode(sorted, metadata: archive.metadata)
        }
        #expect(try ArrayArchive.decode(none, format: format, file: "x").arrays == sorted)
    }

    /// A JSON model edited by hand: a changed weight is refused; the same content laid out
    /// otherwise (indented) is read.
    @Test func aHandEditedJSONModelIsRefusedButReformattingIsNot() throws {
        let data = try ModelFileTests.sample().encoded(as: .json)
        let text = String(decoding: data, as: UTF8.self)
        #expect(text.contains("7,8,9") || text.contains("7, 8, 9"))
        let edited = text.replacingOccurrences(of: "7,8,9", with: "7,8,10").replacingOccurrences(of: "7, 8, 9", with: "7, 8, 10")
        #expect(throws: CaseFileError.self) { try ArrayArchive.decode(Data(edited.utf8), format: .json, file: "m.json") }
        // Whitespace after every comma and key (no string of the sample holds a comma).
        let indented = Data(text.replacingOccurrences(of: ",", with: ",\n  ").replacingOccurrences(of: "\":", with: "\": ").utf8)
        #expect(indented != data)
        #expect(try ArrayArchive.decode(indented, format: .json, file: "m.json").arrays == ModelFileTests.sample().arrays.sorted { $0.name < $1.name })
    }
}
