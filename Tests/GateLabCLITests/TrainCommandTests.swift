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

    /// The chorales task from the clone's root: it finds its data file, trains for its whole
    /// budget (no criterion), and scores the validation and the test split.
    @Test func choralesTrainsFromTheCloneAndScoresBothSplits() throws {
        let run = try CommandLineTool.run(["train", "--task", "chorales", "--cell", "gru", "--length", "20", "--hidden", "8",
                                           "--batch", "8", "--updates", "30", "--eval-every", "30", "--lr", "0.03", "--json"])
        #expect(run.status == 0, "\(run)")
        let record = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let loss = try #require(record["final_loss"] as? Double), test = try #require(record["final_test_loss"] as? Double)
        #expect(loss < 0.5 * 88 * log(2.0) && test < 0.5 * 88 * log(2.0), "validation \(loss), test \(test)")
        #expect(record["solved"] as? Bool == false)
        #expect(run.stderr.split(separator: "\n").last?.hasPrefix("trained 30 updates") == true, "\(run.stderr)")
    }
}
