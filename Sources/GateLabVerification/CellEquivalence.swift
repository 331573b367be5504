import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabGSL

/// The check a paper makes when it says "with w = 0 our cell is the LSTM": a CHILD cell, some
/// of whose parameters are fixed to constants, against a PARENT cell, on one random sequence.
/// The parameters the two share (by name, or through `rename`) are drawn once and given to
/// both; then the outputs at every step, the final states both cells have (by name) and the
/// gradient of L = Σ_t Σ R_t ⊙ h_t with respect to every shared parameter must agree to
/// `tolerance` (normwise: max|child − parent| / max|parent|).
public struct CellEquivalence {
    /// The cell with parameters to fix.
    public var child: any RecurrentCell
    /// The cell it should reduce to.
    public var parent: any RecurrentCell
    /// CHILD's fixed parameters: every element set to the value.
    public var fixed: [String: Double]
    /// CHILD's name → PARENT's name, for shared parameters named differently.
    public var rename: [String: String]
    /// I, H, B, T, L (`layers` stacks both cells alike).
    public var inputSize = 3, hiddenSize = 4, batch = 2, steps = 20, layers = 1
    /// Seed of the shared weights, the inputs, the initial states and R.
    public var seed: UInt64 = 1
    /// The largest accepted normwise error.
    public var tolerance = 1e-12

    /// Creates the check (sizes, seed and tolerance have the documented defaults).
    public init(child: any RecurrentCell, parent: any RecurrentCell, fixed: [String: Double], rename: [String: String]) {
        self.child = child
        self.parent = parent
        self.fixed = fixed
        self.rename = rename
    }

    /// Where PARENT's parameter comes from in CHILD: CHILD's name for every parameter that is
    /// not fixed (renamed or not). Checks the mapping is complete and shapes agree.
    /// - Throws: `EquivalenceError` naming the parameter at fault.
    public func sharedNames() throws -> [(child: String, parent: String)] {
        let c = child.parameters(inputSize: inputSize, hiddenSize: hiddenSize)
        let p = parent.parameters(inputSize: inputSize, hiddenSize: hiddenSize)
        let childNames = c.map(\.name), parentNames = Set(p.map(\.name))
        func list(_ names: [String]) -> String { names.joined(separator: ", ") }
        for (name, value) in fixed.sorted(by: { $0.key < $1.key }) {
            guard childNames.contains(name) else {
                throw EquivalenceError("--set \(name): \(child.name) has no parameter \(name) (its parameters: \(list(childNames)))")
            }
            guard value.isFinite else { throw EquivalenceError("--set \(name): the value must be a finite number, got \(value)") }
            if rename[name] != nil { throw EquivalenceError("--set \(name) and --rename \(name)=…: a parameter is either fixed or shared") }
        }
        for (from, to) in rename.sorted(by: { $0.key < $1.key }) {
            guard childNames.contains(from) else {
                throw EquivalenceError("--rename \(from)=\(to): \(child.name) has no parameter \(from) (its parameters: \(list(childNames)))")
            }
            guard parentNames.contains(to) else {
                throw EquivalenceError("--rename \(from)=\(to): \(parent.name) has no parameter \(to) (its parameters: \(list(p.map(\.name))))")
            }
        }
        var pairs = [(child: String, parent: String)]()
        for spec in c where fixed[spec.name] == nil {
            let target = rename[spec.name] ?? spec.name
            guard let q = p.first(where: { $0.name == target }) else {
                throw EquivalenceError("\(child.name)'s parameter \(spec.name) has no counterpart in \(parent.name): fix it (--set \(spec.name)=VALUE) or name its counterpart (--rename \(spec.name)=NAME)")
            }
            guard (q.rows, q.cols) == (spec.rows, spec.cols) else {
                throw EquivalenceError("\(spec.name) is \(spec.rows)×\(spec.cols) in \(child.name) but \(target) is \(q.rows)×\(q.cols) in \(parent.name) (I = \(inputSize), H = \(hiddenSize))")
            }
            if let other = pairs.first(where: { $0.parent == target }) {
                throw EquivalenceError("\(spec.name) and \(other.child) of \(child.name) both stand for \(parent.name)'s \(target)")
            }
            pairs.append((spec.name, target))
        }
        let missing = p.map(\.name).filter { name in !pairs.contains { $0.parent == name } }
        guard missing.isEmpty else {
            throw EquivalenceError("\(parent.name)'s parameter\(missing.count == 1 ? "" : "s") \(list(missing)) \(missing.count == 1 ? "has" : "have") no counterpart in \(child.name) (give --rename CHILD_NAME=\(missing[0]))")
        }
        return pairs
    }

    /// Runs both cells on the same sequence and compares.
    public func run() throws -> EquivalenceReport {
        let pairs = try sharedNames()
        let rng = try RandomSource(seed: seed, generator: SequenceGradientCheck.generator)
        var parentNet = RecurrentNetwork(cell: parent, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers)
        try parentNet.initialize(.init(inputWeights: .uniform(bound: 0.6), recurrentWeights: .uniform(bound: 0.6), biases: .uniform(bound: 0.3)), using: rng)
        var childNet = RecurrentNetwork(cell: child, inputSize: inputSize, hiddenSize: hiddenSize, layers: layers)
        for k in 0..<layers {
            for spec in childNet.specs(layer: k) {
                if let v = fixed[spec.name] {
                    childNet.weights[k][spec.name] = Tensor(rows: spec.rows, cols: spec.cols, repeating: v)
                } else {
                    childNet.weights[k][spec.name] = parentNet.weights[k][pairs.first { $0.child == spec.name }!.parent]!
                }
            }
        }
        let x = rng.uniformArray(count: steps * batch * inputSize, low: -1, high: 1)
        let r = rng.uniformArray(count: steps * batch * hiddenSize, low: -1, high: 1)
        // Initial states by name: a state both cells have starts equal; a state of one only
        // starts at zero (FGR's gate states, which the parent does not keep).
        let shared = Set(child.stateNames).intersection(parent.stateNames)
        var initial = [String: [Tensor]]()
        for name in (parent.stateNames + child.stateNames) where initial[name] == nil {
            initial[name] = (0..<layers).map { _ in
                shared.contains(name) || name == parent.stateNames[0]
                    ? Tensor(rows: batch, cols: hiddenSize, scalars: rng.uniformArray(count: batch * hiddenSize, low: -0.5, high: 0.5))
                    : Tensor(rows: batch, cols: hiddenSize) }
        }
        // The outputs (first states) correspond even when named differently (y, h).
        func states(_ cell: any RecurrentCell) -> [[Tensor]] {
            (0..<layers).map { k in cell.stateNames.enumerated().map { j, n in initial[j == 0 ? parent.stateNames[0] : n]![k] } }
        }
        func evaluate(_ net: RecurrentNetwork) throws -> (h: [Double], final: [[Tensor]], grads: Unrolled.Gradients) {
            let unrolled = try Unrolled(network: net, batch: batch, steps: steps)
            try unrolled.forward(inputs: x, initialState: states(net.cell))
            let h = (0..<steps).flatMap { unrolled.output(step: $0).scalars }
            let final = unrolled.finalState
            return (h, final, try unrolled.backward(.everyStep(r)))
        }
        let (a, b) = (try evaluate(childNet), try evaluate(parentNet))
        var rows = [EquivalenceReport.Row]()
        func compare(_ what: String, _ u: [Double], _ v: [Double]) {
            let scale = v.map { Swift.abs($0) }.max() ?? 0
            let diff = zip(u, v).map { Swift.abs($0 - $1) }.max() ?? 0
            let error = scale > 0 ? diff / scale : diff
            rows.append(.init(quantity: what, elements: v.count, error: error, passed: error <= tolerance))
        }
        compare("outputs h_t, every step", a.h, b.h)
        for (j, name) in parent.stateNames.enumerated() {
            let i = j == 0 ? 0 : child.stateNames.firstIndex(of: name)
            guard let i else { continue }
            let suffix = j == 0 && child.stateNames[0] != name ? "\(name) (\(child.stateNames[0]) in \(child.name))" : name
            compare("final state \(suffix)", a.final.flatMap { $0[i].scalars }, b.final.flatMap { $0[j].scalars })
        }
        for k in 0..<layers {
            let tag = layers > 1 ? ".l\(k)" : ""
            for (c, p) in pairs {
                compare("∂L/∂\(p)\(tag)" + (c == p ? "" : " (\(c) in \(child.name))"), a.grads.weights[k][c]!.scalars, b.grads.weights[k][p]!.scalars)
            }
        }
        return EquivalenceReport(child: child.name, parent: parent.name, fixed: fixed, tolerance: tolerance, rows: rows)
    }
}

/// A `gatelab equiv` argument that does not fit the cells.
public struct EquivalenceError: Error, CustomStringConvertible, Equatable {
    public var description: String
    init(_ message: String) { description = message }
}

/// The per-quantity comparison of `CellEquivalence`.
public struct EquivalenceReport: Sendable, Equatable {
    /// One compared quantity.
    public struct Row: Sendable, Equatable {
        /// What (`outputs h_t, every step`, `final state c`, `∂L/∂W_f`).
        public var quantity: String
        public var elements: Int
        /// max|child − parent| / max|parent|.
        public var error: Double
        public var passed: Bool
    }
    public var child: String, parent: String
    public var fixed: [String: Double]
    public var tolerance: Double
    public var rows: [Row]

    /// Whether every quantity agrees.
    public var passed: Bool { rows.allSatisfy(\.passed) }

    /// An aligned table, one row per quantity, and a verdict naming what disagrees.
    public func table() -> String {
        var lines = [["quantity", "elements", "error", "status"]]
        for r in rows { lines.append([r.quantity, "\(r.elements)", String(format: "%.2e", r.error), r.passed ? "ok" : "FAIL"]) }
        let widths = lines[0].indices.map { c in lines.map { $0[c].count }.max() ?? 0 }
        let text = lines.map { row in
            row.enumerated().map { c, s in c == 1 || c == 2 ? String(repeating: " ", count: widths[c] - s.count) + s : s.padding(toLength: widths[c], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        let set = fixed.sorted { $0.key < $1.key }.map { "\($0.key) = \(Self.number($0.value))" }.joined(separator: ", ")
        let claim = "\(child)" + (set.isEmpty ? "" : " with \(set)") + " is \(parent)"
        let failing = rows.filter { !$0.passed }
        let verdict = failing.isEmpty
            ? "equivalent: \(claim) (\(rows.count) quantities within \(String(format: "%.0e", tolerance)), normwise max|child − parent| / max|parent|)"
            : "NOT equivalent: \(claim) fails for \(failing.count) of \(rows.count) quantities (\(failing.prefix(4).map(\.quantity).joined(separator: "; "))\(failing.count > 4 ? "; …" : "")), tolerance \(String(format: "%.0e", tolerance))"
        return (text + [verdict]).joined(separator: "\n")
    }

    static func number(_ v: Double) -> String { v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)" }
}
