import GateLabGSL

// The tasks of Hochreiter & Schmidhuber (1997) §5 (Exps. 2a, 2b, whose error comes at every
// step, and 2c, 3a–3c, 4, 5, 6a, 6b, whose error comes only at the sequence end), each written
// once: the reproductions stream their sequences to
// truncated RTRL, and `train --task adding-hs | temporal-order` lays the same sequences out as
// batches (`HochreiterAddingProblem`, `TemporalOrder`). Positions in comments are the paper's
// 1-based ones; the code indexes from 0. The readings marked [interp] are those of
// Notes/papers/hochreiter1997.md, which quotes the set-ups they read.

/// Exps. 2a and 2b (§5.2): noise-free sequences with long time lags, predicted symbol by symbol.
///
/// Symbols (one-hot on p + 1 inputs and p + 1 outputs): a_1…a_{p−1} (indices 0…p−2),
/// x = a_p (index p − 1), y = a_{p+1} (index p). A sequence of the paper has p + 1 elements,
/// (y, a_1, …, a_{p−1}, y) or (x, a_1, …, a_{p−1}, x), each class with probability 0.5; step t
/// (0-based) reads element t and its target is element t + 1 one-hot ("the net predicts the next
/// symbol at every step"), so a sequence is p steps, each with a target. Only the last target
/// depends on the first element, p steps back.
/// - 2a (`randomMiddle` false): the middle is always a_1, a_2, …, a_{p−1}; the two sequences are
///   the whole training set.
/// - 2b (`randomMiddle` true): the middle is a random subsequence of length p − 1 over
///   a_1…a_{p−1}, each element uniform and independent [interp: "random subsequence" is not
///   further defined]; only the final x/y is then fully predictable.
public struct LongLagTask: SequenceTask {
    /// p: the time lag (100 in the paper); p + 1 symbols.
    public let p: Int
    /// Whether the middle a_1…a_{p−1} is replaced by random symbols (2b).
    public let randomMiddle: Bool
    public var inputSize: Int { p + 1 }
    public var outputSize: Int { p + 1 }

    /// - Parameters:
    ///   - p: The time lag, at least 2.
    ///   - randomMiddle: False for Exp. 2a, true for Exp. 2b.
    public init(p: Int, randomMiddle: Bool) {
        precondition(p >= 2, "Exps. 2a/2b need p ≥ 2 (a middle of p − 1 symbols), got \(p)")
        self.p = p
        self.randomMiddle = randomMiddle
    }

    public func generate(into sequence: inout TaskSequence, using rng: RandomSource) {
        let n = p + 1
        // The class: x or y, probability 0.5 each (2a: "each chosen with probability 0.5").
        let isY = rng.integer(below: 2) == 1
        let first = isY ? p : p - 1
        sequence.reset(length: p)
        var previous = first
        for t in 0..<p {
            // Element t + 1: a_{t+1} (2a) or a random a_i (2b) in the middle, the first again last.
            let next = t == p - 1 ? first : (randomMiddle ? rng.integer(below: p - 1) : t)
            sequence.inputs[t * n + previous] = 1
            sequence.targets[t * n + next] = 1
            sequence.hasTarget[t] = true
            previous = next
        }
        sequence.label = isY ? 1 : 0
    }
}

/// Exp. 2c (§5.2): distractors, very long lags, no local regularities.
///
/// Symbols (one-hot on p + 4 inputs): distractors a_1…a_p (indices 0…p−1), e = p (trigger),
/// b = p + 1 (start), x = p + 2, y = p + 3.
public struct DistractorTask: SequenceTask {
    /// q: the minimal number of distractors (the time lag).
    public let q: Int
    /// p: the number of distinct distractor symbols.
    public let p: Int
    public var inputSize: Int { p + 4 }
    /// Two outputs, one per class: x → (1, 0), y → (0, 1) [interp: the 2-output coding is not
    /// spelled out].
    public var outputSize: Int { 2 }

    /// - Parameters:
    ///   - q: The minimal lag (Table 10's p column in rows 2c-x).
    ///   - p: The number of distractor symbols.
    public init(q: Int, p: Int) {
        self.q = q
        self.p = p
    }

    public func generate(into sequence: inout TaskSequence, using rng: RandomSource) {
        let (e, b, x) = (p, p + 1, p + 2)
        // The class symbol x or y, probability 0.5 each [interp].
        let isY = rng.integer(below: 2) == 1
        // Step 1: a prefix of length q + 2: b, x|y, then q random distractors (uniform over
        // a_1…a_p; the OCR's "≤ q" bound reads "≤ p").
        var symbols = [b, isY ? x + 1 : x]
        for _ in 0..<q { symbols.append(rng.integer(below: p)) }
        // Step 2: with probability 9/10 one more distractor, with 1/10 emit e and stop.
        while true {
            if rng.uniform() < 0.9 { symbols.append(rng.integer(below: p)) } else { symbols.append(e); break }
        }
        // Step 3: the final element repeats x|y. It is the target of the step whose input is e,
        // not an input itself: the sequence of q + k + 4 elements is q + k + 3 steps.
        sequence.reset(length: symbols.count)
        for (t, symbol) in symbols.enumerated() { sequence.inputs[t * inputSize + symbol] = 1 }
        sequence.setFinalTarget(isY ? [0, 1] : [1, 0])
        sequence.label = isY ? 1 : 0
    }
}

/// Exps. 3a, 3b and 3c (§5.3): the two-sequence problem (one real input line, target at the end
/// only).
///
/// 3a: two classes (probability 0.5 each); the length is uniform in T…T + T/10 [interp: uniform
/// integer]; the first N elements are +1.0 (class 1) or −1.0 (class 2), every later element is
/// Gaussian with mean 0 and variance 0.2; the target is 1.0 (class 1) or 0.0 (class 2).
/// - 3b (`informationNoise`): "Gaussian noise (mean 0, variance 0.2) is also added to the first
///   N elements" — the same noise as the later elements', drawn for each of them.
/// - 3c (`classTargets` (0.2, 0.8), `targetNoise` 0.1): "targets 0.2 (class 1) and 0.8 (class 2)
///   plus Gaussian noise on the targets (mean 0, variance 0.1, s.d. ≈ 0.32)"; the inputs are as
///   in 3a ("As 3a, but …": no noise on the first N elements). The noise-free target is kept in
///   `TaskSequence.expected`, against which a sequence is judged ("misclassified if |output −
///   noise-free target| > 0.1").
public struct TwoSequenceTask: SequenceTask {
    /// T: the minimal length.
    public let T: Int
    /// N: how many leading elements carry the class (1 or 3).
    public let N: Int
    /// Whether the first N elements carry the Gaussian noise too (Exp. 3b).
    public let informationNoise: Bool
    /// The targets of class 1 and class 2: (1.0, 0.0) in 3a and 3b, (0.2, 0.8) in 3c.
    public let classTargets: (first: Double, second: Double)
    /// The variance of the Gaussian noise added to the target (0.1 in 3c; 0: none).
    public let targetNoise: Double
    public var inputSize: Int { 1 }
    public var outputSize: Int { 1 }

    /// The variance of the noise on the elements after the first N (and, in 3b, on those).
    public static let inputNoiseVariance = 0.2

    /// - Parameters:
    ///   - T: The minimal sequence length.
    ///   - N: The number of informative leading elements.
    ///   - informationNoise: Whether the first N elements are noisy too (3b).
    ///   - classTargets: The noise-free targets of class 1 and class 2.
    ///   - targetNoise: The variance of the noise on the target (3c: 0.1), at least 0.
    public init(T: Int, N: Int, informationNoise: Bool = false, classTargets: (first: Double, second: Double) = (1.0, 0.0),
                targetNoise: Double = 0) {
        precondition(targetNoise >= 0, "a variance is at least 0, got \(targetNoise)")
        self.T = T
        self.N = N
        self.informationNoise = informationNoise
        self.classTargets = classTargets
        self.targetNoise = targetNoise
    }

    /// Exp. 3b: as 3a, with the noise on the first N elements too.
    public static func threeB(T: Int, N: Int) -> TwoSequenceTask { TwoSequenceTask(T: T, N: N, informationNoise: true) }

    /// Exp. 3c: as 3a, with targets 0.2 / 0.8 and target noise of variance 0.1.
    public static func threeC(T: Int, N: Int) -> TwoSequenceTask {
        TwoSequenceTask(T: T, N: N, classTargets: (0.2, 0.8), targetNoise: 0.1)
    }

    public func generate(into sequence: inout TaskSequence, using rng: RandomSource) {
        // The two classes have probability 0.5 each.
        let classOne = rng.integer(below: 2) == 0
        // Length random in T…T + T/10: a uniform integer [interp]; no length-T/2 sequences.
        let length = T + rng.integer(below: T / 10 + 1)
        sequence.reset(length: length)
        let sd = Self.inputNoiseVariance.squareRoot()
        // The first N elements are +1.0 (class 1) or −1.0 (class 2), plus noise in 3b.
        for t in 0..<N {
            sequence.inputs[t] = (classOne ? 1.0 : -1.0) + (informationNoise ? rng.gaussian(mean: 0, standardDeviation: sd) : 0)
        }
        // Elements at t > N: Gaussian, mean 0, variance 0.2 (standard deviation √0.2).
        for t in N..<length { sequence.inputs[t] = rng.gaussian(mean: 0, standardDeviation: sd) }
        // Target at the end only: 1.0 for class 1, 0.0 for class 2 (3c: 0.2, 0.8, plus noise).
        let clean = classOne ? classTargets.first : classTargets.second
        if targetNoise > 0 {
            sequence.setFinalTarget([clean + rng.gaussian(mean: 0, standardDeviation: targetNoise.squareRoot())])
            sequence.setFinalExpected([clean])
        } else {
            sequence.setFinalTarget([clean])
        }
        sequence.label = classOne ? 0 : 1
    }
}

/// Exps. 4 and 5 (§5.4, §5.5): the adding and the multiplication problem.
///
/// Each step carries the pair (value, marker) on 2 input units. The paper's set-up
/// (Notes/papers/hochreiter1997.md, "Exp. 4"), read as follows:
/// - The length is uniform in T…T + T/10 [interp: uniform integer].
/// - Values are uniform in [−1, 1] (Exp. 4 [interp: uniform]) or in [0, 1] (Exp. 5).
/// - "Exactly two pairs are marked with 1.0": the first uniformly among the first 10 pairs
///   (pair 0 included), the second uniformly among "the first T/2 − 1 pairs that are still
///   unmarked", i.e. the first T/2 pairs without the first marked one [interp: the paraphrase's
///   own reading, "positions 1…T/2 without X1's"; it also gives the stated minimal lag T/2].
///   Pair 0 can be either marked pair: its −1 is not a marker of the sum, and the pairs are
///   chosen before the −1s are written.
/// - The first and the last pair carry marker −1, all other unmarked pairs 0; a marked pair 0
///   keeps its marker 1.0, since exactly two pairs carry 1.0 [interp: the paper does not say,
///   §6.8 of the notes; this is the reading "exactly two pairs are marked with 1.0" leaves].
/// - A marked pair 0 has its value set to 0 (adding) or 1.0 (multiplication), so that it
///   contributes nothing ("if the first pair is the one marked, X1 is set to 0"; Exp. 5: 1.0).
/// - The target, at the end only: 0.5 + (X1 + X2)/4 ∈ [0, 1] (Exp. 4) or X1 · X2 (Exp. 5).
public struct MarkedPairTask: SequenceTask {
    /// Which of the two problems.
    public enum Kind: String, Codable, Sendable {
        /// Exp. 4: values uniform in [−1, 1], target 0.5 + (X1 + X2)/4.
        case adding
        /// Exp. 5: values uniform in [0, 1], target X1 · X2.
        case multiplication
    }

    /// The problem.
    public let kind: Kind
    /// T: the minimal length.
    public let T: Int
    public var inputSize: Int { 2 }
    public var outputSize: Int { 1 }

    /// - Parameters:
    ///   - kind: Adding (Exp. 4) or multiplication (Exp. 5).
    ///   - T: The minimal sequence length (at least 20, so that the first ten pairs lie in the
    ///     first half; `HochreiterAddingProblem` checks it).
    public init(_ kind: Kind, T: Int) {
        self.kind = kind
        self.T = T
    }

    /// The probability that pair 0 is one of the two marked pairs (and so contributes 0 to the
    /// sum, or 1 to the product): 1/10 as the first, and 9/10 · 1/(T/2 − 1) as the second.
    public var pairZeroMarkedProbability: Double { 0.1 + 0.9 / Double(T / 2 - 1) }

    public func generate(into sequence: inout TaskSequence, using rng: RandomSource) {
        let length = T + rng.integer(below: T / 10 + 1)
        sequence.reset(length: length)
        let low = kind == .adding ? -1.0 : 0.0
        for t in 0..<length { sequence.inputs[2 * t] = rng.uniform(low, 1.0) }
        sequence.inputs[1] = -1
        sequence.inputs[2 * (length - 1) + 1] = -1
        let first = rng.integer(below: 10)
        // The second: uniform over the first T/2 pairs without the first marked one.
        var second = rng.integer(below: T / 2 - 1)
        if second >= first { second += 1 }
        for position in [first, second] {
            sequence.inputs[2 * position + 1] = 1.0
            if position == 0 { sequence.inputs[0] = kind == .adding ? 0.0 : 1.0 }
        }
        let (x1, x2) = (sequence.inputs[2 * first], sequence.inputs[2 * second])
        sequence.setFinalTarget([kind == .adding ? 0.5 + (x1 + x2) / 4.0 : x1 * x2])
        sequence.label = second
    }
}

/// Exps. 6a and 6b (§5.6): temporal order, 4 or 8 classes.
///
/// Symbols (one-hot on 8 inputs): E = 0, B = 1, a…d = 2…5, X = 6, Y = 7. The paper's set-up
/// (Notes/papers/hochreiter1997.md, "Exps. 6a and 6b"): the sequence starts with E and ends with
/// B, its length is uniform in T…T + T/10 (T = 100 in the paper) [interp: uniform integer]; the
/// relevant positions (1-based, E at position 1) are uniform in their ranges and hold X or Y with
/// probability 0.5 each [interp: uniform draws]; every other element is uniform over
/// {a, b, c, d}. The class is the X/Y order read as a binary number, X = 0; its target is one-hot
/// at the sequence end only.
public struct TemporalOrderTask: SequenceTask {
    /// T: the minimal length (100 in the paper).
    public let T: Int
    /// The 1-based position ranges of the relevant X/Y symbols: 6a has 10…20 and 50…60;
    /// 6b has 10…20, 33…43 and 66…76.
    public let relevantRanges: [ClosedRange<Int>]
    public var inputSize: Int { 8 }
    /// One output per class: 2^(number of relevant symbols).
    public var outputSize: Int { 1 << relevantRanges.count }

    /// Exp. 6a: 4 classes, (X,X)→Q, (X,Y)→R, (Y,X)→S, (Y,Y)→U (class indices 0…3).
    public static let sixA = TemporalOrderTask(T: 100, relevantRanges: [10...20, 50...60])
    /// Exp. 6b: 8 classes, XXX→Q, XXY→R, XYX→S, XYY→U, YXX→V, YXY→A, YYX→B, YYY→C (0…7).
    public static let sixB = TemporalOrderTask(T: 100, relevantRanges: [10...20, 33...43, 66...76])

    /// Exp. 6a's ranges scaled to minimal length T: T/10…T/5 and T/2…T/2 + T/10 (10…20 and
    /// 50…60 at T = 100) [interp: the paper has only T = 100].
    /// - Parameter T: The minimal length, at least 20 (`TemporalOrder` checks it).
    public static func sixA(T: Int) -> TemporalOrderTask {
        TemporalOrderTask(T: T, relevantRanges: [(T / 10)...(T / 5), (T / 2)...(T / 2 + T / 10)])
    }

    /// - Parameters:
    ///   - T: The minimal length; lengths are uniform in T…T + T/10.
    ///   - relevantRanges: The 1-based position ranges of the relevant symbols, each within
    ///     2…T − 1 (after E, before the earliest B).
    public init(T: Int, relevantRanges: [ClosedRange<Int>]) {
        self.T = T
        self.relevantRanges = relevantRanges
    }

    public func generate(into sequence: inout TaskSequence, using rng: RandomSource) {
        let length = T + rng.integer(below: T / 10 + 1)
        var symbols = [Int](repeating: 0, count: length)
        // Every element is drawn from {a, b, c, d} first (so that the draws do not depend on
        // where the relevant symbols fall), then E, B and X|Y are written over it.
        for t in 0..<length { symbols[t] = 2 + rng.integer(below: 4) }
        symbols[0] = 0
        symbols[length - 1] = 1
        var label = 0
        for range in relevantRanges {
            let position = range.lowerBound + rng.integer(below: range.count)
            let isY = rng.integer(below: 2) == 1
            symbols[position - 1] = isY ? 7 : 6
            label = 2 * label + (isY ? 1 : 0)
        }
        sequence.reset(length: length)
        for (t, symbol) in symbols.enumerated() { sequence.inputs[t * 8 + symbol] = 1 }
        var target = [Double](repeating: 0, count: outputSize)
        target[label] = 1
        sequence.setFinalTarget(target)
        sequence.label = label
    }
}
