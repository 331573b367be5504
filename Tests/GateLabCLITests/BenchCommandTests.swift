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
}
