import Foundation
import Testing

@Suite("gatelab train")
struct TrainCommandTests {
    /// A cell file's path is used as given: `Cells/mgu.cell` (capital C) must not become
    /// `cells/mgu.cell`, as built-in names are matched case-insensitively.
    @Test func aCellFilePathKeepsItsCase() throws {
        let run = try CommandLineTool.run(["train", "--task", "adding", "--cell", "Cells/mgu.cell", "--length", "6", "--hidden", "4",
                                           "--batch", "4", "--updates", "4", "--eval-every", "2", "--eval-size", "8", "--json"])
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("mgu"), "\(run)")
    }

    @Test func aBuiltInNameIsCaseInsensitive() throws {
        let run = try CommandLineTool.run(["train", "--task", "adding", "--cell", "LSTM", "--length", "6", "--hidden", "4",
                                           "--batch", "4", "--updates", "4", "--eval-every", "2", "--eval-size", "8", "--json"])
        #expect(run.status == 0, "\(run)")
    }
}
