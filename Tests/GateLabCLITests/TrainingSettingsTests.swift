import Foundation
import GateLabReproductions
import GateLabTraining
import Testing

/// `gatelab train`'s options and `kind = "train"` files' keys are the rows of one table
/// (`TrainingSettings`): every row is an option, and a value given either way lands in the same
/// configuration.
@Suite("One settings table for training: the command line and experiment files")
struct TrainingSettingsTests {
    /// `train`'s options that are not settings of the run (what to do with it, not what it is).
    static let notSettings: Set<String> = [
        "--help", "--version", "--weight-update", "--json",
        "--checkpoint", "--checkpoint-every", "--resume", "--output", "--save", "--save-every", "--weights",
        "--threads", "--reference", "--memory-budget", "--execution",
    ]

    @Test("Every row of the table is an option of gatelab train with the row's help and default; every other option is listed as not a setting")
    func everyRowIsAnOption() throws {
        let (help, offered) = try CommandLineTool.help(of: "train")
        let table = TrainingSettings.table
        for s in table.settings {
            #expect(offered.contains(s.flag), "the table's \(s.flag) (\(s.key)) is not an option of gatelab train")
            let words = s.help.split(separator: " ").prefix(4).joined(separator: " ")
            #expect(help.contains(words), "\(s.flag)'s help does not say the table's '\(words)…'")
        }
        #expect(help.contains("Units per layer. (default: 128)"), "the default comes from the table")
        // The reproduction settings are the options of --preset.
        for s in ReproductionSettings.table.settings {
            #expect(offered.contains(s.flag), "the reproduction table's \(s.flag) (\(s.key)) is not an option of gatelab train")
            if s.key != "preset" && s.key != "seeds" {
                let words = "With --preset: " + s.help.split(separator: " ").prefix(3).joined(separator: " ")
                #expect(help.contains(words), "\(s.flag)'s help does not say '\(words)…'")
            }
        }
        let strays = offered.subtracting(table.settings.map(\.flag)).subtracting(ReproductionSettings.table.settings.map(\.flag))
            .subtracting(Self.notSettings)
        #expect(strays.isEmpty, "options of gatelab train that are neither a row of the table nor listed as not settings: \(strays.sorted())")
    }

    @Test("Every setting given on the command line and in an experiment file gives the same configuration, byte for byte in the record")
    func commandLineAndFileAgree() throws {
        let dir = try TemporaryDirectory()
        // A non-default value for every row (the file's keys and the command's flags).
        let values: [(key: String, toml: String, flag: String, text: String)] = [
            ("task", "\"adding\"", "--task", "adding"), ("cell", "\"lstm\"", "--cell", "lstm"), ("steps", "6", "--length", "6"),
            ("hidden", "3", "--hidden", "3"), ("layers", "2", "--layers", "2"), ("batch", "4", "--batch", "4"),
            ("updates", "2", "--updates", "2"), ("eval_every", "1", "--eval-every", "1"), ("eval_size", "8", "--eval-size", "8"),
            ("optimizer", "\"sgd\"", "--optimizer", "sgd"), ("lr", "0.05", "--lr", "0.05"), ("momentum", "0.5", "--momentum", "0.5"),
            ("clip", "0.5", "--clip", "0.5"), ("forget_bias", "2", "--forget-bias", "2"), ("input_noise", "0.1", "--input-noise", "0.1"),
            ("stop_when_solved", "false", "--stop-when-solved", "false"), ("precision", "\"f32\"", "--precision", "f32"),
            ("seeds", "[7]", "--seed", "7"), ("profile_every", "1", "--profile-every", "1"),
            ("schedule", "\"step:1:0.5\"", "--schedule", "step:1:0.5"),
        ]
        #expect(values.map(\.key) == TrainingSettings.table.keys, "the test gives every row a value")
        let file = dir.url.appendingPathComponent("every.toml")
        try ("name = \"every\"\nkind = \"train\"\n[[grid]]\n" + values.map { "\($0.key) = \($0.toml)" }.joined(separator: "\n") + "\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let out = dir.url.appendingPathComponent("out")
        let grid = try CommandLineTool.run(["run", file.path, "--output", out.path])
        #expect(grid.status == 0, "\(grid)")
        let points = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("results/points").path)
        #expect(points.count == 1)
        let fromFile = try #require(points.first.map { try Data(contentsOf: out.appendingPathComponent("results/points/\($0)")) })
        let train = try CommandLineTool.run(["train"] + values.flatMap { [$0.flag, $0.text] } + ["--json"])
        #expect(train.status == 0, "\(train)")
        func configuration(_ data: Data) throws -> NSDictionary {
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return try #require(object["configuration"] as? NSDictionary, "no configuration in \(object.keys.sorted())")
        }
        let a = try configuration(fromFile), b = try configuration(Data(train.stdout.utf8))
        #expect(a == b, "file: \(a)\ncommand line: \(b)")
        #expect(a["schedule"] != nil && a["precision"] as? String == "f32" && a["stop_when_solved"] as? Bool == false)
        #expect(points.first?.contains("_step1x0.5_") == true, "a schedule other than constant is part of the run's id: \(points)")
    }

    @Test("A bad value is refused the same way from both, with the flag or the file's line and key")
    func badValuesAreRefusedAlike() throws {
        let dir = try TemporaryDirectory()
        let file = dir.url.appendingPathComponent("bad.toml")
        try "name = \"bad\"\nkind = \"train\"\n[[grid]]\ntask = \"adding\"\ncell = \"gru\"\nsteps = 5\nmomentum = 1.5\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let grid = try CommandLineTool.run(["run", file.path, "--dry-run"])
        #expect(grid.status != 0)
        #expect(grid.stderr.contains("bad.toml:7: grid[1].momentum: must be in [0, 1), got 1.5"), "\(grid.stderr)")
        let train = try CommandLineTool.run(["train", "--task", "adding", "--cell", "gru", "--length", "5", "--momentum", "1.5"])
        #expect(train.status != 0)
        #expect(train.stderr.contains("--momentum: must be in [0, 1), got 1.5"), "\(train.stderr)")
        // A reproduction setting: the same check from a file and from --preset.
        let reproduction = dir.url.appendingPathComponent("r.toml")
        try "name = \"r\"\nkind = \"reproduction\"\n[[grid]]\npreset = \"hochreiter1997-exp4\"\nbudget = 0\n"
            .write(to: reproduction, atomically: true, encoding: .utf8)
        let trials = try CommandLineTool.run(["run", reproduction.path, "--dry-run"])
        #expect(trials.status != 0 && trials.stderr.contains("r.toml:5: grid[1].budget: must be at least 1, got 0"), "\(trials.stderr)")
        let preset = try CommandLineTool.run(["train", "--preset", "hochreiter1997-exp4", "--budget", "0"])
        #expect(preset.status != 0 && preset.stderr.contains("--budget: must be at least 1, got 0"), "\(preset.stderr)")
    }
}
