// The algebra on `Value`s that graph-building code is written in. Each function records one
// primitive; the few derived operations are compositions and need no gradient code.
//
// Notation follows the papers: `W • x` is the paper's matrix–vector product W x. Values are
// batches of row vectors, so it records x Wᵀ (`matmul(x, W, transposeB: true)`) with W in
// PyTorch's [out × in] layout. `⊙` (or `*`) is the elementwise product.

infix operator • : MultiplicationPrecedence
infix operator ⊙ : MultiplicationPrecedence

/// The paper's `W x`: `x Wᵀ` for a batch `x` (rows) and a weight `W` in [out × in] layout.
public func • (w: Value, x: Value) -> Value { x.graph.apply(.matmul(transposeA: false, transposeB: true), [x, w]) }

/// The matrix product `op(a) · op(b)`.
/// - Parameters:
///   - a: the left operand.
///   - b: the right operand.
///   - transposeA: use aᵀ.
///   - transposeB: use bᵀ.
public func matmul(_ a: Value, _ b: Value, transposeA: Bool = false, transposeB: Bool = false) -> Value {
    a.graph.apply(.matmul(transposeA: transposeA, transposeB: transposeB), [a, b])
}

/// Elementwise sum, broadcasting rows (biases) and 1 × 1 scalars.
public func + (a: Value, b: Value) -> Value { a.graph.apply(.add, [a, b]) }
/// Elementwise difference, broadcasting rows and scalars.
public func - (a: Value, b: Value) -> Value { a.graph.apply(.subtract, [a, b]) }
/// Elementwise (Hadamard) product, broadcasting rows and scalars.
public func ⊙ (a: Value, b: Value) -> Value { a.graph.apply(.multiply, [a, b]) }
/// Elementwise (Hadamard) product; the same as `⊙`.
public func * (a: Value, b: Value) -> Value { a ⊙ b }
/// Elementwise quotient, broadcasting rows and scalars.
public func / (a: Value, b: Value) -> Value { a.graph.apply(.divide, [a, b]) }
/// Elementwise negation.
public prefix func - (a: Value) -> Value { a.graph.apply(.negate, [a]) }

/// `a + c` for a scalar c (a 1 × 1 constant, broadcast).
public func + (a: Value, c: Double) -> Value { a + a.graph.constant(c) }
/// `c + a` for a scalar c.
public func + (c: Double, a: Value) -> Value { a.graph.constant(c) + a }
/// `a − c` for a scalar c.
public func - (a: Value, c: Double) -> Value { a - a.graph.constant(c) }
/// `c − a` for a scalar c (the GRU's `1 − z`).
public func - (c: Double, a: Value) -> Value { a.graph.constant(c) - a }
/// `c · a` for a scalar c.
public func * (c: Double, a: Value) -> Value { a.graph.constant(c) ⊙ a }
/// `a · c` for a scalar c.
public func * (a: Value, c: Double) -> Value { a ⊙ a.graph.constant(c) }
/// `a / c` for a scalar c.
public func / (a: Value, c: Double) -> Value { a / a.graph.constant(c) }
/// `c / a` for a scalar c.
public func / (c: Double, a: Value) -> Value { a.graph.constant(c) / a }

/// The logistic sigmoid σ.
public func sigmoid(_ a: Value) -> Value { a.graph.apply(.sigmoid, [a]) }
/// The hyperbolic tangent.
public func tanh(_ a: Value) -> Value { a.graph.apply(.tanh, [a]) }
/// The rectifier max(a, 0).
public func relu(_ a: Value) -> Value { a.graph.apply(.relu, [a]) }
/// `a` in the forward pass, a constant in the reverse pass: no gradient flows back through it.
public func stopGradient(_ a: Value) -> Value { a.graph.apply(.stopGradient, [a]) }
/// The exponential.
public func exp(_ a: Value) -> Value { a.graph.apply(.exp, [a]) }
/// The natural logarithm.
public func log(_ a: Value) -> Value { a.graph.apply(.log, [a]) }
/// The elementwise square.
public func square(_ a: Value) -> Value { a.graph.apply(.square, [a]) }
/// The elementwise square root.
public func sqrt(_ a: Value) -> Value { a.graph.apply(.sqrt, [a]) }
/// The hard sigmoid clip(0.2 a + 0.5, 0, 1) (Keras' form), composed from relu:
/// relu(0.2a + 0.5) − relu(0.2a − 0.5).
public func hardSigmoid(_ a: Value) -> Value { relu(0.2 * a + 0.5) - relu(0.2 * a - 0.5) }

/// Columns of `parts` side by side.
public func concatColumns(_ parts: [Value]) -> Value { parts[0].graph.apply(.concatColumns, parts) }
/// Columns `range` of `a`.
public func sliceColumns(_ a: Value, _ range: Range<Int>) -> Value {
    a.graph.apply(.sliceColumns(start: range.lowerBound, count: range.count), [a])
}
/// Splits `a`'s columns into `count` equal blocks (gate blocks stacked PyTorch-style).
public func split(_ a: Value, count: Int) -> [Value] {
    let width = a.shape.cols / count
    return (0..<count).map { sliceColumns(a, ($0 * width)..<(($0 + 1) * width)) }
}

/// Sum of all elements (1 × 1).
public func sum(_ a: Value) -> Value { a.graph.apply(.sumAll, [a]) }
/// Mean softmax cross-entropy of `logits` (rows × classes) against integer class `labels`
/// (rows × 1, an input; receives no gradient).
public func softmaxCrossEntropy(_ logits: Value, labels: Value) -> Value {
    logits.graph.apply(.softmaxCrossEntropy, [logits, labels])
}
