import Foundation
import Testing
import GateLabReproductions

/// Programs that print numbers, run on demand in release (`swift test -c release --filter
/// ReproductionsTests.ReleaseRuns`) with an environment variable; they assert nothing about time.
/// - `REPRODUCTIONS_TIMING=<sequences>`: µs per step of Exp. 4 (T = 100) training.
/// - `REPRODUCTIONS_TRIALS=<preset>;<variant>;<seed>,<seed>,…` and `REPRODUCTIONS_OUT=<file>`:
///   runs the trials one after another and appends each record as one JSON line;
///   `REPRODUCTIONS_BUDGET=<n>` replaces the preset's budget (the record's parameters show it).
@Suite("Release runs (on demand)")
struct ReleaseRuns {
    static let environment = ProcessInfo.processInfo.environment

    @Test("Exp. 4 (T = 100) training speed", .enabled(if: environment["REPRODUCTIONS_TIMING"] != nil))
    func timing() throws {
        let sequences = Int(Self.environment["REPRODUCTIONS_TIMING"]!) ?? 20_000
        for seed in 1...3 {
            let measurement = try Timing.trainingSpeed(preset: "hochreiter1997-exp4", seed: UInt64(seed), sequences: sequences)
            print("TIMING exp4 T=100 seed \(seed): \(measurement)")
        }
    }

    @Test("Trials of a preset", .enabled(if: environment["REPRODUCTIONS_TRIALS"] != nil))
    func trials() throws {
        let fields = Self.environment["REPRODUCTIONS_TRIALS"]!.split(separator: ";").map(String.init)
        let (preset, variant) = (fields[0], fields[1].isEmpty ? nil : fields[1])
        let seeds = fields[2].split(separator: ",").compactMap { UInt64($0) }
        let out = Self.environment["REPRODUCTIONS_OUT"] ?? "/dev/stdout"
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for seed in seeds {
            var parameters = try Presets.parameters(preset, variant: variant)
            if let budget = Self.environment["REPRODUCTIONS_BUDGET"].flatMap({ Int($0) }) { parameters.budget = budget }
            var trial = try Trial(preset: preset, variant: variant, seed: seed, parameters: parameters)
            let record = trial.run()
            var line = try encoder.encode(record)
            line.append(0x0A)
            if let handle = FileHandle(forWritingAtPath: out) {
                handle.seekToEndOfFile()
                handle.write(line)
                handle.closeFile()
            } else {
                FileManager.default.createFile(atPath: out, contents: line)
            }
            print("TRIAL \(preset) \(variant ?? "") seed \(seed): solved \(record.solved), sequences \(record.sequences), wrong \(record.wrong)/\(record.testCount), test_mse \(record.testMSE ?? .nan), \(record.seconds) s")
        }
    }
}
