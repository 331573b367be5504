import Foundation
import Testing

/// What one run of the built `gatelab` binary produced.
struct ToolRun: CustomStringConvertible {
    var status: Int32
    var stdout: String
    var stderr: String
    /// Non-empty lines of stdout.
    var lines: [String] { stdout.split(separator: "\n").map(String.init) }
    /// Non-empty lines of stderr.
    var errorLines: [String] { stderr.split(separator: "\n").map(String.init) }
    var description: String { "exit \(status)\n--- stdout\n\(stdout)--- stderr\n\(stderr)" }
}

/// Runs the `gatelab` binary that `swift test` built beside the test bundle, as a user would.
enum CommandLineTool {
    /// The package's root directory (this file is Tests/GateLabCLITests/CommandLineTool.swift).
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `gatelab COMMAND --help`: its text on one line (words separated by single spaces) and
    /// the long options it lists under OPTIONS.
    static func help(of command: String) throws -> (text: String, options: Set<String>) {
        let run = try run([command, "--help"])
        #expect(run.status == 0, "\(run)")
        let text = run.stdout.replacingOccurrences(of: "\n", with: " ").split(separator: " ").joined(separator: " ")
        let section = try #require(run.stdout.components(separatedBy: "OPTIONS:").last)
        let options = Set(section.split(separator: "\n").compactMap { line -> String? in
            let t = line.drop { $0 == " " }
            guard t.hasPrefix("--") else { return nil }
            return String(t.prefix { $0 != " " && $0 != "," })
        })
        return (text, options)
    }

    /// The reference cases (copies of shared/reference).
    static let fixtures: [String] = {
        let dir = packageRoot.appendingPathComponent("Tests/CellsTests/Fixtures/reference")
        return ((try? FileManager.default.contentsOfDirectory(atPath: dir.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { dir.appendingPathComponent($0).path }
    }()

    /// The binary: in the directory of the running test bundle (Linux: the `.xctest`
    /// executable; macOS: the `.xctest` bundle's parent); as a fallback, `.build*/…/gatelab`
    /// under the package root, preferring the build folder the test binary runs from.
    static let binary: URL? = {
        let fm = FileManager.default
        var directories = [URL]()
        if let exe = Bundle.main.executableURL { directories.append(exe.deletingLastPathComponent()) }
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            directories.append(bundle.bundleURL.deletingLastPathComponent())
        }
        directories.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        for dir in directories {
            let candidate = dir.appendingPathComponent("gatelab")
            if fm.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        // Fallback: every .build*/<config>/gatelab (and .build*/<triple>/<config>/gatelab).
        let running = URL(fileURLWithPath: CommandLine.arguments[0]).standardizedFileURL.path
        let scratch = ((try? fm.contentsOfDirectory(atPath: packageRoot.path)) ?? []).filter { $0.hasPrefix(".build") }
        var found = [URL]()
        for s in scratch {
            let base = packageRoot.appendingPathComponent(s)
            let triples = ((try? fm.contentsOfDirectory(atPath: base.path)) ?? []).flatMap { ["\($0)/debug", "\($0)/release"] }
            for sub in ["debug", "release"] + triples {
                let candidate = base.appendingPathComponent(sub).appendingPathComponent("gatelab")
                if fm.isExecutableFile(atPath: candidate.path) { found.append(candidate) }
            }
        }
        return found.first { running.hasPrefix($0.deletingLastPathComponent().deletingLastPathComponent().standardizedFileURL.path + "/") }
            ?? found.first
    }()

    /// Runs `gatelab arguments…` from the package root and waits.
    static func run(_ arguments: [String]) throws -> ToolRun {
        guard let binary else {
            Issue.record("gatelab binary not found next to the test bundle or under \(packageRoot.path)/.build*")
            throw CancellationError()
        }
        return try runProcess(binary, arguments, in: packageRoot)
    }

    /// Runs `executable arguments…` in `directory` (with `environment` instead of this
    /// process's, when given) and waits; stdout and stderr go to files (no pipe to fill).
    static func runProcess(_ executable: URL, _ arguments: [String], in directory: URL,
                           environment: [String: String]? = nil) throws -> ToolRun {
        let scratch = try TemporaryDirectory()
        let out = scratch.url.appendingPathComponent("stdout"), err = scratch.url.appendingPathComponent("stderr")
        try Data().write(to: out)
        try Data().write(to: err)
        let outHandle = try FileHandle(forWritingTo: out), errHandle = try FileHandle(forWritingTo: err)
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.currentDirectoryURL = directory
        if let environment { process.environment = environment }
        process.standardOutput = outHandle
        process.standardError = errHandle
        try process.run()
        process.waitUntilExit()
        try outHandle.close()
        try errHandle.close()
        return ToolRun(status: process.terminationStatus,
                       stdout: try String(contentsOf: out, encoding: .utf8),
                       stderr: try String(contentsOf: err, encoding: .utf8))
    }
}

/// A fresh directory, removed when the value is released.
final class TemporaryDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    /// Writes `text` to `name` inside the directory and returns the path.
    func write(_ name: String, _ text: String) throws -> String {
        let path = url.appendingPathComponent(name).path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Expects the way every error ends: exit code `status`, exactly one line on stderr starting
/// with `error: `, and no trap (a crash would exit by signal with a backtrace).
func expectOneLineError(_ run: ToolRun, status: Int32 = 2, mentions words: [String] = [],
                        sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(run.status == status, "\(run)", sourceLocation: sourceLocation)
    #expect(run.errorLines.count == 1, "\(run)", sourceLocation: sourceLocation)
    #expect(run.stderr.hasPrefix("error: "), "\(run)", sourceLocation: sourceLocation)
    #expect(!run.stderr.contains("Fatal error") && !run.stderr.contains("crashed"), "\(run)", sourceLocation: sourceLocation)
    for w in words { #expect(run.stderr.contains(w), "stderr should mention \(w): \(run)", sourceLocation: sourceLocation) }
}
