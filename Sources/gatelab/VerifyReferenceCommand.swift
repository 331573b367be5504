import ArgumentParser
import Cells
import Interchange

/// `gatelab verify-reference`: recompute PyTorch/Keras reference cases and compare, tensor by
/// tensor, with the normwise relative error max|a − b| / max|b|.
struct VerifyReferenceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-reference",
        abstract: "Compare GateLab with reference cases computed by PyTorch or Keras.",
        discussion: """
            For every tensor of every case file (outputs, final states, loss, every gradient) \
            prints the normwise relative error max|a − b| / max|b|. Exit code 0 when all are \
            within the tolerance, 1 when one is not, 2 when a file is unreadable or malformed \
            (the other files are still checked).
            """)

    @Argument(help: "Reference case files (JSON, format of Tests/CellsTests/Fixtures/reference/README.md).")
    var files: [String]

    @Option(help: "Largest accepted normwise relative error.")
    var tolerance = 1e-10

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one case file") }
        guard tolerance >= 0 && tolerance.isFinite else { throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)") }
    }

    func run() throws {
        var rows = [["file", "tensor", "elements", "error", "status"]]
        var tensors = 0, failures = 0, unreadable = 0, verified = 0
        var worst: (error: Double, file: String, key: String)?
        for file in files {
            let agreements: [ReferenceCase.Agreement]
            do {
                agreements = try ReferenceCase(contentsOf: file).verify()
            } catch {
                // A CaseFileError's description names the file and the key; others get the file.
                let text = describe(error)
                printError(error is CaseFileError ? text : "\(file): \(text)")
                unreadable += 1
                continue
            }
            verified += 1
            for a in agreements {
                let ok = a.error <= tolerance   // false for NaN
                tensors += 1
                if !ok { failures += 1 }
                if worst == nil || !(a.error <= worst!.error) { worst = (a.error, file, a.key) }
                rows.append([file, a.key, "\(a.count)", scientific(a.error), ok ? "ok" : "FAIL"])
            }
        }
        if rows.count > 1 { print(alignedTable(rows, rightAligned: [2, 3])) }

        let files = plural(verified, "file")
        var summary: String
        if failures > 0 {
            summary = "FAILED: \(failures) of \(tensors) tensors of \(files) over \(scientific(tolerance))"
        } else if unreadable > 0 {
            summary = "ERROR: \(plural(unreadable, "file")) could not be read (errors on stderr); "
                + "\(plural(tensors, "tensor")) of \(files) within \(scientific(tolerance))"
        } else {
            summary = "all \(plural(tensors, "tensor")) of \(files) within \(scientific(tolerance))"
        }
        if let worst { summary += " (worst \(scientific(worst.error)): \(worst.key) in \(worst.file))" }
        if failures > 0 && unreadable > 0 { summary += "; \(plural(unreadable, "file")) could not be read (errors on stderr)" }
        print(summary)
        if unreadable > 0 { throw ExitCode(ExitStatus.cannotRun) }
        if failures > 0 { throw ExitCode(ExitStatus.checkFailed) }
    }
}
