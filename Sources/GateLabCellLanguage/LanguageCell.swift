import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabSupport
import GateLabGSL

/// A recurrent cell written as a text file of equations (`Cells/*.cell`; the language is
/// described in `Notes/cell-language.md`), recorded on the same graph as the built-in cells,
/// so that unrolling, gradient checks, `show`, `gradcheck` and the probes work with it
/// unchanged.
///
///     cell mgu            # Zhou et al. 2016
///     state h
///     f  = sigmoid(W_f x + U_f h + b_f)
///     hc = tanh(W_h x + U_h (f * h) + b_h)
///     h' = (1 - f) * h + f * hc
///
/// The first declared state is the layer's output (what the next layer reads as its x).
public struct LanguageCell: RecurrentCell {
    /// How the cell is named on the command line: the path it was read from (so that
    /// `BuiltinCells.named(cell.name)` finds it again), or the label given to `init(source:file:)`.
    public let name: String
    /// The name on the file's `cell` line (the file's base name when there is none).
    public var declaredName: String { definition.name }
    /// The file's text.
    public let source: String
    let definition: CellDefinition

    /// Reads and checks the cell file at `path`.
    /// - Throws: `CellFileError` (unreadable, too large, not UTF-8, or any mistake in it).
    public init(contentsOfFile path: String) throws {
        // One byte more than a cell file may hold, so that a larger file is named as such.
        let data: Data
        do { data = Data(try InputFile.bytes(path, limit: CellFileLimits.bytes + 1)) } catch let e as InputFileError {
            let reason = e.reason == "no such file" ? "no such cell file"
                : e.reason.hasPrefix("is a folder") ? "a directory, not a cell file"
                : e.reason.hasPrefix("is longer") || e.reason.hasPrefix("is ") && e.reason.contains("bytes, more than")
                    ? "larger than \(CellFileLimits.bytes / 1024) KiB; a cell file is a few lines of equations" : e.reason
            throw CellFileError(file: path, position: nil, kind: .unreadable, message: reason)
        }
        try self.init(data: data, file: path)
    }

    /// Checks the cell file's contents.
    /// - Parameters:
    ///   - data: the file's bytes (UTF-8, at most `CellFileLimits.bytes`).
    ///   - file: the name used in messages and as the cell's `name`.
    /// - Throws: `CellFileError`.
    public init(data: Data, file: String) throws {
        guard data.count <= CellFileLimits.bytes else {
            throw CellFileError(file: file, position: nil, kind: .unreadable,
                                message: "larger than \(CellFileLimits.bytes / 1024) KiB; a cell file is a few lines of equations")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            // Point at the first byte that is not UTF-8: decode leniently and find U+FFFD.
            let lenient = String(decoding: data, as: UTF8.self)
            var line = 1, column = 1
            for s in lenient.unicodeScalars {
                if s == "\u{FFFD}" { break }
                if s == "\n" { line += 1; column = 1 } else { column += 1 }
            }
            throw CellFileError(file: file, position: SourcePosition(line: line, column: column), kind: .unreadable,
                                message: "not UTF-8 text")
        }
        try self.init(source: text, file: file)
    }

    /// Checks a cell given as text.
    /// - Parameters:
    ///   - source: the equations.
    ///   - file: the name used in messages and as the cell's `name`.
    /// - Throws: `CellFileError`.
    public init(source: String, file: String) throws {
        try self.init(source: source, file: file, divisors: [:])
    }

    /// Checks a cell given as text, with some declared widths' divisors replaced: `["B": 1]`
    /// reads `width B = H / 2` as `width B = H / 1` (memory blocks of one cell), so that one
    /// file serves networks of several block sizes.
    /// - Parameters:
    ///   - source: the equations.
    ///   - file: the name used in messages and as the cell's `name`.
    ///   - divisors: divisors (≥ 1) by width name; each name must be declared in the file.
    /// - Throws: `CellFileError` (an undeclared name or a divisor below 1 is a `misuse`).
    public init(source: String, file: String, divisors: [String: Int]) throws {
        let base = ((file as NSString).lastPathComponent as NSString).deletingPathExtension
        do {
            var parser = try Parser(source)
            var statements = try parser.parseFile()
            var unused = divisors
            statements = statements.map {
                guard case let .width(l, _, at) = $0, let d = divisors[l.name] else { return $0 }
                unused[l.name] = nil
                return .width(l, divisor: d, at: at)
            }
            if let (name, d) = unused.min(by: { $0.key < $1.key }) ?? divisors.first(where: { $0.value < 1 }) {
                throw Failure(.misuse, at: SourcePosition(line: 1, column: 1),
                              d < 1 ? "width \(name): the divisor must be at least 1, got \(d)" : "no width \(name) is declared, so its divisor cannot be set")
            }
            var analyzer = Analyzer(statements, defaultName: base.isEmpty ? "cell" : base)
            definition = try analyzer.run()
        } catch let f as Failure {
            throw CellFileError(file: file, position: f.position, kind: f.kind, message: f.message)
        }
        name = file
        self.source = source
    }

    public var stateNames: [String] { definition.states }

    /// The number of distinct input (or recurrent) weight matrices, whichever is larger: what
    /// G means in the FLOP count 3·2·B·(I+H)·G·H·T when each weight is one gate's block.
    public var gateCount: Int { definition.gateCount }

    /// Whether an equation reads the layer below (`c_below'`).
    public var readsLayerBelow: Bool { definition.readsBelow }

    /// The parameters in the order the initializer draws them: equation by equation (in the
    /// file's order), within one equation input weights, recurrent weights, per-unit weights,
    /// then biases, each in order of first use. Weights multiplying a vector of width n are
    /// m × n, m the width their product must have (H, or a declared width ⌈H / S⌉); vectors are
    /// 1 × (the width they meet). An H × H weight multiplying something that depends on a state
    /// is a recurrent weight, any other weight an input weight; a vector only ever added is a
    /// bias, any other vector a per-unit weight. `init` lines become the spec's own `initializer`.
    public func parameters(inputSize: Int, hiddenSize: Int) -> [ParameterSpec] {
        var blocks = [ParameterRole: Int]()
        return definition.parameters.map { p in
            func size(_ w: Width) -> Int { w.size(inputSize: inputSize, hiddenSize: hiddenSize) }
            let (rows, cols): (Int, Int)
            switch p.shape {
            case let .matrix(r, c): (rows, cols) = (size(r), size(c))
            case .vector(let w): (rows, cols) = (1, size(w))
            }
            var initializer = p.initializer
            if case .pytorchRecurrentDefault? = initializer { initializer = .pytorchRecurrentDefault(hiddenSize: hiddenSize) }
            let block = blocks[p.role, default: 0]
            blocks[p.role] = block + 1
            return ParameterSpec(name: p.name, rows: rows, cols: cols, role: p.role, block: block, gate: p.gate, initializer: initializer)
        }
    }

    public func step(x: Value, state: [Value], _ p: Parameters) -> [Value] {
        step(x: x, state: state, below: nil, p)
    }

    /// Records one step; `below` (the new states of the layer below, nil for layer 0) is what
    /// `c_below'` reads. Layer 0 has no layer below: there `c_below'` is zero (see
    /// `Notes/cell-language.md`).
    public func step(x: Value, state: [Value], below: [Value]?, _ p: Parameters) -> [Value] {
        let graph = x.graph
        var values = [Value?](repeating: nil, count: definition.equations.count)
        var zeros: Value?
        let hidden = state[0].shape.cols
        // A state of a declared width n < H travels in an H-wide slot (the protocol's): its
        // first n columns, the others zero.
        let widths = definition.stateWidths.map { $0.size(inputSize: x.shape.cols, hiddenSize: hidden) }
        func narrowed(_ v: Value, _ i: Int) -> Value { widths[i] < hidden ? sliceColumns(v, 0..<widths[i]) : v }
        func build(_ t: Term) -> Value {
            switch t {
            case .constant(let v): return graph.constant(v)
            case .input: return x
            case .previous(let i): return narrowed(state[i], i)
            case .below(let i):
                if let below { return narrowed(below[i], i) }
                if zeros == nil { zeros = graph.constant(Tensor(rows: x.shape.rows, cols: hidden)) }
                return narrowed(zeros!, i)
            case let .expand(a, divisor):
                return LanguageCell.expand(build(a), divisor: divisor, hidden: hidden)
            case .value(let k): return values[k]!
            case .parameter(let n): return p[n]
            case let .product(w, a): return p[w] • build(a)
            case let .binary(op, a, b):
                let (l, r) = (build(a), build(b))
                switch op {
                case .add: return l + r
                case .subtract: return l - r
                case .multiply: return l ⊙ r
                case .divide: return l / r
                }
            case .negate(let a): return -build(a)
            case let .function(f, a):
                // `expand` is a term of its own; every other function records its expression.
                return Functions.named(f).record!(build(a))
            }
        }
        for (k, e) in definition.equations.enumerated() {
            if case .constant = e.term { continue }   // a named constant, substituted where used
            let first = graph.nodes.count
            values[k] = build(e.term).named(e.name)
            // The nodes this equation recorded are its line's: a NaN in one is reported there.
            graph.setOrigin("\(name) line \(e.line) (\(e.name) = …)", fromNode: first)
        }
        return definition.newState.enumerated().map { i, k in
            let v = values[k]!
            guard widths[i] < hidden else { return v }
            return concatColumns([v, graph.constant(Tensor(rows: x.shape.rows, cols: hidden - widths[i]))])
        }
    }

    /// `expand(v)`: column j of `v` (B × n, n = ⌈H / divisor⌉) copied to columns
    /// j·divisor ..< min((j+1)·divisor, H) — the product `E v` with E the H × n matrix that has
    /// a 1 where unit c belongs to block j = c / divisor, printed as `E v`.
    /// With divisor 1 it is `v` itself.
    static func expand(_ v: Value, divisor: Int, hidden: Int) -> Value {
        guard divisor > 1 else { return v }
        let n = v.shape.cols
        var e = Tensor(rows: hidden, cols: n)
        for c in 0..<hidden { e[c, c / divisor] = 1 }
        return v.graph.constant(e).named("E") • v
    }

    /// The comment written on each equation's line, by the name it defines (`f`, `h'`).
    public var explanations: [String: String] {
        Dictionary(definition.equations.compactMap { e in e.explanation.map { (e.name, $0) } }, uniquingKeysWith: { a, _ in a })
    }
}
