import GateLabSupport
import Foundation

/// One analytic value compared with its numeric estimate: a gradient element in full mode.
public struct ElementComparison: Sendable, Equatable, Codable {
    /// Zero-based row of the element.
    public var row: Int
    /// Zero-based column of the element.
    public var col: Int
    /// The analytic (reverse-mode) value.
    public var analytic: Double
    /// The finite-difference estimate: the Richardson extrapolation if `retested`.
    public var numeric: Double
    /// `|analytic − numeric|`.
    public var absoluteError: Double
    /// `|analytic − numeric| / max(|analytic|, |numeric|, floor)`.
    public var relativeError: Double
    /// Whether the plain central difference failed the tolerance and `numeric` is the
    /// Richardson-extrapolated re-test (see `GradientCheckOptions.retestFailures`).
    public var retested: Bool

    enum CodingKeys: String, CodingKey {
        case row, col, analytic, numeric, absoluteError = "absolute_error", relativeError = "relative_error", retested
    }

    init(row: Int, col: Int, analytic: Double, numeric: Double, floor: Double, retested: Bool = false) {
        self.row = row
        self.col = col
        self.analytic = analytic
        self.numeric = numeric
        self.retested = retested
        (absoluteError, relativeError) = compare(analytic, numeric, floor: floor)
    }
}

/// The outcome of checking every element of one tensor (full mode).
public struct TensorCheckResult: Sendable, Equatable, Codable {
    /// The tensor's name.
    public var name: String
    /// Number of rows.
    public var rows: Int
    /// Number of columns.
    public var cols: Int
    /// The element with the largest absolute error.
    public var worstAbsolute: ElementComparison
    /// The element with the largest relative error: the one that decides pass or fail.
    public var worstRelative: ElementComparison
    /// How many elements exceed the tolerance (after any re-test).
    public var failingElementCount: Int
    /// How many elements failed with plain central differences and were re-tested with
    /// Richardson extrapolation (see `GradientCheckOptions.retestFailures`).
    public var retestedElementCount: Int
    /// How many of the re-tested elements passed the re-test (the others are failing).
    public var clearedElementCount: Int
    /// Whether every element's relative error is within the tolerance.
    public var passed: Bool
    /// The failing elements with the largest relative errors, worst first: at most
    /// `shownFailures` of them (empty when the tensor passed).
    public var worstFailing: [ElementComparison] = []

    /// How many failing elements a report lists per tensor.
    public static let shownFailures = 5

    enum CodingKeys: String, CodingKey {
        case name, rows, cols, worstAbsolute = "worst_absolute", worstRelative = "worst_relative"
        case failingElementCount = "failing_element_count", retestedElementCount = "retested_element_count"
        case clearedElementCount = "cleared_element_count", passed, worstFailing = "worst_failing"
    }
}

/// The outcome of checking one random direction `v` (directional mode).
public struct DirectionCheckResult: Sendable, Equatable, Codable {
    /// Zero-based index of the direction in the seeded sequence.
    public var index: Int
    /// The step ε along `v` used by the difference quotient (the re-test's, if `retested`).
    public var step: Double
    /// `vᵀ∇L` from the analytic gradient.
    public var analytic: Double
    /// `(L(θ + εv) − L(θ − εv)) / 2ε` (or its Richardson extrapolation).
    public var numeric: Double
    /// `|analytic − numeric|`.
    public var absoluteError: Double
    /// `|analytic − numeric| / max(|analytic|, |numeric|, floor)`.
    public var relativeError: Double
    /// Whether the plain central difference failed the tolerance and `numeric` is the
    /// Richardson-extrapolated re-test (see `GradientCheckOptions.retestFailures`).
    public var retested: Bool
    /// Whether the relative error is within the tolerance.
    public var passed: Bool

    enum CodingKeys: String, CodingKey {
        case index, step, analytic, numeric, absoluteError = "absolute_error", relativeError = "relative_error", retested, passed
    }
}

/// Everything a gradient check found, as data (`Codable`, see `json()`) and as a plain-text
/// table (`table()`) that names, for a failure, the tensor, the element and both values.
public struct GradientCheckReport: Sendable, Equatable, Codable {
    /// The options the check ran with.
    public var options: GradientCheckOptions
    /// The loss at the unperturbed parameters, L(θ).
    public var loss: Double
    /// The effective floor of the relative error, `relativeFloor · max(1, |L(θ)|)`.
    public var floor: Double
    /// Per-tensor results (full mode; empty in directional mode).
    public var tensors: [TensorCheckResult]
    /// Per-direction results (directional mode; empty in full mode).
    public var directions: [DirectionCheckResult]
    /// Whether every tensor and every direction passed.
    public var passed: Bool

    /// How many elements (full mode) or directions (directional mode) failed with plain
    /// central differences and were re-tested with Richardson extrapolation.
    public var retestedCount: Int {
        tensors.reduce(0) { $0 + $1.retestedElementCount } + directions.filter(\.retested).count
    }

    /// How many of the re-tested elements or directions passed the re-test.
    public var clearedCount: Int {
        tensors.reduce(0) { $0 + $1.clearedElementCount } + directions.filter { $0.retested && $0.passed }.count
    }

    /// The report as pretty-printed JSON with sorted snake_case keys; non-finite numbers are
    /// written as the strings "nan", "inf" and "-inf" (plain JSON has no such numbers).
    public func json() throws -> String { try Self.json(self) }

    /// `value` as a report is written (see `json()`): for reports that carry this one with
    /// more fields, such as a sequence check's with its cell and sizes.
    public static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    /// The report as an aligned plain-text table, one row per tensor (full mode) or per
    /// direction (directional mode), then, if any comparison was re-tested, one line that
    /// counts the re-tests, then a one-line verdict.
    public func table() -> String {
        var rows: [[String]]
        if directions.isEmpty {
            rows = [["tensor", "shape", "worst abs err", "worst rel err", "where", "analytic", "numeric", "status"]]
            for t in tensors {
                let w = t.worstRelative
                rows.append([t.name, "\(t.rows)×\(t.cols)", scientific(t.worstAbsolute.absoluteError),
                             scientific(w.relativeError), "[\(w.row), \(w.col)]",
                             precise(w.analytic), precise(w.numeric), t.passed ? "ok" : "FAIL"])
            }
        } else {
            rows = [["direction", "step", "analytic vᵀ∇L", "numeric", "abs err", "rel err", "status"]]
            for d in directions {
                rows.append(["\(d.index)", scientific(d.step), precise(d.analytic), precise(d.numeric),
                             scientific(d.absoluteError), scientific(d.relativeError), d.passed ? "ok" : "FAIL"])
            }
        }
        return (aligned(rows) + failureTables() + retests() + [verdict()]).joined(separator: "\n")
    }

    /// For each failing tensor, a short table of its worst elements (index, analytic, numeric,
    /// relative error), preceded by a blank line and a heading naming the tensor and how many
    /// of its elements failed.
    private func failureTables() -> [String] {
        tensors.filter { !$0.passed }.flatMap { t -> [String] in
            let shown = t.worstFailing.isEmpty ? [t.worstRelative] : t.worstFailing
            var rows = [["index", "analytic", "numeric", "rel err"]]
            for e in shown {
                rows.append(["[\(e.row), \(e.col)]", precise(e.analytic), precise(e.numeric), scientific(e.relativeError) + (e.retested ? " (re-tested)" : "")])
            }
            let heading = "\(t.name) (\(t.rows)×\(t.cols)): \(t.failingElementCount) of \(t.rows * t.cols) elements over tolerance"
                + (t.failingElementCount > shown.count ? ", the worst \(shown.count):" : ":")
            return [""] + [heading] + aligned(rows).map { "  " + $0 }
        } + (passed || !directions.isEmpty ? [] : [""])
    }

    /// Rows padded to their columns' widths, two spaces apart.
    private func aligned(_ rows: [[String]]) -> [String] {
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
    }

    /// No line if nothing was re-tested; otherwise one: how many elements or directions were
    /// re-tested, how many of them were cleared and how many confirmed failing, and where.
    private func retests() -> [String] {
        guard retestedCount > 0 else { return [] }
        func counted(_ count: Int, _ what: String, _ places: [String]) -> String {
            "\(count) \(what)" + (places.isEmpty ? "" : " (" + places.joined(separator: ", ") + ")")
        }
        let what: String, cleared: [String], confirmed: [String]
        if directions.isEmpty {
            what = "element(s)"
            let retested = tensors.filter { $0.retestedElementCount > 0 }
            cleared = retested.filter { $0.clearedElementCount > 0 }.map { "\($0.name): \($0.clearedElementCount)" }
            confirmed = retested.filter { $0.retestedElementCount > $0.clearedElementCount }
                .map { "\($0.name): \($0.retestedElementCount - $0.clearedElementCount)" }
        } else {
            what = "direction(s)"
            let retested = directions.filter(\.retested)
            cleared = retested.filter(\.passed).map { "\($0.index)" }
            confirmed = retested.filter { !$0.passed }.map { "\($0.index)" }
        }
        return ["\(retestedCount) \(what) failed with central differences and were re-tested with Richardson "
                + "extrapolation: " + counted(clearedCount, "cleared", cleared) + ", "
                + counted(retestedCount - clearedCount, "confirmed", confirmed)]
    }

    /// One line: "passed" or "FAILED" and what, with the rule that was applied.
    private func verdict() -> String {
        let method = options.richardson ? "Richardson-extrapolated central differences" : "central differences"
        let rule = "rel err = |a − n| / max(|a|, |n|, \(scientific(floor))) ≤ \(scientific(options.tolerance)), \(method)"
        if passed {
            let what = directions.isEmpty ? "\(tensors.count) tensor(s)" : "\(directions.count) direction(s)"
            return "passed: \(what); \(rule)"
        }
        // Full mode: the tensors only (their worst elements are in the tables above), so the
        // verdict stays one short line however many tensors fail.
        let failing = tensors.filter { !$0.passed }.map(\.name)
        let named = failing.count <= 6 ? failing.joined(separator: ", ") : failing.prefix(5).joined(separator: ", ") + ", … and \(failing.count - 5) more"
        let failures = directions.isEmpty
            ? ["\(failing.count) of \(tensors.count) tensor(s) (\(named))"]
            : ["direction(s) " + directions.filter { !$0.passed }.map { "\($0.index)" }.joined(separator: ", ")
                + " of \(directions.count): vᵀ∇L disagrees with the loss's slope along v"]
        return "FAILED: " + failures.joined(separator: "; ") + "; " + rule
    }
}

/// Absolute and relative error of `a` against `n` (see `GradientCheckOptions`).
func compare(_ a: Double, _ n: Double, floor: Double) -> (absolute: Double, relative: Double) {
    let absolute = abs(a - n)
    return (absolute, absolute / max(abs(a), abs(n), floor))
}

private func scientific(_ x: Double) -> String { String(format: "%.2e", x) }
private func precise(_ x: Double) -> String { String(format: "%.10g", x) }

// Reading reports of every GateLab version. 0.2.0 wrote camelCase keys (`absoluteError`,
// `worstRelative`, `retestFailures`) and the options' enums in Codable's nested form
// (`"mode": {"full": {}}`); reports written before re-tests existed lack their fields, and decode
// with nothing re-tested. The keys are read through `GateLabSupport.LegacyKeyDecoder`, which finds
// each snake_case key under its camelCase spelling too.

extension ElementComparison {
    public init(from decoder: Decoder) throws {
        let c = try LegacyKeyDecoder(base: decoder).container(keyedBy: AnyCodingKey.self)
        row = try c.value("row")
        col = try c.value("col")
        analytic = try c.value("analytic")
        numeric = try c.value("numeric")
        absoluteError = try c.value("absolute_error")
        relativeError = try c.value("relative_error")
        retested = try c.optionalValue("retested") ?? false
    }
}

extension TensorCheckResult {
    public init(from decoder: Decoder) throws {
        let c = try LegacyKeyDecoder(base: decoder).container(keyedBy: AnyCodingKey.self)
        name = try c.value("name")
        rows = try c.value("rows")
        cols = try c.value("cols")
        worstAbsolute = try c.value("worst_absolute")
        worstRelative = try c.value("worst_relative")
        failingElementCount = try c.value("failing_element_count")
        retestedElementCount = try c.optionalValue("retested_element_count") ?? 0
        clearedElementCount = try c.optionalValue("cleared_element_count") ?? 0
        passed = try c.value("passed")
        worstFailing = try c.optionalValue("worst_failing") ?? []
    }
}

extension DirectionCheckResult {
    public init(from decoder: Decoder) throws {
        let c = try LegacyKeyDecoder(base: decoder).container(keyedBy: AnyCodingKey.self)
        index = try c.value("index")
        step = try c.value("step")
        analytic = try c.value("analytic")
        numeric = try c.value("numeric")
        absoluteError = try c.value("absolute_error")
        relativeError = try c.value("relative_error")
        retested = try c.optionalValue("retested") ?? false
        passed = try c.value("passed")
    }
}
