import GateLabGSL

/// The Reber grammar and the embedded Reber grammar (ERG) of H&S 1997 Exp. 1 (§5.1, Figs. 3–4),
/// and the continual stream of Gers, Schmidhuber & Cummins 2000 (CERG).
///
/// Figure 3 is not in the OCR; the transition table is the standard graph, checked against the
/// example strings of willamette.edu/~gorr/classes/cs449/reber.html (see Notes/papers/hochreiter1997.md, Exp. 1).
public enum Reber {
    /// The alphabet, coded one-hot in this order on 7 input and 7 output units.
    public enum Symbol: Int, CaseIterable, Sendable {
        case B = 0, T, P, S, X, V, E
    }

    /// Number of symbols (7).
    public static let alphabetSize = 7

    /// The graph's edges: for node n (1…5), the two (symbol, next node) choices; node 6 is the
    /// end node, where E is emitted.
    ///
    /// | node | edge 1 | edge 2 |
    /// |---|---|---|
    /// | 1 | T → 2 | P → 3 |
    /// | 2 | S → 2 | X → 4 |
    /// | 3 | T → 3 | V → 5 |
    /// | 4 | X → 3 | S → end |
    /// | 5 | P → 4 | V → end |
    static let edges: [[(Symbol, Int)]] = [
        [], [(.T, 2), (.P, 3)], [(.S, 2), (.X, 4)], [(.T, 3), (.V, 5)], [(.X, 3), (.S, 6)], [(.P, 4), (.V, 6)],
    ]
    static let endNode = 6

    /// One inner Reber string B … E; every choice between two edges has probability 0.5.
    /// - Parameter rng: The random source.
    public static func reberString(using rng: RandomSource) -> [Symbol] {
        var symbols: [Symbol] = [.B]
        var node = 1
        while node != endNode {
            let (symbol, next) = edges[node][rng.integer(below: 2)]
            symbols.append(symbol)
            node = next
        }
        symbols.append(.E)
        return symbols
    }

    /// One embedded Reber string (Fig. 4): B, T or P (probability 0.5 each), an inner Reber
    /// string, the same T or P again, E.
    /// - Parameter rng: The random source.
    public static func embeddedString(using rng: RandomSource) -> [Symbol] {
        let branch: Symbol = rng.integer(below: 2) == 0 ? .T : .P
        return [.B, branch] + reberString(using: rng) + [branch, .E]
    }

    /// Whether `symbols` is an embedded Reber string (the grammar accepts it).
    public static func accepts(_ symbols: [Symbol]) -> Bool {
        (try? legalSuccessors(of: symbols)) != nil
    }

    /// The legal successors after each prefix of an embedded Reber string: element i is the set
    /// of symbols the grammar allows right after `symbols[i]`; after the final E it is {B}, the
    /// start of the next string in the continual stream (Gers 2000).
    /// - Throws: `TaskError.notInGrammar` if the string leaves the grammar.
    public static func legalSuccessors(of symbols: [Symbol]) throws -> [Set<Symbol>] {
        func fail() -> TaskError { .notInGrammar(symbols.map { "\($0)" }.joined()) }
        guard symbols.count >= 9, symbols[0] == .B, symbols[1] == .T || symbols[1] == .P,
              symbols[2] == .B, symbols[symbols.count - 2] == symbols[1], symbols.last == .E,
              symbols[symbols.count - 3] == .E
        else { throw fail() }
        var result: [Set<Symbol>] = [[.T, .P], [.B], [.T, .P]]   // after B, after T|P, after inner B
        var node = 1
        for symbol in symbols[3..<(symbols.count - 3)] {
            guard node != endNode, let edge = edges[node].first(where: { $0.0 == symbol }) else { throw fail() }
            node = edge.1
            result.append(node == endNode ? [.E] : Set(edges[node].map(\.0)))
        }
        guard node == endNode else { throw fail() }
        result.append([symbols[1]])   // after the inner E: only the T|P of the second step
        result.append([.E])           // after the repeated T|P
        result.append([.B])           // after the final E
        return result
    }
}

/// Exp. 1 (§5.1): predict the next symbol of an embedded Reber string at every step.
///
/// One sequence is one string of L symbols presented as L − 1 steps: step t shows symbol t and
/// its target is symbol t + 1. There is no step for the final E (no target after it) [interp of
/// Notes/papers/hochreiter1997.md, Exp. 1].
///
/// - Targets: one-hot of the actual next symbol — the paper does not give the target vector, and
///   this is the reading of Notes/papers/hochreiter1997.md [interp]. `TaskSequence.legal` marks
///   every legal successor, for the success rule (the n legal successors are the n largest outputs).
public struct EmbeddedReberTask: SequenceTask {
    public var inputSize: Int { Reber.alphabetSize }
    public var outputSize: Int { Reber.alphabetSize }

    /// The task.
    public init() {}

    /// Draws a random string and codes it.
    public func generate(into sequence: inout TaskSequence, using rng: RandomSource) {
        code(Reber.embeddedString(using: rng), into: &sequence)
    }

    /// Codes a given string as a sequence (used for the fixed training and test sets).
    public func code(_ symbols: [Reber.Symbol], into sequence: inout TaskSequence) {
        let legal = try! Reber.legalSuccessors(of: symbols)
        let n = Reber.alphabetSize
        sequence.reset(length: symbols.count - 1, withLegal: true)
        for t in 0..<(symbols.count - 1) {
            sequence.inputs[t * n + symbols[t].rawValue] = 1
            sequence.targets[t * n + symbols[t + 1].rawValue] = 1
            sequence.hasTarget[t] = true
            for symbol in legal[t] { sequence.legal[t * n + symbol.rawValue] = 1 }
        }
        sequence.label = symbols[1].rawValue
    }

    /// Exp. 1's data (as in Fahlman 1991): 256 random training strings, and 256 random test
    /// strings drawn until none is in the training set. Duplicates within a set are allowed
    /// (they are independent random draws) [interp].
    /// - Parameters:
    ///   - trainingCount: 256 in the paper.
    ///   - testCount: 256 in the paper.
    ///   - rng: The random source.
    public static func dataSets(trainingCount: Int = 256, testCount: Int = 256, using rng: RandomSource)
        -> (training: [[Reber.Symbol]], test: [[Reber.Symbol]]) {
        let training = (0..<trainingCount).map { _ in Reber.embeddedString(using: rng) }
        let seen = Set(training.map { $0.map(\.rawValue) })
        var test: [[Reber.Symbol]] = []
        while test.count < testCount {
            let string = Reber.embeddedString(using: rng)
            if !seen.contains(string.map(\.rawValue)) { test.append(string) }
        }
        return (training, test)
    }
}

/// The continual embedded Reber stream of Gers et al. 2000: embedded Reber strings one after
/// another with no reset and no boundary signal; at every step the net predicts the next symbol.
///
/// - Target coding [interp, Notes/papers/gers2000.md §1 and §8: "not found"]: the target marks
///   **every legal next symbol** with 1.0 and the others with 0.0. With the correctness rule "every output's absolute
///   error < 0.49" this requires every output on the right side of 0.5 — in particular, after the
///   inner E, only the remembered T or P may be above 0.5, so the task needs memory. (A one-hot
///   target of the actual symbol could never be met at a two-way branch.)
public struct ContinualReberStream: Codable, Equatable, Sendable {
    /// The embedded Reber string being streamed, its legal-successor sets (bit masks over the
    /// symbols' raw values), and the index of the next symbol in it.
    private var current: [Int] = []
    private var currentLegal: [Int] = []
    private var position = 0

    /// An empty stream; the first `next` draws the first string.
    public init() {}

    /// The next step: the input symbol, the bit mask (bit i = symbol i) of its legal successors
    /// (the multi-hot target), and whether this symbol begins a new embedded Reber string (its
    /// leading B; used only by the external-reset baseline — the net gets no boundary signal).
    /// - Parameter rng: The random source (a new string is drawn when the current one ends).
    public mutating func next(using rng: RandomSource) -> (input: Int, legalMask: Int, startsString: Bool) {
        if position == current.count {
            let symbols = Reber.embeddedString(using: rng)
            current = symbols.map(\.rawValue)
            currentLegal = try! Reber.legalSuccessors(of: symbols).map { set in
                set.reduce(0) { $0 | (1 << $1.rawValue) }
            }
            position = 0
        }
        defer { position += 1 }
        return (current[position], currentLegal[position], position == 0)
    }
}
