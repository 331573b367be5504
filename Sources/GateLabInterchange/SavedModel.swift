import GateLabAutodiff
import GateLabCellLanguage
import GateLabCells
import Foundation
import GateLabSupport

/// A saved network: its recurrent layers, an optional linear readout of the top layer, and
/// metadata — in any `ArrayArchive` format (`.json`, `.npz`, `.safetensors`).
///
/// Names: a built-in cell's layers under PyTorch's `state_dict` names and layout
/// (`weight_ih_l0`, `weight_hh_l0`, `bias_ih_l0`, `bias_hh_l0`, …, so the recurrent arrays load
/// with `load_state_dict(strict=True)` into `nn.LSTM`, `nn.GRU`, `nn.RNN`); a `.cell` cell's
/// under its parameter names with the layer suffix `_l<k>` (`W_f_l0`, `b_f_l1`); the readout
/// as `nn.Linear` names it, `readout.weight` [K, H] and `readout.bias` [K]. Metadata (strings):
/// `cell` (the built-in name, or the `.cell` file's path as given), `cell_source` and
/// `cell_sha256` (a `.cell` file's text and the SHA-256 of its UTF-8 bytes), `input_size`,
/// `hidden_size`, `num_layers`, and whatever the writer adds (`gatelab_version`, `task`,
/// `updates`, `initialization`, …).
public struct SavedModel {
    /// The recurrent layers.
    public var network: RecurrentNetwork
    /// The readout's weight (K × H) and bias (1 × K), when the model has one.
    public var readout: (weight: Tensor, bias: Tensor)?
    /// Metadata beyond the sizes and the cell (which are derived from `network` when written).
    public var metadata: [String: String]

    /// A model to save.
    public init(network: RecurrentNetwork, readout: (weight: Tensor, bias: Tensor)? = nil, metadata: [String: String] = [:]) {
        self.network = network; self.readout = readout; self.metadata = metadata
    }

    /// The names of the recurrent layers' arrays for `network`'s cell, with their shapes.
    public static func arrayShapes(of network: RecurrentNetwork) -> [(name: String, shape: [Int])] {
        if BuiltinCells.entry(for: network.cell) != nil {
            return network.stateDict().map { ($0.key, $0.key.hasPrefix("bias") ? [$0.value.cols] : [$0.value.rows, $0.value.cols]) }
        }
        return (0..<network.layers).flatMap { k in
            network.specs(layer: k).map { ("\($0.name)_l\(k)", $0.rows == 1 ? [$0.cols] : [$0.rows, $0.cols]) }
        }
    }

    /// The archive to write: every array and the metadata.
    public func archive() -> ArrayArchive {
        var arrays = [NamedArray]()
        var meta = metadata
        if let entry = BuiltinCells.entry(for: network.cell) {
            meta["cell"] = entry.interchangeName
            arrays = network.stateDict().map { key, t in
                NamedArray(name: key, shape: key.hasPrefix("bias") ? [t.cols] : [t.rows, t.cols], values: t.scalars)
            }
        } else {
            if let file = network.cell as? LanguageCell {
                meta["cell_source"] = file.source
                meta["cell_sha256"] = SHA256.hex(Data(file.source.utf8))
            }
            meta["cell"] = meta["cell"] ?? network.cell.name
            arrays = (0..<network.layers).flatMap { k in
                network.specs(layer: k).map { spec in
                    NamedArray(name: "\(spec.name)_l\(k)", shape: spec.rows == 1 ? [spec.cols] : [spec.rows, spec.cols],
                               values: network.weights[k][spec.name]!.scalars)
                }
            }
        }
        meta["input_size"] = String(network.inputSize)
        meta["hidden_size"] = String(network.hiddenSize)
        meta["num_layers"] = String(network.layers)
        if let readout {
            arrays.append(NamedArray(name: "readout.weight", shape: [readout.weight.rows, readout.weight.cols], values: readout.weight.scalars))
            arrays.append(NamedArray(name: "readout.bias", shape: [readout.bias.cols], values: readout.bias.scalars))
        }
        return ArrayArchive(arrays: arrays, metadata: meta)
    }

    /// Writes the model to `path` in the format of its extension, atomically.
    public func write(to path: String) throws { try archive().write(to: path) }

    /// Reads a model from `path` (any of the three formats; a reference case too).
    /// - Throws: `CaseFileError` naming the file and the key: a missing or misshapen array,
    ///   an array no layer of the cell has, an unknown cell, a `.cell` text that does not
    ///   match its hash or does not compile.
    /// - Parameters:
    ///   - path: the file; its extension gives the format.
    ///   - cell: the cell the user named (`--cell`), for a bare PyTorch `state_dict`
    ///     whose key names cannot tell it (see `BareStateDict`); checked against a file that names
    ///     its own cell.
    public static func read(_ path: String, cell: String? = nil) throws -> SavedModel {
        try SavedModel(ArrayArchive.read(path), file: path, cell: cell)
    }

    /// The model an archive holds; `file` names it in errors. An archive with no metadata at
    /// all is read as a bare PyTorch `state_dict` (`BareStateDict`), its sizes and cell
    /// inferred from its keys' shapes and `cell`.
    public init(_ archive: ArrayArchive, file: String, cell requested: String? = nil) throws {
        func fail(_ key: String?, _ m: String) -> CaseFileError { CaseFileError(file: file, key: key, message: m) }
        let meta = archive.metadata
        if meta["cell"] == nil, meta["input_size"] == nil, meta["hidden_size"] == nil, meta["num_layers"] == nil {
            self = try BareStateDict.model(archive, file: file, cell: requested)
            return
        }
        guard let name = meta["cell"] else { throw fail("cell", "missing (the metadata names no cell)") }
        if let requested, BuiltinCells.entry(requested)?.interchangeName ?? requested != name {
            throw fail("cell", "the file's cell is '\(name)'; --cell \(requested) contradicts it (drop --cell)")
        }
        let cell: any RecurrentCell
        if let builtin = ReferenceCase.cell(named: name) ?? BuiltinCells.builtin(name) {
            cell = builtin
        } else if let source = meta["cell_source"] {
            if let hash = meta["cell_sha256"], hash.lowercased() != SHA256.hex(Data(source.utf8)) {
                throw fail("cell_sha256", "does not match the SHA-256 of cell_source (the cell's text was changed)")
            }
            do { cell = try LanguageCell(source: source, file: name) } catch {
                throw fail("cell_source", "\(error)")
            }
        } else {
            throw fail("cell", "unknown cell '\(name)'\(BuiltinCells.suggestion(for: name)) and no cell_source (expected one of "
                       + BuiltinCells.all.map(\.interchangeName).joined(separator: ", ") + ", or a .cell file's text)")
        }
        func size(_ key: String) throws -> Int {
            guard let text = meta[key] else { throw fail(key, "missing") }
            guard let n = Int(text), (1...1_000_000).contains(n) else { throw fail(key, "expected a positive integer, got '\(text)'") }
            return n
        }
        let (I, H, L) = (try size("input_size"), try size("hidden_size"), try size("num_layers"))
        // Bound the zero weights about to be allocated (a hostile file could name any sizes).
        guard (I + H + 2) * H * L <= ArrayArchive.maximumElements / 8 else {
            throw fail("hidden_size", "input_size \(I), hidden_size \(H), num_layers \(L) is too large")
        }
        // The sizes in the metadata are claims: the network they describe is allocated only if
        // the file's own arrays hold at least as many numbers, so memory is bounded by what the
        // file holds, not by what its header says (a 71-byte file named hidden_size 5790). Small
        // shortfalls (8 MB) go on to the per-key messages, which say which array is missing.
        let needed = (0..<L).reduce(0) { total, k in
            total + cell.parameters(inputSize: k == 0 ? I : H, hiddenSize: H).reduce(0) { $0 + $1.rows * $1.cols }
        }
        let held = archive.arrays.reduce(0) { $0 + $1.values.count }
        guard needed <= 2 * held + (1 << 20) else {
            throw fail(nil, "the metadata's sizes (\(name), input_size \(I), hidden_size \(H), num_layers \(L)) need \(needed) weights; "
                       + "the file's arrays hold \(held)")
        }
        var network = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: L)
        let byName = Dictionary(archive.arrays.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        func array(_ key: String, _ shape: [Int]) throws -> [Double] {
            guard let a = byName[key] else { throw fail(key, "missing (expected shape \(shape))") }
            // A bias may come as [n] (PyTorch) or [1, n].
            guard a.shape == shape || (shape.count == 1 && a.shape == [1, shape[0]]) else {
                throw fail(key, "expected shape \(shape), got \(a.shape)")
            }
            return a.values
        }
        let expected = Self.arrayShapes(of: network)
        // Every key that does not fit, in one message (one problem keeps its own message).
        var problems = [CaseFileError]()
        for (key, shape) in expected {
            do { _ = try array(key, shape) } catch let e as CaseFileError { problems.append(e) }
        }
        let knownNames = Set(expected.map(\.name) + ["readout.weight", "readout.bias"])
        if meta["batch"] == nil {
            for stray in archive.arrays.map(\.name).sorted() where !knownNames.contains(stray) {
                problems.append(fail(stray, "no such parameter in a \(name) network of \(network.layers) layer(s) (expected "
                                     + expected.map(\.name).joined(separator: ", ") + ")"))
            }
        }
        if problems.count == 1 { throw problems[0] }
        if problems.count > 1 {
            throw fail(nil, "\(problems.count) keys do not fit a \(name) network (input_size \(I), hidden_size \(H), num_layers \(L)): "
                       + problems.map { "key '\($0.key ?? "")': " + ($0.message.hasPrefix("no such parameter") ? "no such parameter" : $0.message) }.joined(separator: "; "))
        }
        if BuiltinCells.entry(for: cell) != nil {
            var state = [String: Tensor]()
            for (key, shape) in expected {
                let v = try array(key, shape)
                state[key] = shape.count == 1 ? Tensor(rows: 1, cols: shape[0], scalars: v) : Tensor(rows: shape[0], cols: shape[1], scalars: v)
            }
            do { try network.load(stateDict: state) } catch { throw fail(nil, "\(error)") }
        } else {
            for k in 0..<network.layers {
                for spec in network.specs(layer: k) {
                    let v = try array("\(spec.name)_l\(k)", spec.rows == 1 ? [spec.cols] : [spec.rows, spec.cols])
                    network.weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols, scalars: v)
                }
            }
        }
        var readout: (weight: Tensor, bias: Tensor)?
        if let w = byName["readout.weight"] {
            guard w.shape.count == 2, w.shape[1] == network.hiddenSize else {
                throw fail("readout.weight", "expected shape [K, \(network.hiddenSize)], got \(w.shape)")
            }
            let b = try array("readout.bias", [w.shape[0]])
            readout = (Tensor(rows: w.shape[0], cols: w.shape[1], scalars: w.values), Tensor(rows: 1, cols: w.shape[0], scalars: b))
        } else if byName["readout.bias"] != nil {
            throw fail("readout.weight", "missing (the file has readout.bias)")
        }
        // A reference case's inputs and expected values are not parameters; any other name is
        // one no layer of this cell has (a file of another cell, or another layer count).
        let known = Set(expected.map(\.name) + ["readout.weight", "readout.bias"])
        if meta["batch"] == nil, let stray = archive.arrays.map(\.name).sorted().first(where: { !known.contains($0) }) {
            throw fail(stray, "no such parameter in a \(name) network of \(network.layers) layer(s) (expected "
                       + expected.map(\.name).joined(separator: ", ") + ")")
        }
        var rest = meta
        for key in ["cell", "input_size", "hidden_size", "num_layers", "cell_source"] { rest[key] = nil }
        self.init(network: network, readout: readout, metadata: rest)
        self.metadata["cell"] = name
    }
}

/// SHA-256 (FIPS 180-4), for the hash of a `.cell` file's text in a model file; the same hex
/// digest as Python's `hashlib.sha256(text.encode()).hexdigest()`. The one implementation is
/// `ContentHash.sha256Hex` (records' input hashes use it too).
public enum SHA256 {
    /// The digest of `data` as 64 lowercase hex digits.
    public static func hex(_ data: Data) -> String { ContentHash.sha256Hex(data) }
}
