internal import CGateLabGSL

/// An error that GSL itself reported: its own reason, source location and error code, plus
/// the GateLab function that made the call.
///
/// GSL's default error handler aborts the process. GateLabGSL replaces it (once, before its first
/// GSL call) with one that records the error for the calling thread; the wrapper that made
/// the call then throws it as a `GSLError`.
public struct GSLError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The GateLab function that called GSL, e.g. `"RandomSource.choose"`.
    public let function: String
    /// GSL's own explanation of what went wrong, e.g. `"size of tau must be MIN(M,N)"`.
    public let reason: String
    /// The GSL source file that raised the error (empty if GSL returned a status silently).
    public let file: String
    /// The line in `file` that raised the error (0 if unknown).
    public let line: Int
    /// GSL's error number (`GSL_EDOM`, `GSL_EINVAL`, `GSL_EBADLEN`, ...).
    public let code: Int

    /// Creates an error from the parts GSL reports.
    /// - Parameters:
    ///   - function: The GateLab function that called GSL.
    ///   - reason: GSL's explanation.
    ///   - file: The GSL source file that raised the error.
    ///   - line: The line in that file.
    ///   - code: GSL's error number.
    public init(function: String, reason: String, file: String, line: Int, code: Int) {
        self.function = function
        self.reason = reason
        self.file = file
        self.line = line
        self.code = code
    }

    /// GSL's generic text for `code`, e.g. `"invalid argument supplied by user"`.
    public var codeDescription: String { String(cString: gsl_strerror(Int32(code))) }

    /// One line: caller, GSL's reason, the code and its meaning, and where GSL raised it.
    public var description: String {
        let location = file.isEmpty ? "" : " at \(file):\(line)"
        return "\(function): GSL error \(code) (\(codeDescription)): \(reason)\(location)"
    }
}

/// An argument that GateLabGSL rejected before calling GSL: a shape mismatch, an empty input,
/// a value out of range. The message says what was expected and what was given.
public struct InvalidArgumentError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The GateLab function that rejected the argument, e.g. `"Statistics.mean"`.
    public let function: String
    /// What was wrong and what would be accepted.
    public let message: String

    /// Creates an error for `function` with an actionable `message`.
    /// - Parameters:
    ///   - function: The GateLab function that rejected the argument.
    ///   - message: What was wrong and what would be accepted.
    public init(function: String, message: String) {
        self.function = function
        self.message = message
    }

    /// `"function: message"`.
    public var description: String { "\(function): \(message)" }
}
