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
}
