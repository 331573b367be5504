/// The syntax tree of a cell file, as written (names not yet resolved).

/// The elementwise binary operators.
enum BinaryOperator: String, Sendable {
    case add = "+", subtract = "-", multiply = "*", divide = "/"
}

/// An expression, each node with the position a message about it points to.
indirect enum Expression: Sendable {
    /// A number literal.
    case number(Double, SourcePosition)
    /// A name: `h`, `h'`, `W_f`, `c_below'`.
    case name(String, primed: Bool, SourcePosition)
    /// `f(argument)`, at the function's name.
    case call(String, Expression, SourcePosition)
    /// The paper's matrix product `W v`, at the weight's name.
    case product(weight: String, Expression, SourcePosition)
    /// `a op b`, at the operator.
    case binary(BinaryOperator, Expression, Expression, SourcePosition)
    /// `-a`, at the minus.
    case negate(Expression, SourcePosition)

    /// Where the expression starts (for a binary expression, its left operand's start).
    var start: SourcePosition {
        switch self {
        case let .number(_, p), let .name(_, _, p), let .call(_, _, p), let .product(_, _, p), let .negate(_, p): return p
        case let .binary(_, a, _, _): return a.start
        }
    }

    /// The expression without redundant structure: a bare name stays a name.
    var bareName: (name: String, primed: Bool)? {
        if case let .name(n, primed, _) = self { return (n, primed) }
        return nil
    }
}

/// A name with where it is written.
struct Located: Sendable {
    var name: String
    var position: SourcePosition
}

/// One equation `name = expression` or `name' = expression`.
struct EquationSyntax: Sendable {
    var name: Located
    /// Whether the left side is primed (a state's new value).
    var primed: Bool
    var expression: Expression
    /// The comment on the equation's first line, if any (its explanation for `show --explain`).
    var comment: String?
}

/// One statement of a cell file.
enum Statement: Sendable {
    /// `cell NAME`.
    case cell(Located)
    /// `state h c` or `state i o : blocks` (the states' width: H when not given).
    case state([Located], width: Located?)
    /// `width blocks = H / S`: a width of ⌈H / S⌉ (memory blocks of S cells).
    case width(Located, divisor: Int, at: SourcePosition)
    /// `param NAME…`: names declared as parameters whatever their spelling.
    case param([Located])
    /// `forget b_f…`: forget-gate biases (what a forget-bias setting sets).
    case forget([Located])
    /// `input b_i…`: input-gate biases (what chrono initialization sets to −b_f).
    case inputGate([Located])
    /// `init NAME = INITIALIZER`.
    case initializer(Located, text: String, at: SourcePosition)
    /// An equation.
    case equation(EquationSyntax)
}

/// Recursive-descent parser over the lexer's tokens:
///
///     file       := statement (NEWLINE statement)*
///     statement  := ε | declaration | NAME ['] '=' expr
///     declaration:= 'cell' NAME | 'state' names [':' NAME] | 'param' names | 'forget' names
///                 | 'input' names | 'init' NAME '=' INITIALIZER-TEXT | 'width' NAME '=' 'H' '/' INTEGER
///     expr       := term (('+' | '-') term)*
///     term       := unary (('*' | '/') unary)*
///     unary      := '-' unary | product
///     product    := NAME ['•'] product          when NAME is followed by the start of an operand
///                 | primary
///     primary    := NUMBER | NAME ['] | FUNCTION '(' expr ')' | '(' expr ')'
///
/// A declaration keyword is one only when the next token is not `=` (so `input = …` is an
/// equation). A name written directly before `(`, with no space, is a function call; with a
/// space (`U_h (f * h)`) it is a matrix product.
struct Parser {
    private var lexer: Lexer
    private var current: Token
    private var depth = 0

    static let keywords: Set<String> = ["cell", "state", "param", "forget", "input", "init", "width"]

    init(_ text: String) throws {
        lexer = Lexer(text)
        current = Token(kind: .end, position: SourcePosition(line: 1, column: 1), start: 0, end: 0, spaceBefore: true)
        current = try lexer.next()
    }

    /// The comments by line (valid after `parseFile`).
    var comments: [Int: String] { lexer.comments }

    mutating func parseFile() throws -> [Statement] {
        var statements = [Statement]()
        while true {
            switch current.kind {
            case .end:
                // Comments are known once every line has been read.
                return statements.map {
                    guard case var .equation(e) = $0 else { return $0 }
                    e.comment = comments[e.name.position.line]
                    return .equation(e)
                }
            case .newline: try advance()
            default:
                statements.append(try statement())
                switch current.kind {
                case .newline, .end: break
                default: throw Failure(.syntax, at: current.position, "expected the end of the line, found \(describe(current))")
                }
            }
        }
    }

    private mutating func advance() throws { current = try lexer.next() }

    private func describe(_ t: Token) -> String {
        switch t.kind {
        case .newline, .end: return t.text
        default: return "'\(t.text)'"
        }
    }

    private mutating func statement() throws -> Statement {
        guard case let .name(word, primed) = current.kind else {
            throw Failure(.syntax, at: current.position,
                          "expected an equation (name = …) or a declaration (cell, state, param, init, forget, input, width), found \(describe(current))")
        }
        let head = Located(name: word, position: current.position)
        try advance()
        if !primed, Parser.keywords.contains(word), current.kind != .equals {
            return try declaration(head)
        }
        guard current.kind == .equals else {
            let hint = Parser.keywords.contains(word) ? "" : "; declarations start with cell, state, param, init, forget, input or width"
            throw Failure(.syntax, at: current.position, "expected '=' after \(word)\(primed ? "'" : ""), found \(describe(current))\(hint)")
        }
        try advance()
        let e = try expression()
        return .equation(EquationSyntax(name: head, primed: primed, expression: e, comment: nil))
    }

    private mutating func declaration(_ keyword: Located) throws -> Statement {
        switch keyword.name {
        case "cell":
            // The name is raw text (it may contain '-'), from the token already read after `cell`.
            guard current.kind != .newline, current.kind != .end else {
                throw Failure(.syntax, at: current.position, "cell needs a name, e.g. cell mgu")
            }
            let (text, at) = lexer.restOfLine(from: current.start)
            let allowed = text.unicodeScalars.allSatisfy { Lexer.isNameContinuation($0) || "-+.".unicodeScalars.contains($0) }
            guard !text.isEmpty, allowed, text.unicodeScalars.count <= CellFileLimits.nameLength else {
                throw Failure(.syntax, at: at, "cell needs a name of letters, digits and _ - + . (at most \(CellFileLimits.nameLength)), e.g. cell mgu")
            }
            try advance()
            return .cell(Located(name: text, position: at))
        case "init":
            guard case let .name(name, primed) = current.kind, !primed else {
                throw Failure(.syntax, at: current.position, "expected a parameter's name after init, as in init b_f = constant(1)")
            }
            let target = Located(name: name, position: current.position)
            try advance()
            guard current.kind == .equals else {
                throw Failure(.syntax, at: current.position, "expected '=' after init \(name), as in init \(name) = orthogonal")
            }
            let (text, at) = lexer.restOfLine()
            guard !text.isEmpty else { throw Failure(.initializer, at: at, "init \(name) = needs an initializer, e.g. zeros or uniform(0.1)") }
            try advance()
            return .initializer(target, text: text, at: at)
        case "width":
            let example = "as in width blocks = H / 2 (memory blocks of 2 cells)"
            guard case let .name(name, primed) = current.kind, !primed else {
                throw Failure(.syntax, at: current.position, "expected a width's name after width, \(example)")
            }
            let target = Located(name: name, position: current.position)
            try advance()
            guard current.kind == .equals else { throw Failure(.syntax, at: current.position, "expected '=' after width \(name), \(example)") }
            try advance()
            guard case .name("H", false) = current.kind else {
                throw Failure(.syntax, at: current.position, "a width is the hidden width divided by a whole number: H / S, \(example)")
            }
            try advance()
            guard current.kind == .divide else { throw Failure(.syntax, at: current.position, "expected '/' after H, \(example)") }
            try advance()
            let at = current.position
            guard case let .number(v) = current.kind, v >= 1, v <= 1_000_000, v == v.rounded() else {
                throw Failure(.syntax, at: current.position, "the divisor of H must be a whole number from 1 to 1000000, \(example)")
            }
            try advance()
            return .width(target, divisor: Int(v), at: at)
        default:
            var names = [Located]()
            while case let .name(name, primed) = current.kind {
                guard !primed else {
                    throw Failure(.syntax, at: current.position, "\(keyword.name) takes names without primes: \(name), not \(name)'")
                }
                names.append(Located(name: name, position: current.position))
                try advance()
                if current.kind == .comma { try advance() }
            }
            guard !names.isEmpty else {
                throw Failure(.syntax, at: current.position, "\(keyword.name) needs at least one name, found \(describe(current))")
            }
            var width: Located?
            if keyword.name == "state", current.kind == .colon {
                try advance()
                guard case let .name(w, false) = current.kind else {
                    throw Failure(.syntax, at: current.position, "expected a width's name after ':', as in state i o : blocks (declared by width blocks = H / 2)")
                }
                width = Located(name: w, position: current.position)
                try advance()
            }
            switch keyword.name {
            case "state": return .state(names, width: width)
            case "param": return .param(names)
            case "forget": return .forget(names)
            default: return .inputGate(names)
            }
        }
    }

    // MARK: Expressions
    //
    // Every rule returns its tree with the tree's depth, and refuses to build one deeper than
    // `CellFileLimits.depth`; the rules' own recursion (parentheses, minus signs, products) is
    // bounded too (`enter`). So no input can exhaust the stack, here or in the passes that
    // walk the tree.

    private typealias Tree = (expression: Expression, depth: Int)

    /// Counts one level of the rules' recursion (undone by the caller's `defer`).
    private mutating func enter() throws {
        depth += 1
        guard depth <= CellFileLimits.depth else { throw tooDeep(at: current.position) }
    }

    private func tooDeep(at position: SourcePosition) -> Failure {
        Failure(.syntax, at: position, "expression more than \(CellFileLimits.depth) levels deep: parentheses, or a chain of more than \(CellFileLimits.depth) terms (a + b + … is built one level per term); split it into named values")
    }

    /// A node over `children`, checked against the depth limit.
    private func node(_ e: Expression, _ children: Tree..., at position: SourcePosition) throws -> Tree {
        let d = 1 + (children.map(\.depth).max() ?? 0)
        guard d <= CellFileLimits.depth else { throw tooDeep(at: position) }
        return (e, d)
    }

    private mutating func expression() throws -> Expression { try sum().expression }

    private mutating func sum() throws -> Tree {
        try enter(); defer { depth -= 1 }
        var left = try term()
        while current.kind == .plus || current.kind == .minus {
            let op: BinaryOperator = current.kind == .plus ? .add : .subtract
            let at = current.position
            try advance()
            let right = try term()
            left = try node(.binary(op, left.expression, right.expression, at), left, right, at: at)
        }
        return left
    }

    private mutating func term() throws -> Tree {
        var left = try unary()
        while current.kind == .times || current.kind == .divide {
            let op: BinaryOperator = current.kind == .times ? .multiply : .divide
            let at = current.position
            try advance()
            let right = try unary()
            left = try node(.binary(op, left.expression, right.expression, at), left, right, at: at)
        }
        if startsOperand { throw missingOperator() }
        return left
    }

    private func missingOperator() -> Failure {
        Failure(.syntax, at: current.position,
                "expected an operator before \(describe(current)); a matrix product is a weight's name followed by its operand (W x), an elementwise product needs * or ⊙")
    }

    private mutating func unary() throws -> Tree {
        guard current.kind == .minus else { return try product() }
        try enter(); defer { depth -= 1 }
        let at = current.position
        try advance()
        let operand = try unary()
        return try node(.negate(operand.expression, at), operand, at: at)
    }

    /// Whether the current token can start an operand of a juxtaposed product.
    private var startsOperand: Bool {
        switch current.kind {
        case .name, .number, .leftParen: return true
        default: return false
        }
    }

    private mutating func product() throws -> Tree {
        guard case let .name(name, primed) = current.kind, !primed, !Functions.isFunction(name) else { return try primary() }
        try enter(); defer { depth -= 1 }
        let at = current.position
        try advance()
        if current.kind == .leftParen && !current.spaceBefore {
            throw Failure(.unknownFunction, at: at, "unknown function '\(name)'; functions: \(Functions.names.joined(separator: ", "))"
                          + " (for a matrix product leave a space: \(name) (…))")
        }
        if current.kind == .dot {
            try advance()
            guard startsOperand else { throw Failure(.syntax, at: current.position, "expected the operand of \(name) •, found \(describe(current))") }
        } else if !startsOperand {
            return (.name(name, primed: false, at), 1)
        }
        let operand = try product()
        return try node(.product(weight: name, operand.expression, at), operand, at: at)
    }

    private mutating func primary() throws -> Tree {
        let t = current
        switch t.kind {
        case let .number(v):
            try advance()
            return (.number(v, t.position), 1)
        case let .name(name, primed):
            try advance()
            if Functions.isFunction(name) {
                guard !primed else { throw Failure(.misuse, at: t.position, "\(name) is a function; it has no prime") }
                guard current.kind == .leftParen else {
                    throw Failure(.misuse, at: t.position, "\(name) is a function: write \(name)(…)")
                }
                try advance()
                let argument = try sum()
                if current.kind == .comma {
                    throw Failure(.syntax, at: current.position, "\(name) takes one argument")
                }
                try expect(.rightParen, closing: t.position, what: "\(name)(")
                return try node(.call(name, argument.expression, t.position), argument, at: t.position)
            }
            return (.name(name, primed: primed, t.position), 1)
        case .leftParen:
            try advance()
            let inner = try sum()
            try expect(.rightParen, closing: t.position, what: "(")
            return inner
        default:
            throw Failure(.syntax, at: t.position, "expected a value (a name, a number, a function call or '('), found \(describe(t))")
        }
    }

    private mutating func expect(_ kind: Token.Kind, closing open: SourcePosition, what: String) throws {
        guard current.kind == kind else {
            throw Failure(.syntax, at: current.position, "expected ')' to close '\(what)' at \(open), found \(describe(current))")
        }
        try advance()
    }
}
