import Foundation
import Testing

@Suite("gatelab bench")
struct BenchCommandTests {
    /// A small configs file: one JSON line per configuration with every documented field, the
    /// DGEMM rate measured alongside it, and the fraction consistent with both rates.
    @Test func printsOneLinePerConfigurationWithItsDGEMMFraction() throws {
        let dir = try TemporaryDirectory()
        let configs = dir.url.appendingPathComponent("configs.json")
        try Data("""
            {"configs": [
              {"name": "tiny-lstm", "cell": "lstm", "batch": 4, "input": 3, "hidden": 8, "steps": 20},
              {"name": "tiny-gru", "cell": "gru", "batch": 2, "input": 1, "hidden": 5, "steps": 30}
            ]}
            """.utf8).write(to: configs)
        let run = try CommandLineTool.run(["bench", "--configs", configs.path, "--repetitions", "3", "--json"])
        #expect(run.status == 0, "\(run)")
        let objects = try run.lines.map { try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any] }
        #expect(objects.count == 3)
        for (object, name) in zip(objects, ["tiny-lstm", "tiny-gru"]) {
            #expect(object["name"] as? String == name)
            for key in ["B", "I", "H", "T", "fwd_bwd_s", "gflops", "peak_rss_mb", "dgemm_gflops", "dgemm_fraction"] {
                #expect(object[key] is NSNumber, "\(name): \(key) missing in \(object)")
            }
            let (gflops, rate, fraction) = (object["gflops"] as! Double, object["dgemm_gflops"] as! Double, object["dgemm_fraction"] as! Double)
            #expect(gflops > 0 && rate > 0)
            // Printed to at least 3 decimals (fraction) and 2 (the rates; small values keep 3
            // significant digits, so a loaded machine never prints a rate of 0): the rounding bounds the gap.
            #expect(abs(fraction - gflops / rate) <= 0.0005 + 0.005 / rate + 0.005 * gflops / (rate * rate) + 1e-9,
                    "\(fraction) vs \(gflops) / \(rate)")
            // Every repetition, and fwd_bwd_s their median.
            // The cores' round trip, twice before and twice after, when there are two CPUs.
            if ProcessInfo.processInfo.activeProcessorCount >= 2 {
                let trips = try #require(object["core_round_trip_ns"] as? [Double], "\(object)")
                #expect(trips.count == 4 && trips.allSatisfy { $0 > 1 && $0 < 1e6 }, "\(trips)")
            }
            let all = try #require(object["fwd_bwd_all_s"] as? [Double], "\(object)")
            #expect(all.count == 3 && all.allSatisfy { $0 > 0 })
            #expect(abs(all.sorted()[1] - (object["fwd_bwd_s"] as! Double)) <= 1e-6, "\(all)")
        }
        #expect(objects[2]["dgemm_gflops"] is NSNumber && objects[2]["blas"] is String)
    }

    @Test func anUnknownConfigurationIsAClearError() throws {
        let run = try CommandLineTool.run(["bench", "--only", "no-such-config", "--json"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("no-such-config"), "\(run)")
    }

    /// `--long-steps` in float32: checkpointed within the budget (a float32 step takes half
    /// the storage, so a segment is longer than float64's), the line says "f32", and over a
    /// sequence short enough for the gradient to survive, ‖∂L/∂x_0‖ agrees with float64's to
    /// float32's rounding.
    @Test func longStepsRunInFloat32() throws {
        func line(_ arguments: [String]) throws -> [String: Any] {
            let run = try CommandLineTool.run(["bench", "--json"] + arguments)
            #expect(run.status == 0, "\(run)")
            return try #require(try JSONSerialization.jsonObject(with: Data((run.lines.last ?? "").utf8)) as? [String: Any], "\(run)")
        }
        let long32 = try line(["--long-steps", "3000", "--memory-budget", "5", "--precision", "f32"])
        let long64 = try line(["--long-steps", "3000", "--memory-budget", "5"])
        #expect(long32["precision"] as? String == "f32" && long64["precision"] == nil)
        let (s32, s64) = (try #require(long32["segment"] as? Int), try #require(long64["segment"] as? Int))
        #expect(s32 < 3000 && s64 < s32, "segments: float32 \(s32), float64 \(s64)")
        let short32 = try line(["--long-steps", "30", "--precision", "f32"]), short64 = try line(["--long-steps", "30"])
        let (g32, g64) = (try #require(short32["grad_norm_x0"] as? Double), try #require(short64["grad_norm_x0"] as? Double))
        #expect(g64 > 0 && abs(g32 - g64) <= 1e-4 * g64, "float32 \(g32), float64 \(g64)")
    }
}

