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

    private typealias Rendered = PrintedOperand

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
        switch n.op {
        case .input, .parameter: return Rendered(text: "%\(id)", precedence: 10)
        case .constant: return Rendered(text: constantText(n.constant!), precedence: 10)
        default:
            let operands = n.operands.map { o in
                var r = render(o)
                (r.isConstant, r.isLeaf) = (graph.nodes[o].op == .constant, graph.nodes[o].op.isLeaf)
                return r
            }
            return n.op.family.printed(n.op, operands, PrintStyle(latex: format == .latex))
        }
    }


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

    private func symbol(_ op: Primitive) -> String { op.family.symbol(op) }
}

/// One operand (or result) of a printed equation: its text and its precedence (10: atomic;
/// an operand of lower precedence than its place asks for is parenthesized), and what the
/// printer knows of its node (a constant factor prints as a coefficient; a leaf weight on the
/// right of a product prints on the left).
struct PrintedOperand {
    var text: String
    var precedence: Int
    var isConstant = false, isLeaf = false
}

/// How a family prints its ops: text (Unicode) or LaTeX, and the helpers every form uses.
struct PrintStyle {
    let latex: Bool
    /// `r`'s text, parenthesized when its precedence is below `p`.
    func wrap(_ r: PrintedOperand, _ p: Int) -> String { r.precedence < p ? paren(r.text) : r.text }
    /// `(s)`, sized in LaTeX.
    func paren(_ s: String) -> String { latex ? "\\left(\(s)\\right)" : "(\(s))" }
    /// `f(a, b, …)`.
    func call(_ f: String, _ args: [PrintedOperand]) -> PrintedOperand {
        PrintedOperand(text: f + paren(args.map(\.text).joined(separator: ", ")), precedence: 10)
    }
}
