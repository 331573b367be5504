import Testing
@testable import GateLabGSL

@Suite("GSL errors are thrown, not aborts")
struct GSLErrorTests {
    @Test("GSL's own error from gsl_ran_choose (k > n) becomes a GSLError with GSL's reason")
    func chooseMoreThanAvailable() throws {
        let rng = try RandomSource(seed: 1)
        let error = #expect(throws: GSLError.self) { try rng.choose(5, from: 3) }
        #expect(error?.reason.contains("k is greater than n") == true)
        #expect(error?.function == "RandomSource.choose")
        #expect(error?.code == 4)  // GSL_EINVAL
        #expect(error?.file.hasSuffix("shuffle.c") == true && (error?.line ?? 0) > 0, "\(String(describing: error))")
        #expect(error?.description.contains("invalid argument supplied by user") == true)
        // The pending error was consumed: the next call through GSL succeeds.
        #expect(try rng.choose(3, from: 3) == [0, 1, 2])
    }

    @Test("a size mismatch inside gsl_linalg_QR_decomp throws GSLError (GSL_EBADLEN)")
    func qrWithWrongTauLength() throws {
        let a = try GSLMatrix(rows: 4, cols: 3, rowMajor: (0..<12).map(Double.init), caller: "test")
        let tau = try GSLVector(count: 7, caller: "test")
        let error = #expect(throws: GSLError.self) { try a.decomposeQR(tau: tau, caller: "test.QR") }
        #expect(error?.code == 19)  // GSL_EBADLEN
        #expect(error?.reason.contains("tau") == true)
        #expect(error?.function == "test.QR")
    }

    @Test("errors raised concurrently on different threads stay with their own caller")
    func concurrentErrorsDoNotMix() async throws {
        let reasons = await withTaskGroup(of: (Int, String).self) { group in
            for task in 0..<16 {
                group.addTask {
                    do {
                        if task.isMultiple(of: 2) {
                            _ = try RandomSource(seed: UInt64(task)).choose(9, from: 2)
                        } else {
                            let a = try GSLMatrix(rows: 3, cols: 3, caller: "t")
                            try a.decomposeQR(tau: GSLVector(count: 1, caller: "t"), caller: "t")
                        }
                        return (task, "no error")
                    } catch let error as GSLError {
                        return (task, error.reason)
                    } catch {
                        return (task, "wrong error type: \(error)")
                    }
                }
            }
            return await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        for (task, reason) in reasons {
            #expect(reason.contains(task.isMultiple(of: 2) ? "k is greater than n" : "tau"), "task \(task): \(reason)")
        }
    }

    @Test("argument errors are caught in Swift before GSL, with actionable messages")
    func invalidArgumentMessages() {
        let error = #expect(throws: InvalidArgumentError.self) { try RandomSource(seed: 1, generator: "mersenne") }
        #expect(error?.message.contains("mt19937") == true)
        #expect(error?.message.contains("ranlxd2") == true)
        #expect(error?.description.hasPrefix("RandomSource.init: unknown generator \"mersenne\"") == true)
    }
}
