import ArgumentParser
import GateLabExperiments
import Foundation
import GateLabCells
import GateLabInterchange
import GateLabSupport

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
            (the other files are still checked). With --precision f32 each case runs in float32 \
            against its float64 numbers and passes when its worst error is at most 10 times \
            PyTorch's float32 error on the same case (the case's `worst` in --float32-errors, \
            by default float32-errors.json beside the first case file); a case without an entry \
            there (the Keras gru-reset-before-small.json) gets the bound of gru-small.json, \
            PyTorch's GRU case of the same sizes, and the output says so.
            """)

    @Argument(help: "Reference case files (JSON, format of Tests/CellsTests/Fixtures/reference/README.md).")
    var files: [String]

    @Option(help: "Compare cases written by 'gatelab case-template' for this cell (a built-in name or a .cell file) and completed by your own code (.npz).")
    var cell: String?

    @Option(help: "Largest accepted normwise relative error (float64).")
    var tolerance = 1e-10

    @OptionGroup var precision: PrecisionOption

    @Option(name: .customLong("float32-errors"), help: "With --precision f32: PyTorch's float32 errors on the cases (default: float32-errors.json beside the first case file).")
    var float32Errors: String?

    func validate() throws {
        guard !files.isEmpty else { throw ValidationError("give at least one case file") }
        if let cell {
            try CellLookup.validate(cell)
            if precision.precision == .f32 { throw ValidationError("--cell cases are checked in float64; drop --precision f32") }
        }
        if precision.precision == .f64, float32Errors != nil { throw ValidationError("--float32-errors applies only with --precision f32") }
        if precision.precision == .f32, CommandLine.arguments.contains(where: { $0 == "--tolerance" || $0.hasPrefix("--tolerance=") }) {
            throw ValidationError("--precision f32 takes each case's bound from --float32-errors (10 × PyTorch's float32 error); drop --tolerance")
        }
        guard tolerance >= 0 && tolerance.isFinite else { throw ValidationError("--tolerance must be a finite number ≥ 0, got \(tolerance)") }
    }

    func run() throws {
        if let cell { return try runCellCases(cell) }
        if precision.precision == .f32 { return try runFloat32() }
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

extension VerifyReferenceCommand {
    /// The bound of a case without a PyTorch float32 entry: the Keras GRU (reset before) case
    /// has the sizes of gru-small.json, PyTorch's GRU case, whose bound it borrows.
    static let borrowedBounds = ["gru-reset-before-small.json": "gru-small.json"]

    /// PyTorch's float32 errors: `cases.<file name>.worst` (and `per_tensor`).
    struct PyTorchFloat32Errors: Decodable {
        struct Case: Decodable {
            var worst: Double
            var perTensor: [String: Double]
            enum CodingKeys: String, CodingKey { case worst, perTensor = "per_tensor" }
        }
        var cases: [String: Case]
    }

    /// `--precision f32`: every case in float32 against its float64 numbers, within 10 ×
    /// PyTorch's float32 error on the same case.
    func runFloat32() throws {
        let errorsFile = float32Errors ?? ((files[0] as NSString).deletingLastPathComponent as NSString).appendingPathComponent("float32-errors.json")
        let pytorch: PyTorchFloat32Errors
        do {
            pytorch = try JSONDecoder().decode(PyTorchFloat32Errors.self, from: Data(try Files.contents(of: errorsFile)))
        } catch {
            printError("\(errorsFile): cannot read PyTorch's float32 errors (\(error is ExperimentError ? FileError.reason(error) : describe(error))); give --float32-errors FILE")
            throw ExitCode(ExitStatus.cannotRun)
        }
        print("float32: each case computed in float32 against its float64 numbers; error = max|a − b| / max|b| per tensor, "
              + "bound = 10 × PyTorch's float32 error on the case (\(errorsFile))")
        var rows = [["file", "tensor", "elements", "error", "PyTorch f32", "within bound"]]
        var cases = [["case", "worst error", "bound", "status", "bound from"]]
        var failures = 0, unreadable = 0, checked = 0
        for file in files {
            let name = (file as NSString).lastPathComponent
            let agreements: [ReferenceCase.Agreement]
            do {
                agreements = try ReferenceCase(contentsOf: file).verify(precision: .f32)
            } catch {
                let text = describe(error)
                printError(error is CaseFileError ? text : "\(file): \(text)")
                unreadable += 1
                continue
            }
            let own = pytorch.cases[name]
            let borrowed = own == nil ? Self.borrowedBounds[name].flatMap { b in pytorch.cases[b].map { (b, $0) } } : nil
            guard let reference = own ?? borrowed?.1 else {
                printError("\(errorsFile): cases: no entry for \(name) (and no stated substitute), so its float32 bound is unknown")
                unreadable += 1
                continue
            }
            checked += 1
            let bound = 10 * reference.worst
            let worst = agreements.map(\.error).max() ?? 0
            let ok = worst <= bound   // false for NaN
            if !ok { failures += 1 }
            for a in agreements {
                rows.append([file, a.key, "\(a.count)", scientific(a.error), own?.perTensor[a.key].map(scientific) ?? "—", a.error <= bound ? "yes" : "no"])
            }
            cases.append([file, scientific(worst), scientific(bound), ok ? "ok" : "FAIL",
                          borrowed.map { "10 × PyTorch's worst on \($0.0) (a Keras case, no PyTorch number; same cell and sizes)" } ?? "10 × PyTorch's worst on this case"])
        }
        if rows.count > 1 { print(alignedTable(rows, rightAligned: [2, 3, 4])); print("") }
        if cases.count > 1 { print(alignedTable(cases, rightAligned: [1, 2])) }
        let summary = failures > 0 ? "FAILED: \(failures) of \(plural(checked, "case")) over 10 × PyTorch's float32 error"
            : "all \(plural(checked, "case")) within 10 × PyTorch's float32 error"
        print(summary + (unreadable > 0 ? "; \(plural(unreadable, "file")) could not be checked (errors on stderr)" : ""))
        if unreadable > 0 { throw ExitCode(ExitStatus.cannotRun) }
        if failures > 0 { throw ExitCode(ExitStatus.checkFailed) }
    }
}
