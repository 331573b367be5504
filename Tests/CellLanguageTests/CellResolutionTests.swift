import GateLabCellLanguage
import GateLabCells
import Testing

@Suite("Resolving a cell name or path")
struct CellResolutionTests {
    @Test func anUnknownNameSuggestsTheNearestBuiltinName() {
        #expect(UnknownCellError(name: "lstmm").message.contains("unknown cell 'lstmm' (did you mean 'lstm'?); valid cells: rnn, lstm"))
        #expect(UnknownCellError(name: "GRU_reset_befor").message.contains("(did you mean 'gru_reset_before'?)"))
        #expect(UnknownCellError(name: "rnn_tan").message.contains("(did you mean 'rnn_tanh'?)"), "aliases are suggested too")
        #expect(!UnknownCellError(name: "transformer").message.contains("did you mean"), "nothing close: no suggestion")
        #expect(throws: UnknownCellError(name: "lstmm")) { try BuiltinCells.resolve("lstmm") }
    }

    @Test func theSuggestionRuleIsTheCellLanguages() {
        // One edit for names of up to 3 characters, two for longer ones.
        #expect(BuiltinCells.suggestion(for: "grv") == " (did you mean 'gru'?)")
        #expect(BuiltinCells.suggestion(for: "gxv") == "")
        #expect(BuiltinCells.suggestion(for: "lxtx") == " (did you mean 'lstm'?)")
    }
}
