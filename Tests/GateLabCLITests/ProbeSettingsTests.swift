import Foundation
import GateLabProbeExperiments
import GateLabSupport
import Testing

/// `gatelab probe`'s options and `kind = "probe"` files' keys are the rows of one table
/// (`ProbeSettings`): every row is an option, and a value given either way lands in the same
/// configuration and the same results.
@Suite("One settings table for probes: the command line and experiment files")
struct ProbeSettingsTests {
    /// `probe`'s options that are not settings of the probe (how it runs and prints).
    static let notSettings: Set<String> = ["--help", "--version", "--seeds", "--memory-budget", "--case", "--json", "--execution"]

    @Test("Every row of the table is an option of gatelab probe with the row's help and default; every other option is listed as not a setting")
    func everyRowIsAnOption() throws {
        let (help, offered) = try CommandLineTool.help(of: "probe")
        for s in ProbeSettings.table.settings {
            #expect(offered.contains(s.flag), "the table's \(s.flag) (\(s.key)) is not an option of gatelab probe")
            let words = s.help.split(separator: " ").prefix(4).joined(separator: " ")
            #expect(help.contains(words), "\(s.flag)'s help does not say the table's '\(words)…'")
        }
        #expect(help.contains("Units per layer (H). (default: 32)"), "the default comes from the table")
        let strays = offered.subtracting(ProbeSettings.table.settings.map(\.flag)).subtracting(Self.notSettings)
        #expect(strays.isEmpty, "options of gatelab probe that are neither a row of the table nor listed as not settings: \(strays.sorted())")
    }

    /// The record an experiment file gives and `gatelab probe --json`'s run, as dictionaries,
    /// without what names the experiment.
    static func records(file values: [(key: String, toml: String, flag: String, text: String?)], in dir: TemporaryDirectory) throws
        -> (file: NSDictionary, commandLine: NSDictionary) {
        let file = dir.url.appendingPathComponent("every.toml")
        try ("name = \"every\"\nkind = \"probe\"\n[[grid]]\n" + values.map { "\($0.key) = \($0.toml)" }.joined(separator: "\n") + "\n")
            .write(to: file, atomically: true, encoding: .utf8)
        let out = dir.url.appendingPathComponent("out")
        try? FileManager.default.removeItem(at: out)
        let grid = try CommandLineTool.run(["run", file.path, "--output", out.path])
        #expect(grid.status == 0, "\(grid)")
        let points = try FileManager.default.contentsOfDirectory(atPath: out.appendingPathComponent("results/points").path)
        #expect(points.count == 1, "\(points)")
        let sealed = try String(contentsOf: out.appendingPathComponent("results/points/\(try #require(points.first))"), encoding: .utf8)
        let body = try SealedLine.unseal(sealed.trimmingCharacters(in: .newlines)).body
        let fromFile = try #require((try JSONSerialization.jsonObject(with: Data(body.utf8)) as? NSDictionary)?.mutableCopy() as? NSMutableDictionary)
        let probe = try CommandLineTool.run(["probe"] + values.flatMap { v in [v.flag] + (v.text.map { [$0] } ?? []) } + ["--json"])
        #expect(probe.status == 0, "\(probe)")
        let printed = try #require(try JSONSerialization.jsonObject(with: Data(probe.stdout.utf8)) as? [String: Any])
        // A saved network's probe prints the file's metadata and each seed's curves; a seeded one, each seed's record.
        guard let runs = printed["runs"] as? [NSDictionary] else {
            let curves = try #require(printed["curves"] as? [NSDictionary])
            var picked = [String: Any](), alike = [String: Any]()
            for key in ["weights", "hidden", "batch", "steps", "layers", "input_size"] { (picked[key], alike[key]) = (printed[key], fromFile[key]) }
            (picked["seed"], alike["seed"]) = ((printed["seeds"] as? [Int])?.first, fromFile["seed"])
            (picked["curves"], alike["curves"]) = (curves.first, fromFile["curves"])
            return (NSDictionary(dictionary: alike), NSDictionary(dictionary: picked))
        }
        let fromCommandLine = try #require(runs.first?.mutableCopy() as? NSMutableDictionary)
        for key in ["id", "experiment", "gatelab_version", "inputs", "cell_name", "record_format"] {
            fromFile.removeObject(forKey: key)
            fromCommandLine.removeObject(forKey: key)
        }
        return (fromFile, fromCommandLine)
    }

    @Test("Every setting given on the command line and in an experiment file gives the same configuration and the same curves")
    func commandLineAndFileAgree() throws {
        let dir = try TemporaryDirectory()
        // A non-default value for every row of a seeded probe.
        let seeded: [(key: String, toml: String, flag: String, text: String?)] = [
            ("cell", "\"lstm\"", "--cell", "lstm"), ("recurrent_init", "\"orthogonal(0.9)\"", "--recurrent-init", "orthogonal(0.9)"),
            ("bias_init", "\"uniform(0.2)\"", "--bias-init", "uniform(0.2)"), ("forget_bias", "1.5", "--forget-bias", "1.5"),
            ("hidden", "5", "--hidden", "5"), ("input_size", "2", "--input", "2"), ("batch", "3", "--batch", "3"),
            ("layers", "2", "--layers", "2"), ("input_scale", "0.5", "--input-scale", "0.5"),
            ("fit_max_distance", "7", "--fit-max-distance", "7"), ("jacobian_samples", "2", "--jacobian-samples", "2"),
            ("precision", "\"f32\"", "--precision", "f32"), ("steps", "12", "--steps", "12"), ("seeds", "[9]", "--seed", "9"),
        ]
        let a = try Self.records(file: seeded, in: dir)
        #expect(a.file == a.commandLine, "file: \(a.file)\ncommand line: \(a.commandLine)")
        #expect(a.file["forget_bias"] as? String == "1.5" && a.file["precision"] as? String == "f32" && a.file["seed"] as? Int == 9)
        // The two rows of a saved network, on its task's inputs.
        let model = CommandLineTool.packageRoot.appendingPathComponent("Tests/CellsTests/Fixtures/models/gatelab-gru.json").path
        let saved: [(key: String, toml: String, flag: String, text: String?)] = [
            ("weights", "\"\(model)\"", "--weights", model), ("task_inputs", "true", "--task-inputs", nil), ("batch", "2", "--batch", "2"),
            ("seeds", "[4]", "--seed", "4"),
        ]
        let b = try Self.records(file: saved, in: dir)
        #expect(b.file == b.commandLine, "file: \(b.file)\ncommand line: \(b.commandLine)")
        #expect(b.file["steps"] as? Int == 10 && b.file["batch"] as? Int == 2, "the task's length, no steps given")
        #expect(Set((seeded + saved).map(\.key)) == Set(ProbeSettings.table.keys), "the test gives every row a value")
    }

    @Test("A bad value is refused the same way from both, with the flag or the file's line and key")
    func badValuesAreRefusedAlike() throws {
        let dir = try TemporaryDirectory()
        for (key, toml, flag, text, message) in [
            ("forget_bias", "\"lots\"", "--forget-bias", "lots", "unknown forget bias 'lots'; use a number (e.g. 0 or 1), chrono, or default"),
            ("input_scale", "-1", "--input-scale", "-1", "must be a finite number ≥ 0, got -1"),
            ("jacobian_samples", "1001", "--jacobian-samples", "1001", "must be at most 1000, got 1001"),
            ("recurrent_init", "\"orthogonl\"", "--recurrent-init", "orthogonl", "unknown initializer 'orthogonl'"),
        ] {
            let file = dir.url.appendingPathComponent("bad.toml")
            try "name = \"bad\"\nkind = \"probe\"\n[[grid]]\ncell = \"lstm\"\nsteps = 5\n\(key) = \(toml)\n".write(to: file, atomically: true, encoding: .utf8)
            let grid = try CommandLineTool.run(["run", file.path, "--dry-run"])
            #expect(grid.status != 0)
            #expect(grid.stderr.contains("bad.toml:6: grid[1].\(key): \(message)"), "\(grid.stderr)")
            let probe = try CommandLineTool.run(["probe", "--cell", "lstm", "--steps", "5", flag, text])
            #expect(probe.status != 0)
            #expect(probe.stderr.contains("\(flag): \(message)"), "\(probe.stderr)")
        }
        // The same training setting reads the same way too (one parser of forget biases).
        let train = try CommandLineTool.run(["train", "--task", "adding", "--cell", "lstm", "--length", "5", "--forget-bias", "lots"])
        #expect(train.status != 0)
        #expect(train.stderr.contains("--forget-bias: unknown forget bias 'lots'; use a number (e.g. 0 or 1), chrono, or default"), "\(train.stderr)")
    }

    @Test("A value listed twice in a grid is refused at its place, for every kind")
    func aValueListedTwiceIsRefused() throws {
        let dir = try TemporaryDirectory()
        let file = dir.url.appendingPathComponent("twice.toml")
        try "name = \"twice\"\nkind = \"probe\"\n[[grid]]\ncell = \"rnn\"\nsteps = [5, 6, 5]\n".write(to: file, atomically: true, encoding: .utf8)
        let run = try CommandLineTool.run(["run", file.path, "--dry-run"])
        #expect(run.status == 2, "\(run)")
        #expect(run.stderr.contains("twice.toml:5: grid[1].steps[3]: 5 is listed twice"), "\(run.stderr)")
        try "name = \"twice\"\nkind = \"train\"\n[[grid]]\ntask = \"adding\"\ncell = [\"gru\", \"gru\"]\nsteps = 5\n"
            .write(to: file, atomically: true, encoding: .utf8)
        let train = try CommandLineTool.run(["run", file.path, "--dry-run"])
        #expect(train.status == 2, "\(train)")
        #expect(train.stderr.contains("twice.toml:5: grid[1].cell[2]: 'gru' is listed twice"), "\(train.stderr)")
    }
}
