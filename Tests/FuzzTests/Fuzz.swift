import Foundation
import FuzzSupport
import Testing

/// The fuzzing budget and the bounds every input is held to.
enum Fuzz {
    /// CPU seconds any one input may take (this thread's time: a loaded machine does not
    /// make it fail).
    static let secondsPerInput = 2.0

    /// Peak resident memory the whole fuzz process may reach, in kB (2 GiB).
    static let peakKilobytes = 2 << 20

    /// Numbers that broke readers before: sizes far too large, negative, zero, fractions,
    /// beyond float64, denormal, and Int's edges.
    static let extremes = ["100000000", "30000", "1e8", "1e12", "-1", "-5", "0", "-0", "2.5", "1e308", "-1e308", "1e999", "1e-320",
                           "9223372036854775807", "-9223372036854775808", "18446744073709551616", "1", "2", "3", "4", "1000", "\"1\"",
                           "null", "true", "[]", "{}", "[1]", "NaN"]

    /// One to three mutations of `bytes`: a number token replaced by an extreme, a range
    /// deleted or duplicated, a byte overwritten, the end cut off, or a token inserted.
    static func mutate(_ original: [UInt8], _ rng: inout SplitMix64, tokens: [String]) -> [UInt8] {
        var bytes = original
        for _ in 0..<(1 + rng.below(3)) {
            let at = rng.below(bytes.count + 1)
            switch rng.below(8) {
            case 0, 1, 2:   // a number replaced by an extreme
                let digits = bytes.indices.filter { i in
                    (bytes[i] >= 48 && bytes[i] <= 57) && (i == 0 || !(bytes[i - 1] >= 48 && bytes[i - 1] <= 57 || bytes[i - 1] == 46 || bytes[i - 1] == 45 || bytes[i - 1] == 101))
                }
                guard !digits.isEmpty else { continue }
                let start = rng.pick(digits)
                var end = start
                while end < bytes.count, "0123456789.eE+-".utf8.contains(bytes[end]) { end += 1 }
                bytes.replaceSubrange(start..<end, with: Array(rng.pick(extremes).utf8))
            case 3:   // delete a range
                let n = min(1 + rng.below(64), bytes.count - at)
                bytes.removeSubrange(at..<(at + n))
            case 4:   // duplicate a range
                let n = min(1 + rng.below(64), bytes.count - at)
                bytes.insert(contentsOf: Array(bytes[at..<(at + n)]), at: at)
            case 5:   // overwrite one byte
                if at < bytes.count { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
            case 6:   // cut off the end
                bytes.removeSubrange(at...)
            default:   // insert a token
                bytes.insert(contentsOf: Array(rng.pick(tokens).utf8), at: at)
            }
        }
        return bytes
    }

    /// Runs `body` on `count` mutants of `seeds`, each bounded in CPU time; `body` returns
    /// whether the input was accepted. Records an issue for the slowest input over the bound
    /// and for the process's peak memory over its bound.
    static func run(_ label: String, seeds: [[UInt8]], count: Int, seed: UInt64, tokens: [String],
                    body: (_ bytes: [UInt8], _ name: String) -> Bool) -> (accepted: Int, rejected: Int) {
        var rng = SplitMix64(state: seed)
        var accepted = 0, rejected = 0, worst = 0.0, worstName = ""
        let stop = FuzzMeasure.deadline()
        for k in 0..<count where stop.map({ Date() < $0 }) ?? true {
            let bytes = mutate(seeds[k % seeds.count], &rng, tokens: tokens)
            let name = "\(label) #\(k) (seed \(seed))"
            let start = FuzzMeasure.threadSeconds()
            if body(bytes, name) { accepted += 1 } else { rejected += 1 }
            let seconds = FuzzMeasure.threadSeconds() - start
            if seconds > worst { worst = seconds; worstName = name }
        }
        #expect(worst < secondsPerInput, "\(worstName) took \(worst) s of CPU")
        #expect(FuzzMeasure.peakResidentKilobytes() < peakKilobytes, "peak RSS \(FuzzMeasure.peakResidentKilobytes()) kB")
        print("fuzz \(label): \(accepted + rejected) inputs\(accepted + rejected < count ? " (of \(count), stopped by GATELAB_FUZZ_SECONDS)" : ""), \(accepted) accepted, \(rejected) refused, slowest \(String(format: "%.3f", worst)) s, "
              + "peak RSS \(FuzzMeasure.peakResidentKilobytes() / 1024) MB")
        return (accepted, rejected)
    }

    /// The package's root (this file is Tests/FuzzTests/Fuzz.swift).
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func file(_ relative: String) throws -> [UInt8] {
        Array(try Data(contentsOf: root.appendingPathComponent(relative)))
    }
}
