// swift-tools-version: 6.0
import PackageDescription

/// `-O` in debug builds as well, for the targets holding the generic engine (`UnrolledOf<S>`,
/// `ProgramOf<S>`): `@_specialize` only takes effect in optimized code.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "GateLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gatelab", targets: ["gatelab"]),
        .library(name: "GateLab", targets: ["GateLabSupport", "GSLKit", "Autodiff", "GradCheck", "Cells", "CellLanguage", "Interchange", "Verification", "Experiments", "Probe", "GateLabTasks", "Training", "Reproductions"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        // Complex<Double> for complex-step derivatives: the forward pass run in complex
        // arithmetic gives f′ exactly to rounding (Im f(x + ih) / h, no subtraction), a check of
        // the reverse-mode gradients far below central differences' 1e-8 floor.
        .package(url: "https://github.com/apple/swift-numerics", from: "1.1.1"),
        // .npz files are ZIP archives: numpy.savez_compressed deflates them and large ones need
        // ZIP64. A maintained ZIP library instead of a hand-written stored-only reader/writer.
        .package(url: "https://github.com/weichsel/ZIPFoundation", exact: "0.9.20"),
    ],
    targets: [
        // C headers of GSL and CBLAS; links OpenBLAS *before* GSL so that every cblas_* call
        // (ours and GSL's own) resolves to OpenBLAS, not GSL's slow reference libgslcblas.
        .systemLibrary(name: "CGSLBLAS", path: "Sources/CGSLBLAS"),
        // The one Swift layer over GSL and BLAS: nothing else sees a GSL pointer or struct.
        .target(name: "GSLKit", dependencies: ["CGSLBLAS"]),
        // The reverse-mode graph: tensors, a closed set of primitives, programs, printing.
        // Generic in its scalar (Double, Float): optimized in debug builds too, since unspecialized
        // generic kernels run 40–100× slower (Notes/float32.md) and the tests run debug builds.
        // GateLabSupport: the CPUs this process may run on (how many parts the split uses).
        .target(name: "Autodiff", dependencies: ["GSLKit", "CWorker", "GateLabSupport", .product(name: "ComplexModule", package: "swift-numerics"), .product(name: "RealModule", package: "swift-numerics")], swiftSettings: optimizedInDebug),
        // The bottom layer, below every other module: what every layer needs and nothing
        // numerical (the one bounded reader of input files, the one count of the CPUs this
        // process may run on, the one suggester `didYouMean`). No dependencies.
        .target(name: "GateLabSupport"),
        // One helper thread that polls for work between the short parallel sections of a step.
        .target(name: "CWorker"),
        // Numerical gradient checking (full and directional).
        .target(name: "GradCheck", dependencies: ["GSLKit", "RecordKeys"]),
        // The one reader of records' older key spellings (GradCheck's reports, Reproductions' trials).
        .target(name: "RecordKeys"),
        // Recurrent cells written as equations, the unrolled network, the built-in cells' table.
        .target(name: "Cells", dependencies: ["Autodiff", "GSLKit"], swiftSettings: optimizedInDebug),
        // The cell language: `.cell` files compiled to cells, and resolving a cell name or path.
        .target(name: "CellLanguage", dependencies: ["Cells", "Autodiff", "GSLKit", "GateLabSupport"]),
        // PyTorch/Keras/numpy interchange: reference cases, and model files in `state_dict` layout
        // as .json, .npz (ZIP of .npy, through ZIPFoundation) or .safetensors, a .cell cell by its
        // parameter names; bare PyTorch state_dicts of nn.LSTM/GRU/RNN with no metadata.
        .target(name: "Interchange", dependencies: ["Cells", "CellLanguage", "Autodiff", "Experiments",
                                                    .product(name: "ZIPFoundation", package: "ZIPFoundation")]),
        // Gradient checks of whole unrolled sequences (GradCheck applied to a cell network; the
        // complex-step check; a cell against a parent cell).
        .target(name: "Verification", dependencies: ["Cells", "Autodiff", "GSLKit", "GradCheck"]),
        // One pipeline for every kind of experiment: the file reader, runner (resume, shards,
        // jobs), merge, Slurm scripts, progress, atomic files, record JSON and figures.
        .target(name: "Experiments", dependencies: ["GateLabSupport", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Probes of vanishing gradients, and the experiment kind `probe`.
        // GateLabTasks: a saved model's task, whose batches a probe can run on.
        .target(name: "Probe", dependencies: ["GateLabSupport", "GateLabTasks", "Cells", "CellLanguage", "Interchange", "Training", "Autodiff", "GSLKit", "Experiments", .product(name: "TOMLKit", package: "TOMLKit")]),
        // The one task library: every task's generator once (the long-time-lag tasks, the
        // papers' tasks of H&S 1997 and Gers et al. 2000, the Bach chorales), the task table
        // `Tasks`, and the two layouts built from the same sequences (batches for the engine,
        // one sequence at a time for online training). GSLKit: its `RandomSource`.
        // GateLabSupport: `didYouMean` in unknown-task messages. Interchange: the chorales' data
        // file is read with its `.npz` reader (the one array-file reader; no cycle, since
        // Interchange depends only on Cells, CellLanguage, Autodiff and Experiments).
        .target(name: "GateLabTasks", dependencies: ["GSLKit", "GateLabSupport", "Interchange"]),
        // Training on the tasks (their losses on the readout, the chorales' Bernoulli NLL among
        // them), and the experiment kind `train`. GateLabTasks: the tasks it trains on.
        .target(name: "Training", dependencies: ["GateLabSupport", "GateLabTasks", "Cells", "CellLanguage", "Autodiff", "GSLKit", "Experiments", "Interchange", .product(name: "TOMLKit", package: "TOMLKit")]),
        .executableTarget(
            name: "gatelab",
            dependencies: [
                "Cells", "CellLanguage", "Interchange", "Verification", "Autodiff", "GSLKit", "GradCheck", "Experiments", "Probe", "Training", "Reproductions",
                // The task names of `train --task` and a probe's task.
                "GateLabTasks",
                // The CPUs available: the default of `run --jobs`.
                "GateLabSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The papers' own set-ups (H&S 1997 Exps. 1–6, Gers et al. 2000 CERG): nets, truncated
        // RTRL, trials. GateLabTasks: the papers' tasks, streamed one sequence at a time.
        .target(name: "Reproductions", dependencies: ["GateLabTasks", "RecordKeys", "GSLKit", "Experiments", "Autodiff", "Cells", "CellLanguage", "Probe", .product(name: "TOMLKit", package: "TOMLKit")]),
        .testTarget(name: "GSLKitTests", dependencies: ["GSLKit"]),
        // GateLabTasks: the hand-made sequences the control and gradient tests run on.
        .testTarget(name: "ReproductionsTests", dependencies: ["Reproductions", "GateLabTasks", "GSLKit", "Experiments"]),
        // Each generator's structure and statistics, the task table, and the batch layout.
        .testTarget(name: "GateLabTasksTests", dependencies: ["GateLabTasks", "GSLKit"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "GradCheck", "GSLKit"]),
        .testTarget(name: "GradCheckTests", dependencies: ["GradCheck", "Autodiff", "GSLKit"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["Experiments"]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "Experiments", "Cells", "Interchange", "Autodiff", "GSLKit"]),
        .testTarget(name: "GateLabCLITests", dependencies: ["gatelab", "Cells", "CellLanguage", "Interchange", "FuzzSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "GateLabTasks", "Experiments", "Cells", "Autodiff", "GradCheck", "GSLKit", "Interchange", "CellLanguage"],
                    // PyTorch's optimizer steps (JSON, read by path) and the script that made them.
                    exclude: ["Fixtures"]),
        .testTarget(
            name: "CellsTests",
            dependencies: ["Cells", "CellLanguage", "Verification", "Autodiff", "GradCheck", "GSLKit"],
            // The reference cases, read from the source tree by path (InterchangeTests'
            // Fixtures.swift, the CLI and probe tests, the README's examples).
            exclude: ["Fixtures"]
        ),
        // GateLabTasks: the sequences on which the paper cell's engine run meets the reproductions' pass.
        .testTarget(name: "CellLanguageTests", dependencies: ["CellLanguage", "GateLabTasks", "Cells", "Verification", "Autodiff", "GradCheck", "GSLKit", "Reproductions", "Probe", "FuzzSupport"]),
        .testTarget(name: "InterchangeTests", dependencies: ["Interchange", "Cells", "Autodiff", "GSLKit"]),
        .testTarget(name: "VerificationTests", dependencies: ["Verification", "Cells", "GradCheck"]),
        // Mutated reference cases, weights files, checkpoints and experiment files, each input
        // bounded in CPU time; GATELAB_FUZZ_INPUTS sets how many (`make fuzz`: a long run).
        .testTarget(name: "FuzzTests", dependencies: ["Interchange", "Training", "Probe", "Experiments", "Cells", "GSLKit", "FuzzSupport"]),
        // What the three fuzz suites share (FuzzTests, LanguageFuzzTests, CommandLineFuzzTests):
        // one seeded generator (SplitMix64), their CPU-time and memory measures, the input count.
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),
    ],
    // Language mode 5: this is numerical code over unsafe buffers and a C library with global
    // state (GSL's error handler); strict-concurrency checking adds noise, not safety, here.
    swiftLanguageModes: [.v5]
)
