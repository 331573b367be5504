import Foundation

/// The reference cases copied from shared/reference (see Fixtures/reference/SOURCE.md).
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/reference")
    static var referenceCases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0).path }
    }
}
