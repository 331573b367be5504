import GateLabAutodiff
@testable import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import Testing

/// The shipped cell files (`Cells/` at the package root) and helpers for the language tests.
enum ShippedCells {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Cells")

    /// File names, sorted.
    static let names: [String] = ((try? FileManager.default.contentsOfDirectory(atPath: directory.path)) ?? [])
        .filter { $0.hasSuffix(".cell") }.sorted()

    static func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    static func cell(_ name: String) throws -> LanguageCell { try LanguageCell(contentsOfFile: path(name)) }

    static func text(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }
}

/// Parses `source`, expecting a `CellFileError` of `kind` at `line:column` whose message
/// contains every string in `mentions`.
func expectCellError(_ source: String, _ kind: CellFileError.Kind, at line: Int, _ column: Int, mentions: [String] = [],
                     sourceLocation: SourceLocation = #_sourceLocation) {
    do {
        let cell = try LanguageCell(source: source, file: "test.cell")
        Issue.record("expected a \(kind) error at \(line):\(column), but it parsed: \(cell.stateNames)", sourceLocation: sourceLocation)
    } catch let e as CellFileError {
        #expect(e.kind == kind, "\(e)", sourceLocation: sourceLocation)
        #expect(e.position == SourcePosition(line: line, column: column), "\(e)", sourceLocation: sourceLocation)
        #expect(e.description.hasPrefix("test.cell:\(line):\(column): "), "\(e)", sourceLocation: sourceLocation)
        #expect(!e.description.contains("\n"), "one line: \(e)", sourceLocation: sourceLocation)
        for m in mentions { #expect(e.message.contains(m), "should mention \(m): \(e)", sourceLocation: sourceLocation) }
    } catch {
        Issue.record("expected a CellFileError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
    }
}

/// One step of `cell` recorded on a fresh graph as `gatelab show` records it (the layer below
/// given as leaves `h_below'`, …), printed in `format`.
func printedStep(_ cell: any RecurrentCell, format: EquationPrinter.Format = .text) throws -> String {
    let g = Graph()
    let x = g.input("x", rows: 1, cols: 2)
    let state = cell.stateNames.map { g.input($0, rows: 1, cols: 3) }
    let below = cell.stateNames.map { g.input($0 + "_below'", rows: 1, cols: 3) }
    let p = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: 2, hiddenSize: 3).map {
        ($0.name, g.parameter($0.name, rows: $0.rows, cols: $0.cols))
    })
    let next = cell.step(x: x, state: state, below: below, Parameters(p))
    try g.validate()
    return EquationPrinter(graph: g, format: format).render(next)
}
