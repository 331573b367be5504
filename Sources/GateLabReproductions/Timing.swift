/// Speed of the truncated-RTRL training loop, against its target (one Exp. 4 trial at
/// T = 100, about 74 000 sequences, in under 30 s: about 4 µs per step).
public enum Timing {
    /// What `trainingSpeed` measured.
    public struct Measurement: Sendable, CustomStringConvertible {
        /// Training sequences presented.
        public var sequences: Int
        /// Time steps presented.
        public var steps: Int
        /// Wall-clock seconds of training (generation of the sequences included).
        public var seconds: Double
        /// Microseconds per time step.
        public var microsecondsPerStep: Double { seconds * 1e6 / Double(steps) }

        public var description: String {
            "\(sequences) sequences, \(steps) steps in \(seconds) s: \(microsecondsPerStep) µs/step"
        }
    }

    /// Trains a fresh trial of `preset` for `sequences` sequences (never stopping early) and
    /// times it.
    /// - Parameters:
    ///   - preset: A preset name.
    ///   - variant: A variant (nil: the default).
    ///   - seed: The trial's seed.
    ///   - sequences: How many training sequences to present.
    public static func trainingSpeed(preset: String, variant: String? = nil, seed: UInt64 = 1,
                                     sequences: Int) throws -> Measurement {
        var parameters = try Presets.parameters(preset, variant: variant)
        parameters.budget = .max
        parameters.criterion = .successiveCorrect(count: .max)   // never met: time a fixed amount of work
        var trial = try Trial(preset: preset, variant: variant, seed: seed, parameters: parameters)
        let start = ContinuousClock.now
        trial.train(atMost: sequences)
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        return Measurement(sequences: trial.sequences, steps: trial.trainingSteps, seconds: seconds)
    }
}
