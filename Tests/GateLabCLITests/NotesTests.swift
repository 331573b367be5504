import GateLabCells
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

@Suite("The getting-started article is the consumer package's program")
struct GettingStartedTests {
    static let root = CommandLineTool.packageRoot
    static let article = root.appendingPathComponent("Sources/GateLab/GateLab.docc/GettingStarted.md")
    static let program = root.appendingPathComponent("Tests/Consumer/Sources/GettingStarted/main.swift")

    /// The article's Swift blocks, but the `Package.swift` excerpt.
    static func blocks(_ text: String) -> [String] {
        var blocks: [String] = [], current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil, line == "```swift" { current = [] }
            else if current != nil, line == "```" { blocks.append(current!.joined(separator: "\n")); current = nil }
            else { current?.append(line) }
        }
        return blocks.filter { !$0.hasPrefix("dependencies:") }
    }

    /// What the article shows is what CI builds and runs (`Tests/Consumer/check.sh`): every
    /// block appears in the program verbatim, in the article's order.
    @Test func everyBlockIsInTheProgramInOrder() throws {
        let article = try String(contentsOf: Self.article, encoding: .utf8)
        let program = try String(contentsOf: Self.program, encoding: .utf8)
        let blocks = Self.blocks(article)
        #expect(blocks.count == 5)
        var from = program.startIndex
        for block in blocks {
            guard let found = program.range(of: block, range: from..<program.endIndex) else {
                Issue.record("not in the program (in this order): \(block.prefix(80))…")
                continue
            }
            from = found.upperBound
        }
    }
}
