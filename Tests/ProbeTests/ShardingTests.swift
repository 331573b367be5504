@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments
@testable import GateLabSupport

@Suite("Shards of a grid, and files several processes write at once")
struct ShardingTests {
    @Test func theShardsOfAGridCoverEveryPointExactlyOnce() throws {
        for total in [0, 1, 5, 12, 24] {
            for n in 1...7 {
                let shards = try (0..<n).map { try Shard(index: $0, count: n) }
                let all = shards.flatMap { $0.indices(among: total) }
                #expect(all.sorted() == Array(0..<total), "N = \(n), \(total) points")
                for s in shards {
                    #expect(s.indices(among: total) == (0..<total).filter { s.contains($0) })
                    #expect(s.indices(among: total).allSatisfy { $0 % n == s.index })
                }
                // Interleaved: shard sizes differ by at most one.
                let sizes = shards.map { $0.indices(among: total).count }
                #expect(sizes.max()! - sizes.min()! <= 1)
            }
        }
    }

    @Test func shardTextIsKOverN() throws {
        #expect(try Shard(parsing: "2/5") == Shard(index: 2, count: 5))
        #expect(try Shard(parsing: "0/1").isWhole)
        #expect(try Shard(parsing: "3/4").description == "3/4")
        for bad in ["4/4", "x", "1", "1/2/3", "-1/3", "0/0", "1/-2", "a/4", "", "/", " 1/2"] {
            #expect(throws: ExperimentError.self, "\(bad)") { try Shard(parsing: bad) }
        }
        let message = try #require(throws: ExperimentError.self) { try Shard(parsing: "4/4") }
        #expect(message.description == "--shard '4/4': K must be between 0 and 3")
    }

    @Test func slurmArrayVariablesGiveTheShard() throws {
        #expect(try Shard.fromEnvironment([:]) == nil)
        #expect(try Shard.fromEnvironment(["PATH": "/bin"]) == nil)
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4"]) == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "7", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "5"])
                == Shard(index: 2, count: 4))
        #expect(try Shard.fromEnvironment(["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "1"])?.isWhole == true)
        let inconsistent: [[String: String]] = [
            ["SLURM_ARRAY_TASK_ID": "2"],
            ["SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "4", "SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "2", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "3"],
            ["SLURM_ARRAY_TASK_ID": "x", "SLURM_ARRAY_TASK_COUNT": "4"],
            ["SLURM_ARRAY_TASK_ID": "0", "SLURM_ARRAY_TASK_COUNT": "0"],
            ["SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_COUNT": "4", "SLURM_ARRAY_TASK_MIN": "one"],
        ]
        for env in inconsistent {
            #expect(throws: ExperimentError.self, "\(env)") { try Shard.fromEnvironment(env) }
        }
    }

    @Test func temporaryNamesAreUniquePerProcessAndParseBack() throws {
        let tmp = Files.processTemporaryPath(for: "dir/rnn_T100_H32_rec-orthogonal0.9_seed1.json")
        #expect(tmp == "dir/.rnn_T100_H32_rec-orthogonal0.9_seed1.json.\(Files.hostName).\(getpid()).tmp")
        let parsed = try #require(Files.parseTemporaryName(String(tmp.dropFirst(4))))
        #expect(parsed.name == "rnn_T100_H32_rec-orthogonal0.9_seed1.json" && parsed.host == Files.hostName && parsed.pid == getpid())
        let old = try #require(Files.parseTemporaryName(".rnn_T100_H32_rec-orthogonal0.9_seed1.json.tmp"))
        #expect(old.name == "rnn_T100_H32_rec-orthogonal0.9_seed1.json" && old.host == nil)
        #expect(!Files.hostName.contains("."))
    }

    @Test func onlyTemporariesNoLiveWriterOwnsAreRemoved() throws {
        let scratch = try ScratchDirectory()
        let dir = scratch.path
        // A process that has certainly exited: a child we started and reaped.
        let child = Process()
        child.executableURL = URL(fileURLWithPath: "/bin/true")
        try child.run()
        child.waitUntilExit()
        let dead = child.processIdentifier, live = getpid()
        let names = [
            ".a.json.\(Files.hostName).\(dead).tmp",      // a dead writer of this host: stale
            ".a.json.\(Files.hostName).\(live).tmp",      // a live writer: kept
            ".a.json.tmp",                                // the old fixed form: stale
            ".b.json.\(Files.hostName).\(dead).tmp",      // not one of this run's files: kept
            ".a.json.otherhost.123.tmp",                  // another host, recent: kept
            ".a.csv.otherhost.124.tmp",                   // another host, old: stale
        ]
        for n in names { try "x".write(toFile: dir + "/" + n, atomically: false, encoding: .utf8) }
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-7200)], ofItemAtPath: dir + "/.a.csv.otherhost.124.tmp")
        Files.removeStaleTemporaryFiles(in: dir, of: ["a.json", "a.csv"])
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        #expect(left == [names[1], names[3], names[4]])
    }

    @Test func foldersAreCreatedWhileOthersCreateThem() throws {
        let scratch = try ScratchDirectory()
        let target = scratch.path + "/a/b/c/results/points"
        DispatchQueue.concurrentPerform(iterations: 8) { _ in
            #expect(throws: Never.self) { try Files.makeDirectory(target) }
        }
        var isDirectory: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: target, isDirectory: &isDirectory) && isDirectory.boolValue)
        try "x".write(toFile: scratch.path + "/file", atomically: false, encoding: .utf8)
        #expect(throws: FileError.self) { try Files.makeDirectory(scratch.path + "/file/sub") }
    }

    @Test func writesReplaceTheFileAndLeaveNoTemporary() throws {
        let scratch = try ScratchDirectory()
        let path = scratch.path + "/p.json"
        try Files.write("first\n", to: path)
        try Files.write("second\n", to: path)
        #expect(try String(contentsOfFile: path, encoding: .utf8) == "second\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.path) == ["p.json"])
        #expect(throws: FileError.self) { try Files.write("x", to: scratch.path + "/missing-folder/p.json") }
    }
}
