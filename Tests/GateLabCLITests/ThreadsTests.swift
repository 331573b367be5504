import Foundation
import Testing

@Suite("One core or two: the same bits")
struct ThreadsTests {
    /// `GATELAB_THREADS=1` runs without the helper thread (as a one-CPU Slurm task does); the
    /// probe's numbers, printed in full, are identical to a run on two cores, and to a run
    /// asked for eight threads (as a Slurm script exporting `--cpus-per-task 8` asks), which
    /// runs as two.
    @Test func probeGivesTheSameBitsOnOneCore() throws {
        guard let binary = CommandLineTool.binary else { Issue.record("gatelab binary not found"); return }
        let arguments = ["probe", "--cell", "lstm", "--batch", "64", "--hidden", "96", "--steps", "60", "--json"]
        var environment = ProcessInfo.processInfo.environment
        environment["GATELAB_THREADS"] = "2"
        let two = try CommandLineTool.runProcess(binary, arguments, in: CommandLineTool.packageRoot, environment: environment)
        environment["GATELAB_THREADS"] = "1"
        let one = try CommandLineTool.runProcess(binary, arguments, in: CommandLineTool.packageRoot, environment: environment)
        environment["GATELAB_THREADS"] = "8"
        let eight = try CommandLineTool.runProcess(binary, arguments, in: CommandLineTool.packageRoot, environment: environment)
        #expect(two.status == 0 && one.status == 0 && eight.status == 0, "\(two)\n\(one)\n\(eight)")
        #expect(!two.stdout.isEmpty && one.stdout == two.stdout && eight.stdout == two.stdout)
    }

    /// Training at a batch of 32 in both precisions: the paths split by batch rows (the float32
    /// step products, each core on its own row half; the states, carries and gradient zeroing
    /// moved between steps by each core's rows) give one core's bits. A row missed or taken
    /// twice by a split would change the losses.
    @Test(arguments: ["f32", "f64"])
    func trainingGivesTheSameBitsOnOneCore(_ precision: String) throws {
        guard let binary = CommandLineTool.binary else { Issue.record("gatelab binary not found"); return }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-threads-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        func losses(threads: String, cell: String) throws -> [Double] {
            let output = dir.appendingPathComponent("train-\(cell)-\(threads).json")
            let arguments = ["train", "--task", "adding", "--cell", cell, "--hidden", "64", "--length", "12", "--batch", "32",
                             "--updates", "6", "--eval-every", "3", "--precision", precision, "--json", "--output", output.path]
            var environment = ProcessInfo.processInfo.environment
            environment["GATELAB_THREADS"] = threads
            let run = try CommandLineTool.runProcess(binary, arguments, in: CommandLineTool.packageRoot, environment: environment)
            #expect(run.status == 0, "\(run)")
            let last = try #require(try String(contentsOf: output, encoding: .utf8).split(separator: "\n").last)
            let record = try #require(try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any])
            let train = try #require(record["train_loss"] as? [Double]), final = try #require(record["final_loss"] as? Double)
            return train + [final]
        }
        // The LSTM's row-wise chain runs as a row section; the tanh RNN's one row-wise
        // instruction (its bias sums too) on its own. In float32, SGEMM products are never
        // split (a block of one had other bits than the whole: `Scalar.gemmBlocksKeepBits`).
        for cell in ["lstm", "rnn"] {
            let one = try losses(threads: "1", cell: cell), two = try losses(threads: "2", cell: cell)
            #expect(one.count == 7 && one.map(\.bitPattern) == two.map(\.bitPattern), "\(cell): one core \(one)\ntwo cores \(two)")
        }
    }
}
