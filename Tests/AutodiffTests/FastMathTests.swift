import Testing
import Foundation
@testable import GateLabAutodiff

@Suite("Vectorizable exp, expm1, sigmoid and tanh agree with libm to a few ulps")
struct FastMathTests {
    /// Relative error in units of 2^-52.
    func ulps(_ a: Double, _ b: Double) -> Double { b == 0 ? abs(a) / 2.2e-16 : abs(a - b) / abs(b) / 2.220446049250313e-16 }

    var grid: [Double] {
        var xs = stride(from: -40.0, through: 40.0, by: 0.0137).map { $0 }
        xs += [0, 1e-300, -1e-300, 1e-20, -1e-20, 1e-10, 3e-8, -2e-5, 0.3465, 0.3467, -0.3466, 700, -700, 708.5, -707.9]
        xs += stride(from: -1e-3, through: 1e-3, by: 3.3e-6).map { $0 }
        return xs
    }

    @Test func expAndExpm1() {
        var worstExp = 0.0, worstExpm1 = 0.0
        for x in grid where abs(x) <= 708 {
            worstExp = max(worstExp, ulps(FastMath.exp(x), Foundation.exp(x)))
            worstExpm1 = max(worstExpm1, ulps(FastMath.expm1(x), Foundation.expm1(x)))
        }
        #expect(worstExp <= 4, "exp: \(worstExp) ulp")
        #expect(worstExpm1 <= 4, "expm1: \(worstExpm1) ulp")
    }

    @Test func sigmoidAndTanh() {
        var worstS = 0.0, worstT = 0.0
        for x in grid {
            let s = x >= 0 ? 1 / (1 + Foundation.exp(-x)) : Foundation.exp(x) / (1 + Foundation.exp(x))
            if s > 1e-300 { worstS = max(worstS, ulps(FastMath.sigmoid(x), s)) }
            worstT = max(worstT, ulps(FastMath.tanh(x), Foundation.tanh(x)))
        }
        #expect(worstS <= 4, "sigmoid: \(worstS) ulp")
        #expect(worstT <= 4, "tanh: \(worstT) ulp")
        #expect(FastMath.tanh(1000.0 as Double) == 1 && FastMath.tanh(-1000.0 as Double) == -1)
        #expect(FastMath.sigmoid(1000.0 as Double) == 1 && FastMath.sigmoid(-1000.0 as Double) < 1e-300)
        #expect(FastMath.tanh(1e-300 as Double) == 1e-300)
    }

    /// The AVX2 loops and the baseline ones give the same bits (no FMA contraction), in place
    /// or not, and the same as the scalar functions.
    @Test func wideAndBaselineLoopsAgreeBitForBit() {
        let xs = grid + [.nan, .infinity, -.infinity, 1000, -1000]
        func loops(_ which: FastMath.Loops) -> [UInt64] {
            var s = [Double](repeating: 0, count: xs.count), t = s
            var si = xs, ti = xs
            xs.withUnsafeBufferPointer { x in
                s.withUnsafeMutableBufferPointer { FastMath.sigmoid(x.baseAddress!, $0.baseAddress!, xs.count, loops: which) }
                t.withUnsafeMutableBufferPointer { FastMath.tanh(x.baseAddress!, $0.baseAddress!, xs.count, loops: which) }
            }
            si.withUnsafeMutableBufferPointer { FastMath.sigmoid(inPlace: $0.baseAddress!, xs.count, loops: which) }
            ti.withUnsafeMutableBufferPointer { FastMath.tanh(inPlace: $0.baseAddress!, xs.count, loops: which) }
            #expect(s.map(\.bitPattern) == si.map(\.bitPattern) && t.map(\.bitPattern) == ti.map(\.bitPattern))
            #expect(s.map(\.bitPattern) == xs.map { FastMath.sigmoid($0).bitPattern })
            return (s + t).map(\.bitPattern)
        }
        #expect(loops(.widest) == loops(.baseline))
    }
}

@Suite("Single-precision exp, expm1, sigmoid and tanh agree with the exact values to float rounding")
struct FastMathFloatTests {
    /// Relative error of a float result in units of 2^-23, against a double reference.
    func ulps(_ a: Float, _ b: Double) -> Double { b == 0 ? Double(abs(a)) / 1.1920928955078125e-07 : abs(Double(a) - b) / abs(b) / 1.1920928955078125e-07 }

    var grid: [Float] {
        var xs = stride(from: -40.0, through: 40.0, by: 0.0137).map { Float($0) }
        xs += [0, 1e-30, -1e-30, 1e-7, -3e-6, 0.3465, 0.3467, -0.3466, 80, -80, 87.9, -86.9]
        xs += stride(from: -1e-3, through: 1e-3, by: 3.3e-6).map { Float($0) }
        return xs
    }

    @Test func expAndExpm1() {
        var worstExp = 0.0, worstExpm1 = 0.0
        for x in grid where abs(x) <= 87 {
            worstExp = max(worstExp, ulps(FastMath.exp(x), Foundation.exp(Double(x))))
            worstExpm1 = max(worstExpm1, ulps(FastMath.expm1(x), Foundation.expm1(Double(x))))
        }
        #expect(worstExp <= 2, "expf: \(worstExp) ulp")
        #expect(worstExpm1 <= 2, "expm1f: \(worstExpm1) ulp")
    }

    @Test func sigmoidAndTanh() {
        var worstS = 0.0, worstT = 0.0
        for x in grid {
            let d = Double(x)
            let s = d >= 0 ? 1 / (1 + Foundation.exp(-d)) : Foundation.exp(d) / (1 + Foundation.exp(d))
            if s > 1e-37 { worstS = max(worstS, ulps(FastMath.sigmoid(x), s)) }
            worstT = max(worstT, ulps(FastMath.tanh(x), Foundation.tanh(d)))
        }
        #expect(worstS <= 3, "sigmoid: \(worstS) ulp")
        #expect(worstT <= 3, "tanh: \(worstT) ulp")
        #expect(FastMath.tanh(Float(100)) == 1 && FastMath.tanh(Float(-100)) == -1)
        #expect(FastMath.sigmoid(Float(100)) == 1 && FastMath.sigmoid(Float(-100)) < 1e-37)
        #expect(FastMath.tanh(Float(1e-30)) == 1e-30)
    }

    /// Eight floats a step with AVX2, four without: the same bits, in place or not, and the
    /// same as the scalar functions.
    @Test func wideAndBaselineLoopsAgreeBitForBit() {
        let xs = grid + [.nan, .infinity, -.infinity, 1000, -1000]
        func loops(_ which: FastMath.Loops) -> [UInt32] {
            var s = [Float](repeating: 0, count: xs.count), t = s
            var si = xs, ti = xs
            xs.withUnsafeBufferPointer { x in
                s.withUnsafeMutableBufferPointer { FastMath.sigmoid(x.baseAddress!, $0.baseAddress!, xs.count, loops: which) }
                t.withUnsafeMutableBufferPointer { FastMath.tanh(x.baseAddress!, $0.baseAddress!, xs.count, loops: which) }
            }
            si.withUnsafeMutableBufferPointer { FastMath.sigmoid(inPlace: $0.baseAddress!, xs.count, loops: which) }
            ti.withUnsafeMutableBufferPointer { FastMath.tanh(inPlace: $0.baseAddress!, xs.count, loops: which) }
            #expect(s.map(\.bitPattern) == si.map(\.bitPattern) && t.map(\.bitPattern) == ti.map(\.bitPattern))
            #expect(s.map(\.bitPattern) == xs.map { FastMath.sigmoid($0).bitPattern })
            #expect(t.map(\.bitPattern) == xs.map { FastMath.tanh($0).bitPattern })
            return (s + t).map(\.bitPattern)
        }
        #expect(loops(.widest) == loops(.baseline))
    }
}
