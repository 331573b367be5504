import Cells
import Foundation
import Testing

@Suite("Notes/cells.md is what the generator prints")
struct NotesTests {
    static let notes = CommandLineTool.packageRoot.appendingPathComponent("Notes/cells.md")

    @Test func notesFileIsTheGeneratorsOutputExactly() throws {
        let run = try CommandLineTool.run(["show", "--all", "--markdown"])
        #expect(run.status == 0)
        let file = try String(contentsOf: Self.notes, encoding: .utf8)
        #expect(file == run.stdout, "Notes/cells.md is stale: regenerate with `make notes`")
    }

    @Test func everyMathBlockIsALineOfShowLatex() throws {
        let file = try String(contentsOf: Self.notes, encoding: .utf8)
        let sections = file.components(separatedBy: "\n## `").dropFirst()
        #expect(sections.count == BuiltinCells.all.count)
        for section in sections {
            let name = String(section.prefix { $0 != "`" })
            let lines = section.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
            let math = lines.indices.filter { lines[$0] == "```math" }.map { lines[$0 + 1] }
            let shown = try CommandLineTool.run(["show", name, "--format", "latex"])
            #expect(math == shown.lines, "\(name): the ```math blocks are `show \(name) --format latex`, line by line")
        }
    }
}
