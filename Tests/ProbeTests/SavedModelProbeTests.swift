import Foundation
import GateLabInterchange
import GateLabProbe
import GateLabProbeExperiments
import Testing

/// A network trained in PyTorch and exported with safetensors and numpy.savez probes in GateLab
/// with the per-step gradient norms PyTorch computed (Tests/CellsTests/Fixtures/models,
/// make_fixtures.py: retain_grad on every step's state).
@Suite("Probing networks trained in PyTorch")
struct SavedModelProbeTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CellsTests/Fixtures/models")

    @Test(arguments: ["lstm.safetensors", "lstm.npz", "gru.safetensors", "gru.npz"])
    func gradientNormsEqualPyTorchs(file: String) throws {
        let model = try SavedModel.read(Self.directory.appendingPathComponent("pytorch-" + file).path)
        let cell = String(file.split(separator: ".")[0])
        let ref = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.directory.appendingPathComponent("pytorch-\(cell).probe.json"))) as! [String: Any]
        let x = (ref["x"] as! [[[Double]]]).flatMap { $0.flatMap { $0 } }, r = ref["r"] as! [Double]
        let expected = ref["log10_h"] as! [Double]
        let setup = try ProbeSetup(network: model.network, batch: 1, steps: expected.count, inputs: x, readout: r)
        let curve = try GradientProbe.run(setup).curves.topH
        #expect(curve.count == expected.count)
        let worst = zip(curve, expected).map { abs($0 - $1) }.max()!
        print("max |Δ log10‖∂L/∂h_t‖| GateLab − PyTorch, \(file): \(worst)")
        #expect(worst <= 1e-12, "\(worst)")
        #expect(expected.last! < expected.first! - 1)   // the gradient does fall over the 40 steps
    }
}
