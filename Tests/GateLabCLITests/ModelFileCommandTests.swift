import Foundation
import GateLabInterchange
import Testing

@Suite("gatelab train --save, probe/gradcheck/train --weights, weights convert")
struct ModelFileCommandTests {
    static let train = ["train", "--task", "adding", "--cell", "gru", "--length", "10", "--hidden", "6", "--batch", "4",
                        "--updates", "20", "--eval-every", "10", "--eval-size", "8"]

    @Test func trainSavesWhatProbeAndGradcheckRead() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("gru.safetensors")
        let run = try CommandLineTool.run(Self.train + ["--save", file, "--save-every", "10"])
        #expect(run.status == 0, "\(run)")
        for path in [file, dir.path("gru.u0.safetensors"), dir.path("gru.u10.safetensors"), dir.path("gru.u20.safetensors")] {
            #expect(FileManager.default.fileExists(atPath: path), "\(path)")
        }
        let model = try SavedModel.read(file)
        #expect(model.metadata["updates"] == "20" && model.metadata["task"] == "adding" && model.metadata["gatelab_version"] != nil)
        #expect(model.readout?.weight.shape.rows == 1)

        let probe = try CommandLineTool.run(["probe", "--weights", file, "--steps", "30"])
        #expect(probe.status == 0, "\(probe)")
        #expect(probe.lines.first?.hasPrefix("probe \(file): cell gru, trained 20 updates on adding, H = 6, I = 2") == true, "\(probe)")
        let check = try CommandLineTool.run(["gradcheck", "--weights", file, "--steps", "5"])
        #expect(check.status == 0, "\(check)")
        #expect(check.lines.first?.hasPrefix("gradcheck \(file): I = 2, H = 6") == true, "\(check)")

        // Continuing from the saved network: a different run from the seeded one.
        let again = try CommandLineTool.run(Self.train + ["--weights", file, "--save", dir.path("again.npz")])
        #expect(again.status == 0, "\(again)")
        #expect(try SavedModel.read(dir.path("again.npz")).network.weights != model.network.weights)
    }

    @Test func convertKeepsEveryBit() throws {
        let dir = try TemporaryDirectory()
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "2", "--hidden", "3", "--output", dir.path("a.npz")]).status == 0)
        #expect(try CommandLineTool.run(["weights", "convert", dir.path("a.npz"), dir.path("b.safetensors")]).status == 0)
        #expect(try CommandLineTool.run(["weights", "convert", dir.path("b.safetensors"), dir.path("c.json")]).status == 0)
        let a = try SavedModel.read(dir.path("a.npz")), c = try SavedModel.read(dir.path("c.json"))
        #expect(a.network.weights == c.network.weights && a.metadata == c.metadata)
    }

    @Test func filesThatDoNotFitAreOneLineErrors() throws {
        let dir = try TemporaryDirectory()
        let lstm = dir.path("lstm.npz")
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "2", "--hidden", "6", "--output", lstm]).status == 0)
        // A GRU run from an LSTM's weights; sizes that differ; a file of no known format.
        expectOneLineError(try CommandLineTool.run(Self.train + ["--weights", lstm]), mentions: [lstm, "W_ir"])
        let wide = dir.path("wide.npz")
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "gru", "--input", "2", "--hidden", "5", "--output", wide]).status == 0)
        expectOneLineError(try CommandLineTool.run(Self.train + ["--weights", wide]), mentions: [wide, "hidden_size 5"])
        let broken = try dir.write("broken.safetensors", "not a model")
        expectOneLineError(try CommandLineTool.run(["probe", "--weights", broken, "--steps", "5"]), mentions: [broken])
        expectOneLineError(try CommandLineTool.run(["weights", "check", dir.path("x.pt")]), mentions: ["x.pt", ".safetensors"])
        expectOneLineError(try CommandLineTool.run(["probe", "--weights", lstm, "--cell", "lstm", "--steps", "5"]), mentions: ["--weights"])
    }
}

@Suite("Did you mean: task names and experiment-file keys")
struct SuggestionTests {
    @Test func closeNamesAreSuggested() throws {
        expectOneLineError(try CommandLineTool.run(["train", "--task", "addng", "--cell", "lstm", "--length", "10"]),
                           mentions: ["unknown task 'addng' (did you mean 'adding'?)"])
        let dir = try TemporaryDirectory()
        let probe = try dir.write("p.toml", "name = \"p\"\nkind = \"probe\"\n[[grid]]\ncell = \"lstm\"\nstep = 10\n")
        expectOneLineError(try CommandLineTool.run(["run", probe]), mentions: ["unknown key 'step' (did you mean 'steps'?)"])
        let train = try dir.write("t.toml", "name = \"t\"\nkind = \"train\"\n[[grid]]\ntask = \"adding\"\ncell = \"lstm\"\nlength = 10\nupdate = 5\n")
        expectOneLineError(try CommandLineTool.run(["run", train]), mentions: ["unknown key 'update' (did you mean 'updates'?)"])
        let top = try dir.write("k.toml", "name = \"k\"\nkind = \"probe\"\ndescripton = \"x\"\n[[grid]]\ncell = \"lstm\"\nsteps = 10\n")
        expectOneLineError(try CommandLineTool.run(["run", top]), mentions: ["unknown key 'descripton' (did you mean 'description'?)"])
    }
}

@Suite("--forget-bias: chrono in train, a warning where it has no effect")
struct ForgetBiasOptionTests {
    static let small = ["--task", "adding", "--length", "10", "--hidden", "4", "--batch", "4", "--updates", "2",
                        "--eval-every", "1", "--eval-size", "4"]

    @Test func chronoTrainsAndIsRecorded() throws {
        let run = try CommandLineTool.run(["train", "--cell", "lstm", "--forget-bias", "chrono", "--json"] + Self.small)
        #expect(run.status == 0, "\(run)")
        #expect(run.stdout.contains("\"forget_bias_chrono\":true") && run.stdout.contains("_fbchrono_seed1"), "\(run.stdout)")
        let plain = try CommandLineTool.run(["train", "--cell", "lstm", "--json"] + Self.small)
        #expect(!plain.stdout.contains("forget_bias_chrono"))   // older records keep their bytes
        #expect(!run.stderr.contains("warning"))
    }

    @Test func aGRUWarnsThatTheForgetBiasHasNoEffect() throws {
        for command in [["train", "--cell", "gru", "--forget-bias", "2"] + Self.small,
                        ["probe", "--cell", "gru", "--steps", "5", "--forget-bias", "1"]] {
            let run = try CommandLineTool.run(command)
            #expect(run.status == 0, "\(run)")
            #expect(run.stderr == "warning: --forget-bias \(command[command.firstIndex(of: "--forget-bias")! + 1]) has no effect: gru has no forget gate\n", "\(run.stderr)")
        }
        #expect(try CommandLineTool.run(["probe", "--cell", "gru", "--steps", "5"]).stderr.isEmpty)
    }
}

@Suite("Gradient profiles during training: in train's output and in profiles.csv")
struct TrainingProfileOutputTests {
    @Test func trainPrintsOneRowPerRecordedUpdate() throws {
        let run = try CommandLineTool.run(["train", "--task", "adding", "--cell", "gru", "--length", "10", "--hidden", "4", "--batch", "4",
                                           "--updates", "4", "--eval-every", "2", "--eval-size", "4", "--profile-every", "2"])
        #expect(run.status == 0, "\(run)")
        let table = run.lines.drop { !$0.hasPrefix("gradient profile") }.dropFirst()
        #expect(table.first?.split(separator: " ").prefix(3) == ["update", "k", "="], "\(run.stdout)")
        #expect(table.dropFirst().prefix(3).map { $0.split(separator: " ").first.map(String.init) } == ["0", "2", "4"], "\(run.stdout)")
        #expect(run.lines.last?.hasPrefix("not solved") == true, "\(run.stdout)")
    }

    @Test func aTrainingGridWritesEveryProfileToACSV() throws {
        let dir = try TemporaryDirectory()
        let file = try dir.write("t.toml", """
            name = "t"
            kind = "train"
            [[grid]]
            task = "adding"
            cell = "gru"
            length = 10
            hidden = 4
            batch = 4
            updates = 4
            eval_every = 2
            eval_size = 4
            profile_every = 2
            """)
        let run = try CommandLineTool.run(["run", file, "--output", dir.path("out"), "--jobs", "1"])
        #expect(run.status == 0, "\(run)")
        let csv = try String(contentsOfFile: dir.path("out/profiles.csv"), encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "id,update,distance,log10_gradient_h")
        #expect(csv.count == 1 + 3 * 10)   // updates 0, 2, 4 × T = 10 distances
        #expect(csv[1].hasPrefix("adding_T10_gru_H4_seed1,0,0,"))
    }
}

@Suite("gatelab compare")
struct CompareCommandTests {
    @Test func namesTheLargestDifferenceAndFailsAboveTheTolerance() throws {
        let dir = try TemporaryDirectory()
        let a = try dir.write("a.json", #"{"id":"p","x":[1,2,3],"seconds":1,"decay_rate":"-inf","name":"n"}"#)
        let b = try dir.write("b.json", #"{"id":"p","x":[1,2.5,3.001],"seconds":9,"decay_rate":"-inf","name":"n"}"#)
        let run = try CommandLineTool.run(["compare", a, b])
        #expect(run.status == 1, "\(run)")
        #expect(run.lines.first == "compare \(a) \(b): 1 and 1 record(s), 4 numbers compared (every field but checksum and seconds); 2 difference(s) above 0, largest 0.5 at p.x[1]", "\(run)")
        #expect(try CommandLineTool.run(["compare", a, b, "--tolerance", "0.5"]).status == 0)
        #expect(try CommandLineTool.run(["compare", a, a]).status == 0)
        let c = try dir.write("c.json", #"{"id":"p","x":[1,2,3],"name":"m"}"#)
        let mismatch = try CommandLineTool.run(["compare", a, c, "--tolerance", "1"])
        #expect(mismatch.status == 1 && mismatch.stdout.contains("p.name") && mismatch.stdout.contains("p.decay_rate"), "\(mismatch)")
        expectOneLineError(try CommandLineTool.run(["compare", a, dir.path("none")]), mentions: ["none"])
    }
}

@Suite("probe --weights --task-inputs")
struct TaskInputProbeTests {
    @Test func aTrainedNetworkIsProbedOnItsTasksInputs() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("lstm.npz")
        #expect(try CommandLineTool.run(ModelFileCommandTests.train.map { $0 == "gru" ? "lstm" : $0 } + ["--save", file]).status == 0)
        let run = try CommandLineTool.run(["probe", "--weights", file, "--task-inputs", "--seeds", "2"])
        #expect(run.status == 0, "\(run)")
        #expect(run.lines.first?.contains("T = 10, inputs of adding (length 10), seeds 1…2") == true, "\(run.stdout)")
        expectOneLineError(try CommandLineTool.run(["probe", "--weights", file, "--task-inputs", "--steps", "5"]), mentions: ["--task-inputs"])
        let plain = dir.path("plain.npz")
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "lstm", "--input", "2", "--hidden", "3", "--output", plain]).status == 0)
        expectOneLineError(try CommandLineTool.run(["probe", "--weights", plain, "--task-inputs"]), mentions: [plain, "task"])
    }
}

@Suite("Help texts state what the commands do")
struct HelpTextTests {
    @Test func gradcheckStatesItsToleranceFloorAndProbeListsCellFiles() throws {
        let gradcheck = try CommandLineTool.run(["gradcheck", "--help"])
        let flat = gradcheck.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")   // help wraps its lines
        #expect(flat.contains("1e-4 · max(1, |L|)"), "\(gradcheck.stdout)")
        let probe = try CommandLineTool.run(["probe", "--help"])
        let probeFlat = probe.stdout.split(whereSeparator: \.isWhitespace).joined(separator: " ")
        #expect(probeFlat.contains(".cell file") && probe.stdout.contains("--weights") && probe.stdout.contains("--task-inputs"), "\(probe.stdout)")
        let train = try CommandLineTool.run(["train", "--help"])
        #expect(train.stdout.contains("--save-every") && train.stdout.contains("chrono"), "\(train.stdout)")
    }
}

@Suite("Options without effect beside --weights say so")
struct IneffectiveOptionTests {
    @Test func sizesBesideWeightsWarn() throws {
        let dir = try TemporaryDirectory()
        let file = dir.path("g.npz")
        #expect(try CommandLineTool.run(["weights", "init", "--cell", "gru", "--input", "2", "--hidden", "3", "--output", file]).status == 0)
        let probe = try CommandLineTool.run(["probe", "--weights", file, "--steps", "5", "--hidden", "8"])
        #expect(probe.status == 0 && probe.stderr == "warning: --hidden has no effect: --weights gives the cell, its sizes and its weights\n", "\(probe)")
        let check = try CommandLineTool.run(["gradcheck", "--weights", file, "--steps", "3", "--layers=2"])
        #expect(check.status == 0 && check.stderr == "warning: --layers has no effect: --weights gives the cell and its sizes\n", "\(check)")
        #expect(try CommandLineTool.run(["probe", "--weights", file, "--steps", "5"]).stderr.isEmpty)
    }
}

@Suite("weights init says when a cell file's init lines decide")
struct CellFileInitTests {
    @Test func initLinesAreNamed() throws {
        let dir = try TemporaryDirectory()
        let run = try CommandLineTool.run(["weights", "init", "--cell", "Cells/indrnn.cell", "--input", "2", "--hidden", "3", "--output", dir.path("i.npz")])
        #expect(run.status == 0 && run.stdout.contains("where the cell file gives no init"), "\(run)")
        #expect(try SavedModel.read(dir.path("i.npz")).metadata["initialization"] == "pytorch-default, the cell file's init lines first")
        let plain = try CommandLineTool.run(["weights", "init", "--cell", "Cells/mgu.cell", "--input", "2", "--hidden", "3", "--output", dir.path("m.npz")])
        #expect(plain.status == 0 && !plain.stdout.contains("cell file gives"), "\(plain)")
    }
}
