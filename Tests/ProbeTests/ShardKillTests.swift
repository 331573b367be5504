@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments

@Suite("A shard killed mid-run and resubmitted")
struct ShardKillTests {
    /// What a preempted Slurm task does to a grid: shard 1 of 2 is killed with SIGKILL after a
    /// few of its points, the merge refuses naming the rest, the same shard is run again
    /// (resubmitted) and reuses what it finished; the merge then gives every byte of a
    /// one-process run, with no point lost, duplicated or left as a temporary file.
    @Test func aKilledShardRerunCompletesTheGridWithNothingLostOrDuplicated() throws {
        let scratch = try ScratchDirectory()
        let toml = """
            name = "shard-kill-test"
            kind = "probe"
            [defaults]
            hidden = 16
            steps = 600
            seeds = 6
            [[grid]]
            cell = ["lstm", "gru"]
            [output]
            dir = "out"
            """
        try toml.write(toFile: scratch.path + "/shard-kill-test.toml", atomically: true, encoding: .utf8)
        let e = try ProbeExperiment(contentsOf: scratch.path + "/shard-kill-test.toml")
        let total = e.points.count
        #expect(total == 12)

        let whole = try GateLabBinary.run(["run", "shard-kill-test.toml"], in: scratch.path)
        #expect(whole.status == 0, "\(whole.err)")
        let expected = snapshot(scratch.path + "/out")
        try FileManager.default.moveItem(atPath: scratch.path + "/out", toPath: scratch.path + "/reference")

        let zero = try GateLabBinary.run(["run", "shard-kill-test.toml", "--shard", "0/2"], in: scratch.path)
        #expect(zero.status == 0 && zero.out.contains("shard-kill-test shard 0/2: 6 grid points (6 computed, 0 reused) of 12"), "\(zero)")

        let mine = Set(try Shard(index: 1, count: 2).indices(among: total).map { e.points[$0].id + ".json" })
        let pointsDir = scratch.path + "/out/results/points"
        func finished() -> Int {
            ((try? FileManager.default.contentsOfDirectory(atPath: pointsDir)) ?? []).filter { mine.contains($0) }.count
        }
        // One job, as in a one-CPU Slurm task: nothing writes after the kill.
        let victim = try GateLabBinary.start(["run", "shard-kill-test.toml", "--shard", "1/2", "--jobs", "1"], in: scratch.path)
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, victim.isRunning, finished() < 2 { usleep(2_000) }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal, "the shard ended before it could be killed")
        let afterKill = finished()
        #expect(afterKill >= 2 && afterKill < 6, "killed with \(afterKill) of 6 points finished")

        let refused = try GateLabBinary.run(["merge", "shard-kill-test.toml"], in: scratch.path)
        #expect(refused.status == 1 && refused.err.contains("cannot merge: \(6 - afterKill) missing (of 12 grid points)"), "\(refused)")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/out/report.md"))

        let resubmitted = try GateLabBinary.run(["run", "shard-kill-test.toml", "--shard", "1/2", "--jobs", "1"], in: scratch.path)
        #expect(resubmitted.status == 0, "\(resubmitted.err)")
        #expect(resubmitted.out.contains("shard 1/2: 6 grid points (\(6 - afterKill) computed, \(afterKill) reused) of 12"), "\(resubmitted.out)")
        let merged = try GateLabBinary.run(["merge", "shard-kill-test.toml"], in: scratch.path)
        #expect(merged.status == 0 && merged.out == "shard-kill-test: merged 12 of 12 grid points; report: out/report.md\n", "\(merged)")
        expectSameFiles(snapshot(scratch.path + "/out"), expected, "killed shard resubmitted and merged vs one run")
    }
}
