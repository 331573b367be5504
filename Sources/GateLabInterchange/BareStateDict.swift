import GateLabAutodiff
import GateLabCells
import Foundation

/// A bare PyTorch `state_dict` — `safetensors.torch.save_file(net.state_dict(), …)` or
/// `numpy.savez(…, **state_dict)` of an `nn.LSTM`, `nn.GRU` or `nn.RNN`, alone or inside a
/// module with an `nn.Linear` readout — read with no metadata at all.
///
/// Rules (also in Notes/formats.md):
/// - The recurrent keys are `weight_ih_l<k>`, `weight_hh_l<k>` and, unless the module was made
///   with `bias=False`, `bias_ih_l<k>`, `bias_hh_l<k>`, for k = 0 … L − 1, all under one
///   module prefix (`lstm.weight_ih_l0`) or none.
/// - Sizes come from the shapes: `weight_hh_l0` is [G·H, H] and `weight_ih_l0` [G·H, I]; the
///   gate count G names the family (4: LSTM, 3: GRU, 1: RNN).
/// - The cell: an LSTM is `lstm`; a GRU is PyTorch's `nn.GRU`, `gru` (the reset gate after the
///   recurrent product), unless `--cell gru_reset_before` says otherwise; an RNN needs
///   `--cell rnn`, since the file does not record `nn.RNN`'s nonlinearity (GateLab has tanh,
///   not ReLU).
/// - Without biases (`bias=False`) the built-in cells run with zero biases, which adds
///   exactly 0 to every pre-activation: the same numbers as no bias.
/// - The readout: the one other module with a `<name>.weight` of shape [K, H]
///   (`fc.weight`, `readout.weight`, `linear.weight`, …) and optionally `<name>.bias` [K]
///   (zeros when absent, as `nn.Linear(bias=False)`).
/// - Every key that is missing, surplus or misshapen is listed in one message.
enum BareStateDict {
    /// PyTorch's gate count of each family, and the GateLab cells that read its layout.
    static let families: [(gates: Int, module: String, cells: [String])] = [
        (4, "nn.LSTM", ["lstm"]), (3, "nn.GRU", ["gru", "gru_reset_before"]), (1, "nn.RNN", ["rnn_tanh"]),
    ]

    /// The model a metadata-free archive holds; `cell` is the user's `--cell`, if any.
    static func model(_ archive: ArrayArchive, file: String, cell requested: String?) throws -> SavedModel {
        func fail(_ key: String?, _ m: String) -> CaseFileError { CaseFileError(file: file, key: key, message: m) }
        let names = archive.arrays.map(\.name)
        let byName = Dictionary(archive.arrays.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
        // The recurrent keys and their module prefix ("" or "lstm.").
        let pattern = #/^(.*\.)?(weight_ih|weight_hh|bias_ih|bias_hh)_l([0-9]{1,6})(_reverse)?$/#
        var prefixes = Set<String>(), layers = Set<Int>(), reverse = [String]()
        for name in names {
            guard let m = name.wholeMatch(of: pattern) else { continue }
            prefixes.insert(String(m.1 ?? ""))
            if m.4 != nil { reverse.append(name) }
            if let k = Int(m.3) { layers.insert(k) }
        }
        guard !prefixes.isEmpty else {
            throw fail(nil, "no metadata naming a cell, and no PyTorch recurrent keys (weight_ih_l0, weight_hh_l0, …) to infer one from; "
                       + "keys: " + names.prefix(12).joined(separator: ", ") + (names.count > 12 ? ", …" : ""))
        }
        guard reverse.isEmpty else {
            throw fail(reverse.sorted()[0], "a bidirectional network (…_reverse keys): GateLab runs one direction only")
        }
        guard prefixes.count == 1, let prefix = prefixes.first else {
            throw fail(nil, "recurrent keys under more than one module (" + prefixes.sorted().map { $0.isEmpty ? "no prefix" : "'\($0.dropLast())'" }.joined(separator: ", ") + "); save one recurrent module")
        }
        // Sizes from the first layer's shapes.
        let hhKey = prefix + "weight_hh_l0", ihKey = prefix + "weight_ih_l0"
        guard let hh = byName[hhKey], hh.shape.count == 2, hh.shape[1] > 0, hh.shape[0] % hh.shape[1] == 0 else {
            throw fail(hhKey, byName[hhKey].map { "expected shape [G·H, H], got \($0.shape)" } ?? "missing: the hidden size cannot be inferred without it")
        }
        let H = hh.shape[1], G = hh.shape[0] / H
        guard let family = families.first(where: { $0.gates == G }) else {
            throw fail(hhKey, "shape \(hh.shape): \(G)·H rows, not 4·H (nn.LSTM), 3·H (nn.GRU) or H (nn.RNN)")
        }
        guard let ih = byName[ihKey], ih.shape.count == 2, ih.shape[1] > 0 else {
            throw fail(ihKey, byName[ihKey].map { "expected shape [\(G * H), I], got \($0.shape)" } ?? "missing: the input size cannot be inferred without it")
        }
        let I = ih.shape[1], L = (layers.max() ?? 0) + 1
        // The cell: the row count gives the family, --cell (or PyTorch's module) the member.
        let cellName: String
        if let requested {
            let key = requested.lowercased()
            if ["rnn_relu", "relu", "relu-rnn"].contains(key) {
                throw fail(nil, "--cell \(requested): GateLab has no ReLU RNN (nn.RNN(nonlinearity='relu')); only the tanh RNN, --cell rnn")
            }
            guard let entry = BuiltinCells.entry(requested) else {
                throw fail(nil, "--cell \(requested): a bare state_dict loads only into a built-in cell (" + families.flatMap(\.cells).joined(separator: ", ") + ")")
            }
            guard family.cells.contains(entry.interchangeName) else {
                throw fail(nil, "--cell \(requested) does not fit the file: its weights have \(G)·H rows (\(family.module)), so --cell must be "
                           + family.cells.joined(separator: " or "))
            }
            cellName = entry.interchangeName
        } else if G == 1 {
            throw fail(nil, "an nn.RNN state_dict (weight_hh_l0 is [H, H]) does not record its nonlinearity: give --cell rnn for tanh (GateLab has no ReLU RNN)")
        } else {
            cellName = family.cells[0]
        }
        let cell = ReferenceCase.cell(named: cellName)!
        guard (I + H + 2) * G * H * L <= ArrayArchive.maximumElements else {   // bounded by the file's own arrays, checked again below
            throw fail(nil, "input_size \(I), hidden_size \(H), num_layers \(L) is too large")
        }

        // Every key checked before any is used; the problems listed together.
        var expected = [(name: String, shape: [Int])]()
        for k in 0..<L {
            expected.append(("weight_ih_l\(k)", [G * H, k == 0 ? I : H]))
            expected.append(("weight_hh_l\(k)", [G * H, H]))
        }
        let biasNames = (0..<L).flatMap { ["bias_ih_l\($0)", "bias_hh_l\($0)"] }
        let hasBiases = biasNames.contains { byName[prefix + $0] != nil }
        if hasBiases { expected += biasNames.map { ($0, [G * H]) } }
        var missing = [String](), misshapen = [String]()
        for (name, shape) in expected {
            guard let a = byName[prefix + name] else { missing.append("\(prefix + name) \(shape)"); continue }
            if a.shape != shape { misshapen.append("\(prefix + name) is \(a.shape), not \(shape)") }
        }
        // The readout: one other module with a [K, H] weight.
        let used = Set(expected.map { prefix + $0.name })
        let others = names.filter { !used.contains($0) }
        let readoutModules = Set(others.compactMap { n -> String? in
            guard n.hasSuffix(".weight"), let a = byName[n], a.shape.count == 2, a.shape[1] == H else { return nil }
            return String(n.dropLast(".weight".count))
        })
        var readout: (weight: Tensor, bias: Tensor)?
        var surplus = others
        if readoutModules.count == 1, let r = readoutModules.first {
            let w = byName[r + ".weight"]!, K = w.shape[0]
            surplus.removeAll { $0 == r + ".weight" }
            var bias = [Double](repeating: 0, count: K)
            if let b = byName[r + ".bias"] {
                surplus.removeAll { $0 == r + ".bias" }
                if b.shape == [K] { bias = b.values } else { misshapen.append("\(r).bias is \(b.shape), not [\(K)]") }
            }
            readout = (Tensor(rows: K, cols: H, scalars: w.values), Tensor(rows: 1, cols: K, scalars: bias))
        }
        if !(missing.isEmpty && misshapen.isEmpty && surplus.isEmpty) {
            var parts = [String]()
            if !missing.isEmpty { parts.append("missing " + missing.joined(separator: ", ")) }
            if !misshapen.isEmpty { parts.append("wrong shape: " + misshapen.joined(separator: "; ")) }
            if !surplus.isEmpty {
                parts.append("surplus " + surplus.sorted().joined(separator: ", ")
                             + (readoutModules.count > 1 ? " (more than one module could be the readout: " + readoutModules.sorted().joined(separator: ", ") + ")" : ""))
            }
            throw fail(nil, "read as a bare PyTorch state_dict of \(family.module) (\(cellName), input_size \(I), hidden_size \(H), "
                       + "num_layers \(L)\(hasBiases ? "" : ", no biases")): " + parts.joined(separator: "; "))
        }
        var state = [String: Tensor]()
        for (name, shape) in expected {
            let v = byName[prefix + name]!.values
            state[name] = shape.count == 1 ? Tensor(rows: 1, cols: shape[0], scalars: v) : Tensor(rows: shape[0], cols: shape[1], scalars: v)
        }
        if !hasBiases { for name in biasNames { state[name] = Tensor(rows: 1, cols: G * H) } }
        var network = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: L)
        do { try network.load(stateDict: state) } catch { throw fail(nil, "\(error)") }
        var metadata = ["cell": cellName, "source": "bare PyTorch state_dict (\(family.module)), sizes inferred from the shapes"]
        if !hasBiases { metadata["biases"] = "none in the file (bias=False): zeros" }
        return SavedModel(network: network, readout: readout, metadata: metadata)
    }
}
