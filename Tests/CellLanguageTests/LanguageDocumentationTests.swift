import GateLabAutodiff
@testable import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import GateLabGradCheck
import GateLabGSL
import Testing
import GateLabVerification

/// Notes/cell-language.md is the language's documentation: a cell written from it must work
/// the first time, and the errors it shows must be the ones users get.
@Suite("Cell language: the documentation's examples work as written")
struct LanguageDocumentationTests {
    static let page = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Notes/cell-language.md")

    static func text() throws -> String { try String(contentsOf: page, encoding: .utf8) }

    /// The ```cell blocks, in order.
    static func cellBlocks() throws -> [String] {
        var blocks = [String](), current: [Substring]?
        for line in try text().split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```cell" { current = [] }
            else if current != nil, line == "```" { blocks.append(current!.joined(separator: "\n") + "\n"); current = nil }
            else if current != nil { current!.append(line) }
        }
        return blocks
    }

    @Test func everyCellBlockParsesPrintsAndPassesTheGradientCheck() throws {
        let blocks = try Self.cellBlocks()
        #expect(blocks.count == 4, "the first example, the init example, the memory-block example, the peephole GRU")
        for (k, block) in blocks.enumerated() {
            let cell = try LanguageCell(source: block, file: "doc-\(k).cell")
            #expect(!(try printedStep(cell)).isEmpty)
            var check = SequenceGradientCheck(cell: cell)
            check.steps = 20
            let report = try check.run()
            #expect(report.passed, "block \(k)\n\(report.table())")
        }
    }

    /// The cell of "Writing a new cell, step by step", as its bullet points describe it.
    @Test func thePeepholeGRUIsWhatThePageSays() throws {
        let block = try Self.cellBlocks().last!
        let cell = try LanguageCell(source: block, file: "gru-peephole.cell")
        #expect(cell.declaredName == "gru-peephole")
        let specs = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: 3, hiddenSize: 4).map { ($0.name, $0) })
        #expect(specs.count == 10)
        func shape(_ name: String) -> String { specs[name].map { "\($0.rows)×\($0.cols) \($0.role)" } ?? "absent" }
        #expect(shape("W_r") == "4×3 inputWeight")
        #expect(shape("U_r") == "4×4 recurrentWeight")
        #expect(shape("p_z") == "1×4 perUnitWeight")
        #expect(shape("b_r") == "1×4 inputBias")
        #expect(try printedStep(cell).split(separator: "\n").count == 4)
        #expect(cell.explanations["z"] == "update gate, with a per-unit peephole on h")
    }

    /// A cell that is not on the page, written from its rules alone: a forget-gate-only RNN
    /// (a tanh RNN whose state is kept by a forget gate and replaced by the rest).
    @Test func aForgetGateOnlyRNNWrittenFromThePageWorks() throws {
        let cell = try LanguageCell(source: """
            cell forget-gate-rnn
            state h
            f  = sigmoid(W_f x + U_f h + b_f)             # forget gate
            h' = f * h + (1 - f) * tanh(W x + U h + b)    # keep, or replace by the tanh RNN's step
            forget b_f
            init U = orthogonal
            """, file: "forget-gate-rnn.cell")
        #expect(try printedStep(cell, format: .latex) == "f = \\sigma\\left(W_{f} x + U_{f} h + b_{f}\\right)\n"
                + "h' = f \\odot h + \\left(1 - f\\right) \\odot \\tanh\\left(W x + U h + b\\right)")
        var check = SequenceGradientCheck(cell: cell)
        check.steps = 20
        check.layers = 2
        let report = try check.run()
        #expect(report.passed, "\(report.table())")
        #expect(report.tensors.count == 2 * (6 + 1))
        var net = RecurrentNetwork(cell: cell, inputSize: 2, hiddenSize: 4)
        try net.initialize(.init(forgetBias: .constant(1)), using: RandomSource(seed: 3))
        #expect(net.weights[0]["b_f"]!.scalars == [1, 1, 1, 1])
    }

    /// The table of "Errors": each file gives exactly the message shown (up to a final "…").
    @Test func theErrorTableIsWhatUsersGet() throws {
        var rows = 0
        for line in try Self.text().split(separator: "\n") where line.hasPrefix("| ") && line.contains(" ⏎ ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3 else { continue }
            let file = cells[1].trimmingCharacters(in: CharacterSet(charactersIn: "`")).replacingOccurrences(of: " ⏎ ", with: "\n") + "\n"
            let shown = cells[2].trimmingCharacters(in: CharacterSet(charactersIn: "`"))
            do {
                _ = try LanguageCell(source: file, file: "t.cell")
                Issue.record("\(file) parsed")
            } catch let e as CellFileError {
                let expected = "t.cell:" + shown
                if expected.hasSuffix("…") {
                    #expect(e.description.hasPrefix(String(expected.dropLast())), "\(e.description)\nvs the page: \(expected)")
                } else {
                    #expect(e.description == expected, "\(e.description)\nvs the page: \(expected)")
                }
                #expect(e.kind.rawValue.lowercased() == cells[0].replacingOccurrences(of: " ", with: "").lowercased(), "\(e.kind) vs \(cells[0])")
            }
            rows += 1
        }
        #expect(rows == 14)
    }
}
