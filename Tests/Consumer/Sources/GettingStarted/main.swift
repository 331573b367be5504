// GateLab's getting-started article as one program: build a cell from its equations, print
// them back from the graph, probe how fast its gradient vanishes, gradient-check it, and train
// it on the adding problem. Everything comes from `import GateLab`.
import Foundation
import GateLab

// 1. A cell from equations: the minimal gated unit (Zhou et al. 2016), written as a `.cell` text.
let source = """
    cell mgu
    state h
    f  = sigmoid(W_f x + U_f h + b_f)          # one gate for forgetting and updating
    hc = tanh(W_h x + U_h (f * h) + b_h)       # candidate, from the gated old state
    h' = (1 - f) * h + f * hc                  # new state
    """
let cell = try LanguageCell(source: source, file: "mgu.cell")

// Its equations, printed from the graph the engine differentiates (not from the text above).
print(try StepGraph(cell: cell).render(.text))

// 2. Probe: the gradient of a loss at the last of T = 300 steps, back to every earlier step.
let steps = 300, hidden = 16
let random = try RandomSource(seed: 1)
var network = RecurrentNetwork(cell: cell, inputSize: 1, hiddenSize: hidden)
try network.initialize(using: random)                                   // PyTorch's default
let setup = try ProbeSetup(network: network, batch: 1, steps: steps,
                           inputs: random.gaussianArray(count: steps),  // x ~ N(0, 1)
                           readout: random.gaussianArray(count: hidden, standardDeviation: 1 / Double(hidden).squareRoot()))
let probe = try GradientProbe.run(setup)
let log10Norms = probe.curves.topH                                      // log10 ‖∂L/∂h_t‖ by distance
print("probe: log10 ‖∂L/∂h_t‖ is \(String(format: "%.2f", log10Norms[0])) at the last step and "
      + "\(String(format: "%.2f", log10Norms[steps - 1])) \(steps - 1) steps back")

// 3. Gradient check: the engine's reverse pass against central differences over a sequence.
let check = try SequenceGradientCheck(cell: cell).run()
print("gradient check: \(check.passed ? "passed" : "FAILED") over \(check.tensors.count) tensors")

// 4. Train it on the adding problem (T = 20); training names its cell by a name or a file.
let folder = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-getting-started-\(getpid())")
try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
defer { try? FileManager.default.removeItem(at: folder) }
let file = folder.appendingPathComponent("mgu.cell").path
try source.write(toFile: file, atomically: true, encoding: .utf8)
var training = TrainingConfiguration()
training.cell = file
training.task = "adding"
training.length = 20
training.hidden = 16
training.updates = 300
training.evalEvery = 100
let record = try Trainer(training).run()
for point in record.evaluations {
    print("train: update \(point.update): validation loss \(String(format: "%.4f", point.loss))")
}

guard check.passed, log10Norms.allSatisfy({ $0.isFinite }), let last = record.evaluations.last,
      let first = record.evaluations.first, last.loss < first.loss else {
    print("getting started: something is wrong (see above)")
    exit(1)
}
print("getting started: done")
