/// One token of a cell file.
struct Token {
    enum Kind: Equatable {
        /// An identifier, with or without one prime (`h`, `h'`, `W_f`, `σ`).
        case name(String, primed: Bool)
        /// A finite number literal.
        case number(Double)
        /// `+`.
        case plus
        /// `-` or `−`.
        case minus
        /// `*`, `⊙` or `∘`: the elementwise product.
        case times
        /// `/`.
        case divide
        /// `•` or `·`: an explicit matrix product (`W • x`, the same as `W x`).
        case dot
        case leftParen, rightParen, equals, comma, colon
        /// The end of a statement (outside parentheses).
        case newline
        case end
    }

    var kind: Kind
    /// Where it starts.
    var position: SourcePosition
    /// Scalar offsets of its first scalar and one past its last.
    var start: Int, end: Int
    /// Whether whitespace separates it from the previous token on the line (`W_f (x)` is a
    /// product, `tanh(x)` a call).
    var spaceBefore: Bool

    /// How the token reads in a message.
    var text: String {
        switch kind {
        case let .name(n, primed): return n + (primed ? "'" : "")
        case let .number(v): return v == v.rounded() && Swift.abs(v) < 1e15 ? String(Int(v)) : "\(v)"
        case .plus: return "+"
        case .minus: return "-"
        case .times: return "*"
        case .divide: return "/"
        case .dot: return "•"
        case .leftParen: return "("
        case .rightParen: return ")"
        case .equals: return "="
        case .comma: return ","
        case .colon: return ":"
        case .newline: return "end of line"
        case .end: return "end of file"
        }
    }
}

/// Splits a cell file into tokens, one at a time, on Unicode scalars (not grapheme
/// clusters, so a stray combining mark or `\r\n` never merges with its neighbour).
///
/// Newlines end statements except inside parentheses, where they are blanks: a long
/// equation continues on the next line while a `(` is open. `#` starts a comment to the end
/// of the line; comments are kept by line, as the explanation of the equation on that line.
struct Lexer {
    let scalars: [Unicode.Scalar]
    private(set) var offset = 0
    private(set) var line = 1
    private var lineStart = 0
    private(set) var parenDepth = 0
    /// The comment on each line, without `#` and surrounding blanks.
    private(set) var comments: [Int: String] = [:]

    init(_ text: String) { scalars = Array(text.unicodeScalars) }

    var position: SourcePosition { SourcePosition(line: line, column: offset - lineStart + 1) }

    private func peek(_ k: Int = 0) -> Unicode.Scalar? {
        offset + k < scalars.count ? scalars[offset + k] : nil
    }

    private static func isNewline(_ s: Unicode.Scalar) -> Bool {
        s == "\n" || s == "\r" || s == "\u{2028}" || s == "\u{2029}" || s == "\u{0B}" || s == "\u{0C}" || s == "\u{85}"
    }
    private static func isBlank(_ s: Unicode.Scalar) -> Bool {
        s == " " || s == "\t" || s == "\u{FEFF}" || (s.properties.isWhitespace && !isNewline(s))
    }
    static func isNameStart(_ s: Unicode.Scalar) -> Bool { s == "_" || s.properties.isAlphabetic }
    static func isNameContinuation(_ s: Unicode.Scalar) -> Bool {
        isNameStart(s) || ("0"..."9").contains(s)
    }
    private static func isDigit(_ s: Unicode.Scalar?) -> Bool { s.map { ("0"..."9").contains($0) } ?? false }

    /// Consumes one line break (`\r\n` counts as one).
    private mutating func consumeNewline() {
        if scalars[offset] == "\r", peek(1) == "\n" { offset += 1 }
        offset += 1
        line += 1
        lineStart = offset
    }

    /// Skips to the end of the line, recording the comment that starts here.
    private mutating func skipComment() {
        let commentLine = line
        offset += 1
        let start = offset
        while let s = peek(), !Lexer.isNewline(s) { offset += 1 }
        let text = String(String.UnicodeScalarView(scalars[start..<offset])).trimmingBlanks()
        if !text.isEmpty { comments[commentLine] = text }
    }

    /// The next token.
    mutating func next() throws -> Token {
        var spaced = offset == lineStart
        while let s = peek() {
            if Lexer.isBlank(s) { offset += 1; spaced = true }
            else if s == "#" { skipComment() }
            else if Lexer.isNewline(s) && parenDepth > 0 { consumeNewline(); spaced = true }
            else { break }
        }
        let position = self.position, start = offset
        func token(_ kind: Token.Kind, length: Int = 1) -> Token {
            offset += length
            return Token(kind: kind, position: position, start: start, end: offset, spaceBefore: spaced)
        }
        guard let s = peek() else { return token(.end, length: 0) }
        if Lexer.isNewline(s) {
            consumeNewline()
            return Token(kind: .newline, position: position, start: start, end: offset, spaceBefore: spaced)
        }
        if Lexer.isNameStart(s) { return try name(at: position, spaced: spaced) }
        if Lexer.isDigit(s) || (s == "." && Lexer.isDigit(peek(1))) { return try number(at: position, spaced: spaced) }
        switch s {
        case "+": return token(.plus)
        case "-", "−": return token(.minus)
        case "*", "⊙", "∘": return token(.times)
        case "/": return token(.divide)
        case "•", "·": return token(.dot)
        case "(": parenDepth += 1; return token(.leftParen)
        case ")": parenDepth = max(0, parenDepth - 1); return token(.rightParen)
        case "=": return token(.equals)
        case ",": return token(.comma)
        case ":": return token(.colon)
        case "'", "′":
            throw Failure(.syntax, at: position, "a prime must follow a state's name directly, as in h'")
        default:
            throw Failure(.syntax, at: position, "unexpected character \(Lexer.quoted(s))")
        }
    }

    private mutating func name(at position: SourcePosition, spaced: Bool) throws -> Token {
        let start = offset
        while let s = peek(), Lexer.isNameContinuation(s) { offset += 1 }
        let text = String(String.UnicodeScalarView(scalars[start..<offset]))
        guard offset - start <= CellFileLimits.nameLength else {
            throw Failure(.syntax, at: position, "a name longer than \(CellFileLimits.nameLength) characters")
        }
        var primes = 0
        while let s = peek(), s == "'" || s == "′" { offset += 1; primes += 1 }
        guard primes <= 1 else {
            throw Failure(.syntax, at: position, "\(text) has \(primes) primes; a state's new value has one (\(text)')")
        }
        return Token(kind: .name(text, primed: primes == 1), position: position, start: start, end: offset, spaceBefore: spaced)
    }

    private mutating func number(at position: SourcePosition, spaced: Bool) throws -> Token {
        let start = offset
        while Lexer.isDigit(peek()) { offset += 1 }
        if peek() == ".", Lexer.isDigit(peek(1)) {
            offset += 1
            while Lexer.isDigit(peek()) { offset += 1 }
        }
        // An exponent only when well formed: `2e` is the number 2 followed by the name e.
        if let e = peek(), e == "e" || e == "E" {
            let signed = peek(1) == "+" || peek(1) == "-"
            if Lexer.isDigit(peek(signed ? 2 : 1)) {
                offset += signed ? 2 : 1
                while Lexer.isDigit(peek()) { offset += 1 }
            }
        }
        let text = String(String.UnicodeScalarView(scalars[start..<offset]))
        guard let value = Double(text), value.isFinite else {
            throw Failure(.syntax, at: position, "the number \(text) is out of range")
        }
        return Token(kind: .number(value), position: position, start: start, end: offset, spaceBefore: spaced)
    }

    /// The raw text from `start` (the current offset when nil; a scalar offset on the current
    /// line outside parentheses) to the end of the line (or a `#`), trimmed, and where it
    /// starts; the offset moves to the line's end. For `init W = orthogonal(1.1)` and
    /// `cell lstm-nig`, which contain `-`.
    mutating func restOfLine(from start: Int? = nil) -> (text: String, position: SourcePosition) {
        if let start {
            offset = start
            parenDepth = 0
        }
        while let s = peek(), Lexer.isBlank(s) { offset += 1 }
        let position = self.position, start = offset
        while let s = peek(), !Lexer.isNewline(s), s != "#" { offset += 1 }
        let text = String(String.UnicodeScalarView(scalars[start..<offset])).trimmingBlanks()
        if peek() == "#" { skipComment() }
        return (text, position)
    }

    /// A character as a message shows it: `'$'`, or its code point when invisible.
    static func quoted(_ s: Unicode.Scalar) -> String {
        let visible = !s.properties.isWhitespace && s.properties.generalCategory != .control
            && s.properties.generalCategory != .format && s.properties.generalCategory != .unassigned
            && s.properties.generalCategory != .nonspacingMark && s.properties.generalCategory != .enclosingMark
            && s.properties.generalCategory != .surrogate && s.properties.generalCategory != .privateUse
        let code = "U+" + String(s.value, radix: 16, uppercase: true).leftPadded(to: 4)
        return visible ? "'\(s)' (\(code))" : code
    }
}

extension String {
    /// Without leading and trailing blanks (spaces, tabs, other non-newline whitespace).
    func trimmingBlanks() -> String {
        let scalars = Array(unicodeScalars)
        var a = 0, b = scalars.count
        while a < b, scalars[a].properties.isWhitespace { a += 1 }
        while b > a, scalars[b - 1].properties.isWhitespace { b -= 1 }
        return String(String.UnicodeScalarView(scalars[a..<b]))
    }

    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
