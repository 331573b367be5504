import Foundation
import GateLabSupport

/// Options of one run (or merge) of an experiment.
public struct RunOptions {
    /// Run the `--quick` grid (into `<dir>-quick` unless `outputDirectory` is given).
    public var quick = false
    /// Overrides the experiment's output folder.
    public var outputDirectory: String?
    /// The GateLab version recorded with every result (the command-line tool passes its
    /// `GateLabVersion.current`).
    public var version: String
    /// For tests: stop after computing this many points, as if the run had been killed.
    public var stopAfter: Int?
    /// Run only this shard of the grid (nil or N = 1: the whole grid). A shard of N > 1
    /// writes its points' files but no summaries or report: `merge(partial:)` writes them
    /// once every shard has finished.
    public var shard: Shard?
    /// Compute only these grid indices and write no report (a job of a `--jobs` run).
    public var only: [Int]?
    /// Points computed at once, each job in its own process (`jobCommand`); 1: in this
    /// process. The files are the same bytes for any number of jobs.
    public var jobs = 1
    /// The command line of a job process that computes the given grid indices (and writes no
    /// report): `gatelab run FILE --output DIR --points i,j,… ` from the command-line tool.
    /// Without it, `jobs` is ignored.
    public var jobCommand: (([Int]) -> [String])?
    /// gnuplot's executable (a name searched on `PATH`, or a path).
    public var gnuplot = "gnuplot"
    /// How progress is shown.
    public var progress: ProgressReporter.Style = .automatic
    /// Where progress text goes (stderr when nil).
    public var progressOutput: ((String) -> Void)?

    /// Creates options recording `version`.
    public init(version: String) { self.version = version }
}

/// What a run did.
public struct RunOutcome {
    /// The output folder.
    public var directory: String
    /// Points in the grid.
    public var total: Int
    /// The shard run (nil: the whole grid).
    public var shard: Shard?
    /// Points of the shard (the grid's size for a whole run).
    public var shardTotal: Int
    /// Points computed by this run.
    public var computed: Int
    /// Points found finished and reused.
    public var reused: Int
    /// Of `computed`, the points computed again because a file they read changed since
    /// their record was written (or their record, of format 1, holds no input hashes).
    public var inputChanged = 0
    /// Why each of those was computed again: `<id>: Cells/x.cell changed since it was computed`.
    public var inputChanges: [String] = []
    /// False when stopped by `RunOptions.stopAfter` (no summaries or report written). A
    /// shard of N > 1 is complete when its own points are; it writes no summaries or report.
    public var complete: Bool
    /// Why figures could not be drawn (empty when they were, or were not asked for).
    public var figureProblems: [String]
}

/// Runs an experiment's grid, resumably, then writes its summaries and report; or merges
/// the files of a grid whose shards ran separately. The same code for every kind.
///
/// Layout of the output folder D (`Notes/<name>` by default):
/// - `D/results/points/<id>.json`: one JSON line per grid point (`ExperimentRecord`: every
///   parameter, seed, generator, version, results and curves), written atomically; its
///   presence marks the point finished;
/// - `D/results/curves/<id>.csv`: the point's curves (`Kind.curvesCSV`);
/// - `D/results/results.jsonl`: every point's line, in grid order;
/// - what the kind's report writes (`points.csv`, figures, `report.md`, …).
///
/// Restarting the same command after an interruption (Ctrl-C, kill -9, power loss) reuses
/// every finished point (written by the same GateLab version), recomputes the unfinished one
/// (its temporary file is never read), and gives the same bytes as an uninterrupted run: each
/// point depends only on its own seed.
///
/// The shards of a Slurm job array (`RunOptions.shard`) run concurrently into one folder:
/// each writes only its own points, with temporary names unique to its process, and
/// `merge(partial:)` then writes the summaries and report exactly as a whole run would.
public final class ExperimentRunner<Kind: ExperimentKind> {
    /// The experiment.
    public let experiment: Experiment<Kind>
    /// The options.
    public let options: RunOptions

    /// Creates a runner.
    /// Confines the output folder's writes to its tree (`confineOutput`).
    public init(experiment: Experiment<Kind>, options: RunOptions) {
        self.experiment = experiment
        self.options = options
        confineOutput(experiment, options)
    }

    /// The output folder.
    public var directory: String { options.outputDirectory ?? experiment.outputDirectory(quick: options.quick) }
    var pointsDirectory: String { directory + "/results/points" }
    var curvesDirectory: String { directory + "/results/curves" }

    /// The grid indices this run computes: its shard's, or `RunOptions.only`'s.
    func ownIndices(of count: Int, shard: Shard?) -> [Int] {
        if let only = options.only { return only.filter { $0 >= 0 && $0 < count } }
        return shard?.indices(among: count) ?? Array(0..<count)
    }

    /// Runs the grid (skipping finished points), then writes the summaries and the report;
    /// with a shard of N > 1 (`RunOptions.shard`) or a list of points (`RunOptions.only`),
    /// runs only those points and writes no summaries or report.
    public func run() throws -> RunOutcome {
        let points = experiment.points(quick: options.quick)
        let shard = options.shard.flatMap { $0.isWhole ? nil : $0 }
        let mine = ownIndices(of: points.count, shard: shard)
        try Files.makeDirectory(pointsDirectory)
        try Files.makeDirectory(curvesDirectory)
        // Only temporaries of this run's points, and only dead ones: other shards may be
        // writing into the same folders right now.
        Files.removeStaleTemporaryFiles(in: pointsDirectory, of: Set(mine.map { points[$0].id + ".json" }))
        Files.removeStaleTemporaryFiles(in: curvesDirectory, of: Set(mine.map { points[$0].id + ".csv" }))

        var records = [Kind.Record?](repeating: nil, count: points.count)
        var inputChanges = [String]()
        for i in mine {
            let found = try finishedRecord(points[i])
            records[i] = found.record
            if let why = found.inputChange { inputChanges.append("\(points[i].id): \(why)") }
        }
        let reused = mine.filter { records[$0] != nil }.count
        let missing = mine.filter { records[$0] == nil }
        let parallel = options.jobs > 1 && missing.count > 1 && options.stopAfter == nil && options.jobCommand != nil
        let progress = ProgressReporter(total: missing.count, totalWork: missing.reduce(0) { $0 + Kind.work(points[$1]) },
                                        style: options.progress, parallelism: parallel ? min(options.jobs, missing.count) : 1, write: options.progressOutput ?? { FileHandle.standardError.write(Data($0.utf8)) })
        var computed = 0
        var failed = [String]()   // "<id> (<origin>: <parameters>): <error>" of each point that threw
        func outcome(complete: Bool, problems: [String] = []) -> RunOutcome {
            RunOutcome(directory: directory, total: points.count, shard: shard, shardTotal: mine.count, computed: computed,
                       reused: reused, inputChanged: inputChanges.count, inputChanges: inputChanges, complete: complete,
                       figureProblems: problems)
        }
        if parallel, let command = options.jobCommand {
            for (i, record) in try runJobs(missing, points: points, command: command, progress: progress) { records[i] = record }
            computed = missing.count
        }
        for i in missing where records[i] == nil {
            if options.only != nil, getppid() != parent {
                // The run that started this job is gone (killed): stop; a new run resumes.
                break
            }
            if let stop = options.stopAfter, computed >= stop {
                progress.close()
                return outcome(complete: false)
            }
            let p = points[i]
            let start = DispatchTime.now().uptimeNanoseconds
            var record: Kind.Record
            do {
                // Hashed before the computation: a file edited meanwhile leaves the old hash in
                // the record, so the next run computes the point again rather than trusting it.
                let inputs = try inputHashes(p)
                record = try Kind.run(p, experiment: experiment.name, version: options.version)
                record.inputs = inputs
                record.recordFormat = RecordFormat.current
            } catch {
                // One point that cannot be computed does not cost the others: they run and are
                // stored, and the run ends with an error naming every failed point.
                failed.append("\(p.id) (\(p.origin): \(p.parameters)): \(String(describing: error).split(whereSeparator: \.isNewline).joined(separator: "; "))")
                progress.finished(p.id, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, work: Kind.work(p))
                continue
            }
            try store(record)
            records[i] = record
            computed += 1
            progress.finished(p.id, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9, work: Kind.work(p))
        }
        if !failed.isEmpty {
            progress.close()
            throw ExperimentError.invalid("\(failed.count) of \(mine.count) \(Kind.noun)s failed and \(failed.count == 1 ? "was" : "were") not stored "
                                          + "(the others were; running the command again computes only the missing ones): " + failed.joined(separator: "; "))
        }
        if missing.contains(where: { records[$0] == nil }) {   // a job whose run was killed
            progress.close()
            return outcome(complete: false)
        }
        progress.close()
        if shard != nil || options.only != nil { return outcome(complete: true) }
        return outcome(complete: true, problems: try writeOutputs(records: records.map { $0! }, points: points))
    }

    /// The process that started this one (a job stops when it is gone).
    let parent = getppid()

    /// Computes the grid indices `missing` in `options.jobs` child processes, each running
    /// one share of them single-threaded, and waits for all of them; progress follows the
    /// point files as they appear. Shares are balanced by estimated work (longest first, each
    /// to the least loaded job), and every point is written by exactly one job, atomically,
    /// as a shard writes it — so the folder ends the same bytes as a one-process run, and a
    /// run killed meanwhile resumes like any other.
    /// The parent reads each point's record as its file appears, while the jobs go on.
    /// - Returns: the record of every grid index of `missing`.
    /// - Throws: `FileError.io` when a job cannot start or fails, or ends without
    ///   writing one of its points.
    func runJobs(_ missing: [Int], points: [Kind.Point], command: ([Int]) -> [String],
                 progress: ProgressReporter) throws -> [(Int, Kind.Record)] {
        let jobs = min(options.jobs, missing.count)
        var shares = [[Int]](repeating: [], count: jobs), load = [Double](repeating: 0, count: jobs)
        for i in missing.sorted(by: { Kind.work(points[$0]) > Kind.work(points[$1]) }) {
            let j = load.indices.min { load[$0] < load[$1] }!
            shares[j].append(i)
            load[j] += Kind.work(points[i])
        }
        // A missing point's old file (stale, foreign, or of changed inputs) would look like the
        // job's result the moment the jobs start: it goes now (its job writes the point anew).
        for i in missing { unlink("\(pointsDirectory)/\(points[i].id).json") }
        var environment = ProcessInfo.processInfo.environment
        environment["GATELAB_THREADS"] = "1"          // one core per job: no helper thread
        environment["OPENBLAS_NUM_THREADS"] = "1"
        var processes = [Process]()
        defer { for p in processes where p.isRunning { p.terminate() } }
        // Each point's own time: the seconds its record keeps, else the time between the
        // files its job wrote (a job computes its points one after another) — never the gap
        // between two completions of different jobs (0.52 s shown for a 52.9 s run).
        var jobOf = [Int: Int](), jobClock = [Double](repeating: Self.wallClock(), count: jobs)
        for (j, share) in shares.enumerated() { for i in share { jobOf[i] = j } }
        for share in shares {
            let argv = command(share.sorted())
            let p = Process()
            p.executableURL = URL(fileURLWithPath: argv[0])
            p.arguments = Array(argv.dropFirst())
            p.environment = environment
            p.standardOutput = FileHandle.nullDevice
            do { try p.run() } catch {
                throw FileError.io(path: argv[0], message: "cannot start a job (\(error.localizedDescription))")
            }
            processes.append(p)
        }
        // Follow the point files, twice a second: each one that appears is a finished point,
        // written by a job of this run, whose record is read now (one access(2) per pending
        // point and one decoding per finished one: the parent must not take the jobs' CPU).
        var pending = missing.map { (index: $0, path: "\(pointsDirectory)/\(points[$0].id).json") }
        var found = [(Int, Kind.Record)]()
        while true {
            let running = processes.contains { $0.isRunning }
            var ready = [(index: Int, path: String)]()
            pending.removeAll { p in
                guard access(p.path, F_OK) == 0 else { return false }
                ready.append(p)
                return true
            }
            // In the order they were written, so that each job's times follow its own files.
            for p in ready.sorted(by: { Self.modified($0.path) < Self.modified($1.path) }) {
                let record = try jobRecord(at: p.path, of: points[p.index])
                found.append((p.index, record))
                let j = jobOf[p.index]!, written = Self.modified(p.path)
                let seconds = record.computeSeconds ?? max(0, written - jobClock[j])
                jobClock[j] = max(jobClock[j], written)
                progress.finished(points[p.index].id, seconds: seconds, work: Kind.work(points[p.index]))
            }
            if !running && ready.isEmpty { break }
            if running { usleep(500_000) }
        }
        for (k, p) in processes.enumerated() {
            p.waitUntilExit()
            guard p.terminationStatus == 0, p.terminationReason == .exit else {
                // A job killed by a signal has no exit code: its status is the signal's number.
                let how = p.terminationReason == .uncaughtSignal ? "was killed by signal \(p.terminationStatus)\(Self.signalName(p.terminationStatus))"
                    : "failed (exit \(p.terminationStatus))"
                throw FileError.io(path: directory, message: "job \(k + 1) of \(jobs) \(how); run the command again to resume")
            }
        }
        if let p = pending.first {
            throw FileError.io(path: p.path, message: "a job ended without writing this point; run the command again to resume")
        }
        return found
    }

    /// The record a job of this run wrote for `point` at `path`: sealed, intact, of the point
    /// and of this version; anything else is refused rather than taken into the results.
    func jobRecord(at path: String, of point: Kind.Point) throws -> Kind.Record {
        guard let text = Files.read(path), case let (line, intact) = SealedLine.unseal(text.trimmingCharacters(in: .newlines)), intact == true,
              let record = try? Kind.Record(jsonLine: line),
              record.id == point.id, record.gatelabVersion == options.version else {
            throw FileError.io(path: path, message: "not the record a job of this run writes")
        }
        return record
    }

    /// ` (SIGKILL)` for a signal's number, or "".
    static func signalName(_ signal: Int32) -> String {
        let names: [Int32: String] = [SIGKILL: "SIGKILL", SIGTERM: "SIGTERM", SIGINT: "SIGINT", SIGSEGV: "SIGSEGV", SIGABRT: "SIGABRT",
                                      SIGBUS: "SIGBUS", SIGILL: "SIGILL", SIGFPE: "SIGFPE", SIGHUP: "SIGHUP", SIGTRAP: "SIGTRAP"]
        return names[signal].map { " (\($0))" } ?? ""
    }

    /// Content hashes already computed by this run, by path (a cell file shared by many points
    /// is read once).
    private var hashes = [String: String]()

    /// The content hash of every input file of `point` (nil: it reads none).
    /// - Throws: `FileError.io` naming a file that cannot be read.
    func inputHashes(_ point: Kind.Point) throws -> [String: String]? {
        let files = try Kind.inputFiles(point)
        guard !files.isEmpty else { return nil }
        var out = [String: String]()
        for f in files {
            if hashes[f] == nil { hashes[f] = try ContentHash.ofFile(f) }
            out[f] = hashes[f]
        }
        return out
    }

    /// Why `record` no longer is `point`'s result because of its input files (nil: they are
    /// as they were): a file changed, is no longer read or cannot be read, or the record
    /// (format 1) holds no input hashes to compare — it is then computed again rather than
    /// trusted, since nothing says it was computed from the file as it is now.
    func inputChange(_ record: Kind.Record, _ point: Kind.Point) -> String? {
        let now: [String: String]?
        do { now = try inputHashes(point) } catch { return "an input file cannot be read (\(FileError.reason(error)))" }
        guard let now else { return nil }
        guard let recorded = record.inputs else {
            return "its record holds no input hashes (record format 1, written before records carried them), so "
                + now.keys.sorted().joined(separator: ", ") + " may have changed since"
        }
        let changed = Set(now.keys).union(recorded.keys).sorted().filter { now[$0] != recorded[$0] }
        if changed.isEmpty { return nil }
        return changed.joined(separator: ", ") + " changed since it was computed"
    }

    /// Seconds since the epoch (the clock of files' modification times).
    static func wallClock() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_REALTIME, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// The modification time of `path` in seconds since the epoch (0 when it cannot be read).
    static func modified(_ path: String) -> Double {
        var info = stat()
        guard stat(path, &info) == 0 else { return 0 }
        return Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) / 1e9
    }

    /// Writes a record's curves, then the JSON line that marks its point finished.
    func store(_ record: Kind.Record) throws {
        try Files.write(Kind.curvesCSV(record), to: "\(curvesDirectory)/\(record.id).csv")
        try Files.write(SealedLine.seal(try record.jsonLine()) + "\n", to: "\(pointsDirectory)/\(record.id).json")
    }

    /// Writes what a run writes at its end from the records of `points` (the same order):
    /// `results.jsonl`, then the kind's tables, figures and `report.md`.
    /// - Parameter notice: a paragraph placed at the top of the report (a partial merge says
    ///   there which points are missing).
    /// - Returns: why figures could not be drawn (empty when they were, or were not asked for).
    func writeOutputs(records: [Kind.Record], points: [Kind.Point], notice: String? = nil) throws -> [String] {
        // The point files' lines, in grid order: every record here was written as, or checked
        // to re-encode to, its file's line (see `judge`), so nothing is encoded twice.
        var lines = ""
        for r in records {
            guard let text = Files.read("\(pointsDirectory)/\(r.id).json") else {
                throw FileError.io(path: "\(pointsDirectory)/\(r.id).json", message: "cannot read the point's record")
            }
            lines += text.hasSuffix("\n") ? text : text + "\n"
        }
        try Files.write(lines, to: directory + "/results/results.jsonl")
        let context = ReportContext(
            name: experiment.name, description: reportDescription, file: experiment.file, figures: experiment.figures,
            directory: directory, quick: options.quick, version: options.version,
            command: ReportCommand.run(file: experiment.file, quick: options.quick, output: options.outputDirectory,
                                       defaultOutput: experiment.outputDirectory(quick: options.quick)),
            notice: notice, figureWriter: FigureWriter(gnuplot: options.gnuplot, directory: directory))
        return try Kind.writeReport(records, points: points, context: context)
    }

    /// The report's description: the file's; for `--quick`, `[quick] description`, else the
    /// file's introduced as the full experiment's (its lengths and seeds are not the slice's).
    var reportDescription: String? {
        guard options.quick, experiment.quickDescription == nil, let full = experiment.description else {
            return options.quick ? experiment.quickDescription : experiment.description
        }
        let n = experiment.points(quick: true).count, all = experiment.points(quick: false).count
        return "This is the `--quick` slice (\(n) of the full grid's \(all) \(Kind.noun)s; its settings: `[quick]` in the file). "
            + "The full experiment: " + full.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// What the file at `path` holds, judged against the grid: a record of a grid point with
    /// the grid's parameters, written in this format by this version, is valid.
    /// - Parameter checkInputs: judge a record whose input files changed since (`inputChange`)
    ///   stale; a run checks them itself, to count them.
    func judge(_ path: String, byID: [String: Kind.Point], checkInputs: Bool = true) -> StoredPoint<Kind.Record> {
        guard let text = Files.read(path) else { return .damaged(reason: "unreadable or not UTF-8") }
        let (line, intact) = SealedLine.unseal(text.trimmingCharacters(in: .newlines))
        if intact == false { return .damaged(reason: Self.checksumMismatch) }
        guard let record = try? Kind.Record(jsonLine: line) else { return .damaged(reason: "not a result record") }
        let writer = record.gatelabVersion.map { "GateLab \($0)" } ?? "a GateLab that did not record its version"
        // This GateLab seals every point file it writes: one of its own version without a
        // seal had it removed (by hand, or by a tool that rewrote the file).
        if intact == nil && record.gatelabVersion == options.version { return .damaged(reason: Self.unsealed) }
        guard (try? record.jsonLine()) == line else {
            // Same version, other bytes: not written by this GateLab as it stands (edited or
            // damaged); "an older format" would contradict the versions it names.
            guard record.gatelabVersion != options.version else {
                return .damaged(reason: "does not read back to the same line (edited by hand, or damaged)")
            }
            return .stale(id: record.id, reason: "an older record format (\(writer)); this is GateLab \(options.version)")
        }
        if record.experiment != experiment.name {
            return .foreign(id: record.id, reason: "of experiment '\(record.experiment)', not '\(experiment.name)'")
        }
        if let p = byID[record.id], let why = Kind.mismatch(record, p) { return .foreign(id: record.id, reason: why) }
        if record.gatelabVersion != options.version {
            return .stale(id: record.id, reason: "written by \(writer); this is GateLab \(options.version)")
        }
        if checkInputs, let p = byID[record.id], let why = inputChange(record, p) { return .stale(id: record.id, reason: why) }
        return .valid(id: record.id, record: record)
    }

    /// Why a point file whose checksum does not match its content is refused.
    static var checksumMismatch: String { "its checksum does not match its content (edited by hand, or damaged)" }
    /// Why a point file of this version without its checksum is refused.
    static var unsealed: String { "has no checksum, although this GateLab version seals every point file it writes (edited by hand, or damaged)" }

    /// The stored record of `point` if it is finished (see `judge`). A missing curves file
    /// is rewritten from the record.
    /// - Throws: `FileError.io` for a point file whose checksum does not match: its
    ///   values were changed after GateLab wrote them, and neither reusing nor silently
    ///   recomputing it is right.
    /// - Returns: the record, or nil with, when an input file changed since it was written,
    ///   why (`inputChange`).
    func finishedRecord(_ point: Kind.Point) throws -> (record: Kind.Record?, inputChange: String?) {
        let path = "\(pointsDirectory)/\(point.id).json"
        let judged = judge(path, byID: [point.id: point], checkInputs: false)
        if case .damaged(let reason) = judged, reason == Self.checksumMismatch || reason == Self.unsealed {
            throw FileError.io(path: path, message: reason + "; delete it to compute the point again")
        }
        guard case .valid(let id, let record) = judged, id == point.id else { return (nil, nil) }
        if let why = inputChange(record, point) { return (nil, why) }
        let curves = "\(curvesDirectory)/\(point.id).csv"
        if Files.read(curves) != Kind.curvesCSV(record) { try Files.write(Kind.curvesCSV(record), to: curves) }
        return (record, nil)
    }

    // MARK: Merge

    /// The point files checked against the grid.
    public func inventory() -> PointInventory<Kind.Record> {
        let points = experiment.points(quick: options.quick)
        let byID = Dictionary(uniqueKeysWithValues: points.map { ($0.id, $0) })
        return PointInventory(ids: points.map(\.id), folder: pointsDirectory) { judge($0, byID: byID) }
    }

    /// Merges the per-point files that the shards of a grid wrote (`gatelab run --shard K/N`)
    /// into what a whole run writes at its end, byte for byte, computing nothing.
    ///
    /// It refuses (`ExperimentError.merge`, nothing written) when a grid point is missing, claimed by
    /// two files or by a file named for another point, written by another GateLab version
    /// (stale), or holds other parameters (foreign); with `partial`, it reports on the usable
    /// points only and says so at the top of the report. Files of no grid point are named as
    /// warnings. Merging twice gives the same bytes.
    /// - Throws: `ExperimentError.merge` when the grid is incomplete (or, with `partial`, when no point
    ///   is usable); `FileError.io` when a file cannot be written.
    public func merge(partial: Bool = false) throws -> MergeOutcome {
        let points = experiment.points(quick: options.quick)
        let found = inventory()
        let blocking = found.blocking
        if !blocking.isEmpty && (!partial || found.unusable.count == points.count) {
            throw ExperimentError.merge(name: experiment.name, summary: found.counts(noun: Kind.noun)
                             + (partial ? ", no \(Kind.noun) to report on" : ""), problems: blocking)
        }
        let usable = points.indices.filter { found.records[$0] != nil }
        let records = usable.map { found.records[$0]! }
        try Files.makeDirectory(curvesDirectory)
        for r in records where Files.read("\(curvesDirectory)/\(r.id).csv") != Kind.curvesCSV(r) {
            try Files.write(Kind.curvesCSV(r), to: "\(curvesDirectory)/\(r.id).csv")
        }
        let missing = found.unusable.map { points[$0].id }
        let notice = missing.isEmpty ? nil : partialNotice(
            covered: records.count, total: points.count, missing: missing, noun: Kind.noun,
            command: ReportCommand.merge(file: experiment.file, quick: options.quick, output: options.outputDirectory,
                                         defaultOutput: experiment.outputDirectory(quick: options.quick)))
        let problems = try writeOutputs(records: records, points: usable.map { points[$0] }, notice: notice)
        return MergeOutcome(directory: directory, total: points.count, merged: records.count, missing: missing,
                            strays: found.strays, figureProblems: problems)
    }
}

/// The merge of a grid's shards (`ExperimentRunner.merge(partial:)`), by its own name.
public struct ExperimentMerger<Kind: ExperimentKind> {
    /// The experiment.
    public let experiment: Experiment<Kind>
    /// The options of the run whose output it reproduces.
    public let options: RunOptions

    /// Creates a merger.
    /// Confines the output folder's writes to its tree (`confineOutput`).
    public init(experiment: Experiment<Kind>, options: RunOptions) {
        self.experiment = experiment
        self.options = options
        confineOutput(experiment, options)
    }

    /// The output folder.
    public var directory: String { ExperimentRunner(experiment: experiment, options: options).directory }
    /// The point files checked against the grid.
    public func inventory() -> PointInventory<Kind.Record> { ExperimentRunner(experiment: experiment, options: options).inventory() }
    /// See `ExperimentRunner.merge(partial:)`.
    public func merge(partial: Bool = false) throws -> MergeOutcome {
        try ExperimentRunner(experiment: experiment, options: options).merge(partial: partial)
    }
}

/// Confines the output folder's writes to its tree (`Files.confineWrites`): below the working
/// folder for a folder the experiment file names (or the default), below the folder itself for
/// one the user gave with `--output`. What a runner and a merger do first.
private func confineOutput<Kind: ExperimentKind>(_ experiment: Experiment<Kind>, _ options: RunOptions) {
    let directory = options.outputDirectory ?? experiment.outputDirectory(quick: options.quick)
    Files.confineWrites(below: directory, anchor: options.outputDirectory ?? ".")
}
