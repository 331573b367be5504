import GateLabCells
import Foundation
import GateLabGSL

/// Pass 3 of the analysis: widths (a union-find over width classes), parameter uses and
/// roles, constant folding.
extension Analyzer {
    mutating func newClass() -> Int { parent.append(parent.count); return parent.count - 1 }
    mutating func find(_ c: Int) -> Int {
        var r = c
        while parent[r] != r { r = parent[r] }
        var k = c
        while parent[k] != r { let next = parent[k]; parent[k] = r; k = next }
        return r
    }
    /// Merges two classes; false when they are two different known widths (I, H, a declared one).
    mutating func unify(_ a: Int, _ b: Int) -> Bool {
        let (ra, rb) = (find(a), find(b))
        if ra == rb { return true }
        if ra < fixedCount && rb < fixedCount { return false }
        if ra < fixedCount { parent[rb] = ra } else { parent[ra] = rb }
        return true
    }
    /// The declared width whose class is `root`, if any.
    func declaredWidth(_ root: Int) -> (name: String, divisor: Int)? {
        widths.first { $0.value.widthClass == root }.map { ($0.key, $0.value.divisor) }
    }
    mutating func widthText(_ c: Int) -> String {
        let r = find(c)
        switch r {
        case Analyzer.inputClass: return "the input's width I"
        case Analyzer.hiddenClass: return "the hidden width H"
        default:
            if let (name, d) = declaredWidth(r) { return "the width \(name) = H / \(d)" }
            return "an unknown width"
        }
    }
    /// The width a (resolved) class stands for; an unresolved class is H (only called once
    /// `resolveParameters` has settled every class, or for states, whose classes are fixed).
    mutating func width(ofClass c: Int) -> Width {
        let r = find(c)
        if r == Analyzer.inputClass { return .input }
        if let (name, d) = declaredWidth(r) { return .declared(name: name, divisor: d) }
        return .hidden
    }

    /// The parameter an operand is, looking through minus signs (for a bias `- b`).
    func bareParameter(_ e: Expression) -> (String, SourcePosition)? {
        switch e {
        case let .name(n, primed, p):
            guard !primed, case .parameter? = try? lookup(n, primed: false, at: p) else { return nil }
            return (n, p)
        case let .negate(a, _): return bareParameter(a)
        default: return nil
        }
    }

    mutating func use(_ name: String, at p: SourcePosition, equation: Int, matrix: Bool) throws -> Int {
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
        if matrix {
            let rows = newClass()
            uses[name]!.rowClass = rows
        }
        return c
    }

    mutating func infer(_ e: Expression, equation k: Int, recordUse: Bool = true) throws -> Info {
        switch e {
        case let .number(v, _):
            return Info(term: .constant(v), widthClass: nil, batch: false, state: false)
        case let .name(n, primed, p):
            switch try lookup(n, primed: primed, at: p) {
            case .input: return Info(term: .input, widthClass: Analyzer.inputClass, batch: true, state: false)
            case .previous(let i): return Info(term: .previous(i), widthClass: stateClass[i], batch: true, state: true)
            case .below(let i):
                readsBelow = true
                return Info(term: .below(i), widthClass: stateClass[i], batch: true, state: true)
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
                return Info(term: .constant(try folded(Functions.named(name).fold(v), at: p)), widthClass: nil, batch: false, state: false)
            }
            if name == "expand" { return try expand(ia, at: p) }
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
            return Info(term: .product(w, ia.term), widthClass: uses[w]!.rowClass!, batch: ia.batch, state: ia.state)
        case let .binary(op, a, b, p):
            let pa = bareParameter(a), pb = bareParameter(b)
            let ia = try infer(a, equation: k, recordUse: pa == nil)
            let ib = try infer(b, equation: k, recordUse: pb == nil)
            let additive = op == .add || op == .subtract
            for param in [pa, pb] {
                guard let (name, _) = param else { continue }
                if !additive { uses[name]!.additiveOnly = false }
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

    /// `expand(a)`: a value of a declared width (a block's gate) spread over the hidden width
    /// (its cells). A value whose width is not yet known takes the file's one declared width.
    mutating func expand(_ a: Info, at p: SourcePosition) throws -> Info {
        var root = find(a.widthClass!)
        if root >= fixedCount {
            guard widths.count == 1, let only = widths.values.first else {
                throw Failure(.shape, at: p, widths.isEmpty
                              ? "expand spreads a value of a declared width over H, but no width is declared (add a line such as width blocks = H / 2)"
                              : "expand cannot tell which declared width its argument has (\(widths.keys.sorted().joined(separator: ", "))): give the argument a width, e.g. through a state declared state i : blocks")
            }
            _ = unify(root, only.widthClass)
            root = find(root)
        }
        guard let (_, divisor) = declaredWidth(root) else {
            throw Failure(.shape, at: p, "expand spreads a value of a declared width (such as blocks = H / 2) over H, but its argument has \(widthText(root))")
        }
        return Info(term: .expand(a.term, divisor: divisor), widthClass: Analyzer.hiddenClass, batch: a.batch, state: a.state)
    }

    func folded(_ v: Double, at p: SourcePosition) throws -> Double {
        guard v.isFinite else { throw Failure(.misuse, at: p, "this constant expression is not a finite number") }
        return v
    }

    mutating func resolveParameters() throws -> [ParameterInfo] {
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
        // A product not used where a declared width is needed is H-wide (as before widths could be
        // declared); never I-wide: a weight maps to the hidden width or a declared one.
        for (name, u) in uses.sorted(by: { $0.value.order < $1.value.order }) {
            guard let r = u.rowClass else { continue }
            if find(r) >= fixedCount { _ = unify(r, Analyzer.hiddenClass) }
            if find(r) == Analyzer.inputClass {
                throw Failure(.shape, at: u.asMatrix!, "\(name)'s product is used where the input's width I is needed, but a product has the hidden width H or a declared width (x itself is I-wide)")
            }
        }
        var gateOf = [String: (gate: String, rank: Int)]()
        var markedWidths = [(name: String, width: Width, text: String)]()
        for (list, gate, keyword) in [(forgetBiases, "forget", "forget"), (inputBiases, "input", "input")] {
            for (rank, l) in list.enumerated() {
                guard let u = uses[l.name] else {
                    throw Failure(.unused, at: l.position, "\(keyword) \(l.name): no equation uses a parameter \(l.name)")
                }
                guard u.asMatrix == nil, u.additiveOnly else {
                    throw Failure(.misuse, at: l.position, "\(keyword) marks a gate's bias, but \(l.name) is not a bias (a vector only ever added in a sum)")
                }
                // The forget-bias settings write one value per unit of the bias's own width (H, or
                // a declared width such as one per block); chrono sets b_i = −b_f unit by unit, so
                // every marked bias has one width.
                let w = width(ofClass: u.widthClass), text = widthText(u.widthClass)
                if let first = markedWidths.first, first.width != w {
                    throw Failure(.misuse, at: l.position, "\(keyword) marks \(l.name), of \(text), but \(first.name) is marked with \(first.text); the forget-bias settings set the marked forget and input biases unit by unit, so they need one width")
                }
                markedWidths.append((l.name, w, text))
                gateOf[l.name] = (gate, rank)
            }
        }
        var infos = [(info: ParameterInfo, group: Int, kind: Int, order: Int)]()
        for (name, u) in uses.sorted(by: { $0.value.order < $1.value.order }) {
            guard find(u.widthClass) < fixedCount else {
                throw Failure(.shape, at: u.first, u.asMatrix != nil
                              ? "cannot infer the width of the vector \(name) multiplies: it involves only parameters and constants"
                              : "cannot infer the width of \(name): it meets only constants and parameters of unknown width (combine it with x, a state or a product W v)")
            }
            let width = self.width(ofClass: u.widthClass)
            let isMatrix = u.asMatrix != nil
            let isBias = !isMatrix && u.additiveOnly
            let role: ParameterRole
            let kind: Int    // draw order within an equation: input weights, recurrent weights, per-unit, biases
            if let (_, rank) = gateOf[name] { role = rank == 0 ? .inputBias : .recurrentBias; kind = 3 }
            else if isBias { role = .inputBias; kind = 3 }
            else if isMatrix {
                // GateLab's recurrent weights (W_h*: the recurrent initializers, the probe's spectra)
                // are square H × H; a state-reading weight of another shape (a block's gate reading
                // the cells, blocks × H) is drawn and reported as an input weight.
                let recurrent = u.stateDependent && width == .hidden && self.width(ofClass: u.rowClass!) == .hidden
                role = recurrent ? .recurrentWeight : .inputWeight; kind = recurrent ? 1 : 0
            }
            else { role = .perUnitWeight; kind = 2 }
            var gate = gateOf[name]?.gate ?? displayName(equations[u.firstEquation])
            if gateOf[name] == nil, gate == "forget" || gate == "input" { gate += " (equation)" }
            let initializer = inits[name]?.initializer
            let shape: ParameterInfo.Shape = isMatrix ? .matrix(rows: self.width(ofClass: u.rowClass!), columns: width) : .vector(width)
            infos.append((ParameterInfo(name: name, shape: shape, role: role,
                                        isBias: isBias, gate: gate, initializer: initializer),
                          u.firstEquation, kind, u.order))
        }
        infos.sort { ($0.group, $0.kind, $0.order) < ($1.group, $1.kind, $1.order) }
        return infos.map(\.info)
    }
}
