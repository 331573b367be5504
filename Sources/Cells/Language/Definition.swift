import Foundation
import GSLKit

/// The width of a vector value or of a matrix's columns: the layer input's I or the hidden H.
enum Width: Sendable, Equatable {
    case input, hidden
}

/// A resolved expression: every name bound to what it denotes, constants folded.
indirect enum Term: Sendable {
    /// A number (a 1 × 1 constant that broadcasts).
    case constant(Double)
    /// `x`, the layer's input at this step.
    case input
    /// A state's previous value (`h`), by state index.
    case previous(Int)
    /// A state's new value in the layer below at this step (`c_below'`), by state index.
    case below(Int)
    /// The value of an equation (`f`, or a new state `h'`), by index in build order.
    case value(Int)
    /// A parameter, by name.
    case parameter(String)
    /// `W v`, the matrix product with a weight.
    case product(String, Term)
    /// An elementwise binary operation.
    case binary(BinaryOperator, Term, Term)
    /// `-a`.
    case negate(Term)
    /// An activation, by canonical name.
    case function(String, Term)
}

/// One equation, resolved.
struct CompiledEquation: Sendable {
    /// The defined value's name as printed: `f`, or `h'` for a new state.
    var name: String
    /// What it computes.
    var term: Term
    /// The comment on its line, used by `show --explain`.
    var explanation: String?
}

/// One parameter: shape, role and initializer, as inferred from its uses.
struct ParameterInfo: Sendable {
    enum Shape: Sendable, Equatable {
        /// H × I or H × H: the weight of a matrix product.
        case matrix(columns: Width)
        /// 1 × I or 1 × H: a bias or a per-unit (diagonal) weight.
        case vector(Width)
    }
    var name: String
    var shape: Shape
    var role: ParameterRole
    /// A vector only ever added (`+ b`), as opposed to a per-unit weight (`u ⊙ h`).
    var isBias: Bool
    var gate: String
    /// Its own initializer: from an `init` line, or the default of per-unit vectors (the
    /// hidden size of `pytorch-default` is filled in per network).
    var initializer: Initializer?
}

/// A parsed, checked cell: what `LanguageCell` records on the graph.
struct CellDefinition: Sendable {
    var name: String
    var states: [String]
    /// In build order (every equation after those it uses).
    var equations: [CompiledEquation]
    /// For each state, the index of the equation of its new value.
    var newState: [Int]
    /// In the order the initializer draws them.
    var parameters: [ParameterInfo]
    var readsBelow: Bool
    var gateCount: Int
}

/// Turns a cell file's statements into a `CellDefinition`, or the first mistake as a
/// `Failure` (see `CellFileError.Kind` for the kinds).
///
/// Names: `x` is the input; a declared state `h` is its previous value, `h'` its new value,
/// `h_below'` the new value of the layer below; an equation's left side is a defined value;
/// any other name is a parameter when it is declared with `param` or spelled like one (its
/// first letter one of W U V R b w u v p, followed by nothing, `_` or a digit), and an
/// unknown name otherwise.
///
/// Shapes: every value is a row of width I (x), H (states, products) or 1 (constants, which
/// broadcast); elementwise operands must have the same width; a weight multiplying a vector
/// of width n is H × n; a parameter used elementwise takes the width of what it meets.
struct Analyzer {
    private let statements: [Statement]
    private let defaultName: String

    private var cellName: Located?
    private var states: [Located] = []
    private var stateIndex: [String: Int] = [:]
    private var declaredParams: [String: SourcePosition] = [:]
    private var declaredParamOrder: [Located] = []
    private var forgetBiases: [Located] = []
    private var inputBiases: [Located] = []
    private var inits: [String: (initializer: Initializer, target: SourcePosition, at: SourcePosition)] = [:]
    private var equations: [EquationSyntax] = []
    private var intermediateIndex: [String: Int] = [:]
    private var newStateIndex: [String: Int] = [:]

    // Shapes: union-find over width classes; class 0 is I, class 1 is H.
    private var parent = [0, 1]
    private static let inputClass = 0, hiddenClass = 1

    private struct ParameterUses {
        var first: SourcePosition
        var firstEquation: Int
        var order: Int
        var asMatrix: SourcePosition?
        var asVector: SourcePosition?
        /// The width class of the vector (or of the matrix's columns).
        var widthClass: Int
        var additiveOnly = true
        var stateDependent = false
    }
    private var uses: [String: ParameterUses] = [:]
    private var readsBelow = false

    init(_ statements: [Statement], defaultName: String) {
        self.statements = statements
        self.defaultName = defaultName
    }

    // MARK: Pass 1: declarations and left sides

    private mutating func collectDeclarations() throws {
        var names = [String: SourcePosition]()   // every declared or defined name, for duplicates
        func claim(_ l: Located, as what: String) throws {
            if let first = names[l.name] {
                throw Failure(.duplicateDefinition, at: l.position, "\(l.name) is \(what) here but already declared or defined at \(first)")
            }
            names[l.name] = l.position
        }
        func checkSpelling(_ l: Located, as what: String) throws {
            if l.name == "x" { throw Failure(.misuse, at: l.position, "x is the layer's input; it cannot be \(what)") }
            if Functions.isFunction(l.name) { throw Failure(.misuse, at: l.position, "\(l.name) is a function; it cannot be \(what)") }
            if l.name.hasSuffix("_below") {
                throw Failure(.misuse, at: l.position, "names ending in _below are reserved for the layer below (c_below' is state c of the layer below)")
            }
        }
        for s in statements {
            switch s {
            case .cell(let l):
                if let first = cellName { throw Failure(.duplicateDefinition, at: l.position, "a second cell line (the first is at \(first.position))") }
                cellName = l
            case .state(let list):
                for l in list {
                    try checkSpelling(l, as: "a state")
                    try claim(l, as: "a state")
                    stateIndex[l.name] = states.count
                    states.append(l)
                }
            case .param(let list):
                for l in list {
                    try checkSpelling(l, as: "a parameter")
                    try claim(l, as: "a parameter")
                    declaredParams[l.name] = l.position
                    declaredParamOrder.append(l)
                }
            case .forget(let list), .inputGate(let list):
                let isForget: Bool
                if case .forget = s { isForget = true } else { isForget = false }
                for l in list {
                    if let other = (forgetBiases + inputBiases).first(where: { $0.name == l.name }) {
                        throw Failure(.duplicateDefinition, at: l.position, "\(l.name) is already marked as a gate bias at \(other.position)")
                    }
                    if isForget { forgetBiases.append(l) } else { inputBiases.append(l) }
                }
            case let .initializer(target, text, at):
                if let first = inits[target.name] {
                    throw Failure(.duplicateDefinition, at: target.position, "a second init for \(target.name) (the first is at \(first.target))")
                }
                let initializer: Initializer
                do {
                    initializer = try Initializer(parsing: text, hiddenSize: 1)
                    // Names that parse may still be refused when drawing (uniform(-1)): draw once now.
                    _ = try initializer.values(rows: 2, cols: 2, using: RandomSource(seed: 1))
                } catch let e as InvalidArgumentError {
                    throw Failure(.initializer, at: at, "init \(target.name): \(e.message)")
                } catch {
                    throw Failure(.initializer, at: at, "init \(target.name): \(error)")
                }
                inits[target.name] = (initializer, target.position, at)
            case .equation(let e):
                guard equations.count < CellFileLimits.equations else {
                    throw Failure(.syntax, at: e.name.position, "more than \(CellFileLimits.equations) equations")
                }
                equations.append(e)
            }
        }
        guard !states.isEmpty else {
            throw Failure(.misuse, at: SourcePosition(line: 1, column: 1),
                          "no state declared: add a line such as 'state h' (the first state is the layer's output)")
        }
        for (k, e) in equations.enumerated() {
            let l = e.name
            if e.primed {
                guard stateIndex[l.name] != nil else {
                    throw Failure(.misuse, at: l.position, "\(l.name)' is the new value of a state, but \(l.name) is not declared with state; write \(l.name) = … for a value within the step")
                }
                if let first = newStateIndex[l.name] {
                    throw Failure(.duplicateDefinition, at: l.position, "\(l.name)' is defined twice (first at \(equations[first].name.position))")
                }
                newStateIndex[l.name] = k
            } else {
                if stateIndex[l.name] != nil {
                    throw Failure(.misuse, at: l.position, "\(l.name) is state \(l.name)'s previous value; its new value is written \(l.name)' = …")
                }
                try checkSpelling(l, as: "defined by an equation")
                if let first = intermediateIndex[l.name] {
                    throw Failure(.duplicateDefinition, at: l.position, "\(l.name) is defined twice (first at \(equations[first].name.position))")
                }
                if let declared = declaredParams[l.name] {
                    throw Failure(.duplicateDefinition, at: l.position, "\(l.name) is declared a parameter at \(declared) and cannot also be defined")
                }
                intermediateIndex[l.name] = k
            }
        }
        for s in states where newStateIndex[s.name] == nil {
            throw Failure(.stateNeverUpdated, at: s.position, "state \(s.name) is never updated: add an equation \(s.name)' = …")
        }
    }

    // MARK: Names

    private enum Symbol {
        case input, previous(Int), below(Int), equation(Int), parameter
    }

    static func looksLikeParameter(_ name: String) -> Bool {
        let s = Array(name.unicodeScalars)
        guard let first = s.first, "WUVRbwuvp".unicodeScalars.contains(first) else { return false }
        return s.count == 1 || s[1] == "_" || ("0"..."9").contains(s[1])
    }

    private func lookup(_ name: String, primed: Bool, at position: SourcePosition) throws -> Symbol {
        if name == "x" {
            if primed { throw Failure(.misuse, at: position, "x is the layer's input at this step; it has no new value x'") }
            return .input
        }
        if let i = stateIndex[name] { return primed ? .equation(newStateIndex[name]!) : .previous(i) }
        if name.hasSuffix("_below") {
            let base = String(name.dropLast(6))
            guard let i = stateIndex[base] else {
                throw Failure(.unknownName, at: position, "\(name)\(primed ? "'" : ""): \(base) is not a declared state, so the layer below has no \(base) to read")
            }
            guard primed else {
                throw Failure(.misuse, at: position, "only the layer below's new value at this step is visible: write \(base)_below'")
            }
            return .below(i)
        }
        if let k = intermediateIndex[name] {
            if primed { throw Failure(.misuse, at: position, "\(name) is a value within the step, not a state; it has no prime") }
            return .equation(k)
        }
        if declaredParams[name] != nil || Analyzer.looksLikeParameter(name) {
            if primed { throw Failure(.misuse, at: position, "\(name) is a parameter; only states have a new value (\(name)')") }
            return .parameter
        }
        if primed {
            throw Failure(.unknownName, at: position, "unknown name \(name)': \(name) is not a declared state\(suggestion(for: name + "'"))")
        }
        throw Failure(.unknownName, at: position, "unknown name '\(name)': not x, a state, a defined value or a parameter\(suggestion(for: name))"
                      + "; a parameter's name starts with W, U, V, R, b, w, u, v or p followed by _ or a digit (W_f, b2), or is declared with param \(name)")
    }

    /// ` (did you mean 'hc'?)` when a known name is one or two edits away.
    private func suggestion(for name: String) -> String {
        var known = ["x"] + states.map(\.name) + states.map { $0.name + "'" } + states.map { $0.name + "_below'" }
        known += intermediateIndex.keys.sorted() + declaredParams.keys.sorted()
        let limit = name.count <= 3 ? 1 : 2
        let best = known.map { ($0, editDistance($0, name)) }.filter { $0.1 <= limit }.min { $0.1 < $1.1 }
        return best.map { " (did you mean '\($0.0)'?)" } ?? ""
    }

    // MARK: Pass 2: dependencies, cycles, order

    /// The equations `e` uses directly (checking every name on the way).
    private func dependencies(_ e: Expression, into deps: inout [Int]) throws {
        switch e {
        case .number: break
        case let .name(n, primed, p):
            if case let .equation(k) = try lookup(n, primed: primed, at: p) { deps.append(k) }
        case let .call(_, a, _), let .negate(a, _): try dependencies(a, into: &deps)
        case let .product(w, a, p):
            try checkWeight(w, at: p)
            try dependencies(a, into: &deps)
        case let .binary(_, a, b, _):
            try dependencies(a, into: &deps)
            try dependencies(b, into: &deps)
        }
    }

    private func checkWeight(_ w: String, at p: SourcePosition) throws {
        switch try lookup(w, primed: false, at: p) {
        case .parameter: return
        case .input: throw Failure(.misuse, at: p, "x is the input, not a weight: a matrix product W v needs a parameter on the left")
        case .previous, .below, .equation:
            throw Failure(.misuse, at: p, "\(w) is a value, not a weight: a matrix product W v needs a parameter on the left; for an elementwise product write \(w) * …")
        }
    }

    /// Build order: a topological order that keeps the file's order where it can.
    private func buildOrder() throws -> [Int] {
        let n = equations.count
        var deps = [[Int]](repeating: [], count: n)
        for k in 0..<n { try dependencies(equations[k].expression, into: &deps[k]) }
        var users = [[Int]](repeating: [], count: n), waiting = [Int](repeating: 0, count: n)
        for k in 0..<n { for d in Set(deps[k]) { users[d].append(k); waiting[k] += 1 } }
        var ready = (0..<n).filter { waiting[$0] == 0 }, order = [Int]()
        while let k = ready.min() {
            ready.removeAll { $0 == k }
            order.append(k)
            for u in users[k] { waiting[u] -= 1; if waiting[u] == 0 { ready.append(u) } }
        }
        if order.count < n {
            // Every equation left waits on another left: follow dependencies until one repeats.
            let left = Set(0..<n).subtracting(order)
            var path = [left.min()!], seen = [path[0]: 0]
            while true {
                let next = deps[path.last!].filter(left.contains).min()!
                if let start = seen[next] {
                    let cycle = Array(path[start...]) + [next]
                    let first = cycle.dropLast().min()!
                    let names = cycle.map { displayName(equations[$0]) }.joined(separator: " → ")
                    throw Failure(.cycle, at: equations[first].name.position,
                                  "cycle within a step: \(names); a value cannot depend on itself in the same step (use a state's previous value, such as h, for the last step's)")
                }
                seen[next] = path.count
                path.append(next)
            }
        }
        // Every equation must feed some state's new value.
        var used = Set(newStateIndex.values), stack = Array(used)
        while let k = stack.popLast() { for d in deps[k] where !used.contains(d) { used.insert(d); stack.append(d) } }
        if let unused = (0..<n).first(where: { !used.contains($0) }) {
            throw Failure(.unused, at: equations[unused].name.position, "\(equations[unused].name.name) is defined but no state's new value uses it")
        }
        return order
    }

    private func displayName(_ e: EquationSyntax) -> String { e.name.name + (e.primed ? "'" : "") }

    // MARK: Pass 3: shapes, roles, constants

    private mutating func newClass() -> Int { parent.append(parent.count); return parent.count - 1 }
    private mutating func find(_ c: Int) -> Int {
        var r = c
        while parent[r] != r { r = parent[r] }
        var k = c
        while parent[k] != r { let next = parent[k]; parent[k] = r; k = next }
        return r
    }
    /// Merges two classes; false when they are I and H.
    private mutating func unify(_ a: Int, _ b: Int) -> Bool {
        let (ra, rb) = (find(a), find(b))
        if ra == rb { return true }
        if ra <= 1 && rb <= 1 { return false }
        if ra <= 1 { parent[rb] = ra } else { parent[ra] = rb }
        return true
    }
    private mutating func widthText(_ c: Int) -> String {
        switch find(c) {
        case Analyzer.inputClass: return "the input's width I"
        case Analyzer.hiddenClass: return "the hidden width H"
        default: return "an unknown width"
        }
    }

    /// What pass 3 knows of an expression.
    private struct Info {
        var term: Term
        /// nil for a constant (which broadcasts).
        var widthClass: Int?
        /// Varies along the batch (depends on x, a state or the layer below).
        var batch: Bool
        /// Depends on a state (previous, new, or the layer below's).
        var state: Bool
        var constant: Double? { if case let .constant(v) = term { return v }; return nil }
    }
    private var equationInfo: [Int: Info] = [:]
    private var remap: [Int: Int] = [:]   // file index → build index

    /// The parameter an operand is, looking through minus signs (for a bias `- b`).
    private func bareParameter(_ e: Expression) -> (String, SourcePosition)? {
        switch e {
        case let .name(n, primed, p):
            guard !primed, case .parameter? = try? lookup(n, primed: false, at: p) else { return nil }
            return (n, p)
        case let .negate(a, _): return bareParameter(a)
        default: return nil
        }
    }

    private mutating func use(_ name: String, at p: SourcePosition, equation: Int, matrix: Bool) throws -> Int {
        if var u = uses[name] {
            if matrix, u.asMatrix == nil, let v = u.asVector {
                throw Failure(.shape, at: p, "\(name) is used as a vector at \(v) (added or multiplied elementwise) and as a matrix here (W v)")
            }
            if !matrix, u.asVector == nil, let m = u.asMatrix {
                throw Failure(.shape, at: p, "\(name) is used as a matrix at \(m) (W v) and as a vector here (added or multiplied elementwise)")
            }
            if matrix { u.asMatrix = u.asMatrix ?? p } else { u.asVector = u.asVector ?? p }
            uses[name] = u
            return u.widthClass
        }
        guard uses.count < CellFileLimits.parameters else {
            throw Failure(.syntax, at: p, "more than \(CellFileLimits.parameters) parameters")
        }
        let c = newClass()
        uses[name] = ParameterUses(first: p, firstEquation: equation, order: uses.count,
                                   asMatrix: matrix ? p : nil, asVector: matrix ? nil : p, widthClass: c)
        return c
    }

    private mutating func infer(_ e: Expression, equation k: Int, recordUse: Bool = true) throws -> Info {
        switch e {
        case let .number(v, _):
            return Info(term: .constant(v), widthClass: nil, batch: false, state: false)
        case let .name(n, primed, p):
            switch try lookup(n, primed: primed, at: p) {
            case .input: return Info(term: .input, widthClass: Analyzer.inputClass, batch: true, state: false)
            case .previous(let i): return Info(term: .previous(i), widthClass: Analyzer.hiddenClass, batch: true, state: true)
            case .below(let i):
                readsBelow = true
                return Info(term: .below(i), widthClass: Analyzer.hiddenClass, batch: true, state: true)
            case .equation(let j):
                // A named constant (β = 1) is substituted, so that printed equations are
                // self-contained; any other value is referred to.
                var info = equationInfo[j]!
                if info.constant == nil { info.term = .value(remap[j]!) }
                return info
            case .parameter:
                let c = try use(n, at: p, equation: k, matrix: false)
                if recordUse { uses[n]!.additiveOnly = false }
                return Info(term: .parameter(n), widthClass: c, batch: false, state: false)
            }
        case let .call(f, a, p):
            let ia = try infer(a, equation: k)
            let name = Functions.canonical(f)!
            if let v = ia.constant {
                return Info(term: .constant(try folded(Analyzer.evaluate(name, v), at: p)), widthClass: nil, batch: false, state: false)
            }
            return Info(term: .function(name, ia.term), widthClass: ia.widthClass, batch: ia.batch, state: ia.state)
        case let .negate(a, p):
            let ia = try infer(a, equation: k, recordUse: recordUse)
            if let v = ia.constant { return Info(term: .constant(try folded(-v, at: p)), widthClass: nil, batch: false, state: false) }
            return Info(term: .negate(ia.term), widthClass: ia.widthClass, batch: ia.batch, state: ia.state)
        case let .product(w, a, p):
            let ia = try infer(a, equation: k)
            guard let operandClass = ia.widthClass else {
                throw Failure(.shape, at: a.start, "\(w) multiplies a constant; a matrix product W v needs a vector operand (for a scalar multiple write c * v)")
            }
            let columns = try use(w, at: p, equation: k, matrix: true)
            let before = widthText(columns)
            guard unify(columns, operandClass) else {
                throw Failure(.shape, at: a.start, "\(w) multiplies a vector of \(widthText(operandClass)) here, but one of \(before) at \(uses[w]!.asMatrix!)")
            }
            if ia.state { uses[w]!.stateDependent = true }
            return Info(term: .product(w, ia.term), widthClass: Analyzer.hiddenClass, batch: ia.batch, state: ia.state)
        case let .binary(op, a, b, p):
            let pa = bareParameter(a), pb = bareParameter(b)
            let ia = try infer(a, equation: k, recordUse: pa == nil)
            let ib = try infer(b, equation: k, recordUse: pb == nil)
            let additive = op == .add || op == .subtract
            for (param, other) in [(pa, ib), (pb, ia)] {
                guard let (name, _) = param else { continue }
                if !additive { uses[name]!.additiveOnly = false; if other.state { uses[name]!.stateDependent = true } }
            }
            if let x = ia.constant, let y = ib.constant {
                let v: Double
                switch op {
                case .add: v = x + y
                case .subtract: v = x - y
                case .multiply: v = x * y
                case .divide: v = x / y
                }
                return Info(term: .constant(try folded(v, at: p)), widthClass: nil, batch: false, state: false)
            }
            var width = ia.widthClass ?? ib.widthClass
            if let ca = ia.widthClass, let cb = ib.widthClass {
                let (ta, tb) = (widthText(ca), widthText(cb))
                guard unify(ca, cb) else {
                    throw Failure(.shape, at: p, "shapes do not match in '\(op.rawValue)': the left side has \(ta), the right side \(tb) (a weight turns one into the other: W x is H-wide)")
                }
                width = ca
            }
            return Info(term: .binary(op, ia.term, ib.term), widthClass: width, batch: ia.batch || ib.batch, state: ia.state || ib.state)
        }
    }

    private func folded(_ v: Double, at p: SourcePosition) throws -> Double {
        guard v.isFinite else { throw Failure(.misuse, at: p, "this constant expression is not a finite number") }
        return v
    }

    static func evaluate(_ function: String, _ v: Double) -> Double {
        switch function {
        case "sigmoid": return 1 / (1 + Foundation.exp(-v))
        case "tanh": return Foundation.tanh(v)
        case "relu": return max(v, 0)
        case "hard_sigmoid": return min(max(0.2 * v + 0.5, 0), 1)
        case "exp": return Foundation.exp(v)
        case "log": return Foundation.log(v)
        case "sqrt": return v.squareRoot()
        default: return v * v    // square
        }
    }

    // MARK: The whole analysis

    mutating func run() throws -> CellDefinition {
        try collectDeclarations()
        let order = try buildOrder()
        for (b, k) in order.enumerated() { remap[k] = b }
        var compiled = [CompiledEquation]()
        for k in order {
            let e = equations[k]
            let info = try infer(e.expression, equation: k)
            if let (n, p) = bareName(e.expression) {
                throw Failure(.misuse, at: p, "\(displayName(e)) = \(n) only renames \(n); use \(n) directly (a definition must compute something)")
            }
            if e.primed {
                guard let c = info.widthClass, info.batch else {
                    throw Failure(.misuse, at: e.name.position, "\(displayName(e)) does not depend on x, a state or the layer below; a state's new value must")
                }
                let had = widthText(c)
                guard unify(c, Analyzer.hiddenClass) else {
                    throw Failure(.shape, at: e.name.position, "\(displayName(e)) has \(had), but a state has the hidden width H (project the input with a weight: W x)")
                }
            }
            equationInfo[k] = info
            compiled.append(CompiledEquation(name: displayName(e), term: info.term, explanation: e.comment))
        }
        let parameters = try resolveParameters()
        let newState = states.map { remap[newStateIndex[$0.name]!]! }
        let matrices = parameters.filter { if case .matrix = $0.shape { return true }; return false }
        let inputMatrices = matrices.filter { $0.role == .inputWeight }.count
        let recurrentMatrices = matrices.filter { $0.role == .recurrentWeight }.count
        return CellDefinition(name: cellName?.name ?? defaultName, states: states.map(\.name), equations: compiled,
                              newState: newState, parameters: parameters, readsBelow: readsBelow,
                              gateCount: max(inputMatrices, recurrentMatrices, 1))
    }

    private func bareName(_ e: Expression) -> (String, SourcePosition)? {
        if case let .name(n, primed, p) = e { return (n + (primed ? "'" : ""), p) }
        return nil
    }

    private mutating func resolveParameters() throws -> [ParameterInfo] {
        // In file order, so that the first mistake is the one reported.
        for (name, p) in declaredParams.sorted(by: { $0.value < $1.value }) where uses[name] == nil {
            throw Failure(.unused, at: p, "parameter \(name) is declared but no equation uses it")
        }
        for (name, i) in inits.sorted(by: { $0.value.target < $1.value.target }) where uses[name] == nil {
            if stateIndex[name] != nil {
                throw Failure(.misuse, at: i.target, "\(name) is a state; initial states are inputs of the network, not parameters")
            }
            throw Failure(.unused, at: i.target, "init \(name): no equation uses a parameter \(name)")
        }
        var gateOf = [String: (gate: String, rank: Int)]()
        for (list, gate, keyword) in [(forgetBiases, "forget", "forget"), (inputBiases, "input", "input")] {
            for (rank, l) in list.enumerated() {
                guard let u = uses[l.name] else {
                    throw Failure(.unused, at: l.position, "\(keyword) \(l.name): no equation uses a parameter \(l.name)")
                }
                guard u.asMatrix == nil, u.additiveOnly else {
                    throw Failure(.misuse, at: l.position, "\(keyword) marks a gate's bias, but \(l.name) is not a bias (a vector only ever added in a sum)")
                }
                gateOf[l.name] = (gate, rank)
            }
        }
        var infos = [(info: ParameterInfo, group: Int, kind: Int, order: Int)]()
        for (name, u) in uses.sorted(by: { $0.value.order < $1.value.order }) {
            let width: Width
            switch find(u.widthClass) {
            case Analyzer.inputClass: width = .input
            case Analyzer.hiddenClass: width = .hidden
            default:
                throw Failure(.shape, at: u.first, u.asMatrix != nil
                              ? "cannot infer the width of the vector \(name) multiplies: it involves only parameters and constants"
                              : "cannot infer the width of \(name): it meets only constants and parameters of unknown width (combine it with x, a state or a product W v)")
            }
            let isMatrix = u.asMatrix != nil
            let isBias = !isMatrix && u.additiveOnly
            let role: ParameterRole
            let kind: Int    // draw order within an equation: input weights, recurrent weights, per-unit, biases
            if let (_, rank) = gateOf[name] { role = rank == 0 ? .inputBias : .recurrentBias; kind = 3 }
            else if isBias { role = .inputBias; kind = 3 }
            else if isMatrix { role = u.stateDependent ? .recurrentWeight : .inputWeight; kind = u.stateDependent ? 1 : 0 }
            else { role = u.stateDependent ? .recurrentWeight : .inputWeight; kind = 2 }
            var gate = gateOf[name]?.gate ?? displayName(equations[u.firstEquation])
            if gateOf[name] == nil, gate == "forget" || gate == "input" { gate += " (equation)" }
            var initializer = inits[name]?.initializer
            if initializer == nil, !isMatrix, !isBias { initializer = .pytorchRecurrentDefault(hiddenSize: 1) }
            infos.append((ParameterInfo(name: name, shape: isMatrix ? .matrix(columns: width) : .vector(width), role: role,
                                        isBias: isBias, gate: gate, initializer: initializer),
                          u.firstEquation, kind, u.order))
        }
        infos.sort { ($0.group, $0.kind, $0.order) < ($1.group, $1.kind, $1.order) }
        return infos.map(\.info)
    }
}

/// Levenshtein distance, for suggestions.
func editDistance(_ a: String, _ b: String) -> Int {
    let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
    if a.isEmpty || b.isEmpty { return max(a.count, b.count) }
    var previous = Array(0...b.count), current = previous
    for i in 1...a.count {
        current[0] = i
        for j in 1...b.count {
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
        }
        swap(&previous, &current)
    }
    return previous[b.count]
}
