internal import CGateLabGSL

/// An additive model y ≈ c + Σⱼ fⱼ(xⱼ) fitted by least squares, each main effect fⱼ a cubic
/// B-spline of one feature (`gsl_bspline`, uniform knots over the feature's range) or, for a
/// categorical feature, one level per coefficient; the coefficients by least squares
/// (`gsl_multifit_linear_tsvd`, GSL's `gsl_multifit_linear` with its rank reported).
///
/// The share of each feature is the variance of its fitted main effect over the samples
/// divided by the variance of y — the functional-ANOVA reading of hyperparameter importance
/// (Hutter, Hoos & Leyton-Brown 2014, as Greff et al. 2017 use it): with independently drawn
/// features the main effects are nearly uncorrelated and their shares add up to the fit's R²;
/// what the additive fit leaves unexplained (`remainder`, 1 − R²) is the interactions and the
/// noise. In a small sample the fitted effects can be correlated, and their shares then add up
/// to more (or less) than R²: the shares rank the hyperparameters, R² bounds the main effects.
public struct AdditiveFit: Sendable {
    /// One feature's values, one per sample.
    public enum Feature: Sendable {
        /// A number (already on the scale the effect should be smooth in: the logarithm of a
        /// log-uniformly drawn value). With at most four distinct values it is fitted as
        /// categorical (a cubic spline needs more points than that).
        case continuous([Double])
        /// A category per sample (one-hot coding against the first level seen).
        case categorical([String])
    }

    /// Per feature, var(fⱼ) / var(y), in the order given.
    public let shares: [Double]
    /// 1 − R²: what no main effect explains, the interactions and the noise (never negative).
    public let remainder: Double
    /// The fit's coefficient of determination, 1 − RSS / TSS.
    public let rSquared: Double
    /// Per feature, its fitted main effect at each sample (without the intercept).
    public let effects: [[Double]]
    /// The number of coefficients fitted (intercept included).
    public let parameterCount: Int

    /// Fits the model.
    /// - Parameters:
    ///   - features: each feature's values (as many as `response`).
    ///   - y: the response, finite.
    ///   - breakpoints: the spline's breakpoints per continuous feature (≥ 2; a cubic spline
    ///     on b breakpoints has b + 2 coefficients); by default as many as the samples allow,
    ///     from 2 to 6.
    /// - Throws: `InvalidArgumentError` for mismatched lengths, a non-finite value, a constant
    ///   response, fewer samples than coefficients + 2, or collinear features.
    public init(features: [Feature], response y: [Double], breakpoints: Int? = nil) throws {
        let caller = "AdditiveFit"
        let n = y.count
        try require(y.allSatisfy(\.isFinite), caller, "the response must be finite")
        try require(n >= 3, caller, "needs at least 3 samples, got \(n)")
        // Each feature becomes a block of columns: the basis at each sample.
        enum Coding { case spline(lo: Double, hi: Double), levels([String]), constant }
        var codings = [Coding]()
        var values = [[Double]](), labels = [[String]]()
        for f in features {
            switch f {
            case .continuous(let xs):
                try require(xs.count == n, caller, "a feature has \(xs.count) values for \(n) samples")
                try require(xs.allSatisfy(\.isFinite), caller, "a feature value is not finite")
                let distinct = Set(xs)
                values.append(xs); labels.append(xs.map { "\($0)" })
                if distinct.count <= 1 { codings.append(.constant) }
                else if distinct.count <= 4 { codings.append(.levels(Self.levels(xs.map { "\($0)" }))) }
                else { codings.append(.spline(lo: xs.min()!, hi: xs.max()!)) }
            case .categorical(let ls):
                try require(ls.count == n, caller, "a feature has \(ls.count) values for \(n) samples")
                values.append([]); labels.append(ls)
                let levels = Self.levels(ls)
                codings.append(levels.count <= 1 ? .constant : .levels(levels))
            }
        }
        let splineCount = codings.filter { if case .spline = $0 { return true }; return false }.count
        let levelColumns = codings.reduce(0) { if case .levels(let l) = $1 { return $0 + l.count - 1 }; return $0 }
        // Breakpoints: as many (2…6) as leave about 4 samples per coefficient.
        let chosen = breakpoints ?? Swift.max(2, Swift.min(6, splineCount == 0 ? 2 : (n / 4 - 1 - levelColumns) / splineCount - 1))
        try require(chosen >= 2, caller, "needs at least 2 breakpoints, got \(chosen)")
        let splineColumns = chosen + 2 - 1   // the first basis function dropped: the intercept carries the level
        let p = 1 + splineCount * splineColumns + levelColumns
        try require(n >= p + 2, caller, "\(n) samples are too few for \(p) coefficients (\(features.count) features); need at least \(p + 2)")
        var varY = 0.0
        let meanY = y.reduce(0, +) / Double(n)
        for v in y { varY += (v - meanY) * (v - meanY) }
        try require(varY > 0, caller, "the response is constant: there is no variance to explain")

        let X = try GSLMatrix(rows: n, cols: p, caller: caller)
        var blocks = [Range<Int>]()
        var column = 1
        for i in 0..<n { X[i, 0] = 1 }
        for (j, coding) in codings.enumerated() {
            switch coding {
            case .constant:
                blocks.append(column..<column)
            case let .spline(lo, hi):
                guard let w = gsl_bspline_alloc(4, chosen) else {
                    throw GSLError(function: caller, reason: "gsl_bspline_alloc returned NULL", file: "", line: 0, code: Int(GSL_ENOMEM))
                }
                defer { gsl_bspline_free(w) }
                let basis = try GSLVector(count: chosen + 2, caller: caller)
                try GSLCall.status(caller) { gsl_bspline_knots_uniform(lo, hi, w) }
                for i in 0..<n {
                    try GSLCall.status(caller) { gsl_bspline_eval(values[j][i], basis.pointer, w) }
                    for k in 1..<(chosen + 2) { X[i, column + k - 1] = basis[k] }
                }
                blocks.append(column..<(column + splineColumns))
                column += splineColumns
            case .levels(let levels):
                for i in 0..<n {
                    if let k = levels.firstIndex(of: labels[j][i]), k > 0 { X[i, column + k - 1] = 1 }
                }
                blocks.append(column..<(column + levels.count - 1))
                column += levels.count - 1
            }
        }
        let Y = try GSLVector(count: n, caller: caller)
        for i in 0..<n { Y[i] = y[i] }
        let c = try GSLVector(count: p, caller: caller)
        let cov = try GSLMatrix(rows: p, cols: p, caller: caller)
        var chisq = 0.0
        guard let work = gsl_multifit_linear_alloc(n, p) else {
            throw GSLError(function: caller, reason: "gsl_multifit_linear_alloc returned NULL", file: "", line: 0, code: Int(GSL_ENOMEM))
        }
        defer { gsl_multifit_linear_free(work) }
        // `gsl_multifit_linear` is the truncated SVD with tol = machine epsilon; asked for the
        // rank, it also says when the columns are collinear — features that vary together in
        // the sample (a paired study's cells pooled over few distinct samples), whose effects
        // no fit can tell apart: refused rather than split arbitrarily.
        var rank = 0
        try GSLCall.status(caller) { gsl_multifit_linear_tsvd(X.pointer, Y.pointer, 1e-10, c.pointer, cov.pointer, &chisq, &rank, work) }
        try require(rank == p, caller, "the features are collinear in this sample (rank \(rank) of \(p) coefficients): too few distinct samples to tell their effects apart")
        var effects = [[Double]]()
        for block in blocks {
            effects.append((0..<n).map { i in block.reduce(0.0) { $0 + c[$1] * X[i, $1] } })
        }
        let shares = effects.map { e -> Double in
            let m = e.reduce(0, +) / Double(n)
            return e.reduce(0.0) { $0 + ($1 - m) * ($1 - m) } / varY
        }
        self.effects = effects
        self.shares = shares
        rSquared = 1 - chisq / varY
        remainder = 1 - rSquared
        parameterCount = p
    }

    /// The distinct labels in order of first appearance.
    static func levels(_ labels: [String]) -> [String] {
        var seen = Set<String>()
        return labels.filter { seen.insert($0).inserted }
    }
}
