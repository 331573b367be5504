import GateLabAutodiff
@testable import GateLabExperiments
import Foundation
import GateLabGSL
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments

/// The probe in float32: beside the exact (rescaled) curve, what an ordinary float32 reverse
/// pass carries, which underflows to subnormal numbers and then to exactly 0.
@Suite("Probe: float32")
struct Float32ProbeTests {
    /// A contracting tanh RNN (W_hh = 0.5·Q): the exact norm falls by about 0.3 decades a step.
    func contracting(precision: Precision) throws -> ProbeConfiguration {
        var c = try ProbeConfiguration(cell: "rnn", steps: 400, hiddenSize: 32, recurrentInit: .orthogonal(gain: 0.5), seed: 3,
                                       summary: SummarySettings(jacobianSamples: 1))
        c.precision = precision
        return c
    }

    /// The carried gradient reaches exactly 0 where the exact norm has fallen to about float32's
    /// smallest subnormal, 2^-149 ≈ 1.4e-45 (log10 −44.85), and its largest element becomes
    /// subnormal where the exact norm is about 2^-126 ≈ 1.2e-38 (log10 −37.93; the norm of 32
    /// units is at most √32 times the largest, +0.75 decades). Distances taken from the rescaled
    /// carry would never reach 0 (it is renormalized every step), so this fails for them.
    @Test func carriedGradientUnderflowsWhereTheExactDecaySaysItMust() throws {
        let result = try GradientProbe.run(try contracting(precision: .f32))
        let carried = try #require(result.carried)
        let exact = result.curves.topH
        let zero = try #require(carried.zeroDistance, "the float32 gradient never reached 0 within T = 400")
        let subnormal = try #require(carried.subnormalDistance)
        #expect(subnormal < zero)
        #expect((-47.0 ... -43.5).contains(exact[zero]), "exact log10 norm at the first exact zero: \(exact[zero])")
        #expect(exact[zero - 1] > -47, "exact log10 norm one step before the zero: \(exact[zero - 1])")
        #expect((-39.0 ... -37.1).contains(exact[subnormal]), "exact log10 norm where the largest element turns subnormal: \(exact[subnormal])")
        #expect(exact[subnormal - 1] >= -37.93 - 1e-6, "one step earlier the largest element was normal, so the norm was ≥ 2^-126")
        // Where it is far from underflow the carried norm is the exact one, to float32 rounding.
        for k in exact.indices where carried.log10H[k] > -30 {
            #expect(abs(carried.log10H[k] - exact[k]) < 1e-4, "k = \(k): carried \(carried.log10H[k]), exact \(exact[k])")
        }
        // Past the zero it stays 0 (the loss is at the last step only), and the exact curve goes on.
        #expect(carried.log10H[zero...].allSatisfy { $0 == -.infinity })
        #expect(exact.last!.isFinite && exact.last! < -100)
        // The float32 exact curve follows the float64 one to float32 rounding.
        let f64 = try GradientProbe.run(try contracting(precision: .f64))
        #expect(f64.carried == nil)
        let worst = zip(f64.curves.topH, exact).map { abs($0 - $1) }.max()!
        #expect(worst < 1e-3 && worst > 0, "float32 and float64 exact curves differ by up to \(worst) decades")
    }

    /// A float32 record says so and carries the distances; a float64 record has none of the keys
    /// (so float64 records keep their bytes), and both read back equal.
    @Test func recordsRoundTripAndFloat64OmitsTheKeys() throws {
        var c32 = try contracting(precision: .f32), c64 = try contracting(precision: .f64)
        c32.steps = 200; c64.steps = 200
        c32.summary.jacobianSamples = 0; c64.summary.jacobianSamples = 0
        let r32 = ProbeRecord(version: "test", configuration: c32, result: try GradientProbe.run(c32))
        let r64 = ProbeRecord(version: "test", configuration: c64, result: try GradientProbe.run(c64))
        #expect(r32.jsonLine.contains("\"precision\":\"f32\""))
        #expect(r32.jsonLine.contains("\"f32_zero_distance\":"))
        for key in ["precision", "f32_zero_distance", "f32_subnormal_distance", "f32_log10_h_carried"] {
            #expect(!r64.jsonLine.contains("\"\(key)\""))
        }
        #expect(try ProbeRecord(jsonLine: r32.jsonLine, context: "r32") == r32)
        #expect(try ProbeRecord(jsonLine: r32.jsonLine, context: "r32").carried == r32.carried)
        #expect(try ProbeRecord(jsonLine: r64.jsonLine, context: "r64").configuration.precision == .f64)
        #expect(GridPoint(configuration: c32, origin: "").id != GridPoint(configuration: c64, origin: "").id)
    }
}

/// A probe experiment with float32 points: the float64 sections keep to the float64 groups, the
/// float32 section lists the float32 ones, and the tables stay rectangular.
@Suite("Probe: float32 points in an experiment")
struct Float32ExperimentTests {
    static let text = """
        name = "f32-test"
        kind = "probe"
        [defaults]
        hidden = 8
        steps = 300
        seeds = 2
        jacobian_samples = 0
        [[grid]]
        cell = "rnn"
        recurrent_init = "orthogonal(0.5)"
        [[grid]]
        cell = "rnn"
        recurrent_init = "orthogonal(0.5)"
        precision = "f32"
        """

    @Test func theReportHasAFloat32SectionAndFloat64SectionsWithoutIt() throws {
        let scratch = try ScratchDirectory()
        let file = scratch.path + "/f32-test.toml"
        try Self.text.write(toFile: file, atomically: true, encoding: .utf8)
        let e = try ProbeExperiment(contentsOf: file)
        #expect(e.points.map(\.configuration.precision) == [.f64, .f64, .f32, .f32])
        var o = RunOptions(version: "test-version")
        o.outputDirectory = scratch.path + "/out"
        o.progress = .silent
        o.gnuplot = "/nonexistent/gnuplot"
        _ = try ExperimentRunner(experiment: e, options: o).run()
        let report = try String(contentsOfFile: o.outputDirectory! + "/report.md", encoding: .utf8)
        let sections = report.components(separatedBy: "\n## ")
        let summary = try #require(sections.first { $0.hasPrefix("Summary") })
        #expect(summary.contains("| rnn | 300 | 2 | ") && !summary.contains("float32"), "\(summary)")
        let float32 = try #require(sections.first { $0.hasPrefix("Float32: how far back the gradient survives") })
        let row = try #require(float32.split(separator: "\n").first { $0.hasPrefix("| rnn, float32 | 300 | 2 | ") })
        // Both seeds reach 0 within 300 steps (the exact norm falls ~0.3 decades a step).
        let cells = row.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        #expect(!cells[5].hasPrefix("not within T") && Double(cells[5].split(separator: " ")[0]) != nil, "\(row)")
        let points = try String(contentsOfFile: o.outputDirectory! + "/points.csv", encoding: .utf8).split(separator: "\n")
        let header = csvFields(points[0])
        #expect(points.allSatisfy { csvFields($0).count == header.count })
        let precision = try #require(header.firstIndex(of: "precision"))
        #expect(points.dropFirst().map { csvFields($0)[precision] } == ["", "", "f32", "f32"])
        #expect(header.contains("f32_zero_distance"))
    }
}
