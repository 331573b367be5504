/// Prints a graph back as the equations it computes, using the names its builder gave:
/// every named non-leaf value becomes one equation `name = expression`, unnamed values are
/// written inline, leaves appear by name. Three formats: plain text (Unicode: σ, ⊙),
/// LaTeX, and Graphviz DOT.
///
/// Matrix products whose right operand is a weight used transposed (`W • x`) print in the
/// papers' column-vector order, `W x`.
public struct EquationPrinter {
    /// Output formats.
    public enum Format: String, CaseIterable, Sendable {
        /// Unicode text: `c' = f ⊙ c + i ⊙ g`.
        case text
        /// LaTeX: `c' = f \odot c + i \odot g`.
        case latex
        /// A Graphviz digraph of the nodes.
        case dot
    }

    /// One printed equation.
    public struct Equation: Sendable {
        /// The defined value's name.
        public var name: String
        /// The right-hand side.
        public var expression: String
        /// The whole line, `name = expression`.
        public var line: String { "\(name) = \(expression)" }
    }

    /// The graph printed.
    public let graph: Graph
    /// The format.
    public let format: Format

    /// Creates a printer.
    public init(graph: Graph, format: Format = .text) {
        self.graph = graph
        self.format = format
    }

    /// The equations defining `outputs` and every named value they depend on, in order of
    /// definition. (For `.dot` use `dot(outputs:)`.)
    public func equations(for outputs: [Value]) -> [Equation] {
        let needed = ancestors(of: outputs.map(\.id))
        return graph.nodes.indices.filter { needed.contains($0) && !graph.nodes[$0].op.isLeaf && graph.nodes[$0].name != nil }
            .map { Equation(name: identifier(graph.nodes[$0].name!), expression: render($0, top: true).text) }
    }

    /// The whole printout of `outputs`: one equation a line, or a DOT digraph.
    public func render(_ outputs: [Value]) -> String {
        format == .dot ? dot(outputs: outputs) : equations(for: outputs).map(\.line).joined(separator: "\n")
    }

    /// A Graphviz digraph: leaves as boxes, operations as ellipses labelled with the op and,
    /// when named, the value's name.
    public func dot(outputs: [Value]) -> String {
        let needed = ancestors(of: outputs.map(\.id))
        var lines = ["digraph step {", "  rankdir=BT;", "  node [fontname=\"Helvetica\"];"]
        for id in graph.nodes.indices where needed.contains(id) {
            let n = graph.nodes[id]
            let label: String
            let shape: String
            switch n.op {
            case .input, .parameter: label = n.name ?? "%\(id)"; shape = n.op == .parameter ? "box" : "box, style=rounded"
            case .constant: label = constantText(n.constant!); shape = "plaintext"
            default: label = (n.name.map { "\($0) = " } ?? "") + symbol(n.op); shape = "ellipse"
            }
            lines.append("  n\(id) [label=\"\(label.replacingOccurrences(of: "\"", with: "\\\""))\", shape=\(shape)];")
            for o in n.operands { lines.append("  n\(o) -> n\(id);") }
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    // MARK: Rendering

    private struct Rendered { var text: String; var precedence: Int }

    private func ancestors(of roots: [Int]) -> Set<Int> {
        var seen = Set<Int>(), stack = roots
        while let n = stack.popLast() {
            if seen.contains(n) { continue }
            seen.insert(n)
            stack.append(contentsOf: graph.nodes[n].operands)
        }
        return seen
    }

    private func render(_ id: Int, top: Bool = false) -> Rendered {
        let n = graph.nodes[id]
        if let name = n.name, !top || n.op.isLeaf { return Rendered(text: identifier(name), precedence: 10) }
        let a = n.operands.map { render($0) }
        func wrap(_ r: Rendered, _ p: Int) -> String { r.precedence < p ? paren(r.text) : r.text }
        let latex = format == .latex
        switch n.op {
        case .input, .parameter: return Rendered(text: "%\(id)", precedence: 10)
        case .constant: return Rendered(text: constantText(n.constant!), precedence: 10)
        case .add: return Rendered(text: "\(wrap(a[0], 1)) + \(wrap(a[1], 2))", precedence: 1)
        case .subtract: return Rendered(text: "\(wrap(a[0], 1)) \(latex ? "-" : "−") \(wrap(a[1], 2))", precedence: 1)
        case .multiply:
            let op = graph.nodes[n.operands[0]].op == .constant ? " " : (latex ? " \\odot " : " ⊙ ")
            return Rendered(text: "\(wrap(a[0], 2))\(op)\(wrap(a[1], 3))", precedence: 2)
        case .divide:
            if latex { return Rendered(text: "\\frac{\(a[0].text)}{\(a[1].text)}", precedence: 10) }
            return Rendered(text: "\(wrap(a[0], 2)) / \(wrap(a[1], 3))", precedence: 2)
        case .negate: return Rendered(text: "-" + wrap(a[0], 3), precedence: 2)
        case let .matmul(ta, tb):
            if tb && !ta && graph.nodes[n.operands[1]].op.isLeaf {  // W • x, the papers' W x
                return Rendered(text: "\(wrap(a[1], 4)) \(wrap(a[0], 4))", precedence: 3)
            }
            let t = latex ? "^\\top" : "ᵀ"
            return Rendered(text: "\(wrap(a[0], 4))\(ta ? t : "") \(latex ? "\\cdot" : "·") \(wrap(a[1], 4))\(tb ? t : "")", precedence: 3)
        case .sigmoid: return call(latex ? "\\sigma" : "σ", a)
        case .tanh: return call(latex ? "\\tanh" : "tanh", a)
        case .relu: return call(latex ? "\\operatorname{relu}" : "relu", a)
        case .exp: return call(latex ? "\\exp" : "exp", a)
        case .log: return call(latex ? "\\log" : "log", a)
        case .sqrt: return Rendered(text: latex ? "\\sqrt{\(a[0].text)}" : "√" + paren(a[0].text), precedence: 10)
        case .square: return Rendered(text: wrap(a[0], 10) + (latex ? "^2" : "²"), precedence: 9)
        case .concatColumns: return Rendered(text: (latex ? "\\left[" : "[") + a.map(\.text).joined(separator: ", ") + (latex ? "\\right]" : "]"), precedence: 10)
        case let .sliceColumns(s, c): return Rendered(text: wrap(a[0], 10) + "[:, \(s):\(s + c)]", precedence: 10)
        case .sumAll: return call(latex ? "\\sum" : "Σ", a)
        case .sumRows: return call(latex ? "\\sum_{\\text{rows}}" : "Σ_rows", a)
        case .meanAll: return call(latex ? "\\operatorname{mean}" : "mean", a)
        case .meanRows: return call(latex ? "\\operatorname{mean}_{\\text{rows}}" : "mean_rows", a)
        case .meanSquaredError: return call(latex ? "\\operatorname{MSE}" : "MSE", a)
        case .softmaxCrossEntropy: return call(latex ? "\\operatorname{CE}" : "CE", a)
        }
    }

    private func call(_ f: String, _ args: [Rendered]) -> Rendered {
        Rendered(text: f + paren(args.map(\.text).joined(separator: ", ")), precedence: 10)
    }

    private func paren(_ s: String) -> String { format == .latex ? "\\left(\(s)\\right)" : "(\(s))" }

    private func constantText(_ t: Tensor) -> String {
        guard t.shape == Shape(1, 1) else { return "C\(t.shape)" }
        let v = t.scalars[0]
        return v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)"
    }

    /// A value's name in the output format: `W_ii` → `W_{ii}` in LaTeX.
    private func identifier(_ name: String) -> String {
        guard format == .latex, let u = name.firstIndex(of: "_") else { return name }
        let base = name[..<u], rest = name[name.index(after: u)...]
        let primes = rest.reversed().prefix { $0 == "'" }.count
        return "\(base)_{\(rest.dropLast(primes))}" + String(repeating: "'", count: primes)
    }

    private func symbol(_ op: Primitive) -> String {
        switch op {
        case .add: return "+"
        case .subtract: return "−"
        case .multiply: return "⊙"
        case .divide: return "/"
        case .matmul: return "matmul"
        case .sigmoid: return "σ"
        default: return op.name
        }
    }
}
