import Foundation
import TOMLKit
import GateLabSupport

/// One point of an experiment's grid: a seeded configuration of its kind.
public protocol ExperimentPoint: Sendable {
    /// A readable identifier unique in the experiment, also the name of its result files.
    var id: String { get }
    /// The `[[grid]]` block it comes from (`grid[2]`), for messages.
    var origin: String { get }
}

extension ExperimentPoint {
    /// The point's settings as `name=value, …` (its stored properties, those of a nested
    /// configuration flattened; `origin` left out), for a message naming a point that failed.
    public var parameters: String {
        func fields(_ value: Any, depth: Int) -> [String] {
            Mirror(reflecting: value).children.flatMap { child -> [String] in
                guard let label = child.label, label != "origin" else { return [] }
                var v = child.value
                let m = Mirror(reflecting: v)
                if m.displayStyle == .optional {
                    guard let some = m.children.first else { return ["\(label)=none"] }
                    v = some.value
                }
                if depth < 2, Mirror(reflecting: v).displayStyle == .struct { return fields(v, depth: depth + 1) }
                return ["\(label)=\(v)"]
            }
        }
        return fields(self, depth: 0).joined(separator: ", ")
    }
}

/// What one grid point's computation left behind, stored as one JSON line
/// (`results/points/<id>.json`). Every record carries its point, its experiment and the
/// GateLab version that wrote it, so that a run or a merge can tell its own results from
/// stale or foreign ones.
public protocol ExperimentRecord: Codable {
    /// The grid point's identifier.
    var id: String { get }
    /// The experiment's name ("" outside one).
    var experiment: String { get }
    /// The GateLab version that computed it (nil: not recorded).
    var gatelabVersion: String? { get }
    /// The record format (`RecordFormat.current`; nil: format 1, written before formats were
    /// numbered). The runner sets it on every record it stores.
    var recordFormat: Int? { get set }
    /// The content hash (`ContentHash.ofFile`) of every file the point read, by the path as
    /// the point names it (`ExperimentKind.inputFiles`); nil when it read none. The runner sets
    /// it; a finished point whose files no longer have these hashes is computed again.
    var inputs: [String: String]? { get set }
    /// The seconds the point's own computation took, when the record keeps them (the ETA and
    /// the per-point times of `--jobs` runs read them); nil otherwise.
    var computeSeconds: Double? { get }
}

extension ExperimentRecord {
    /// Records that do not store a format: none.
    public var recordFormat: Int? { get { nil } set {} }
    /// Records that do not store input hashes: none (their kind must then name no input files).
    public var inputs: [String: String]? { get { nil } set {} }
    public var computeSeconds: Double? { nil }
}

extension ExperimentRecord {
    /// The record as one JSON line (see `RecordJSON`).
    public func jsonLine() throws -> String { try RecordJSON.line(self) }
    /// Reads a record written by `jsonLine()`.
    public init(jsonLine line: String) throws { self = try RecordJSON.decode(Self.self, from: line) }
}

/// Where a kind's report goes and what it says about the run.
public struct ReportContext {
    /// The experiment's name, description and file, and whether figures are wanted.
    public var name: String, description: String?, file: String, figures: Bool
    /// The output folder.
    public var directory: String
    /// Whether this is the `--quick` grid.
    public var quick: Bool
    /// The GateLab version of this run.
    public var version: String
    /// The command that regenerates the report (`gatelab run FILE …`).
    public var command: String
    /// A paragraph under the report's title (a partial merge names the missing points there).
    public var notice: String?
    /// The figure writer (gnuplot).
    public var figureWriter: FigureWriter
}

/// A kind of experiment (`kind = "probe"`, `kind = "train"`): how its grid is read from the
/// file's `[defaults]`, `[[grid]]` and `[quick]` tables, how one point is computed, and how
/// its records become tables, figures and a report. Everything else — the file's common
/// keys, resuming, sharding, jobs, merging, Slurm, atomic files, progress — is the same for
/// every kind (`Experiment`, `ExperimentRunner`).
public protocol ExperimentKind {
    /// A point of the grid.
    associatedtype Point: ExperimentPoint
    /// A point's stored result.
    associatedtype Record: ExperimentRecord

    /// The value of `kind` in the file.
    static var name: String { get }
    /// What a point is called in messages ("grid point", "training run").
    static var noun: String { get }
    /// The full grid and the `--quick` grid, in their stable order, from the file's tables.
    /// - Parameters:
    ///   - defaults: `[defaults]`, if any.
    ///   - blocks: every `[[grid]]` block with its key path (`grid[1]`, …).
    ///   - quick: `[quick]`, if any.
    ///   - reader: for typed reads and `file:line: key:` errors.
    static func grid(defaults: TOMLTable?, blocks: [(table: TOMLTable, path: String)], quick: TOMLTable?,
                     reader: TOMLReader) throws -> (full: [Point], quick: [Point])
    /// Points that differ only in their seed count as one configuration (for `--dry-run`).
    static func configurationKey(_ point: Point) -> String
    /// Estimated cost of a point (any unit, for the progress bar's ETA and for balancing jobs).
    static func work(_ point: Point) -> Double
    /// The files a point reads besides the experiment file — a cell file, a weights file, a
    /// task's data files — as the point names them (relative to the working folder). Their
    /// content hashes go into the record (`ExperimentRecord.inputs`), and a finished point
    /// whose files changed since is computed again. Default: none.
    static func inputFiles(_ point: Point) throws -> [String]
    /// Computes one point.
    static func run(_ point: Point, experiment: String, version: String) throws -> Record
    /// Why `record` is not a result of `point` (other parameters), or nil when it is.
    static func mismatch(_ record: Record, _ point: Point) -> String?
    /// The point's curves as CSV, stored beside its record (`results/curves/<id>.csv`).
    static func curvesCSV(_ record: Record) -> String
    /// Writes the tables, figures and `report.md` from the records of `points` (grid order).
    /// - Returns: why figures could not be drawn (the report says it too).
    static func writeReport(_ records: [Record], points: [Point], context: ReportContext) throws -> [String]
}

/// An experiment of any kind, as the command line sees it (see `ExperimentKinds`).
public protocol AnyExperiment {
    /// `name`.
    var name: String { get }
    /// The kind's noun ("grid point", "training run").
    var noun: String { get }
    /// The number of points of the (quick) grid.
    func pointCount(quick: Bool) -> Int
    /// The number of configurations (points that differ only in their seed are one).
    func configurationCount(quick: Bool) -> Int
    /// The output folder of a run with `options`.
    func directory(_ options: RunOptions) -> String
    /// Runs the grid (or a shard of it); see `ExperimentRunner.run()`.
    func run(_ options: RunOptions) throws -> RunOutcome
    /// Merges the shards' files into the report; see `ExperimentRunner.merge(partial:)`.
    func merge(_ options: RunOptions, partial: Bool) throws -> MergeOutcome
}

extension ExperimentKind {
    public static func inputFiles(_ point: Point) throws -> [String] { [] }
}

/// The table of experiment kinds: the one place where a file's `kind` picks its code.
public struct ExperimentKinds {
    /// The kinds, in the order messages list them.
    public let kinds: [any ExperimentKind.Type]

    /// A table of `kinds`.
    public init(_ kinds: [any ExperimentKind.Type]) { self.kinds = kinds }

    /// Reads and validates the experiment file at `path`, of whichever kind it declares.
    /// - Throws: `ExperimentError.file` (file, line, key) for anything wrong in it.
    public func load(contentsOf path: String) throws -> any AnyExperiment {
        let source = try ExperimentHeader.source(of: path)
        let r = TOMLReader(file: path, source: source)
        let table = try ExperimentHeader.table(source, reader: r)
        defer { ExperimentHeader.release(table) }
        var names = [String]()
        for k in kinds { names.append(k.name) }
        guard let kindValue = table["kind"] else {
            throw r.error("kind", "missing: give kind = " + names.map { "\"\($0)\"" }.joined(separator: " or "))
        }
        let kind = try r.string(kindValue, "kind")
        for k in kinds where k.name == kind { return try k.experiment(source: source, file: path) }
        throw r.error("kind", "unknown kind '\(kind)'; valid kinds: " + names.joined(separator: ", "))
    }
}

extension ExperimentKind {
    /// An experiment of this kind read from `source` (named `file` in messages).
    static func experiment(source: String, file: String) throws -> any AnyExperiment {
        try Experiment<Self>(source: source, file: file)
    }
}
