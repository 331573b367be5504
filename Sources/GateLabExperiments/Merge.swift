import Foundation

/// What one stored point file holds, as judged against the grid (see `PointInventory`).
public enum StoredPoint<Record> {
    /// A record of grid point `id` with the grid's parameters, written by this version.
    case valid(id: String, record: Record)
    /// A record of point `id` written by another GateLab version (`reason` says which).
    case stale(id: String, reason: String)
    /// A record of point `id` with other parameters, or of another experiment.
    case foreign(id: String, reason: String)
    /// A file that does not read as a record.
    case damaged(reason: String)
}

/// A problem `gatelab merge` found in a results folder.
public struct MergeProblem: Equatable, Sendable {
    /// The kinds, in the order they are reported.
    public enum Kind: String, CaseIterable, Sendable {
        /// A grid point without a result file.
        case missing
        /// A grid point claimed by more than one file, or by a file named for another point.
        case duplicated
        /// A result written by another GateLab version.
        case stale
        /// A result with other parameters, or of another experiment.
        case foreign
        /// A result file that does not read as a record.
        case damaged
        /// A result file of no grid point (a warning: it is left alone and not reported on).
        case stray
    }

    /// The kind.
    public var kind: Kind
    /// The grid point's id (for `stray`: the id in the file, or its name).
    public var id: String
    /// The files involved (relative to the results folder), if any.
    public var files: [String]
    /// Details (which version, which parameter), if any.
    public var detail: String?

    /// Each kind's first `limit` problems (`line`), then how many more.
    public static func list(_ problems: [MergeProblem], limit: Int = 20) -> [String] {
        Kind.allCases.flatMap { kind -> [String] in
            let ofKind = problems.filter { $0.kind == kind }
            return ofKind.prefix(limit).map(\.line) + (ofKind.count > limit ? ["  … and \(ofKind.count - limit) more \(kind.rawValue)"] : [])
        }
    }

    /// `  duplicated: <id> (in a.json, b.json)`: one line of the list.
    public var line: String {
        var parts = [String]()
        if !files.isEmpty { parts.append(files.joined(separator: ", ")) }
        if let detail { parts.append(detail) }
        return "  \(kind.rawValue): \(id)" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ": ")))")
    }
}

/// The result files of a grid, checked point by point before a merge: each grid point must
/// have exactly one file, named for it, holding a record of it with the grid's parameters,
/// written by this GateLab version.
public struct PointInventory<Record> {
    /// The number of grid points.
    public var total: Int
    /// The valid record of each grid point, in grid order (nil: missing or unusable).
    public var records: [Record?]
    /// Every problem, grouped by kind (in `MergeProblem.Kind` order), then in grid or file order.
    public var problems: [MergeProblem]

    /// Problems that make the grid incomplete (all but stray files).
    public var blocking: [MergeProblem] { problems.filter { $0.kind != .stray } }
    /// Stray files (warnings).
    public var strays: [MergeProblem] { problems.filter { $0.kind == .stray } }
    /// Grid indices without a usable record.
    public var unusable: [Int] { records.indices.filter { records[$0] == nil } }

    /// Checks the files `folder/*.<fileExtension>` (hidden temporaries ignored) against the
    /// grid `ids`.
    /// - Parameters:
    ///   - ids: the grid points' ids, in grid order; each names its file.
    ///   - folder: the folder holding the result files.
    ///   - fileExtension: the result files' extension, without the dot.
    ///   - load: reads one file (its path) and judges it.
    public init(ids: [String], folder: String, fileExtension: String = "json", load: (String) -> StoredPoint<Record>) {
        total = ids.count
        records = [Record?](repeating: nil, count: ids.count)
        let index = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, $0) })
        let suffix = "." + fileExtension
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [])
            .filter { $0.hasSuffix(suffix) && !$0.hasPrefix(".") }.sorted()
        var claims = [[String]](repeating: [], count: ids.count)
        var verdicts = [String: StoredPoint<Record>]()
        var found = [MergeProblem]()
        for name in names {
            let stem = String(name.dropLast(suffix.count))
            let stored = load(folder + "/" + name)
            verdicts[name] = stored
            switch stored {
            case .damaged(let reason):
                if index[stem] != nil { found.append(MergeProblem(kind: .damaged, id: stem, files: [name], detail: reason)) }
                else { found.append(MergeProblem(kind: .stray, id: stem, files: [name], detail: "not a record, and not named for a grid point")) }
            case .valid(let id, _), .stale(let id, _), .foreign(let id, _):
                if let i = index[id] {
                    claims[i].append(name)
                } else if index[stem] != nil {
                    found.append(MergeProblem(kind: .foreign, id: stem, files: [name], detail: "holds point \(id), which is not in this grid"))
                } else {
                    found.append(MergeProblem(kind: .stray, id: id, files: [name], detail: "not a point of this grid"))
                }
            }
        }
        for (i, id) in ids.enumerated() {
            let files = claims[i]
            if files.isEmpty {
                if !found.contains(where: { $0.id == id && ($0.kind == .damaged || $0.kind == .foreign) }) {
                    found.append(MergeProblem(kind: .missing, id: id, files: [], detail: nil))
                }
                continue
            }
            guard files == [id + suffix] else {
                let misnamed = files.filter { $0 != id + suffix }
                found.append(MergeProblem(kind: .duplicated, id: id, files: files,
                                          detail: files.count > 1 ? "\(files.count) files claim this point"
                                              : "\(misnamed[0]) holds point \(id) under another point's name"))
                continue
            }
            switch verdicts[files[0]]! {
            case .valid(_, let record): records[i] = record
            case .stale(_, let reason): found.append(MergeProblem(kind: .stale, id: id, files: files, detail: reason))
            case .foreign(_, let reason): found.append(MergeProblem(kind: .foreign, id: id, files: files, detail: reason))
            case .damaged: break
            }
        }
        problems = MergeProblem.Kind.allCases.flatMap { kind in found.filter { $0.kind == kind } }
    }

    /// `3 missing, 1 duplicated (of 12 grid points)`.
    public func counts(noun: String) -> String {
        let parts = MergeProblem.Kind.allCases.filter { $0 != .stray }.compactMap { kind -> String? in
            let n = problems.filter { $0.kind == kind }.count
            return n == 0 ? nil : "\(n) \(kind.rawValue)"
        }
        return parts.joined(separator: ", ") + " (of \(total) \(noun)\(total == 1 ? "" : "s"))"
    }
}

/// The notice at the top of a partial report: how many points it covers and which are missing.
public func partialNotice(covered: Int, total: Int, missing: [String], noun: String, command: String, limit: Int = 20) -> String {
    let names = missing.prefix(limit).joined(separator: ", ") + (missing.count > limit ? ", and \(missing.count - limit) more" : "")
    return "> **Incomplete grid:** this report covers \(covered) of \(total) \(noun)s; \(missing.count) "
        + "\(missing.count == 1 ? "is" : "are") missing or unusable: \(names). Complete the grid (re-run or resubmit "
        + "its shards) and run `\(command)` again for the full report."
}

/// What a merge did.
public struct MergeOutcome {
    /// The output folder.
    public var directory: String
    /// Points in the grid.
    public var total: Int
    /// Points reported on.
    public var merged: Int
    /// Grid points left out (partial merge only), by id.
    public var missing: [String]
    /// Stray files (not of the grid), named, left alone.
    public var strays: [MergeProblem]
    /// Why figures could not be drawn.
    public var figureProblems: [String]

    /// Creates an outcome.
    public init(directory: String, total: Int, merged: Int, missing: [String], strays: [MergeProblem], figureProblems: [String]) {
        self.directory = directory
        self.total = total
        self.merged = merged
        self.missing = missing
        self.strays = strays
        self.figureProblems = figureProblems
    }
}

/// The command a report names as the one that regenerates it, the same wherever it runs
/// from: the experiment file relative to the working directory when it lies under it, and
/// `--output` only when it differs from the default folder. So the report that a Slurm merge
/// job writes (absolute paths, after `cd` to the submit directory) is the same bytes as one a
/// local `gatelab run FILE` writes there.
public enum ReportCommand {
    /// `gatelab run FILE [--quick] [--output DIR]`.
    public static func run(file: String, quick: Bool, output: String?, defaultOutput: String) -> String {
        command("run", file: file, quick: quick, output: output, defaultOutput: defaultOutput)
    }

    /// `gatelab merge FILE [--quick] [--output DIR]`.
    public static func merge(file: String, quick: Bool, output: String?, defaultOutput: String) -> String {
        command("merge", file: file, quick: quick, output: output, defaultOutput: defaultOutput)
    }

    static func command(_ verb: String, file: String, quick: Bool, output: String?, defaultOutput: String) -> String {
        var text = "gatelab \(verb) \(display(file))" + (quick ? " --quick" : "")
        if let output, absolute(output) != absolute(defaultOutput) { text += " --output \(display(output))" }
        return text
    }

    /// `path` relative to the working directory when it lies under it, else as given.
    public static func display(_ path: String) -> String {
        guard path.hasPrefix("/") else { return path }
        let cwd = absolute(FileManager.default.currentDirectoryPath)
        let full = absolute(path)
        return full.hasPrefix(cwd + "/") ? String(full.dropFirst(cwd.count + 1)) : path
    }

    /// `path` made absolute against the working directory, with `.`, `..` and repeated
    /// slashes resolved (symbolic links are not).
    public static func absolute(_ path: String) -> String {
        let joined = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var parts = [Substring]()
        for part in joined.split(separator: "/") {
            if part == "." { continue }
            if part == ".." { if !parts.isEmpty { parts.removeLast() }; continue }
            parts.append(part)
        }
        return "/" + parts.joined(separator: "/")
    }
}
