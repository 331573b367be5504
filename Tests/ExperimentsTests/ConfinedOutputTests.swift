@testable import GateLabExperiments
import Foundation
import Testing
import GateLabSupport

/// An experiment's output folder is written only inside its tree: a symbolic link already in
/// the tree (a file or a folder on the output path, as a cloned repository could ship) is
/// refused, never followed out of it, and the file it points to is left as it was.
@Suite struct ConfinedOutputTests {
    /// A fresh folder with `tree/` (the working folder or the `--output` folder) and
    /// `outside/victim.txt` (a file a link could lead to).
    func scratch() throws -> (root: String, tree: String, outside: String) {
        let root = NSTemporaryDirectory() + "gatelab-confined-\(getpid())-\(UUID().uuidString)"
        for folder in ["/tree", "/outside"] {
            try FileManager.default.createDirectory(atPath: root + folder, withIntermediateDirectories: true)
        }
        try "precious\n".write(toFile: root + "/outside/victim.txt", atomically: true, encoding: .utf8)
        return (root, root + "/tree", root + "/outside")
    }

    func refusal(_ body: () throws -> Void) -> String {
        do { try body() } catch { return "\(error)" }
        return "no error"
    }

    /// The outside folder holds only the victim, unchanged.
    func untouched(_ outside: String) throws -> Bool {
        try FileManager.default.contentsOfDirectory(atPath: outside) == ["victim.txt"]
            && String(contentsOfFile: outside + "/victim.txt", encoding: .utf8) == "precious\n"
    }

    @Test func aLinkedFileInTheFolderIsRefusedNotWrittenThrough() throws {
        let (root, tree, outside) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = tree + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out + "/report.md", withDestinationPath: outside + "/victim.txt")
        Files.confineWrites(below: out, anchor: out)
        let message = refusal { try Files.write("# report\n", to: out + "/report.md") }
        #expect(message.contains("\(out)/report.md: is a symbolic link (to \(outside)/victim.txt) inside the output folder's tree"))
        #expect(!message.contains("\n"))
        #expect(try untouched(outside))
        // The link itself is left as it was, too.
        #expect(try FileManager.default.destinationOfSymbolicLink(atPath: out + "/report.md") == outside + "/victim.txt")
    }

    @Test func aLinkedFolderOnTheWayIsRefusedForWritesAndFolders() throws {
        let (root, tree, outside) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        let out = tree + "/out"
        try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: out + "/results", withDestinationPath: outside)
        Files.confineWrites(below: out, anchor: out)
        #expect(refusal { try Files.makeDirectory(out + "/results/points") }.contains("\(out)/results is a symbolic link"))
        #expect(refusal { try Files.write("x", to: out + "/results/victim.txt") }.contains("\(out)/results is a symbolic link"))
        #expect(refusal { try Files.write("x", to: out + "/results/../results/victim.txt") }.contains("climbs out"))
        #expect(try untouched(outside))
    }

    /// A folder an experiment file names is confined from the working folder down: a link
    /// anywhere on it (here `Notes` itself) is refused.
    @Test func aFolderTheFileNamesIsConfinedFromTheWorkingFolderDown() throws {
        let (root, tree, outside) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createSymbolicLink(atPath: tree + "/Notes", withDestinationPath: outside)
        // The working folder is the anchor; a relative folder below it is walked from there.
        Files.confineWrites(below: tree + "/Notes/exp", anchor: tree)
        #expect(refusal { try Files.makeDirectory(tree + "/Notes/exp/results") }.contains("\(tree)/Notes is a symbolic link"))
        #expect(try untouched(outside))
    }

    /// The folder the user names is followed (it may be a link of their own); writes below it
    /// land where it leads, and a plain tree is written as before, atomically.
    @Test func theFolderTheUserNamesIsFollowedAndPlainTreesAreWritten() throws {
        let (root, tree, outside) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try FileManager.default.createDirectory(atPath: root + "/scratch", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: tree + "/mine", withDestinationPath: root + "/scratch")
        Files.confineWrites(below: tree + "/mine", anchor: tree + "/mine")
        try Files.makeDirectory(tree + "/mine/results/points")
        try Files.write("a\n", to: tree + "/mine/results/points/a.json")
        try Files.write("b\n", to: tree + "/mine/results/points/a.json")
        #expect(try String(contentsOfFile: root + "/scratch/results/points/a.json", encoding: .utf8) == "b\n")
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/scratch/results/points") == ["a.json"])
        #expect(try untouched(outside))
    }

    /// The runner confines its folder: a report link shipped inside the output folder stops
    /// the run with one line naming it, and nothing outside is touched.
    @Test func theRunnerRefusesALinkShippedInItsOutputFolder() throws {
        let (root, tree, outside) = try scratch()
        defer { try? FileManager.default.removeItem(atPath: root) }
        try "data\n".write(toFile: tree + "/d.dat", atomically: true, encoding: .utf8)
        let e = try Experiment<InputFilesTests.Toy>(source: """
            name = "toy"
            kind = "toy"
            [[grid]]
            id = "a"
            files = ["d.dat"]
            """, file: tree + "/toy.toml")
        var options = RunOptions(version: "v")
        options.outputDirectory = tree + "/out"
        options.progress = .silent
        try FileManager.default.createDirectory(atPath: tree + "/out/results/points", withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: tree + "/out/results/curves", withDestinationPath: outside)
        let message = refusal { _ = try ExperimentRunner(experiment: e, options: options).run() }
        #expect(message.contains("\(tree)/out/results/curves: is a symbolic link") && !message.contains("\n"))
        #expect(try untouched(outside))
        // Without the link the same run writes its tree.
        try FileManager.default.removeItem(atPath: tree + "/out/results/curves")
        #expect(try ExperimentRunner(experiment: e, options: options).run().computed == 1)
    }
}

/// Every kind's experiment files get the one suggester for a misspelled key (a kind used to
/// opt in; the reproduction kind and new kinds suggested nothing).
@Suite struct KeySuggestionTests {
    @Test func aMisspelledKeyIsSuggestedForAnyKind() throws {
        let source = "name = \"toy\"\nkind = \"toy\"\ndescriptoin = \"x\"\n[[grid]]\nid = \"a\"\nfiles = []\n"
        let message = #expect(throws: ExperimentError.self) { try Experiment<InputFilesTests.Toy>(source: source, file: "t.toml") }
        #expect(message.map { "\($0)".contains("unknown key 'descriptoin' (did you mean 'description'?)") } == true, "\(String(describing: message))")
    }
}
