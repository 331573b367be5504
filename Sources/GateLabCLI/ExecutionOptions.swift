import ArgumentParser
import GateLabAutodiff

/// `--execution fast|reference`: which executor runs the unrolled network (shared by `probe`,
/// `gradcheck` and `train`).
struct ExecutionOptions: ParsableArguments {
    @Option(help: "Executor: fast (the optimized program) or reference (a plain interpreter, one kernel call per node and step: slow, for checking the fast one; the same values, gradients equal to rounding).")
    var execution: Execution = .fast
}

extension Execution: ExpressibleByArgument {}
