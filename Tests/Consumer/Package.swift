// swift-tools-version: 6.0
// A package outside GateLab's tree that depends on it by URL, as a user's would, and uses it
// through `import GateLab` only. `Tests/Consumer/check.sh` copies it out of the tree and builds
// and runs it against GateLab's current commit (GATELAB_URL, GATELAB_REVISION); `make test`
// runs that script. Its program is the getting-started article of the documentation, step by step.
import Foundation
import PackageDescription

let environment = ProcessInfo.processInfo.environment
guard let url = environment["GATELAB_URL"], let revision = environment["GATELAB_REVISION"] else {
    fatalError("set GATELAB_URL (a git URL of GateLab) and GATELAB_REVISION (a commit)")
}

// SwiftPM names a dependency by its URL's last component (`GateLab` for …/GateLab.git).
let last = url.split(separator: "/").last.map(String.init) ?? "GateLab"
let identity = last.hasSuffix(".git") ? String(last.dropLast(4)) : last

let package = Package(
    name: "GateLabConsumer",
    platforms: [.macOS(.v13)],
    dependencies: [
        // A revision rather than a version: GateLab builds part of its engine with `-O` in debug
        // builds too, a flag SwiftPM accepts from a dependency pinned to a revision or a branch.
        .package(url: url, revision: revision),
    ],
    targets: [
        .executableTarget(name: "GettingStarted", dependencies: [.product(name: "GateLab", package: identity)]),
    ]
)
