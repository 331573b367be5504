import Foundation

/// A small, self-contained, deterministic source of standard normal numbers, used for the
/// random directions of directional checks so that a seed reproduces a report exactly.
///
/// Uniform bits come from SplitMix64 (Steele, Lea & Flood, "Fast splittable pseudorandom
/// number generators", OOPSLA 2014): a 64-bit counter stepped by the golden-ratio increment
/// and passed through a bijective mixer; every seed, including 0, gives a full-period stream.
/// Normals come from the Box–Muller transform, both outputs of each pair used.
struct SeededNormalGenerator {
    private var state: UInt64
    private var spare: Double?

    init(seed: UInt64) { state = seed }

    /// The next 64 uniform bits (SplitMix64).
    mutating func nextBits() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in (0, 1]: the top 53 bits, shifted up by one ulp so `log` never sees 0.
    mutating func nextUnitInterval() -> Double {
        Double((nextBits() >> 11) + 1) * 0x1p-53
    }

    /// A standard normal N(0, 1) sample (Box–Muller).
    mutating func nextNormal() -> Double {
        if let value = spare {
            spare = nil
            return value
        }
        let radius = (-2 * log(nextUnitInterval())).squareRoot()
        let angle = 2 * Double.pi * nextUnitInterval()
        spare = radius * sin(angle)
        return radius * cos(angle)
    }

    /// A direction drawn uniformly from the unit sphere in `dimension` dimensions: a vector
    /// of independent normals, normalised (the normal distribution is rotation-invariant).
    mutating func nextUnitVector(dimension: Int) -> [Double] {
        while true {
            let v = (0..<dimension).map { _ in nextNormal() }
            let norm = v.reduce(0) { $0 + $1 * $1 }.squareRoot()
            if norm > 0 { return v.map { $0 / norm } }
        }
    }
}
