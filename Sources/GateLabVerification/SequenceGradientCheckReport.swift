import GateLabGradCheck

/// What `gatelab gradcheck --json` writes: the check's report with everything needed to rerun
/// it — the cell, the sizes, the seed and generator, and the GateLab version that ran it.
///
/// The JSON is one object: the report's own keys (`options`, `loss`, `floor`, `tensors`,
/// `directions`, `passed`) beside these, all snake_case (`cell`, `input_size`, `hidden_size`,
/// `batch`, `steps`, `layers`, `seed`, `rng`, `gatelab_version`). A bare `GradientCheckReport`
/// (as GateLab 0.2.0 wrote it, without these keys) still decodes as `GradientCheckReport`.
public struct SequenceGradientCheckReport: Sendable, Equatable, Codable {
    /// The cell's name (a built-in name or the cell file's path).
    public var cell: String
    /// I, H, B, T, L.
    public var inputSize: Int, hiddenSize: Int, batch: Int, steps: Int, layers: Int
    /// The seed of the weights, inputs, states and R.
    public var seed: UInt64
    /// GSL's name of the random generator (`mt19937`).
    public var rng: String
    /// The GateLab version that ran the check.
    public var gatelabVersion: String
    /// What the check found.
    public var report: GradientCheckReport
    /// The relu kinks the differences' steps met (`kinks`), and the parameters whose gradient
    /// is zero or input-independent (`parameters`): the findings the text report prints under
    /// its table; nil when they were not computed.
    public var kinks: KinkReport?
    public var parameters: ParameterSensitivity?

    /// The report of `check`, which ran as `report`, under GateLab `version`.
    public init(check: SequenceGradientCheck, report: GradientCheckReport, version: String) {
        cell = check.cell.name
        (inputSize, hiddenSize, batch, steps, layers) = (check.inputSize, check.hiddenSize, check.batch, check.steps, check.layers)
        seed = check.seed
        rng = SequenceGradientCheck.generator
        gatelabVersion = version
        self.report = report
    }

    enum CodingKeys: String, CodingKey {
        case cell, inputSize = "input_size", hiddenSize = "hidden_size", batch, steps, layers, seed, rng
        case gatelabVersion = "gatelab_version", kinks, parameters
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        cell = try c.decode(String.self, forKey: .cell)
        inputSize = try c.decode(Int.self, forKey: .inputSize)
        hiddenSize = try c.decode(Int.self, forKey: .hiddenSize)
        batch = try c.decode(Int.self, forKey: .batch)
        steps = try c.decode(Int.self, forKey: .steps)
        layers = try c.decode(Int.self, forKey: .layers)
        seed = try c.decode(UInt64.self, forKey: .seed)
        rng = try c.decode(String.self, forKey: .rng)
        gatelabVersion = try c.decode(String.self, forKey: .gatelabVersion)
        kinks = try c.decodeIfPresent(KinkReport.self, forKey: .kinks)
        parameters = try c.decodeIfPresent(ParameterSensitivity.self, forKey: .parameters)
        report = try GradientCheckReport(from: decoder)   // the same object's other keys
    }

    public func encode(to encoder: Encoder) throws {
        try report.encode(to: encoder)                   // the report's keys, then these beside them
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(cell, forKey: .cell)
        try c.encode(inputSize, forKey: .inputSize)
        try c.encode(hiddenSize, forKey: .hiddenSize)
        try c.encode(batch, forKey: .batch)
        try c.encode(steps, forKey: .steps)
        try c.encode(layers, forKey: .layers)
        try c.encode(seed, forKey: .seed)
        try c.encode(rng, forKey: .rng)
        try c.encode(gatelabVersion, forKey: .gatelabVersion)
        try c.encodeIfPresent(kinks, forKey: .kinks)
        try c.encodeIfPresent(parameters, forKey: .parameters)
    }

    /// The report as pretty-printed JSON with sorted keys (as `GradientCheckReport.json()`).
    public func json() throws -> String { try GradientCheckReport.json(self) }
}
