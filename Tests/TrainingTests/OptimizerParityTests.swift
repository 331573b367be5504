import Foundation
import Testing
@testable import GateLabTraining

/// GateLab's optimizers pinned to PyTorch's own float64 updates (`torch.optim.SGD` with
/// momentum, `Adam`, `RMSprop`) over five steps, at 1e-12 relative to each parameter. The
/// gradients include exact zeros and 1e-8, where the ε in Adam's and RMSprop's denominators
/// decides the step (without it a zero gradient gives 0/0, and 1e-8 a step twice as large), so
/// a dropped or misplaced ε fails here. Fixture: `Fixtures/optimizer-steps-pytorch.json`, made
/// once by `Fixtures/make_optimizer_steps.py`.
@Suite("Optimizers: PyTorch's float64 steps to 1e-12")
struct OptimizerParityTests {
    struct Fixture: Decodable {
        struct Run: Decodable {
            let lr: Double
            let parameters_after_each_step: [[[Double]]]
        }
        let initial: [[Double]]
        let gradients: [[[Double]]]
        let optimizers: [String: Run]
    }

    static let fixture: Fixture = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/optimizer-steps-pytorch.json")
        return try! JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
    }()

    @Test(arguments: OptimizerKind.allCases)
    func everyStepMatchesPyTorch(_ kind: OptimizerKind) throws {
        let run = try #require(Self.fixture.optimizers[kind.rawValue])
        var parameters = Self.fixture.initial
        var optimizer = Optimizer(kind: kind)
        for (step, gradients) in Self.fixture.gradients.enumerated() {
            optimizer.update(&parameters, gradients: gradients, rate: run.lr)
            let expected = run.parameters_after_each_step[step]
            for (p, tensor) in expected.enumerated() {
                for (i, want) in tensor.enumerated() {
                    let got = parameters[p][i]
                    #expect(abs(got - want) <= 1e-12 * max(abs(want), 1e-3),
                            "\(kind) step \(step + 1), tensor \(p)[\(i)]: GateLab \(got), PyTorch \(want)")
                }
            }
        }
    }
}
