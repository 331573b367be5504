import ArgumentParser
import Foundation

/// The `gatelab` command: a thin front end over the Cells, Autodiff and GradCheck libraries.
///
/// Exit codes (the same for every subcommand):
/// - 0: done, and every check passed;
/// - 1: ran, but a check failed (gradients or reference numbers disagree);
/// - 2: could not run: bad arguments, an unreadable or malformed file, or an error from the
///   libraries. The reason is one line on stderr, `error: …`.
@main
struct GateLabCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gatelab",
        abstract: "Recurrent cells written as their papers' equations, gradient-checked.",
        discussion: """
            Exit codes: 0 done and every check passed; 1 a check failed (gradients or \
            reference numbers disagree); 2 could not run (bad arguments, unreadable or \
            malformed file, library error: one line on stderr).
            """,
        version: GateLabVersion.current,
        subcommands: [DemoCommand.self, CellsCommand.self, ShowCommand.self, GradcheckCommand.self,
                      VerifyReferenceCommand.self, EquivCommand.self, CaseTemplateCommand.self, WeightsCommand.self, PredictCommand.self, BenchCommand.self, ProbeCommand.self, RunCommand.self, MergeCommand.self, SlurmCommand.self,
                      TrainCommand.self, CompareCommand.self]
    )

    /// Parses, runs, and turns every error into one line on stderr and an exit code (see the
    /// type's documentation), instead of ArgumentParser's multi-line usage dump and code 64.
    static func main() {
        var command: ParsableCommand
        do {
            command = try parseAsRoot(negativeValuesAttached(Array(CommandLine.arguments.dropFirst())))
        } catch {
            fail(error)
        }
        do {
            try command.run()
        } catch {
            fail(error)
        }
    }

    /// `--opt -1` as `--opt=-1`: ArgumentParser reads a word that starts with `-` as an option,
    /// so `--hidden -1` was "Missing value for '--hidden'" instead of the option's own check
    /// ("--hidden must be a positive integer"), and `--forget-bias -1` could not be typed
    /// without `=`. A negative number after a `--name` is that option's value; no command
    /// has a short option or an argument that is a negative number.
    static func negativeValuesAttached(_ arguments: [String]) -> [String] {
        var out = [String]()
        for argument in arguments {
            if let last = out.last, last.hasPrefix("--"), last.count > 2, !last.contains("="), argument.count > 1,
               argument.hasPrefix("-"), Double(argument) != nil || argument.dropFirst().first.map({ $0.isNumber || $0 == "." }) == true {
                out[out.count - 1] = last + "=" + argument
            } else {
                out.append(argument)
            }
        }
        return out
    }

    /// Exits for `error`: help and `--version` print normally and exit 0; an `ExitCode`
    /// exits with its code silently (the command has printed its report); anything else is
    /// one line on stderr and exit code 2.
    private static func fail(_ error: Error) -> Never {
        if let code = error as? ExitCode { Foundation.exit(code.rawValue) }
        if exitCode(for: error) == .success { exit(withError: error) }
        printError(isArgumentParserError(error) ? message(for: error) + helpHint() : describe(error))
        Foundation.exit(ExitStatus.cannotRun)
    }

    /// ArgumentParser's own errors (parsing, `ValidationError`) are internal types; they are
    /// the ones that are not from our libraries or Foundation.
    private static func isArgumentParserError(_ error: Error) -> Bool {
        error is ValidationError || String(reflecting: type(of: error)).hasPrefix("ArgumentParser.")
    }

    /// ` (see 'gatelab SUB --help')`, naming the (nested) subcommand the user typed, if any.
    private static func helpHint() -> String {
        var path = ["gatelab"], level = configuration.subcommands
        for argument in CommandLine.arguments.dropFirst() {
            guard let sub = level.first(where: { $0._commandName == argument }) else { continue }
            path.append(argument)
            level = sub.configuration.subcommands
        }
        return " (see '\(path.joined(separator: " ")) --help')"
    }
}

/// Exit codes shared by every subcommand (see `GateLabCommand`).
enum ExitStatus {
    /// A check ran and failed.
    static let checkFailed: Int32 = 1
    /// The command could not run.
    static let cannotRun: Int32 = 2
}

/// Prints `message` as one line `error: …` on stderr (line breaks inside become "; ").
func printError(_ message: String) {
    let line = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
        .filter { !$0.isEmpty }.joined(separator: "; ")
    FileHandle.standardError.write(Data(("error: " + line + "\n").utf8))
}

/// Prints `message` as one line `warning: …` on stderr: an option that has no effect.
func warn(_ message: String) {
    FileHandle.standardError.write(Data(("warning: " + message + "\n").utf8))
}

/// A library error's own message (its `description`), or Foundation's localized one.
func describe(_ error: Error) -> String {
    if error is CocoaError || type(of: error) is NSError.Type { return error.localizedDescription }
    return String(describing: error)
}
