import Foundation

/// The reference cases copied from shared/reference (see Fixtures/reference/SOURCE.md). They
/// stay in Tests/CellsTests/Fixtures, where the command-line and probe tests and the README's
/// examples find them; this target reads them from there by path.
enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("CellsTests/Fixtures/reference")
    static var referenceCases: [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
            .filter { $0.hasSuffix(".json") }.sorted().map { directory.appendingPathComponent($0).path }
    }
}
