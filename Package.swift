// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "GateLab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "gatelab", targets: ["gatelab"]),
        .library(name: "GateLab", targets: ["GSLKit", "Autodiff", "GradCheck", "Cells", "Probe", "Training"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
    ],
    targets: [
        // C headers of GSL and CBLAS; links OpenBLAS *before* GSL so that every cblas_* call
        // (ours and GSL's own) resolves to OpenBLAS, not GSL's slow reference libgslcblas.
        .systemLibrary(name: "CGSLBLAS", path: "Sources/CGSLBLAS"),
        // The one Swift layer over GSL and BLAS: nothing else sees a GSL pointer or struct.
        .target(name: "GSLKit", dependencies: ["CGSLBLAS"]),
        // The reverse-mode graph: tensors, a closed set of primitives, programs, printing.
        .target(name: "Autodiff", dependencies: ["GSLKit", "CWorker"]),
        // One helper thread that polls for work between the short parallel sections of a step.
        .target(name: "CWorker"),
        // Numerical gradient checking (full and directional).
        .target(name: "GradCheck", dependencies: ["GSLKit"]),
        // Recurrent cells written as equations, unrolling, PyTorch/Keras interchange.
        .target(name: "Cells", dependencies: ["Autodiff", "GSLKit", "GradCheck"]),
        // Probes of vanishing gradients, the experiment runner, results and reports.
        .target(name: "Probe", dependencies: ["Cells", "Autodiff", "GSLKit", .product(name: "TOMLKit", package: "TOMLKit")]),
        // Long-time-lag tasks (adding, copy, recall, agreement, temporal order) and training.
        .target(name: "Training", dependencies: ["Cells", "Autodiff", "GSLKit", "Probe", .product(name: "TOMLKit", package: "TOMLKit")]),
        .executableTarget(
            name: "gatelab",
            dependencies: [
                "Cells", "Autodiff", "GSLKit", "GradCheck", "Probe", "Training",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // The papers' own set-ups (H&S 1997 Exps. 1–6, Gers et al. 2000 CERG): tasks, nets, truncated RTRL.
        .target(name: "Reproductions", dependencies: ["GSLKit"]),
        .testTarget(name: "GSLKitTests", dependencies: ["GSLKit"]),
        .testTarget(name: "ReproductionsTests", dependencies: ["Reproductions", "GSLKit"]),
        .testTarget(name: "AutodiffTests", dependencies: ["Autodiff", "GradCheck", "GSLKit"]),
        .testTarget(name: "GradCheckTests", dependencies: ["GradCheck", "Autodiff", "GSLKit"]),
        .testTarget(name: "ProbeTests", dependencies: ["Probe", "Cells", "Autodiff", "GSLKit"]),
        .testTarget(name: "GateLabCLITests", dependencies: ["gatelab", "Cells"]),
        .testTarget(name: "TrainingTests", dependencies: ["Training", "Cells", "Autodiff", "GradCheck", "GSLKit"]),
        .testTarget(
            name: "CellsTests",
            dependencies: ["Cells", "Autodiff", "GradCheck", "GSLKit"],
            exclude: ["Fixtures"]  // read from the source tree by path (see Fixtures.swift)
        ),
    ],
    // Language mode 5: this is numerical code over unsafe buffers and a C library with global
    // state (GSL's error handler); strict-concurrency checking adds noise, not safety, here.
    swiftLanguageModes: [.v5]
)
