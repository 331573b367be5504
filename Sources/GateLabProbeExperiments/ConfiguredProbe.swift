import GateLabAutodiff
import GateLabCells
import GateLabGSL
import GateLabInterchange
import GateLabProbe

// The probe of a grid point: the setup a `ProbeConfiguration` describes, seeded.

extension ProbeSetup {
    /// The seeded setup of `configuration`: weights, then inputs, then readout, all from one
    /// `mt19937` stream seeded with `configuration.seed` (see `ProbeConfiguration`).
    public init(configuration c: ProbeConfiguration) throws {
        let rng = try RandomSource(seed: c.seed, generator: "mt19937")
        var network: RecurrentNetwork
        if let path = c.weights {
            let model = try SavedModel.read(path)
            network = model.network
            if c.taskInputs {
                let task = try Self.task(of: model, file: path)
                let x = task.batch(size: c.batch, using: rng).inputs
                let scale = 1 / Double(c.hiddenSize).squareRoot()
                let r = rng.gaussianArray(count: c.batch * c.hiddenSize).map { $0 * scale }
                try self.init(network: network, batch: c.batch, steps: task.steps, inputs: x, readout: r)
                precision = c.precision
                return
            }
        } else {
            network = RecurrentNetwork(cell: BuiltinCells.named(c.cell)!, inputSize: c.inputSize, hiddenSize: c.hiddenSize, layers: c.layers)
            try network.initialize(c.initialization, using: rng)
        }
        let x = rng.gaussianArray(count: c.steps * c.batch * c.inputSize).map { $0 * c.inputScale }
        let scale = 1 / Double(c.hiddenSize).squareRoot()
        let r = rng.gaussianArray(count: c.batch * c.hiddenSize).map { $0 * scale }
        try self.init(network: network, batch: c.batch, steps: c.steps, inputs: x, readout: r)
        precision = c.precision
    }

}

extension GradientProbe {
    /// Runs the seeded probe `configuration` describes.
    public static func run(_ configuration: ProbeConfiguration, memoryBudget: Int? = nil, execution: Execution = .fast) throws -> ProbeResult {
        var setup = try ProbeSetup(configuration: configuration)
        setup.memoryBudget = memoryBudget
        setup.execution = execution
        return try run(setup, settings: configuration.summary)
    }

}
