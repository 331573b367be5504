import GateLabCells
import Testing

@Suite("The built-in cells' table")
struct BuiltinCellsTests {
    @Test func everyNameAndAliasFindsItsRowsCell() {
        for entry in BuiltinCells.all {
            #expect(entry.cell.name == entry.name, "a row's cell answers to the row's name")
            for name in entry.names + [entry.name.uppercased()] {
                #expect(BuiltinCells.builtin(name)?.name == entry.name, "\(name)")
            }
            #expect(BuiltinCells.entry(for: entry.cell)?.name == entry.name)
        }
        #expect(BuiltinCells.builtin("transformer") == nil)
    }

    @Test func namesAreUniqueAndListedInTableOrder() {
        let every = BuiltinCells.all.flatMap(\.names)
        #expect(Set(every).count == every.count, "no name or alias belongs to two rows")
        #expect(BuiltinCells.names == ["rnn", "lstm", "gru", "gru_reset_before"])
        #expect(BuiltinCells.all.map(\.interchangeName) == ["rnn_tanh", "lstm", "gru", "gru_reset_before"])
    }
}
