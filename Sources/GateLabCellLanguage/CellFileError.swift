/// A place in a cell file: 1-based line and column, the column counted in Unicode scalars
/// (so `⊙` is one column, as an editor shows it).
public struct SourcePosition: Sendable, Equatable, Comparable, CustomStringConvertible {
    /// The line, from 1.
    public var line: Int
    /// The column, from 1.
    public var column: Int

    /// Creates a position.
    public init(line: Int, column: Int) { self.line = line; self.column = column }

    public static func < (a: SourcePosition, b: SourcePosition) -> Bool {
        (a.line, a.column) < (b.line, b.column)
    }

    /// `LINE:COLUMN`.
    public var description: String { "\(line):\(column)" }
}

/// Why a cell file was rejected: one line `FILE:LINE:COLUMN: message` naming what is wrong
/// and, where there is one, what to write instead.
///
/// Every way a cell file can fail — unreadable, malformed, meaningless — ends in this error;
/// reading a cell file never traps and never loops for long (sizes are bounded, see
/// `CellFileLimits`).
public struct CellFileError: Error, Equatable, Sendable, CustomStringConvertible {
    /// What kind of mistake it is (for tests and tools; the message is for people).
    public enum Kind: String, Sendable, Equatable, CaseIterable {
        /// The file cannot be read, is not UTF-8 text, or is too large.
        case unreadable
        /// Not a well-formed statement or expression.
        case syntax
        /// A name that is not `x`, a state, a defined value or a parameter.
        case unknownName
        /// A call of a function the language does not have.
        case unknownFunction
        /// A shape that does not match, or cannot be inferred.
        case shape
        /// A declared state without an equation for its new value.
        case stateNeverUpdated
        /// Values that depend on each other within one step.
        case cycle
        /// A name defined or declared twice.
        case duplicateDefinition
        /// A value defined but used by no state, or a declaration about nothing.
        case unused
        /// An `init` line whose initializer is not one GateLabGSL knows.
        case initializer
        /// A name used in a way its kind does not allow (a computed value as a weight, a
        /// previous value of something that is not a state, …).
        case misuse
    }

    /// The file, as given.
    public var file: String
    /// Where, when it is about a place in the file (nil for an unreadable file).
    public var position: SourcePosition?
    /// The kind of mistake.
    public var kind: Kind
    /// What is wrong, one line.
    public var message: String

    /// Creates an error.
    public init(file: String, position: SourcePosition?, kind: Kind, message: String) {
        self.file = file; self.position = position; self.kind = kind; self.message = message
    }

    /// `FILE:LINE:COLUMN: message` (`FILE: message` without a position).
    public var description: String {
        "\(file):" + (position.map { "\($0.line):\($0.column):" } ?? "") + " \(message)"
    }
}

/// Sizes above which a cell file is refused rather than read: far above any cell, low enough
/// that reading any file takes milliseconds.
public enum CellFileLimits {
    /// Bytes in a file.
    public static let bytes = 64 * 1024
    /// Nesting of an expression (parentheses, unary minus, chained products, operator chains).
    public static let depth = 128
    /// Equations in a file.
    public static let equations = 500
    /// Distinct parameters.
    public static let parameters = 500
    /// Scalars in a name.
    public static let nameLength = 64
}

/// A failure found while reading, before the file's name is attached.
struct Failure: Error {
    var position: SourcePosition
    var kind: CellFileError.Kind
    var message: String
    init(_ kind: CellFileError.Kind, at position: SourcePosition, _ message: String) {
        self.kind = kind; self.position = position; self.message = message
    }
}
