internal import CGateLabGSL
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Every GSL call in GateLabGSL goes through `GSLCall`: it installs GateLab's error handler in
// place of GSL's aborting default (once, lazily), clears this thread's pending error, makes
// the call, and throws whatever GSL reported. The handler is a C function and cannot capture
// state, so it records into a per-thread slot: concurrent calls on different threads see
// only their own errors.

/// What GSL's error handler received, kept until the wrapper that made the call picks it up.
final class PendingGSLError {
    var reason = "", file = "", line = 0, code = 0
    var isSet = false
}

/// A pthread key whose per-thread value is a retained `PendingGSLError`, released when the
/// thread exits.
private let pendingErrorKey: pthread_key_t = {
    var key = pthread_key_t()
    let status = pthread_key_create(&key) { slot in
        if let slot { Unmanaged<PendingGSLError>.fromOpaque(slot).release() }
    }
    precondition(status == 0, "GateLabGSL: pthread_key_create failed (\(status)); cannot install GSL's error handler")
    return key
}()

private func pendingErrorSlot() -> PendingGSLError {
    if let raw = pthread_getspecific(pendingErrorKey) {
        return Unmanaged<PendingGSLError>.fromOpaque(raw).takeUnretainedValue()
    }
    let slot = PendingGSLError()
    pthread_setspecific(pendingErrorKey, Unmanaged.passRetained(slot).toOpaque())
    return slot
}

/// Replaces `abort()` with recording. Only the first error of a call is kept: when a GSL
/// routine fails inside another, the innermost report names the cause.
private func recordGSLError(
    reason: UnsafePointer<CChar>?, file: UnsafePointer<CChar>?, line: Int32, code: Int32
) {
    let slot = pendingErrorSlot()
    guard !slot.isSet else { return }
    slot.reason = reason.map { String(cString: $0) } ?? "unknown error"
    slot.file = file.map { String(cString: $0) } ?? ""
    slot.line = Int(line)
    slot.code = Int(code)
    slot.isSet = true
}

/// Installed on first use (Swift initialises globals exactly once, thread-safely).
private let handlerInstalled: Void = {
    _ = gsl_set_error_handler { reason, file, line, code in
        recordGSLError(reason: reason, file: file, line: line, code: code)
    }
}()

/// The single gate through which GateLabGSL calls GSL.
enum GSLCall {
    /// Makes sure GSL's aborting default handler is replaced. Idempotent and cheap.
    static func installErrorHandler() { handlerInstalled }

    /// Runs `body` (one or more GSL calls) and throws the first error GSL reported during it.
    /// - Parameters:
    ///   - function: The GateLab function making the call, for the error message.
    ///   - body: The GSL call(s); for routines that signal errors only through the handler
    ///     (`GSL_ERROR_VAL`, `GSL_ERROR_NULL`, `GSL_ERROR_VOID`).
    static func value<T>(_ function: String, _ body: () -> T) throws -> T {
        installErrorHandler()
        let slot = pendingErrorSlot()
        slot.isSet = false
        let result = body()
        if slot.isSet {
            slot.isSet = false
            throw GSLError(function: function, reason: slot.reason, file: slot.file, line: slot.line, code: slot.code)
        }
        return result
    }

    /// Runs a GSL routine that returns a status and throws unless it is `GSL_SUCCESS`.
    /// - Parameters:
    ///   - function: The GateLab function making the call, for the error message.
    ///   - body: The GSL call, returning its status.
    static func status(_ function: String, _ body: () -> Int32) throws {
        let status = try value(function, body)
        guard status == GSL_SUCCESS else {
            // A status returned without going through the handler: only GSL's generic text.
            throw GSLError(function: function, reason: String(cString: gsl_strerror(status)),
                           file: "", line: 0, code: Int(status))
        }
    }
}

/// Throws `InvalidArgumentError` unless `condition` holds.
/// - Parameters:
///   - condition: What must be true of the arguments.
///   - function: The GateLab function checking them.
///   - message: What was wrong and what would be accepted; built only on failure.
func require(_ condition: Bool, _ function: String, _ message: @autoclosure () -> String) throws {
    if !condition { throw InvalidArgumentError(function: function, message: message()) }
}
