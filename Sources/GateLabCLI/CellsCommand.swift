import ArgumentParser
import GateLabCells

/// `gatelab cells`: the built-in cells, one line each.
struct CellsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cells",
        abstract: "List the built-in cells with a one-line description and source paper.")

    func run() throws {
        let rows = [["cell", "description", "paper"]]
            + BuiltinCells.all.map { [$0.name, $0.summary, $0.paper] }
        print(alignedTable(rows))
    }
}
