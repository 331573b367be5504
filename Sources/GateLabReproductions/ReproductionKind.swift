import GateLabExperiments
import Foundation
import TOMLKit
import GateLabSupport

/// Experiments of kind `reproduction`: trials of the papers' own set-ups (`Presets`), one
/// `TrialRecord` per grid point, and a report that puts the papers' published numbers
/// (`PaperResults`) beside GateLab's. Format (keys every kind shares: see `Experiment`):
///
///     name = "hochreiter1997"
///     kind = "reproduction"
///     [defaults]
///     seeds = 10                         # seeds 1…10 (or a list); `seed` is another name
///     [[grid]]
///     preset = "hochreiter1997-exp4"     # a name of `Presets.names`
///     variant = ["T=100", "T=500"]       # its variants (default: the preset's default one)
///     quick_seeds = 3                    # this block's seeds in the --quick grid (0: not in it)
///     [quick]
///     budget = 200000                    # overrides the preset's budget (training sequences)
///
/// Axes: preset, variant, budget, seeds. A block's `quick_seeds` (not an axis) gives its seeds
/// 1…N in the quick grid, or leaves it out with 0 (long rows such as T = 1000), since `[quick]`
/// overrides every block alike.
public enum ReproductionKind: ExperimentKind {
    public static let name = "reproduction"
    public static let noun = "trial"

    /// The settings' keys, in axis order: `ReproductionSettings`.
    static var keys: [String] { ReproductionSettings.table.keys }

    public static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                            reader r: TOMLReader) throws -> (full: [ReproductionPoint], quick: [ReproductionPoint]) {
        let defaults = try defaults.map { try axes($0, "defaults", r) } ?? [:]
        let quick = try quick.map { try axes($0, "quick", r) } ?? [:]
        var full = [ReproductionPoint](), fast = [ReproductionPoint]()
        for (table, path) in blocks {
            let merged = defaults.merging(try axes(table, path, r)) { $1 }
            full += try product(merged, path, r)
            var fastAxes = merged.merging(quick) { $1 }
            if let value = table["quick_seeds"] {
                let p = "\(path).quick_seeds"
                let n = try r.int(value, p)
                guard (0...100_000).contains(n) else { throw r.error(p, "must be between 0 and 100000, got \(n)") }
                if n == 0 { continue }
                fastAxes["seeds"] = (1...n).map { ($0, p) }
            }
            fast += try product(fastAxes, path, r)
        }
        var seen = Set<String>()
        return (full, fast.filter { seen.insert($0.id).inserted })
    }

    static func axes(_ t: TOMLTable, _ path: String, _ r: TOMLReader) throws -> [String: [(TOMLValueConvertible, String)]] {
        let table = ReproductionSettings.table
        return try r.axes(t, path, keys: table.keys, aliases: table.aliases, ignoring: path.hasPrefix("grid") ? ["quick_seeds"] : [],
                          unknown: table.unknownKey)
    }

    /// Every trial of the product of `axes`' lists (`SettingsTable.product`), each checked.
    static func product(_ axes: [String: [(TOMLValueConvertible, String)]], _ path: String, _ r: TOMLReader) throws -> [ReproductionPoint] {
        guard axes["preset"] != nil else { throw r.error(path, "missing 'preset' (one of \(Presets.names.joined(separator: ", ")))") }
        var base = ReproductionSettings.table.base
        base.origin = path
        return try ReproductionSettings.table.product(axes, base: base, path: path, reader: r).map { point in
            do { _ = try Presets.parameters(point.preset, variant: point.variant) } catch { throw r.error(path, "\(error)") }
            return point
        }
    }

    public static func configurationKey(_ point: ReproductionPoint) -> String {
        var p = point
        p.seed = 0
        return p.id
    }

    /// Time steps of the budget (mean sequence length × budget): an upper bound, for the ETA.
    public static func work(_ point: ReproductionPoint) -> Double {
        guard let p = try? point.parameters() else { return 1 }
        let length: Double
        switch p.task {
        case .embeddedReber, .continualReber: length = 12
        case .distractor(let q, _): length = Double(q + 13)
        case .twoSequence(let T, _), .twoSequenceNoisyInformation(let T, _), .twoSequenceNoisyTargets(let T, _),
             .adding(let T), .multiplication(let T): length = 1.05 * Double(T)
        case .longLag(let p), .longLagRandomMiddle(let p): length = Double(p)
        case .temporalOrder4, .temporalOrder8: length = 105
        }
        return length * Double(p.budget) * Double(p.architecture.weightCount)
    }

    public static func run(_ point: ReproductionPoint, experiment: String, version: String) throws -> TrialRecord {
        var trial = try Trial(preset: point.preset, variant: point.variant, seed: point.seed, parameters: try point.parameters())
        var record = trial.run()
        record.experiment = experiment
        record.id = point.id
        record.gatelabVersion = version
        return record
    }

    public static func mismatch(_ record: TrialRecord, _ point: ReproductionPoint) -> String? {
        guard record.preset == point.preset, record.variant == point.variant, record.seed == point.seed,
              let parameters = try? point.parameters(), record.parameters == parameters
        else { return "other settings than the grid's" }
        return record.id == point.id ? nil : "its settings are those of trial \(record.id)"
    }

    /// The tests the trial took: `name,sequences,wrong,test_count,test_mse`.
    public static func curvesCSV(_ record: TrialRecord) -> String {
        "name,sequences,wrong,test_count,test_mse\n" + record.milestones.map {
            [csvQuoted($0.name), "\($0.sequences)", "\($0.wrong)", "\($0.testCount)", csvNumber($0.testMSE)].joined(separator: ",")
        }.joined(separator: "\n") + "\n"
    }

    /// `Cells/lstm1997.cell` of the package the experiment file belongs to: beside the file's
    /// folder (`Experiments/x.toml` → `Cells/`), else under the current folder. The report's
    /// gradient profile reads it, so the report does not depend on where `gatelab run` starts.
    static func paperCellFile(experimentFile: String) -> String {
        let experiments = URL(fileURLWithPath: experimentFile).deletingLastPathComponent()
        let beside = experiments.deletingLastPathComponent().appendingPathComponent("Cells/lstm1997.cell").path
        if FileManager.default.fileExists(atPath: beside) { return beside }
        return FileManager.default.currentDirectoryPath + "/Cells/lstm1997.cell"
    }

    public static func writeReport(_ records: [TrialRecord], points: [ReproductionPoint], context: ReportContext) throws -> [String] {
        try Files.write(ReproductionReport.pointsCSV(records), to: context.directory + "/points.csv")
        var versions = [String]()
        for v in records.compactMap(\.gatelabVersion) where !versions.contains(v) { versions.append(v) }
        var figures = ReproductionReport.figures(records), profileProblems = [String]()
        var profile: TrainedNetGradientProfile?
        if context.figures, let solved = TrainedNetGradientProfile.solvedRecord(in: records) {
            let file = ReproductionKind.paperCellFile(experimentFile: context.file)
            do {
                profile = try TrainedNetGradientProfile.compute(solved: solved, cellSource: String(decoding: try Files.contents(of: file), as: UTF8.self))
                figures.append(profile!.figure)
            } catch {
                profileProblems.append("gradient profile not drawn (\(file)): \(error)")
            }
        }
        let (drawn, drawProblems) = context.figures ? context.figureWriter.draw(figures) : ([], [])
        let problems = profileProblems + drawProblems
        try Report.write(ReproductionReport.body(records, figures: drawn, profile: profile), versions: versions, figureProblems: problems, context: context)
        return problems
    }
}

/// The settings of a reproduction trial, one row each: the keys of `kind = "reproduction"`
/// experiment files, the options of `gatelab train --preset`, the grid's axes (in this order),
/// and where each lands in `ReproductionPoint`. `gatelab train --preset` also takes `--length`,
/// `--lr` and `--weight-update`, which change a preset's set-up and are not grid settings.
public enum ReproductionSettings {
    /// The table.
    public static let table = SettingsTable<ReproductionPoint>([
        Setting("preset", flag: "--preset", help: "A paper's own set-up: \(Presets.names.joined(separator: ", ")).",
                current: { $0.preset.isEmpty ? "none" : $0.preset }) { v, point, _ in
            let name = try v.string()
            guard let preset = Presets.all.first(where: { $0.name == name }) else {
                throw SettingProblem("unknown preset '\(name)'\(didYouMean(name, among: Presets.names)); valid presets: \(Presets.names.joined(separator: ", "))")
            }
            point.preset = name
            point.variant = preset.defaultVariant
        },
        // After `preset`, whose default variant it replaces.
        Setting("variant", flag: "--variant", help: "The variant (a row of the paper's table), e.g. T=100 (exp4), 1-5 (exp1), forget-gates (CERG).",
                current: { $0.variant.isEmpty ? "the preset's first" : $0.variant }) { v, point, _ in
            let name = try v.string()
            if let preset = Presets.all.first(where: { $0.name == point.preset }), !preset.variants.contains(where: { $0.name == name }) {
                throw SettingProblem("unknown variant '\(name)' of \(point.preset); valid variants: \(preset.variants.map(\.name).joined(separator: ", "))")
            }
            point.variant = name
        },
        Setting("budget", flag: "--budget", help: "Training sequences (CERG: streams) after which an unsolved trial stops.",
                current: { $0.budget.map(String.init) ?? "the preset's" }) { v, point, _ in
            let n = try v.int()
            guard n >= 1 else { throw SettingProblem("must be at least 1, got \(n)") }
            point.budget = n
        },
        Setting("gradient", flag: "--gradient",
                help: "The gradient: truncated (the paper's App. A.1 rule) or full (BPTT, one update at each sequence's end): the papers' control.",
                current: { ($0.gradient ?? .truncated).rawValue }) { v, point, _ in
            let name = try v.string()
            guard let mode = GradientMode(rawValue: name) else { throw SettingProblem("must be truncated or full, got '\(name)'") }
            point.gradient = mode == .truncated ? nil : mode   // absent means truncated: ids and records keep their bytes
        },
        Setting("network", flag: "--network",
                help: "lstm (the paper's) or tanh-rnn (the control: a tanh RNN with about the LSTM's weight count, full BPTT).",
                current: { $0.network ?? "lstm" }) { v, point, _ in
            let name = try v.string()
            guard name == "lstm" || name == "tanh-rnn" else { throw SettingProblem("must be lstm or tanh-rnn, got '\(name)'") }
            point.network = name == "lstm" ? nil : name
        },
        Setting("seeds", aliases: ["seed"], flag: "--seed", help: "The trial's seed (GSL's MT19937).", current: { String($0.seed) }) { v, point, _ in
            let n = try v.int()
            guard n >= 0, n <= Int(UInt32.max) else { throw SettingProblem("a seed must be between 0 and \(UInt32.max), got \(n)") }
            point.seed = UInt64(n)
        },
    ], base: ReproductionPoint(preset: "", variant: "", seed: 1, budget: nil, gradient: nil, network: nil, origin: ""))
}

/// One trial of a `reproduction` grid.
public struct ReproductionPoint: ExperimentPoint, Equatable {
    /// The preset's name.
    public var preset: String
    /// The variant's name.
    public var variant: String
    /// The trial's seed.
    public var seed: UInt64
    /// The budget replacing the preset's (training sequences; CERG: streams), or nil.
    public var budget: Int?
    /// The gradient replacing the preset's truncated one (`full`: the BPTT control), or nil.
    public var gradient: GradientMode?
    /// `tanh-rnn`: the tanh-RNN control (`PresetParameters.withTanhRNNControl`) instead of the
    /// LSTM, or nil.
    public var network: String?
    /// The `[[grid]]` block it comes from.
    public var origin: String

    /// A trial of `preset`'s `variant` (see the properties).
    public init(preset: String, variant: String, seed: UInt64, budget: Int?, gradient: GradientMode?, network: String?, origin: String) {
        (self.preset, self.variant, self.seed, self.budget, self.gradient, self.network, self.origin) = (preset, variant, seed, budget, gradient, network, origin)
    }

    /// `<preset>_<variant>[_b<budget>][_full]_seed<seed>`, the variant spelled with letters,
    /// digits and `-` only (`T=100,N=3` → `T100-N3`).
    public var id: String {
        var v = ""
        for ch in variant {
            if ch.isLetter || ch.isNumber || ch == "-" || ch == "." { v.append(ch) } else if ch == "," { v.append("-") }
        }
        return "\(preset)_\(v)" + (budget.map { "_b\($0)" } ?? "") + (gradient == .full ? "_full" : "") + (network.map { "_\($0)" } ?? "") + "_seed\(seed)"
    }

    /// The preset's parameters with this point's budget.
    public func parameters() throws -> PresetParameters {
        var p = try Presets.parameters(preset, variant: variant)
        if let budget { p.budget = budget }
        if let gradient { p.gradient = gradient }
        if network == "tanh-rnn" { p = p.withTanhRNNControl() }
        return p
    }
}

/// An experiment file of kind `reproduction`.
public typealias ReproductionExperiment = Experiment<ReproductionKind>

extension TrialRecord: ExperimentRecord {
    /// `seconds`.
    public var computeSeconds: Double? { seconds }
}
