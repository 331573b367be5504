// exp, expm1, the logistic sigmoid and tanh for whole arrays: branch-free C loops, vectorized
// with AVX2 where the CPU has it (same bits either way). Method and accuracy: see
// Sources/CGateLabFastMath/fastmath.c (Cody–Waite reduction, Estrin polynomial; within 4 ulp of libm,
// tested).
import CGateLabFastMath

enum FastMath {
    /// Which compiled loops an array function runs.
    enum Loops: Int32 {
        /// Baseline x86-64 (SSE2, two doubles a step).
        case baseline = 0
        /// AVX2 (four doubles a step) where the CPU has it, else baseline: what the engine runs.
        case widest = 1
    }

    /// `y[i] = σ(x[i])` for `n` elements; `x` and `y` must not overlap (see `sigmoid(inPlace:_:)`).
    static func sigmoid(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, loops: Loops = .widest) { gatelab_sigmoid_array(x, y, n, loops.rawValue) }
    /// `y[i] = tanh(x[i])` for `n` elements; `x` and `y` must not overlap.
    static func tanh(_ x: UnsafePointer<Double>, _ y: UnsafeMutablePointer<Double>, _ n: Int, loops: Loops = .widest) { gatelab_tanh_array(x, y, n, loops.rawValue) }
    /// `y[i] = σ(y[i])`, in place.
    static func sigmoid(inPlace y: UnsafeMutablePointer<Double>, _ n: Int, loops: Loops = .widest) { gatelab_sigmoid_inplace(y, n, loops.rawValue) }
    /// `y[i] = tanh(y[i])`, in place.
    static func tanh(inPlace y: UnsafeMutablePointer<Double>, _ n: Int, loops: Loops = .widest) { gatelab_tanh_inplace(y, n, loops.rawValue) }

    /// e^x.
    static func exp(_ x: Double) -> Double { gatelab_exp(x) }
    /// e^x − 1, accurate for small x.
    static func expm1(_ x: Double) -> Double { gatelab_expm1(x) }
    /// σ(x).
    static func sigmoid(_ x: Double) -> Double { gatelab_sigmoid(x) }
    /// tanh(x).
    static func tanh(_ x: Double) -> Double { gatelab_tanh(x) }

    // Single precision: the same method in float (fastmath.c), eight floats a step with AVX2.

    /// `y[i] = σ(x[i])` for `n` floats; `x` and `y` must not overlap.
    static func sigmoid(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, loops: Loops = .widest) { gatelab_sigmoidf_array(x, y, n, loops.rawValue) }
    /// `y[i] = tanh(x[i])` for `n` floats; `x` and `y` must not overlap.
    static func tanh(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int, loops: Loops = .widest) { gatelab_tanhf_array(x, y, n, loops.rawValue) }
    /// `y[i] = σ(y[i])`, in place.
    static func sigmoid(inPlace y: UnsafeMutablePointer<Float>, _ n: Int, loops: Loops = .widest) { gatelab_sigmoidf_inplace(y, n, loops.rawValue) }
    /// `y[i] = tanh(y[i])`, in place.
    static func tanh(inPlace y: UnsafeMutablePointer<Float>, _ n: Int, loops: Loops = .widest) { gatelab_tanhf_inplace(y, n, loops.rawValue) }
    /// e^x in single precision.
    static func exp(_ x: Float) -> Float { gatelab_expf(x) }
    /// e^x − 1 in single precision.
    static func expm1(_ x: Float) -> Float { gatelab_expm1f(x) }
    /// σ(x) in single precision.
    static func sigmoid(_ x: Float) -> Float { gatelab_sigmoidf(x) }
    /// tanh(x) in single precision.
    static func tanh(_ x: Float) -> Float { gatelab_tanhf(x) }

    /// Whether the CPU has the AVX2 loops (`Loops.widest` runs them).
    static var wide: Bool { gatelab_fastmath_wide() != 0 }
}
