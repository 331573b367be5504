import GateLabCells
import Foundation
import GateLabGSL
import GateLabSupport

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
///
/// Three passes: declarations and left sides, then names, dependencies and the build order
/// (cycles, unused values) in this file; then widths, roles and constants, equation by
/// equation in build order (`AnalyzerShapes.swift`).
struct Analyzer {
    let statements: [Statement]
    let defaultName: String

    var cellName: Located?
    var states: [Located] = []
    /// Each state's width class (H unless declared `state i o : B`).
    var stateClass: [Int] = []
    /// Declared widths (`width B = H / 2`), by name: the divisor, where, and its fixed class.
    var widths: [String: (divisor: Int, position: SourcePosition, widthClass: Int)] = [:]
    var stateIndex: [String: Int] = [:]
    var declaredParams: [String: SourcePosition] = [:]
    var forgetBiases: [Located] = []
    var inputBiases: [Located] = []
    var inits: [String: (initializer: Initializer, target: SourcePosition, at: SourcePosition)] = [:]
    var equations: [EquationSyntax] = []
    var intermediateIndex: [String: Int] = [:]
    var newStateIndex: [String: Int] = [:]

    // Shapes: union-find over width classes; class 0 is I, class 1 is H, classes 2 ..< fixedCount
    // the declared widths; the others are unknown widths, merged as uses meet.
    var parent = [0, 1]   // the union-find's parent links
    var fixedCount = 2
    static let inputClass = 0, hiddenClass = 1

    struct ParameterUses {
        var first: SourcePosition
        var firstEquation: Int
        var order: Int
        var asMatrix: SourcePosition?
        var asVector: SourcePosition?
        /// The width class of the vector (or of the matrix's columns).
        var widthClass: Int
        var additiveOnly = true
        /// For a matrix: some operand depends on a state (a recurrent weight).
        var stateDependent = false
        /// For a matrix: the width class of its rows (of the products it makes).
        var rowClass: Int?
    }
    var uses: [String: ParameterUses] = [:]
    var readsBelow = false

    init(_ statements: [Statement], defaultName: String) {
        self.statements = statements
        self.defaultName = defaultName
    }

    /// What pass 3 knows of an expression.
    struct Info {
        var term: Term
        /// nil for a constant (which broadcasts).
        var widthClass: Int?
        /// Varies along the batch (depends on x, a state or the layer below).
        var batch: Bool
        /// Depends on a state (previous, new, or the layer below's).
        var state: Bool
        var constant: Double? { if case let .constant(v) = term { return v }; return nil }
    }
    var equationInfo: [Int: Info] = [:]
    var remap: [Int: Int] = [:]   // file index → build index

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
                let target = stateClass[stateIndex[e.name.name]!]
                guard unify(c, target) else {
                    let hint = find(c) == Analyzer.inputClass ? " (project the input with a weight: W x)" : ""
                    throw Failure(.shape, at: e.name.position, "\(displayName(e)) has \(had), but state \(e.name.name) has \(widthText(target))\(hint)")
                }
            }
            equationInfo[k] = info
            compiled.append(CompiledEquation(name: displayName(e), term: info.term, explanation: e.comment, line: e.name.position.line))
        }
        let parameters = try resolveParameters()
        let newState = states.map { remap[newStateIndex[$0.name]!]! }
        let matrices = parameters.filter { if case .matrix = $0.shape { return true }; return false }
        let inputMatrices = matrices.filter { $0.role == .inputWeight }.count
        let recurrentMatrices = matrices.filter { $0.role == .recurrentWeight }.count
        var stateWidths = [Width]()
        for c in stateClass { stateWidths.append(width(ofClass: c)) }
        return CellDefinition(name: cellName?.name ?? defaultName, states: states.map(\.name),
                              stateWidths: stateWidths, equations: compiled,
                              newState: newState, parameters: parameters, readsBelow: readsBelow,
                              gateCount: max(inputMatrices, recurrentMatrices, 1))
    }

    private func bareName(_ e: Expression) -> (String, SourcePosition)? {
        if case let .name(n, primed, p) = e { return (n + (primed ? "'" : ""), p) }
        return nil
    }


    // MARK: Pass 1: declarations and left sides

    mutating func collectDeclarations() throws {
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
        // Widths first: a state line may name one declared further down.
        for case let .width(l, divisor, at) in statements {
            if l.name == "H" || l.name == "I" || l.name == "x" {
                throw Failure(.misuse, at: l.position, "\(l.name) is reserved (H is the hidden width, I the input's); name the width otherwise, as in width B = H / \(divisor)")
            }
            if let first = widths[l.name] {
                throw Failure(.duplicateDefinition, at: l.position, "width \(l.name) is declared twice (first at \(first.position))")
            }
            parent.append(parent.count)
            widths[l.name] = (divisor, at, parent.count - 1)
        }
        fixedCount = parent.count
        for s in statements {
            switch s {
            case .width: break
            case .cell(let l):
                if let first = cellName { throw Failure(.duplicateDefinition, at: l.position, "a second cell line (the first is at \(first.position))") }
                cellName = l
            case let .state(list, width):
                var c = Analyzer.hiddenClass
                if let width {
                    if width.name == "H" { c = Analyzer.hiddenClass }
                    else if let w = widths[width.name] { c = w.widthClass }
                    else {
                        throw Failure(.unknownName, at: width.position, "unknown width '\(width.name)': declare it, as in width \(width.name) = H / 2 (or write H)\(didYouMean(width.name, among: widths.keys.sorted()))")
                    }
                }
                for l in list {
                    try checkSpelling(l, as: "a state")
                    try claim(l, as: "a state")
                    stateIndex[l.name] = states.count
                    states.append(l)
                    stateClass.append(c)
                }
            case .param(let list):
                for l in list {
                    try checkSpelling(l, as: "a parameter")
                    try claim(l, as: "a parameter")
                    declaredParams[l.name] = l.position
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

    enum Symbol {
        case input, previous(Int), below(Int), equation(Int), parameter
    }

    static func looksLikeParameter(_ name: String) -> Bool {
        let s = Array(name.unicodeScalars)
        guard let first = s.first, "WUVRbwuvp".unicodeScalars.contains(first) else { return false }
        return s.count == 1 || s[1] == "_" || ("0"..."9").contains(s[1])
    }

    func lookup(_ name: String, primed: Bool, at position: SourcePosition) throws -> Symbol {
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

    /// ` (did you mean 'hc'?)` when a known name is one or two edits away (see `didYouMean`).
    func suggestion(for name: String) -> String {
        var known = ["x"] + states.map(\.name) + states.map { $0.name + "'" } + states.map { $0.name + "_below'" }
        known += intermediateIndex.keys.sorted() + declaredParams.keys.sorted()
        return didYouMean(name, among: known)
    }

    // MARK: Pass 2: dependencies, cycles, order

    /// The equations `e` uses directly (checking every name on the way).
    func dependencies(_ e: Expression, into deps: inout [Int]) throws {
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

    func checkWeight(_ w: String, at p: SourcePosition) throws {
        switch try lookup(w, primed: false, at: p) {
        case .parameter: return
        case .input: throw Failure(.misuse, at: p, "x is the input, not a weight: a matrix product W v needs a parameter on the left")
        case .previous, .below, .equation:
            throw Failure(.misuse, at: p, "\(w) is a value, not a weight: a matrix product W v needs a parameter on the left; for an elementwise product write \(w) * …")
        }
    }

    /// Build order: a topological order that keeps the file's order where it can.
    func buildOrder() throws -> [Int] {
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

    func displayName(_ e: EquationSyntax) -> String { e.name.name + (e.primed ? "'" : "") }
}
