import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGSL

/// A case for checking any cell (a built-in one or a `.cell` file) against the user's own
/// implementation: `gatelab case-template` writes the inputs, initial states, weights by the
/// cell's parameter names and the loss weights R; the user's code adds what it computes from
/// them (outputs, final states, loss, gradients); `gatelab verify-reference --cell` compares.
///
/// The arrays, all float64 (T steps, B sequences, I inputs, H units, L layers):
///
/// | name | shape | written by |
/// | --- | --- | --- |
/// | `x` | [T, B, I] | the template |
/// | `R` | [T, B, H] | the template: L = Σ_t Σ R_t ⊙ h_t, h_t the top layer's output |
/// | `<state>0` (`h0`, `c0`, …) | [L, B, H] | the template: each state's initial value |
/// | `<parameter>`, `<parameter>.l1`, … | its shape | the template: layer 0, layer 1, … |
/// | `h` | [T, B, H] | the user: the outputs at every step |
/// | `<state>_last` | [L, B, H] | the user: each state after the last step |
/// | `loss` | [1] | the user |
/// | `d_<parameter>`, `d_<state>0`, `d_x` | as the value | the user: ∂L/∂ each |
///
/// Every one of the user's arrays is optional; `verify` compares those present and refuses a
/// case with none.
public enum CellCase {
    /// The cell-independent names of the template.
    static let inputNames: Set<String> = ["x", "R"]

    /// The template: seeded weights (uniform ±0.6, biases ±0.3, as `gradcheck` draws them),
    /// inputs uniform in ±1, R uniform in ±1, initial states uniform in ±0.5.
    public static func template(cell: any RecurrentCell, cellName: String, inputSize: Int, hiddenSize: Int, layers: Int,
                                steps: Int, batch: Int, seed: UInt64) throws -> ArrayArchive {
        let names = cell.parameters(inputSize: inputSize, hiddenSize: hiddenSize).map(\.name)
        if let clash = names.first(where: { inputNames.contains($0) || $0 == "h" || $0 == "loss" || $0.hasPrefix("d_") }) {
            throw CaseFileError(file: cellName, key: clash, message: "a parameter named \(clash) clashes with the case's array of that name; rename it in the cell")
        }
        let rng = try RandomSource(seed: seed, generator: "mt19937")
        var network = RecurrentNetwork(cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers)
        try network.initialize(.init(inputWeights: .uniform(bound: 0.6), recurrentWeights: .uniform(bound: 0.6), biases: .uniform(bound: 0.3)), using: rng)
        var arrays = [NamedArray]()
        arrays.append(NamedArray(name: "x", shape: [steps, batch, inputSize], values: rng.uniformArray(count: steps * batch * inputSize, low: -1, high: 1)))
        arrays.append(NamedArray(name: "R", shape: [steps, batch, hiddenSize], values: rng.uniformArray(count: steps * batch * hiddenSize, low: -1, high: 1)))
        for s in cell.stateNames {
            arrays.append(NamedArray(name: s + "0", shape: [layers, batch, hiddenSize], values: rng.uniformArray(count: layers * batch * hiddenSize, low: -0.5, high: 0.5)))
        }
        for k in 0..<layers {
            for spec in network.specs(layer: k) {
                arrays.append(NamedArray(name: spec.name + (k == 0 ? "" : ".l\(k)"), shape: [spec.rows, spec.cols], values: network.weights[k][spec.name]!.scalars))
            }
        }
        return ArrayArchive(arrays: arrays, metadata: ["cell": cellName, "seed": "\(seed)", "format": "gatelab cell case"])
    }

    /// Recomputes everything the user added to `archive` with GateLab (float64, the fast
    /// engine) and compares, array by array: max|a − b| / max|b| (a: GateLab, b: the case).
    /// - Throws: `CaseFileError` naming the file and the array for a missing or misshapen
    ///   template array, or when the case holds nothing to compare.
    public static func verify(_ archive: ArrayArchive, cell: any RecurrentCell, file: String) throws -> [ReferenceCase.Agreement] {
        func array(_ name: String, rank: Int) throws -> NamedArray {
            guard let a = archive[name] else { throw CaseFileError(file: file, key: name, message: "missing (write the case with gatelab case-template)") }
            guard a.shape.count == rank, a.shape.allSatisfy({ $0 >= 1 }) else {
                throw CaseFileError(file: file, key: name, message: "expected \(rank) dimensions, got shape \(a.shape)")
            }
            return a
        }
        let x = try array("x", rank: 3), r = try array("R", rank: 3)
        let (T, B, I, H) = (x.shape[0], x.shape[1], x.shape[2], r.shape[2])
        guard r.shape[0] == T, r.shape[1] == B else {
            throw CaseFileError(file: file, key: "R", message: "shape \(r.shape) does not match x's \(x.shape) ([T, B, H] with T = \(T), B = \(B))")
        }
        let first = try array(cell.stateNames[0] + "0", rank: 3)
        let L = first.shape[0]
        func expect(_ a: NamedArray, _ shape: [Int]) throws {
            guard a.shape == shape else { throw CaseFileError(file: file, key: a.name, message: "expected shape \(shape), got \(a.shape)") }
        }
        var network = RecurrentNetwork(cell: cell, inputSize: I, hiddenSize: H, layers: L)
        for k in 0..<L {
            for spec in network.specs(layer: k) {
                let a = try array(spec.name + (k == 0 ? "" : ".l\(k)"), rank: 2)
                try expect(a, [spec.rows, spec.cols])
                network.weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols, scalars: a.values)
            }
        }
        var initial = [[Tensor]](repeating: [], count: L)
        for s in cell.stateNames {
            let a = try array(s + "0", rank: 3)
            try expect(a, [L, B, H])
            for k in 0..<L { initial[k].append(Tensor(rows: B, cols: H, scalars: Array(a.values[(k * B * H)..<((k + 1) * B * H)]))) }
        }
        let unrolled = try Unrolled(network: network, batch: B, steps: T)
        try unrolled.forward(inputs: x.values, initialState: initial)
        let h = (0..<T).flatMap { unrolled.output(step: $0).scalars }
        var actual: [(String, [Double])] = [("loss", [zip(h, r.values).reduce(0) { $0 + $1.0 * $1.1 }]), ("h", h)]
        for (j, s) in cell.stateNames.enumerated() { actual.append(("\(s)_last", unrolled.finalState.flatMap { $0[j].scalars })) }
        let grads = try unrolled.backward(.everyStep(r.values))
        for k in 0..<L { for spec in network.specs(layer: k) {
            actual.append(("d_" + spec.name + (k == 0 ? "" : ".l\(k)"), grads.weights[k][spec.name]!.scalars))
        } }
        for (j, s) in cell.stateNames.enumerated() { actual.append(("d_\(s)0", grads.initialState.flatMap { $0[j].scalars })) }
        actual.append(("d_x", grads.inputs))
        var agreements = [ReferenceCase.Agreement]()
        for (key, a) in actual {
            guard let b = archive[key] else { continue }
            guard b.values.count == a.count else {
                throw CaseFileError(file: file, key: key, message: "\(b.values.count) numbers (shape \(b.shape)) where GateLab computes \(a.count)")
            }
            let scale = b.values.map { Swift.abs($0) }.max() ?? 0
            let diff = zip(a, b.values).map { Swift.abs($0 - $1) }.max() ?? 0
            agreements.append(ReferenceCase.Agreement(key: key, count: a.count, error: scale > 0 ? diff / scale : diff))
        }
        guard !agreements.isEmpty else {
            throw CaseFileError(file: file, key: nil, message: "holds no results to compare (h, <state>_last, loss, d_…): run your implementation on the template and add them")
        }
        let known = Set(actual.map(\.0)).union(inputNames).union(network.weights.enumerated().flatMap { k, w in w.keys.map { $0 + (k == 0 ? "" : ".l\(k)") } })
            .union(cell.stateNames.map { $0 + "0" })
        if let stray = archive.arrays.map(\.name).first(where: { !known.contains($0) }) {
            throw CaseFileError(file: file, key: stray, message: "not an array of a case of \(cell.name) (misspelled? results are h, <state>_last, loss, d_<parameter>, d_<state>0, d_x)")
        }
        return agreements
    }
}
