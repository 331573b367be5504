import GateLabCells
@testable import GateLabExperiments
import Foundation
import GateLabInterchange
@testable import GateLabProbe
@testable import GateLabProbeExperiments
import Testing

/// The `gatelab` binary `swift test` built beside this test bundle.
enum GateLabBinary {
    static let url: URL? = {
        var dirs = [URL]()
        if let exe = Bundle.main.executableURL { dirs.append(exe.deletingLastPathComponent()) }
        for b in Bundle.allBundles where b.bundlePath.hasSuffix(".xctest") { dirs.append(b.bundleURL.deletingLastPathComponent()) }
        dirs.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        return dirs.map { $0.appendingPathComponent("gatelab") }.first { FileManager.default.isExecutableFile(atPath: $0.path) }
    }()

    /// Starts `gatelab arguments…` in `directory`, output to files there.
    static func start(_ arguments: [String], in directory: String) throws -> Process {
        guard let url else {
            Issue.record("the gatelab binary was not found beside the test bundle")
            throw CancellationError()
        }
        let p = Process()
        p.executableURL = url
        p.arguments = arguments
        p.currentDirectoryURL = URL(fileURLWithPath: directory)
        _ = FileManager.default.createFile(atPath: directory + "/stdout", contents: nil)
        _ = FileManager.default.createFile(atPath: directory + "/stderr", contents: nil)
        p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stdout"))
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: directory + "/stderr"))
        try p.run()
        return p
    }

    /// Runs to the end: exit status, stdout, stderr.
    static func run(_ arguments: [String], in directory: String) throws -> (status: Int32, out: String, err: String) {
        let p = try start(arguments, in: directory)
        p.waitUntilExit()
        return (p.terminationStatus, (try? String(contentsOfFile: directory + "/stdout", encoding: .utf8)) ?? "",
                (try? String(contentsOfFile: directory + "/stderr", encoding: .utf8)) ?? "")
    }
}

@Suite("gatelab probe and gatelab run, as a user runs them")
struct CommandLineTests {
    /// kill -9 in the middle of the grid, then the same command again: every point present
    /// once, every byte as in an uninterrupted run.
    @Test func aRunKilledWithSIGKILLAndRestartedMatchesAnUninterruptedRun() throws {
        let scratch = try ScratchDirectory()
        let toml = """
            name = "kill-test"
            kind = "probe"
            [defaults]
            hidden = 16
            steps = 1500
            seeds = 8
            [[grid]]
            cell = ["lstm", "gru"]
            [output]
            dir = "out"
            """
        try toml.write(toFile: scratch.path + "/kill-test.toml", atomically: true, encoding: .utf8)
        let total = 16

        let whole = try GateLabBinary.run(["run", "kill-test.toml", "--jobs", "1"], in: scratch.path)
        #expect(whole.status == 0, "\(whole.err)")
        let expected = snapshot(scratch.path + "/out")
        #expect(expected.keys.filter { $0.hasPrefix("results/points/") }.count == total)
        try FileManager.default.moveItem(atPath: scratch.path + "/out", toPath: scratch.path + "/reference")

        // One job, so that nothing writes after the kill and the counts below are exact (the
        // test below kills a run of several jobs).
        let victim = try GateLabBinary.start(["run", "kill-test.toml", "--jobs", "1"], in: scratch.path)
        let pointsDir = scratch.path + "/out/results/points"
        let deadline = Date().addingTimeInterval(120)
        var finished = 0
        while Date() < deadline, victim.isRunning {
            finished = ((try? FileManager.default.contentsOfDirectory(atPath: pointsDir)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.count
            if finished >= 3 { break }
            usleep(2_000)
        }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal, "the run ended before it could be killed")
        let afterKill = ((try? FileManager.default.contentsOfDirectory(atPath: pointsDir)) ?? []).filter { $0.hasSuffix(".json") && !$0.hasPrefix(".") }.count
        #expect(afterKill >= 3 && afterKill < total, "killed with \(afterKill) of \(total) points finished")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/out/report.md"))

        let resumed = try GateLabBinary.run(["run", "kill-test.toml", "--jobs", "1"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.err)")
        #expect(resumed.out.contains("(\(total - afterKill) computed, \(afterKill) reused)"), "\(resumed.out)")
        expectSameFiles(snapshot(scratch.path + "/out"), expected, "killed and resumed vs uninterrupted")
        // Not a terminal: plain progress lines.
        #expect(resumed.err.contains("[1/\(total - afterKill)] "))
    }

    /// `--jobs 3` computes the grid in three processes and writes the same bytes as one
    /// process; a run of several jobs killed with SIGKILL resumes to the same bytes too.
    @Test func severalJobsWriteTheSameBytesAndResumeAfterSIGKILL() throws {
        let scratch = try ScratchDirectory()
        let toml = """
            name = "jobs-test"
            kind = "probe"
            [defaults]
            hidden = 16
            steps = [300, 1500]
            seeds = 4
            [[grid]]
            cell = ["lstm", "gru", "rnn"]
            [output]
            dir = "out"
            """
        try toml.write(toFile: scratch.path + "/jobs-test.toml", atomically: true, encoding: .utf8)
        let one = try GateLabBinary.run(["run", "jobs-test.toml", "--jobs", "1"], in: scratch.path)
        #expect(one.status == 0, "\(one.err)")
        let expected = snapshot(scratch.path + "/out")
        #expect(expected.keys.filter { $0.hasPrefix("results/points/") }.count == 24)
        try FileManager.default.moveItem(atPath: scratch.path + "/out", toPath: scratch.path + "/reference")

        let three = try GateLabBinary.run(["run", "jobs-test.toml", "--jobs", "3"], in: scratch.path)
        #expect(three.status == 0, "\(three.err)")
        #expect(three.out.contains("(24 computed, 0 reused)"), "\(three.out)")
        expectSameFiles(snapshot(scratch.path + "/out"), expected, "--jobs 3 vs --jobs 1")
        try FileManager.default.removeItem(atPath: scratch.path + "/out")

        let victim = try GateLabBinary.start(["run", "jobs-test.toml", "--jobs", "2"], in: scratch.path)
        let pointsDir = scratch.path + "/out/results/points"
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, victim.isRunning,
              ((try? FileManager.default.contentsOfDirectory(atPath: pointsDir)) ?? []).filter({ $0.hasSuffix(".json") && !$0.hasPrefix(".") }).count < 4 {
            usleep(2_000)
        }
        kill(victim.processIdentifier, SIGKILL)
        victim.waitUntilExit()
        #expect(victim.terminationReason == .uncaughtSignal, "the run ended before it could be killed")
        // Its jobs stop after their current point (they watch their parent): wait until no
        // point file appears for a second, so that none is written into the snapshot below.
        var count = -1, stableSince = Date()
        while Date() < deadline, Date().timeIntervalSince(stableSince) < 1 {
            let now = ((try? FileManager.default.contentsOfDirectory(atPath: pointsDir)) ?? []).count
            if now != count { count = now; stableSince = Date() }
            usleep(50_000)
        }
        #expect(count < 24, "the killed run finished every point before it was killed")
        let resumed = try GateLabBinary.run(["run", "jobs-test.toml", "--jobs", "2"], in: scratch.path)
        #expect(resumed.status == 0, "\(resumed.err)")
        expectSameFiles(snapshot(scratch.path + "/out"), expected, "--jobs 2 killed and resumed vs --jobs 1")
    }

    /// A training grid gives the same records with --jobs 1 and --jobs 2 (but for their wall
    /// times): every point is computed single-threaded either way. (At these sizes the
    /// engine's two-thread split of a product would change the last bits.)
    @Test func trainingGridsGiveTheSameRecordsForAnyNumberOfJobs() throws {
        let scratch = try ScratchDirectory()
        let toml = """
            name = "train-jobs"
            kind = "train"
            [defaults]
            task = "adding"
            hidden = 64
            batch = 32
            updates = 6
            eval_every = 3
            eval_size = 32
            profile_every = 3
            steps = 20
            seeds = 2
            [[grid]]
            cell = ["rnn", "lstm"]
            """
        try toml.write(toFile: scratch.path + "/train-jobs.toml", atomically: true, encoding: .utf8)
        func records(_ out: String) throws -> [String: String] {
            let dir = scratch.path + "/" + out + "/results/points"
            var out = [String: String]()
            for name in try FileManager.default.contentsOfDirectory(atPath: dir) where name.hasSuffix(".json") {
                let line = try String(contentsOfFile: dir + "/" + name, encoding: .utf8)
                // The wall time differs, and with it the point file's checksum (over the whole line).
                out[name] = line.replacingOccurrences(of: #""seconds":[0-9.e-]+,"#, with: "", options: .regularExpression)
                    .replacingOccurrences(of: #","checksum":"fnv1a64:[0-9a-f]{16}""#, with: "", options: .regularExpression)
            }
            return out
        }
        for jobs in ["1", "2"] {
            let r = try GateLabBinary.run(["run", "train-jobs.toml", "--jobs", jobs, "--output", "out\(jobs)"], in: scratch.path)
            #expect(r.status == 0, "\(r.err)")
        }
        let one = try records("out1"), two = try records("out2")
        #expect(one.count == 4 && one == two)
    }

    @Test func probeJSONHasTheCurvesAndMatchesTheLibrary() throws {
        let scratch = try ScratchDirectory()
        let r = try GateLabBinary.run(["probe", "--cell", "lstm", "--steps", "80", "--hidden", "8", "--forget-bias", "1",
                                       "--seeds", "2", "--seed", "5", "--json"], in: scratch.path)
        #expect(r.status == 0, "\(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let runs = try #require(object["runs"] as? [[String: Any]])
        #expect(runs.count == 2 && runs.map { $0["seed"] as? Int } == [5, 6])
        let c = try ProbeConfiguration(cell: "lstm", steps: 80, hiddenSize: 8, forgetBias: .constant(1), seed: 6)
        let library = ProbeRecord(version: "x", configuration: c, result: try GradientProbe.run(c))
        let curves = try #require(runs[1]["curves"] as? [String: Any])
        let h = try #require((curves["log10_h_by_layer"] as? [[Double]])?.last)
        #expect(h.count == 80 && zip(h, library.curves.topH).allSatisfy { abs($0 - $1) < 1e-12 })
        #expect((curves["log10_c_by_layer"] as? [[Double]])?.last?.count == 80)
        #expect((object["across_seeds"] as? [[String: Any]])?.first?["key"] as? String == "decay_rate")
    }

    @Test func probeTableAndCaseFile() throws {
        let scratch = try ScratchDirectory()
        let table = try GateLabBinary.run(["probe", "--cell", "rnn", "--steps", "200", "--recurrent-init", "orthogonal(0.9)",
                                           "--bias-init", "zeros", "--input-scale", "0.01"], in: scratch.path)
        #expect(table.status == 0, "\(table.err)")
        let rate = try #require(table.out.split(separator: "\n").first { $0.hasPrefix("decay rate of ‖∂L/∂h_t‖ (log10/step)") })
        let value = try #require(Double(rate.split(separator: " ").last.map(String.init) ?? ""))
        #expect(abs(value - Foundation.log10(0.9)) < 1e-3, "\(rate)")

        let file = try #require(Fixtures.referenceCases.first { $0.hasSuffix("lstm-long.json") })
        let r = try GateLabBinary.run(["probe", "--case", file, "--json"], in: scratch.path)
        #expect(r.status == 0, "\(r.err)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        let curves = try #require(object["curves"] as? [String: Any])
        let h = try #require((curves["log10_h_by_layer"] as? [[Double]])?.first)
        let expected = try GradientProbe.run(try ProbeSetup(referenceCase: try ReferenceCase(contentsOf: file))).curves.topH
        #expect(h.count == 300 && zip(h, expected).allSatisfy { abs($0 - $1) < 1e-12 })
    }

    @Test(arguments: [
        (["probe", "--cell", "lsmt", "--steps", "10"], "unknown cell 'lsmt'"),
        (["probe", "--cell", "rnn"], "give --steps T"),
        (["probe", "--cell", "rnn", "--steps", "10", "--recurrent-init", "orthagonal"], "--recurrent-init:"),
        (["probe", "--cell", "lstm", "--steps", "10", "--forget-bias", "lots"], "--forget-bias: unknown forget bias 'lots'"),
        (["probe", "--case", "/nonexistent.json"], "/nonexistent.json: no such file"),
        (["run", "/nonexistent.toml"], "/nonexistent.toml: no such file"),
    ])
    func badInputIsOneLineOnStderrAndExitTwo(_ arguments: [String], _ message: String) throws {
        let scratch = try ScratchDirectory()
        let r = try GateLabBinary.run(arguments, in: scratch.path)
        #expect(r.status == 2)
        #expect(r.err.split(separator: "\n").count == 1 && r.err.hasPrefix("error: ") && r.err.contains(message), "\(r.err)")
        #expect(r.out.isEmpty)
    }

    @Test func aBadExperimentFileStopsBeforeAnythingRuns() throws {
        let scratch = try ScratchDirectory()
        try "name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = \"rnn\"\n[[grid]]\ncell = \"gruu\"\n"
            .write(toFile: scratch.path + "/x.toml", atomically: true, encoding: .utf8)
        let r = try GateLabBinary.run(["run", "x.toml"], in: scratch.path)
        #expect(r.status == 2)
        #expect(r.err == "error: x.toml:8: grid[2].cell: unknown cell 'gruu' (did you mean 'gru'?); valid cells: rnn, lstm, gru, gru_reset_before, or the path of a .cell file\n")
        #expect(!FileManager.default.fileExists(atPath: scratch.path + "/Notes"), "nothing may be written")
    }
}
