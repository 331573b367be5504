// swift-tools-version: 6.0
import PackageDescription

// GateLab's modules, bottom to top. Every module is named GateLab… (C ones CGateLab…) so that none
// can collide with another package's `Cells` or `Training`; `GateLab` is the umbrella that
// re-exports the public API (`import GateLab`). Beside every dependency edge: what it is for.
//
//   GateLabSupport                 files, records, checksums, CPU count, suggestions (no deps)
//   GateLabGSL                     GSL and BLAS behind Swift types
//   GateLabAutodiff                the reverse-mode graph
//   GateLabGradCheck               numerical gradient checks of any function
//   GateLabCells, GateLabCellLanguage   cells as equations; `.cell` files
//   GateLabInterchange             PyTorch/Keras/numpy files
//   GateLabVerification            gradient checks of unrolled sequences
//   GateLabTasks                   the task library
//   GateLabExperiments             the one experiment pipeline (files, runner, reports)
//   GateLabProbe                   the gradient probe (a tool the kinds share)
//   GateLabProbeExperiments, GateLabTraining, GateLabReproductions   the three experiment kinds
//   GateLab                        the umbrella; GateLabCLI is the `gatelab` command

/// `-O` in debug builds as well, for the targets holding the generic engine (`UnrolledOf<S>`,
/// `ProgramOf<S>`): `@_specialize` only takes effect in optimized code, and unspecialized
/// generic kernels run 40–100× slower (Notes/float32.md); the tests run debug builds.
let optimizedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let numerics: [Target.Dependency] = [
    .product(name: "ComplexModule", package: "swift-numerics"),
    .product(name: "RealModule", package: "swift-numerics"),
]
let toml: Target.Dependency = .product(name: "TOMLKit", package: "TOMLKit")

let package = Package(
    name: "GateLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gatelab", targets: ["GateLabCLI"]),
        .library(name: "GateLab", targets: ["GateLab"]),
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
        // `swift package generate-documentation`: the DocC archive of the `GateLab` module.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // MARK: C

        // C headers of GSL and CBLAS; links OpenBLAS *before* GSL so that every cblas_* call
        // (ours and GSL's own) resolves to OpenBLAS, not GSL's slow reference libgslcblas.
        .systemLibrary(name: "CGateLabGSL", path: "Sources/CGateLabGSL"),
        // One helper thread that polls for work between the short parallel sections of a step.
        .target(name: "CGateLabWorker"),
        // exp, expm1, σ and tanh over whole arrays, vectorised (AVX2 where the CPU has it).
        .target(name: "CGateLabFastMath"),
        // The float32 step's matrix products, reading the weight in place (AVX-512 tiles).
        .target(name: "CGateLabStepProduct"),

        // MARK: Foundations

        // The bottom layer, below every other module: what every layer needs and nothing
        // numerical — the one bounded reader of input files and the one atomic, confined writer
        // (`Files`), record JSON and sealed lines, content hashes and the record format, the
        // reader of older record keys, number formatting, the one count of the CPUs this
        // process may run on, the one suggester `didYouMean`. No dependencies.
        .target(name: "GateLabSupport"),
        // The one Swift layer over GSL and BLAS: nothing else sees a GSL pointer or struct.
        .target(name: "GateLabGSL", dependencies: [
            "CGateLabGSL",      // the C library it wraps
        ]),
        // The reverse-mode graph: tensors, a closed set of primitives, programs, printing.
        // Generic in its scalar (Double, Float), optimized in debug builds too.
        .target(name: "GateLabAutodiff", dependencies: [
            "GateLabGSL",       // matrix products through BLAS
            "CGateLabWorker",   // the helper thread of the split step
            "CGateLabFastMath", // the activations over whole arrays
            "CGateLabStepProduct", // the float32 step products
            "GateLabSupport",   // the CPUs this process may run on (how many parts the split uses)
        ] + numerics,           // complex forward passes (complex-step derivatives)
        swiftSettings: optimizedInDebug),
        // Numerical gradient checking (full and directional) of any function of arrays.
        .target(name: "GateLabGradCheck", dependencies: [
            "GateLabGSL",       // statistics of the relative errors
            "GateLabSupport",   // reports written with older key spellings
        ]),

        // MARK: Cells

        // Recurrent cells written as equations, the unrolled network, the built-in cells' table.
        .target(name: "GateLabCells", dependencies: [
            "GateLabAutodiff",  // the equations are graph expressions
            "GateLabGSL",       // seeded initializers
        ], swiftSettings: optimizedInDebug),
        // The cell language: `.cell` files compiled to cells, and resolving a cell name or path.
        .target(name: "GateLabCellLanguage", dependencies: [
            "GateLabCells",     // a compiled file is a `Cell`
            "GateLabAutodiff",  // its equations become graph expressions
            "GateLabGSL",       // initializers named in the file
            "GateLabSupport",   // bounded reads of cell files, did-you-mean in messages
        ]),
        // PyTorch/Keras/numpy interchange: reference cases, and model files in `state_dict` layout
        // as .json, .npz or .safetensors, a .cell cell by its parameter names; bare PyTorch
        // state_dicts of nn.LSTM/GRU/RNN with no metadata.
        .target(name: "GateLabInterchange", dependencies: [
            "GateLabCells",         // the cells whose weights the files hold
            "GateLabCellLanguage",  // a `.cell` file named in a model file
            "GateLabAutodiff",      // reference cases run through the engine
            "GateLabSupport",       // bounded reads, atomic writes, checksums
            .product(name: "ZIPFoundation", package: "ZIPFoundation"),  // .npz archives
        ]),
        // Gradient checks of whole unrolled sequences (GradCheck applied to a cell network; the
        // complex-step check; a cell against a parent cell).
        .target(name: "GateLabVerification", dependencies: [
            "GateLabCells",     // the networks it checks
            "GateLabAutodiff",  // their programs, run in real and complex arithmetic
            "GateLabGSL",       // seeded points of the check
            "GateLabGradCheck", // the numerical differences
        ]),

        // MARK: Experiments

        // The one task library: every task's generator once (the long-time-lag tasks, the
        // papers' tasks of H&S 1997 and Gers et al. 2000, the Bach chorales), the task table
        // `Tasks`, and the two layouts built from the same sequences (batches for the engine,
        // one sequence at a time for online training).
        .target(name: "GateLabTasks", dependencies: [
            "GateLabGSL",           // every generator draws from a seeded `RandomSource`
            "GateLabSupport",       // did-you-mean in unknown-task messages
            "GateLabInterchange",   // the chorales' data file is an .npz
        ]),
        // One pipeline for every kind of experiment: the file reader, runner (resume, shards,
        // jobs), merge, Slurm scripts, progress, reports and figures.
        .target(name: "GateLabExperiments", dependencies: [
            "GateLabSupport",   // files, records, hashes
            toml,               // experiment files
        ]),
        // The probe of vanishing gradients: ‖∂L/∂h_t‖ over t past float64 underflow, the
        // step Jacobians, the decay fit. A tool, not an experiment kind, so that the kinds that
        // use it (the probe kind, the reproductions' gradient profile) are siblings.
        .target(name: "GateLabProbe", dependencies: [
            "GateLabCells",         // the networks it probes
            "GateLabAutodiff",      // the reverse pass it measures
            "GateLabGSL",           // SVDs, fits
            "GateLabTasks",         // probing on a task's batches (a saved model's task)
            "GateLabInterchange",   // probing a saved model or a reference case
        ]),
        // The experiment kind `probe`: grids of seeded probes, their records and report.
        .target(name: "GateLabProbeExperiments", dependencies: [
            "GateLabProbe",         // what each point runs
            "GateLabExperiments",   // it is an experiment kind
            "GateLabCells",         // the networks of its grid
            "GateLabCellLanguage",  // cells given by file
            "GateLabAutodiff",      // precisions, executors
            "GateLabGSL",           // seeded inputs, statistics over seeds
            "GateLabInterchange",   // a saved model as a grid's network
            "GateLabSupport",       // files, records
            toml,
        ]),
        // Training on the tasks (their losses on the readout, the chorales' Bernoulli NLL among
        // them), the experiment kind `train` and the variant studies (`study`).
        .target(name: "GateLabTraining", dependencies: [
            "GateLabExperiments",   // `train` and `study` are experiment kinds
            "GateLabTasks",         // the tasks it trains on
            "GateLabCells",         // the networks it trains
            "GateLabCellLanguage",  // cells given by file
            "GateLabAutodiff",      // the gradients
            "GateLabGSL",           // initializers, the studies' statistics and fits
            "GateLabInterchange",   // saved models and checkpoints
            "GateLabSupport",       // files, records
            toml,
        ]),
        // The papers' own set-ups (H&S 1997 Exps. 1–6, Gers et al. 2000 CERG): nets, truncated
        // RTRL, trials, and the experiment kind `reproduction`.
        .target(name: "GateLabReproductions", dependencies: [
            "GateLabExperiments",   // `reproduction` is an experiment kind
            "GateLabTasks",         // the papers' tasks, streamed one sequence at a time
            "GateLabGSL",           // the papers' initializations
            "GateLabAutodiff",      // the full gradient by the engine; a trained net carried into it
            "GateLabCells",         // … as a network of the papers' cell files or the tanh RNN
            "GateLabCellLanguage",  // … compiled from the files' text
            "GateLabProbe",         // the gradient profile of trained 1997 nets
            "GateLabSupport",       // records in older key spellings
            toml,
        ]),

        // MARK: Products

        // The umbrella: `import GateLab` gives every module's public API, and its DocC catalog
        // the getting-started article.
        .target(name: "GateLab", dependencies: [
            "GateLabSupport", "GateLabGSL", "GateLabAutodiff", "GateLabGradCheck", "GateLabCells",
            "GateLabCellLanguage", "GateLabInterchange", "GateLabVerification", "GateLabTasks",
            "GateLabExperiments", "GateLabProbe", "GateLabProbeExperiments", "GateLabTraining", "GateLabReproductions",
        ]),
        // The `gatelab` command: a thin layer of argument parsing over the library.
        .executableTarget(name: "GateLabCLI", dependencies: [
            "GateLab",          // everything it runs
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // MARK: Tests

        .testTarget(name: "GSLKitTests", dependencies: ["GateLabGSL"]),
        // GateLabTasks: the hand-made sequences the control and gradient tests run on.
        // HandWrittenBPTT: the plain reverse passes the engine's full gradient is checked against.
        .testTarget(name: "ReproductionsTests", dependencies: ["GateLabSupport", "GateLabReproductions", "GateLabTasks", "GateLabGSL", "GateLabExperiments", "HandWrittenBPTT"],
),
        // Each generator's structure and statistics, the task table, and the batch layout.
        .testTarget(name: "GateLabTasksTests", dependencies: ["GateLabTasks", "GateLabGSL"]),
        .testTarget(name: "AutodiffTests", dependencies: ["GateLabAutodiff", "GateLabGradCheck", "GateLabGSL"]),
        .testTarget(name: "GradCheckTests", dependencies: ["GateLabGradCheck", "GateLabAutodiff", "GateLabGSL"]),
        .testTarget(name: "SupportTests", dependencies: ["GateLabSupport"]),
        .testTarget(name: "ExperimentsTests", dependencies: ["GateLabSupport", "GateLabExperiments"]),
        .testTarget(name: "ProbeTests", dependencies: ["GateLabSupport", "GateLabProbe", "GateLabProbeExperiments", "GateLabExperiments", "GateLabCells", "GateLabInterchange", "GateLabAutodiff", "GateLabGSL"]),
        // Runs the built `gatelab` binary (GateLabCLI: built before the tests run).
        // GateLabTraining, GateLabReproductions: their settings tables, which `gatelab train` must offer whole.
        .testTarget(name: "GateLabCLITests", dependencies: ["GateLabCLI", "GateLabCells", "GateLabCellLanguage", "GateLabInterchange", "GateLabTraining", "GateLabReproductions", "GateLabProbeExperiments", "GateLabSupport", "FuzzSupport"]),
        .testTarget(name: "TrainingTests", dependencies: ["GateLabSupport", "GateLabTraining", "GateLabTasks", "GateLabExperiments", "GateLabCells", "GateLabAutodiff", "GateLabGradCheck", "GateLabGSL", "GateLabInterchange", "GateLabCellLanguage"],
                    // PyTorch's optimizer steps (JSON, read by path) and the script that made them.
                    exclude: ["Fixtures"]),
        .testTarget(
            name: "CellsTests",
            dependencies: ["GateLabCells", "GateLabCellLanguage", "GateLabVerification", "GateLabAutodiff", "GateLabGradCheck", "GateLabGSL"],
            // The reference cases, read from the source tree by path (InterchangeTests'
            // Fixtures.swift, the CLI and probe tests, the README's examples).
            exclude: ["Fixtures"]
        ),
        // GateLabTasks: the sequences on which the paper cell's engine run meets the reproductions' pass.
        .testTarget(name: "CellLanguageTests", dependencies: ["GateLabCellLanguage", "GateLabTasks", "GateLabCells", "GateLabVerification", "GateLabAutodiff", "GateLabGradCheck", "GateLabGSL", "GateLabReproductions", "GateLabProbe", "FuzzSupport", "HandWrittenBPTT"]),
        .testTarget(name: "InterchangeTests", dependencies: ["GateLabInterchange", "GateLabCells", "GateLabAutodiff", "GateLabGSL"]),
        .testTarget(name: "VerificationTests", dependencies: ["GateLabVerification", "GateLabCells", "GateLabGradCheck"]),
        // Mutated reference cases, weights files, checkpoints and experiment files, each input
        // bounded in CPU time; GATELAB_FUZZ_INPUTS sets how many (`make fuzz`: a long run).
        .testTarget(name: "FuzzTests", dependencies: ["GateLabSupport", "GateLabInterchange", "GateLabTraining", "GateLabProbe", "GateLabProbeExperiments", "GateLabExperiments", "GateLabCells", "GateLabGSL", "FuzzSupport"]),
        // What the three fuzz suites share (FuzzTests, LanguageFuzzTests, CommandLineFuzzTests):
        // one seeded generator (SplitMix64), their CPU-time and memory measures, the input count.
        .target(name: "FuzzSupport", path: "Tests/FuzzSupport"),
        // The papers' networks' forward and reverse passes written by hand, one loop per
        // equation (full and truncated gradient; the tanh-RNN control): what ReproductionsTests
        // and CellLanguageTests check the engine's full gradient and the truncated RTRL against.
        // The product computes neither this way.
        .target(name: "HandWrittenBPTT", dependencies: ["GateLabReproductions", "GateLabTasks"], path: "Tests/HandWrittenBPTT"),
    ],
    // Language mode 5: this is numerical code over unsafe buffers and a C library with global
    // state (GSL's error handler); strict-concurrency checking adds noise, not safety, here.
    swiftLanguageModes: [.v5]
)
