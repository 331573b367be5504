import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGSL
@testable import GateLabInterchange
import Testing

/// Bare PyTorch state_dicts and what PyTorch computed from them (make_pytorch_models.py in
/// Tests/CellsTests/Fixtures/models, run once; the tests never run Python).
@Suite("Bare PyTorch state_dicts: no metadata, sizes from the shapes, predict equals PyTorch")
struct BareStateDictTests {
    static func expected(_ name: String) throws -> [String: NamedArray] {
        Dictionary(uniqueKeysWithValues: try ArrayArchive.read(ModelFixtures.path(name)).arrays.map { ($0.name, $0) })
    }

    static func worst(_ a: [Double], _ b: [Double]) -> Double {
        zip(a, b).map { abs($0 - $1) }.max() ?? .infinity
    }

    @Test(arguments: ["bare-lstm2.safetensors", "bare-lstm2.npz"])
    func anLSTMWithAReadoutLoadsWithNoMetadataAndPredictsWhatPyTorchComputed(file: String) throws {
        let model = try SavedModel.read(ModelFixtures.path(file))
        #expect(model.network.cell.name == "lstm")
        #expect((model.network.inputSize, model.network.hiddenSize, model.network.layers) == (3, 5, 2))
        #expect(model.readout?.weight.shape == Shape(2, 5))
        let inputs = try Prediction.readInputs(ModelFixtures.path("bare-inputs-lstm2.npz"))
        let out = try Prediction.run(model, inputs: inputs, file: "bare-inputs-lstm2.npz")
        let pytorch = try Self.expected("bare-lstm2.expected.npz")
        #expect(out.arrays.map(\.name) == ["output", "h_n", "c_n", "y"])
        for a in out.arrays {
            let b = try #require(pytorch[a.name])
            #expect(a.shape == b.shape, "\(a.name)")
            let e = Self.worst(a.values, b.values)
            print("\(file) \(a.name): max |GateLab − PyTorch| = \(e)")
            #expect(e <= 1e-12, "\(a.name): \(e)")
        }
    }

    /// The .npz stores weight_ih_l0 [12, 3] in Fortran order; the .safetensors in C order. A
    /// reader that swapped a Fortran array's dimensions would read different weights (or refuse
    /// the shape), and the GRU's outputs would not be PyTorch's.
    @Test(arguments: ["bare-gru-nobias.safetensors", "bare-gru-nobias.npz"])
    func aGRUWithoutBiasesRunsWithZeroBiasesAndPredictsWhatPyTorchComputed(file: String) throws {
        let model = try SavedModel.read(ModelFixtures.path(file))
        #expect(model.network.cell.name == "gru" && model.readout == nil)
        #expect(model.metadata["biases"]?.contains("zeros") == true)
        #expect(model.network.stateDict().filter { $0.key.hasPrefix("bias") }.allSatisfy { $0.value.scalars.allSatisfy { $0 == 0 } })
        // x is a Fortran-order 3-D .npy.
        let inputs = try Prediction.readInputs(ModelFixtures.path("bare-inputs-gru-fortran.npy"))
        #expect(inputs.map(\.shape) == [[6, 3, 3]])
        let out = try Prediction.run(model, inputs: inputs, file: "bare-inputs-gru-fortran.npy")
        let pytorch = try Self.expected("bare-gru-nobias.expected.npz")
        #expect(out.arrays.map(\.name) == ["output", "h_n"])
        for a in out.arrays {
            let e = Self.worst(a.values, try #require(pytorch[a.name]).values)
            #expect(e <= 1e-12, "\(a.name): \(e)")
        }
    }

    @Test func fortranOrderIsTransposedIntoCOrder() {
        // A 2 × 3 × 4 array whose C-order values are 0, 1, 2, …: element (i, j, k) = 12i + 4j + k,
        // stored column-major at i + 2j + 6k.
        let shape = [2, 3, 4]
        var fortran = [Double](repeating: 0, count: 24)
        for i in 0..<2 { for j in 0..<3 { for k in 0..<4 { fortran[i + 2 * j + 6 * k] = Double(12 * i + 4 * j + k) } } }
        #expect(NPZ.cOrder(fromFortran: fortran, shape: shape) == (0..<24).map(Double.init))
        let npz = try? ArrayArchive.read(ModelFixtures.path("bare-gru-nobias.npz"))
        let st = try? ArrayArchive.read(ModelFixtures.path("bare-gru-nobias.safetensors"))
        #expect(npz?["weight_ih_l0"] == st?["weight_ih_l0"] && npz?["weight_ih_l0"]?.shape == [12, 3])
    }

    @Test func everyMissingAndSurplusKeyIsListedInOneMessage() throws {
        var archive = try ArrayArchive.read(ModelFixtures.path("bare-lstm2.safetensors"))
        archive.arrays.removeAll { $0.name == "lstm.bias_hh_l1" || $0.name == "lstm.weight_hh_l1" }
        archive.arrays.append(NamedArray(name: "extra", shape: [1], values: [0]))
        archive.arrays.append(NamedArray(name: "lstm.weight_ih_l0_old", shape: [1], values: [0]))
        #expect { try SavedModel(archive, file: "m.safetensors") } throws: { error in
            let text = "\(error)"
            return text.hasPrefix("m.safetensors: read as a bare PyTorch state_dict of nn.LSTM (lstm, input_size 3, hidden_size 5, num_layers 2): ")
                && text.contains("missing lstm.weight_hh_l1 [20, 5], lstm.bias_hh_l1 [20]")
                && text.contains("surplus extra, lstm.weight_ih_l0_old") && !text.contains("\n")
        }
    }

    /// GateLab's own files too: every key that does not fit, in one message.
    @Test func aFileWithMetadataListsEveryMisfitTogether() throws {
        var archive = SavedModel(network: RecurrentNetwork(cell: GRU(form: .resetAfter), inputSize: 2, hiddenSize: 3)).archive()
        archive.arrays.removeAll { $0.name == "bias_hh_l0" || $0.name == "weight_hh_l0" }
        archive.arrays.append(NamedArray(name: "stray", shape: [1], values: [0]))
        #expect { try SavedModel(archive, file: "f.npz") } throws: {
            "\($0)" == "f.npz: 3 keys do not fit a gru network (input_size 2, hidden_size 3, num_layers 1): key 'weight_hh_l0': missing (expected shape [9, 3]); "
                + "key 'bias_hh_l0': missing (expected shape [9]); key 'stray': no such parameter"
        }
    }

    @Test func theCellComesFromTheShapesOrFromCell() throws {
        let gru = try ArrayArchive.read(ModelFixtures.path("bare-gru-nobias.safetensors"))
        #expect(try SavedModel(gru, file: "g", cell: "gru_reset_before").network.cell.name == "gru_reset_before")
        #expect { try SavedModel(gru, file: "g", cell: "lstm") } throws: { "\($0)".contains("--cell must be gru or gru_reset_before") }
        // An nn.RNN: H rows; its nonlinearity is not in the file.
        var rnn = RecurrentNetwork(cell: TanhRNN(), inputSize: 2, hiddenSize: 3)
        try rnn.initialize(using: RandomSource(seed: 1))
        let bare = ArrayArchive(arrays: rnn.stateDict().map { NamedArray(name: $0.key, shape: $0.key.hasPrefix("bias") ? [$0.value.cols] : [$0.value.rows, $0.value.cols], values: $0.value.scalars) })
        #expect { try SavedModel(bare, file: "r.npz") } throws: { "\($0)".contains("give --cell rnn") }
        #expect { try SavedModel(bare, file: "r.npz", cell: "rnn_relu") } throws: { "\($0)".contains("GateLab has no ReLU RNN") }
        #expect(try SavedModel(bare, file: "r.npz", cell: "rnn").network.weights == rnn.weights)
        // A file that names its own cell: --cell must agree.
        #expect { try SavedModel(SavedModel(network: rnn).archive(), file: "w.npz", cell: "lstm") } throws: { "\($0)".contains("contradicts") }
    }
}

@Suite("One rule for every model format: duplicates, overlaps and non-finite values refused alike")
struct ModelFileRuleTests {
    static let sample = ModelFileTests.sample()

    @Test func aNameHeldTwiceIsRefusedInEveryFormat() throws {
        let npy = NPZ.npy(descr: "<f8", shape: [1], body: NPZ.float64Bytes([1]))
        let npz = try NPZ.zip([("w.npy", npy), ("w.npy", NPZ.npy(descr: "<f8", shape: [1], body: NPZ.float64Bytes([2])))])
        let json = Data(#"{"w": [1], "w": [2]}"#.utf8)
        var st = Data(), header = #"{"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]},"w":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#
        header += String(repeating: " ", count: (8 - header.utf8.count % 8) % 8)
        st.appendLE(UInt64(header.utf8.count)); st.append(Data(header.utf8)); st.append(NPZ.float64Bytes([1]))
        for (data, format) in [(npz, ArrayArchive.Format.npz), (json, .json), (st, .safetensors)] {
            #expect { try ArrayArchive.decode(data, format: format, file: "m.\(format.rawValue)") } throws: {
                "\($0)" == "m.\(format.rawValue): key 'w': appears more than once in the file (readers differ on which copy wins; keep one)"
            }
        }
    }

    @Test(arguments: ArrayArchive.Format.allCases)
    func aNonFiniteWeightIsRefusedInEveryFormat(format: ArrayArchive.Format) throws {
        var archive = Self.sample
        archive.arrays[0].values[4] = format == .json ? 1e308 : .nan
        var data = try archive.encoded(as: format)
        if format == .json { data = Data(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "1e+308", with: "1e999").utf8) }
        #expect { try ArrayArchive.decode(data, format: format, file: "m") } throws: {
            "\($0)".hasPrefix("m: key 'w': element [1][1] is not finite (")
        }
    }

    @Test func safetensorsOffsetsMustTileTheDataExactly() throws {
        func file(_ header: String, bytes: Int) -> Data {
            var d = Data()
            d.appendLE(UInt64(header.utf8.count)); d.append(Data(header.utf8)); d.append(Data(count: bytes))
            return d
        }
        let cases: [(String, Int, String)] = [
            (#"{"a":{"dtype":"F64","shape":[2],"data_offsets":[0,16]},"b":{"dtype":"F64","shape":[2],"data_offsets":[8,24]}}"#, 24,
             "key 'b': data_offsets [8, 24] overlap key 'a''s [0, 16]"),
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0.5,8.5]}}"#, 16, "key 'a': data_offsets [0.5, 8.5] are not whole byte offsets"),
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[8,16]}}"#, 16, "data bytes 0..<8 belong to no array"),
            (#"{"a":{"dtype":"F64","shape":[1],"data_offsets":[0,8]}}"#, 16, "the last 8 data bytes belong to no array"),
        ]
        for (header, bytes, message) in cases {
            #expect { try ArrayArchive.decode(file(header, bytes: bytes), format: .safetensors, file: "s") } throws: { "\($0)".contains(message) }
        }
    }

    @Test func aNestedListWhoseShapeOverflowsIsRefused() throws {
        // 20 levels of 10 items, only the first nested: a shape of 10^20 elements in 500 bytes.
        var text = "0"
        for _ in 0..<20 { text = "[" + text + String(repeating: ",0", count: 9) + "]" }
        let data = Data(#"{"w": \#(text)}"#.utf8)
        #expect { try ArrayArchive.decode(data, format: .json, file: "n.json") } throws: { "\($0)".hasPrefix("n.json: key 'w': array of shape") }
    }

    @Test func invalidUTF8IsNamedAsSuch() {
        #expect { try ArrayArchive.decode(Data([0x7B, 0xFF, 0x7D]), format: .json, file: "u.json") } throws: { "\($0)" == "u.json: not UTF-8 text (a JSON file must be UTF-8)" }
    }
}

@Suite(".npz through ZIPFoundation: deflate, ZIP64, CRC-32")
struct NPZContainerTests {
    @Test func numpysCompressedFilesReadAsTheUncompressedOnes() throws {
        let plain = try ArrayArchive.read(ModelFixtures.path("pytorch-lstm.npz"))
        let compressed = try ArrayArchive.read(ModelFixtures.path("pytorch-lstm-compressed.npz"))
        #expect(compressed.arrays == plain.arrays && !plain.arrays.isEmpty)
    }

    /// Fails if the CRC-32 check is skipped: the flipped byte is in a float's data, so the
    /// archive would otherwise read as a valid one with a changed weight.
    @Test(arguments: [false, true])
    func aFlippedDataByteIsACRCError(deflated: Bool) throws {
        let values = [1.0, 2.0, .pi]
        let npy = NPZ.npy(descr: "<f8", shape: [3], body: NPZ.float64Bytes(values))
        var data = deflated ? try Self.deflatedZip(name: "w.npy", npy) : try NPZ.zip([("w.npy", npy)])
        if deflated {
            // Damage the uncompressed bytes before compressing: the stored CRC is of the original.
            var damaged = npy
            damaged[damaged.count - 1] ^= 0x01
            data = try Self.deflatedZip(name: "w.npy", damaged, crcOf: npy)
        } else {
            let pi = NPZ.float64Bytes([.pi])
            let at = try #require(data.range(of: pi))
            data[at.lowerBound] ^= 0x01
        }
        #expect { try ArrayArchive.decode(data, format: .npz, file: "c.npz") } throws: { "\($0)" == "c.npz: key 'w': CRC-32 mismatch: the entry is corrupt" }
    }

    /// A deflated entry whose stream does not end before the archive does (a stored block
    /// claiming 65 535 bytes) is an error at once, not a wait for more input.
    @Test func aDeflateStreamThatRunsOffTheEndIsAnError() throws {
        let npy = NPZ.npy(descr: "<f8", shape: [3], body: NPZ.float64Bytes([1, 2, 3]))
        var data = try Self.deflatedZip(name: "w.npy", npy)
        let local = try #require(data.range(of: Data("w.npy".utf8)))   // the local header's name
        let start = local.upperBound   // no extra field in these headers
        data.replaceSubrange(start..<(start + 5), with: [0x00, 0xFF, 0xFF, 0x00, 0x00])
        let began = Date()
        #expect(throws: CaseFileError.self) { try ArrayArchive.decode(data, format: .npz, file: "d.npz") }
        #expect(Date().timeIntervalSince(began) < 5)
    }

    /// A large file with no end record is refused after looking at its last 64 KiB only.
    @Test func aFileWithoutAnEndRecordIsRefusedQuickly() throws {
        let began = Date()
        #expect { try ArrayArchive.decode(Data(count: 8 << 20), format: .npz, file: "z.npz") } throws: {
            "\($0)" == "z.npz: not an .npz file (no ZIP end-of-central-directory record)"
        }
        #expect(Date().timeIntervalSince(began) < 5)
    }

    /// ZIP64: an archive of 65 537 entries (more than the 16-bit count holds), one of them an
    /// array, the others empty files, built here in one pass (ZIPFoundation's writer rewrites
    /// its central directory on every entry, too slow for a default test at this count; the
    /// long test below writes one through it).
    @Test func aZIP64ArchiveOfMoreThan65535EntriesIsRead() throws {
        let n = 65_537
        let npy = NPZ.npy(descr: "<f8", shape: [2], body: NPZ.float64Bytes([3, 4]))
        let crc = try NPZ.zip([("w.npy", npy)]).subdata(in: 14..<18)
        let entries = [(name: "w.npy", data: npy, crc: crc)] + (1..<n).map { (name: "e\($0)", data: Data(), crc: Data(count: 4)) }
        let began = Date()
        let data = Self.zip64(entries)
        let read = try NPZ.entries(data, file: "z.npz")
        print("ZIP64 archive of \(n) entries, \(data.count) bytes: read in \(Date().timeIntervalSince(began)) s")
        #expect(read.count == n && NPZ.listedEntryCount(data) == n)
        #expect(read.last?.name == "e\(n - 1)")
        #expect(try NPZ.array(fromNPY: read[0].data, file: "z.npz", key: "w") == NamedArray(name: "w", shape: [2], values: [3, 4]))
    }

    /// Writes more than 65 535 arrays through ZIPFoundation and reads them back: minutes in a
    /// debug build (its writer is quadratic in the entry count), so run only when
    /// GATELAB_LONG_TESTS is set.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["GATELAB_LONG_TESTS"] != nil))
    func moreThan65535ArraysWriteAndReadBack() throws {
        let n = 65_537
        let arrays = (0..<n).map { NamedArray(name: String(format: "a%05d", $0), shape: [1], values: [Double($0)]) }
        let began = Date()
        let data = try ArrayArchive(arrays: arrays).encoded(as: .npz)
        let back = try ArrayArchive.decode(data, format: .npz, file: "big.npz")
        print("\(n) arrays: \(data.count) bytes, written and read in \(Date().timeIntervalSince(began)) s")
        #expect(back.arrays.count == n && back.arrays.last?.values == [Double(n - 1)])
        #expect(NPZ.listedEntryCount(data) == n)
    }

    /// A stored ZIP with ZIP64 end records (test input only; GateLab writes through ZIPFoundation).
    static func zip64(_ entries: [(name: String, data: Data, crc: Data)]) -> Data {
        var out = Data(), central = Data()
        for e in entries {
            let name = Data(e.name.utf8), offset = UInt32(out.count)
            out.appendLE(UInt32(0x0403_4b50)); out.appendLE(UInt16(45)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
            out.appendLE(UInt16(0)); out.appendLE(UInt16(0x21)); out.append(e.crc)
            out.appendLE(UInt32(e.data.count)); out.appendLE(UInt32(e.data.count)); out.appendLE(UInt16(name.count)); out.appendLE(UInt16(0))
            out.append(name); out.append(e.data)
            central.appendLE(UInt32(0x0201_4b50)); central.appendLE(UInt16(45)); central.appendLE(UInt16(45))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0x21)); central.append(e.crc)
            central.appendLE(UInt32(e.data.count)); central.appendLE(UInt32(e.data.count)); central.appendLE(UInt16(name.count))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
            central.appendLE(UInt32(0)); central.appendLE(offset); central.append(name)
        }
        let centralOffset = out.count
        out.append(central)
        let record = out.count
        out.appendLE(UInt32(0x0606_4b50)); out.appendLE(UInt64(44)); out.appendLE(UInt16(45)); out.appendLE(UInt16(45))
        out.appendLE(UInt32(0)); out.appendLE(UInt32(0)); out.appendLE(UInt64(entries.count)); out.appendLE(UInt64(entries.count))
        out.appendLE(UInt64(central.count)); out.appendLE(UInt64(centralOffset))
        out.appendLE(UInt32(0x0706_4b50)); out.appendLE(UInt32(0)); out.appendLE(UInt64(record)); out.appendLE(UInt32(1))
        out.appendLE(UInt32(0x0605_4b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0xFFFF)); out.appendLE(UInt16(0xFFFF))
        out.appendLE(UInt32(central.count)); out.appendLE(UInt32(centralOffset)); out.appendLE(UInt16(0))
        return out
    }

    /// A one-entry ZIP whose entry is deflated, written by ZIPFoundation; `crcOf` replaces the
    /// stored CRC-32 with that of other bytes (to make a damaged entry).
    static func deflatedZip(name: String, _ body: Data, crcOf original: Data? = nil) throws -> Data {
        var data = try NPZ.zip([(name, body)], deflated: true)
        if let original {
            let good = try NPZ.zip([(name, original)], deflated: true)
            // The CRC sits at byte 14 of the local header and 16 of the central one; copy both.
            let crc = good.subdata(in: 14..<18), wrong = data.subdata(in: 14..<18)
            var i = data.startIndex
            while let r = data.range(of: wrong, in: i..<data.endIndex) { data.replaceSubrange(r, with: crc); i = r.upperBound }
        }
        return data
    }
}

@Suite("Sizes in a model file's metadata are claims")
struct MetadataSizeClaimTests {
    /// A tiny file whose metadata names hidden_size 5790 (an LSTM of 134 M weights) is refused
    /// before the network is allocated (it reached 2.1 GB).
    @Test func aHeaderAskingForGigabytesIsRefusedByWhatTheFileHolds() throws {
        let archive = ArrayArchive(arrays: [NamedArray(name: "weight_ih_l0", shape: [1], values: [0])],
                                   metadata: ["cell": "lstm", "input_size": "1", "hidden_size": "5790", "num_layers": "1"])
        #expect { try SavedModel(archive, file: "h.json") } throws: {
            "\($0)".hasPrefix("h.json: the metadata's sizes (lstm, input_size 1, hidden_size 5790, num_layers 1) need 134") && "\($0)".hasSuffix("the file's arrays hold 1")
        }
    }
}
