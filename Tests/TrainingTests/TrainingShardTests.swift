@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabTraining
import GateLabSupport

/// Every regular file under `root` (relative path → bytes).
private func files(_ root: String) -> [String: Data] {
    var out = [String: Data]()
    let fm = FileManager.default
    for case let rel as String in fm.enumerator(atPath: root) ?? FileManager.DirectoryEnumerator() {
        var isDirectory: ObjCBool = false
        if fm.fileExists(atPath: root + "/" + rel, isDirectory: &isDirectory), !isDirectory.boolValue {
            out[rel] = fm.contents(atPath: root + "/" + rel)
        }
    }
    return out
}

/// Training grids run in shards and merged (`gatelab run --shard`, `gatelab merge`).
@Suite struct TrainingShardTests {
    let source = """
        name = "tiny-shards"
        kind = "train"
        [defaults]
        hidden = 3
        batch = 2
        updates = 4
        eval_every = 2
        eval_size = 2
        profile_every = 0
        task = "adding"
        steps = [4, 6]
        [[grid]]
        cell = ["rnn", "gru"]
        [[grid]]
        cell = "lstm"
        forget_bias = 1
        """

    final class Scratch {
        let path = NSTemporaryDirectory() + "gatelab-train-shards-" + UUID().uuidString
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    func runner(_ e: TrainingExperiment, _ dir: String, shard: Shard? = nil, version: String = "v1") -> ExperimentRunner<TrainingKind> {
        var options = RunOptions(version: version)
        options.outputDirectory = dir
        options.shard = shard
        options.progress = .silent
        return ExperimentRunner(experiment: e, options: options)
    }

    /// The records of `ids` in `dir`.
    func storedRecords(_ dir: String, _ ids: [String]) throws -> [TrainingRecord] {
        try ids.map { try TrainingRecord(json: String(contentsOfFile: "\(dir)/results/points/\($0).json", encoding: .utf8)) }
    }

    /// A record without its wall-clock time (the only field that differs between two runs).
    func timeless(_ r: TrainingRecord) -> TrainingRecord { var r = r; r.seconds = 0; return r }

    /// The `--jobs` path: the parent takes a job's point file only when it is sealed, intact,
    /// of its point and of this version (the check was once off there, and only the one-process
    /// path was tested).
    @Test func aJobsPointFileIsTakenOnlyWhenSealedAndIntact() throws {
        let scratch = Scratch()
        let e = try TrainingExperiment(source: source, file: "tiny-shards.toml")
        let dir = scratch.path + "/jobs"
        let r = runner(e, dir)
        _ = try r.run()
        let point = e.points[0], path = "\(dir)/results/points/\(e.points[0].id).json"
        let sealed = try String(contentsOfFile: path, encoding: .utf8)
        #expect(try r.jobRecord(at: path, of: point).id == point.id)
        #expect(throws: FileError.self) { try r.jobRecord(at: path, of: e.points[1]) }                    // another point's
        #expect(throws: FileError.self) { try runner(e, dir, version: "v2").jobRecord(at: path, of: point) }  // another version's
        let (body, _) = SealedLine.unseal(sealed.trimmingCharacters(in: .newlines))
        try (body + "\n").write(toFile: path, atomically: true, encoding: .utf8)                                   // seal removed
        #expect(throws: FileError.self) { try r.jobRecord(at: path, of: point) }
        try sealed.replacingOccurrences(of: "\"parameter_count\":", with: "\"parameter_count\":9")
            .write(toFile: path, atomically: true, encoding: .utf8)                                                  // a value edited
        #expect(throws: FileError.self) { try r.jobRecord(at: path, of: point) }
    }

    @Test func shardsMergeIntoWhatOneRunWritesAndMergingAgainChangesNothing() throws {
        let scratch = Scratch()
        let e = try TrainingExperiment(source: source, file: "tiny-shards.toml")
        #expect(e.points.count == 6)
        let whole = scratch.path + "/whole", sharded = scratch.path + "/sharded"
        let computed = try runner(e, whole).run().computed
        let records = try storedRecords(whole, e.points.map(\.id))
        #expect(computed == 6 && records.allSatisfy { $0.gatelabVersion == "v1" })
        let expected = files(whole)
        // The merge writes, from the same records, exactly what the run wrote at its end.
        for name in ["points.csv", "report.md"] { try FileManager.default.removeItem(atPath: whole + "/" + name) }
        try? FileManager.default.removeItem(atPath: whole + "/figures")
        let merged = try runner(e, whole).merge()
        #expect(merged.merged == 6 && merged.missing.isEmpty)
        #expect(files(whole) == expected)
        _ = try runner(e, whole).merge()
        #expect(files(whole) == expected)

        // Three shards into one folder: the same records (but for wall-clock times), no report
        // until the merge.
        for k in [2, 0, 1] {
            let done = try runner(e, sharded, shard: try Shard(index: k, count: 3)).run().computed
            let mine = try FileManager.default.contentsOfDirectory(atPath: sharded + "/results/points").filter { $0.hasSuffix(".json") }
            #expect(done == 2 && Set([e.points[k].id, e.points[k + 3].id]).isSubset(of: Set(mine.map { String($0.dropLast(5)) })))
            #expect(!FileManager.default.fileExists(atPath: sharded + "/report.md"))
        }
        let again = try runner(e, sharded, shard: try Shard(index: 1, count: 3)).run()
        #expect(again.computed == 0)
        let outcome = try runner(e, sharded).merge()
        #expect(outcome.merged == 6)
        let shardRecords = try storedRecords(sharded, e.points.map(\.id))
        #expect(shardRecords.map(timeless) == records.map(timeless))
        #expect(try String(contentsOfFile: sharded + "/points.csv", encoding: .utf8) == TrainingReport.pointsCSV(shardRecords))
        #expect(try String(contentsOfFile: sharded + "/report.md", encoding: .utf8).contains("Generated by `gatelab run tiny-shards.toml --output \(sharded)` with GateLab v1: 6 runs"))
    }

    /// A value edited inside a point file is refused, naming the file, by a run that would
    /// reuse it and by a merge (issue #17, item 11); the checksum, not re-encoding, tells:
    /// the edited record below still re-encodes to its own line.
    @Test func anEditedPointFileIsRefused() throws {
        let scratch = Scratch()
        let e = try TrainingExperiment(source: source, file: "tiny-shards.toml")
        let dir = scratch.path + "/out"
        _ = try runner(e, dir).run()
        let id = e.points[0].id, path = "\(dir)/results/points/\(id).json"
        let line = try String(contentsOfFile: path, encoding: .utf8).trimmingCharacters(in: .newlines)
        let (body, intact) = SealedLine.unseal(line)
        #expect(intact == true && line.hasSuffix(#""}"#) && line.contains(#","checksum":"fnv1a64:"#))
        var record = try TrainingRecord(json: body)
        record.updates += 1
        let edited = try record.json()
        try (String(edited.dropLast()) + line[line.range(of: #","checksum":"#)!.lowerBound...] + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let error = try #require(throws: FileError.self) { try runner(e, dir).run() }
        #expect(error.description == "\(path): its checksum does not match its content (edited by hand, or damaged); delete it to compute the point again")
        let merge = try #require(throws: ExperimentError.self) { try runner(e, dir).merge() }
        #expect(merge.lines == ["  damaged: \(id) (\(id).json: its checksum does not match its content (edited by hand, or damaged))"], "\(merge.lines)")
        // The seal removed: this version seals every point file, so it is refused too (it was
        // reused, and an edited value with its seal removed landed in the CSVs).
        try (body + "\n").write(toFile: path, atomically: true, encoding: .utf8)
        let unsealed = try #require(throws: FileError.self) { try runner(e, dir).run() }
        #expect(unsealed.description.contains("has no checksum"), "\(unsealed)")
        // Records of another version without a seal (written before seals existed) are stale:
        // recomputed, never reused.
        let newer = try runner(e, dir, version: "v2").run()
        #expect(newer.computed == e.points.count && newer.reused == 0)
    }

    /// One grid point that throws no longer aborts the grid unnamed (issue #17, item 11): the
    /// other points run and are stored, and the run ends with one error naming the failed
    /// point's id, block and parameters; running again computes only that point.
    @Test func aFailingPointIsNamedAndTheOthersAreKept() throws {
        let scratch = Scratch()
        let text = source.replacingOccurrences(of: "cell = \"lstm\"\nforget_bias = 1", with: "cell = \"lstm\"\nforget_bias = 1\nhidden = 300000")
        let e = try TrainingExperiment(source: text, file: "tiny-shards.toml")
        let dir = scratch.path + "/out"
        let bad = e.points.filter { $0.configuration.hidden == 300000 }.map(\.id)
        #expect(bad.count == 2)
        let error = try #require(throws: ExperimentError.self) { try runner(e, dir).run() }
        #expect(error.description.hasPrefix("2 of 6 training runs failed and were not stored (the others were; running the command again computes only the missing ones): "
                                            + "\(bad[0]) (grid[2]: task=adding, length=4, cell=lstm, hidden=300000, "), "\(error.description)")
        #expect(error.description.contains("more than the memory budget") && error.description.contains("; \(bad[1]) (grid[2]: "))
        #expect(!error.description.contains("\n"))
        for p in e.points {
            #expect(FileManager.default.fileExists(atPath: "\(dir)/results/points/\(p.id).json") == !bad.contains(p.id), "\(p.id)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir + "/report.md"))
    }

    @Test func staleMissingAndPartialAreReported() throws {
        let scratch = Scratch()
        let e = try TrainingExperiment(source: source, file: "tiny-shards.toml")
        let dir = scratch.path + "/out"
        _ = try runner(e, dir, shard: try Shard(index: 0, count: 2)).run()
        _ = try runner(e, dir, shard: try Shard(index: 1, count: 2)).run()
        let ids = e.points.map(\.id)
        let first = "\(dir)/results/points/\(ids[0]).json", second = "\(dir)/results/points/\(ids[1]).json"
        // Point 0 by another version, point 1 by a GateLab that did not record its version, point 2 missing.
        var r0 = try TrainingRecord(json: String(contentsOfFile: first, encoding: .utf8))
        r0.gatelabVersion = "v0"
        try (r0.json() + "\n").write(toFile: first, atomically: true, encoding: .utf8)
        var r1 = try TrainingRecord(json: String(contentsOfFile: second, encoding: .utf8))
        r1.gatelabVersion = nil
        try (r1.json() + "\n").write(toFile: second, atomically: true, encoding: .utf8)
        try FileManager.default.removeItem(atPath: "\(dir)/results/points/\(ids[2]).json")

        let error = try #require(throws: ExperimentError.self) { try runner(e, dir).merge() }
        #expect(error.description.hasPrefix("tiny-shards: cannot merge: 1 missing, 2 stale (of 6 training runs)"), "\(error.description)")
        #expect(error.lines == ["  missing: \(ids[2])",
                                "  stale: \(ids[0]) (\(ids[0]).json: written by GateLab v0; this is GateLab v1)",
                                "  stale: \(ids[1]) (\(ids[1]).json: written by a GateLab that did not record its version; this is GateLab v1)"])
        #expect(!FileManager.default.fileExists(atPath: dir + "/report.md"))

        let partial = try runner(e, dir).merge(partial: true)
        #expect(partial.merged == 3 && partial.missing == Array(ids.prefix(3)))
        let report = try String(contentsOfFile: dir + "/report.md", encoding: .utf8)
        #expect(report.hasPrefix("# tiny-shards\n\n> **Incomplete grid:** this report covers 3 of 6 training runs; 3 are missing or unusable: "
                                 + ids.prefix(3).joined(separator: ", ")), "\(report.prefix(300))")
        #expect(try String(contentsOfFile: dir + "/points.csv", encoding: .utf8).split(separator: "\n").count == 4)

        // The grid recomputes the stale and missing runs (shard 0 of 2 holds runs 0 and 2).
        let redo = try runner(e, dir, shard: try Shard(index: 0, count: 2)).run()
        #expect(redo.computed == 2)
        let rest = try runner(e, dir, shard: try Shard(index: 1, count: 2)).run()
        #expect(rest.computed == 1)
        #expect(try runner(e, dir).merge().merged == 6)
        #expect(!(try String(contentsOfFile: dir + "/report.md", encoding: .utf8)).contains("Incomplete"))
    }
}
