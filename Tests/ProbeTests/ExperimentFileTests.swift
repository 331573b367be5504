@testable import GateLabExperiments
import Foundation
import Testing
@testable import GateLabProbe
@testable import GateLabProbeExperiments

@Suite("Experiment files: grids and bad input")
struct ExperimentFileTests {
    let valid = """
        # comments are allowed
        name = "t"
        kind = "probe"

        [defaults]
        hidden = 8
        steps = [20, 2000]   # lengths
        seeds = 3

        [[grid]]
        cell = "rnn"
        recurrent_init = ["pytorch-default", "orthogonal(0.9)"]

        [[grid]]
        cell = "lstm"
        forget_bias = [0, 1.5, "chrono"]

        [[grid]]
        cell = ["gru", "gru_reset_before"]
        hidden = 4
        """

    @Test func aGridIsTheUnionOfItsBlocksProducts() throws {
        let e = try ProbeExperiment(source: valid, file: "t.toml")
        #expect(e.name == "t" && e.kind == "probe")
        #expect(e.points.count == (2 + 3 + 2) * 2 * 3)
        #expect(e.points.prefix(4).map(\.id) == ["rnn_T20_H8_seed1", "rnn_T20_H8_seed2", "rnn_T20_H8_seed3", "rnn_T2000_H8_seed1"])
        #expect(e.points.contains { $0.id == "rnn_T20_H8_rec-orthogonal0.9_seed2" })
        #expect(e.points.contains { $0.id == "lstm_T2000_H8_fb-1.5_seed3" && $0.configuration.forgetBias == .constant(1.5) })
        #expect(e.points.contains { $0.id == "gru_reset_before_T20_H4_seed1" && $0.configuration.hiddenSize == 4 })
        #expect(Set(e.points.map(\.id)).count == e.points.count)
        #expect(Set(e.points.map(\.configurationKey)).count == 7 * 2)
        // --quick without [quick]: two seeds, lengths ≤ 1000.
        #expect(e.quickPoints.count == 7 * 1 * 2)
        #expect(e.quickPoints.allSatisfy { $0.configuration.steps == 20 && $0.configuration.seed <= 2 })
        #expect(e.outputDirectory(quick: false) == "Notes/t" && e.outputDirectory(quick: true) == "Notes/t-quick")
    }

    @Test func aQuickTableOverridesEveryBlock() throws {
        let e = try ProbeExperiment(source: valid + "\n[quick]\nsteps = 50\nseeds = [7]\n[output]\ndir = \"out/x\"\nfigures = false\n", file: "t.toml")
        #expect(e.quickPoints.count == 7)
        #expect(e.quickPoints.allSatisfy { $0.configuration.steps == 50 && $0.configuration.seed == 7 })
        #expect(e.outputDirectory(quick: false) == "out/x" && !e.figures)
    }

    /// Each bad input: the file, the line, the key path, and what is wrong, in one line.
    @Test(arguments: [
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = \"lsmt\"\n",
         "bad.toml:6: grid[1].cell: unknown cell 'lsmt' (did you mean 'lstm'?); valid cells: rnn, lstm, gru, gru_reset_before"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\nstepz = 3\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:5: defaults.stepz: unknown key 'stepz'"),
        ("name = \"x\"\nkind = \"probe\"\nstep = 10\n",
         "bad.toml:3: step: unknown key 'step'"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = \"10\"\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:4: defaults.steps: expected an integer, got a string"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n\n[[grid]]\ncell = \"rnn\"\n\n[[grid]]\ncell = \"rnn\"\nrecurrent_init = [\"orthogonal(0.9)\", \"orthagonal\"]\n",
         "bad.toml:11: grid[2].recurrent_init[2]: unknown initializer 'orthagonal'"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = \"lstm\"\nforget_bias = \"lots\"\n",
         "bad.toml:7: grid[1].forget_bias: unknown forget bias 'lots'"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\nseeds = []\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:5: defaults.seeds: empty list"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\nseeds = 0\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:5: defaults.seeds: must be between 1 and 100000, got 0"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n",
         "bad.toml: grid: no [[grid]] block: the grid is empty"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = [\n  10,\n  0,\n]\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:4: defaults.steps[2]: must be a positive integer, got 0"),
        ("name = \"x\"\nkind = \"train\"\n", "bad.toml:2: kind: unknown kind 'train'"),
        ("kind = \"probe\"\n", "bad.toml: name: missing"),
        ("name = \"x\" kind = \"probe\"\n", "bad.toml:1: not valid TOML"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = [\"lstm\", \"gru\"]\nforget_bias = 1\n",
         "bad.toml:7: grid[1].forget_bias: forget_bias applies only to cells with a forget gate (lstm), not to 'gru'"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = \"rnn\"\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:7: grid[2]: grid point rnn_T10_H32_seed1 is also produced by grid[1]"),
        ("name = \"x\"\nkind = \"probe\"\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:3: grid[1]: no steps"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = \"rnn\"\n[output]\ndir = 3\n",
         "bad.toml:8: output.dir: expected a string, got an integer"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\ninput_scale = \"big\"\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:5: defaults.input_scale: expected a number, got a string"),
        ("name = \"../up\"\nkind = \"probe\"\n", "bad.toml:1: name: '../up' is not a usable folder name"),
        ("name = \"x\"\nkind = \"probe\"\n[[grid]]\ncell = \"lstm\"\nsteps = 10\nforget_bias = [1, \"1\"]\n",
         "bad.toml:3: grid[1]: two values of one list give the same point (lstm_T10_H32_fb-1_seed1); list each once"),
        ("name = \"x\"\nkind = \"probe\"\n[[grid]]\ncell = \"rnn\"\nsteps = [10, 20, 10]\n",
         "bad.toml:5: grid[1].steps[3]: 10 is listed twice"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\n[[grid]]\ncell = \"rnn\"\nprecision = \"single\"\n",
         "bad.toml:7: grid[1].precision: unknown precision 'single'; valid: f32, f64"),
        ("name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = 10\nprecision = 32\n[[grid]]\ncell = \"rnn\"\n",
         "bad.toml:5: defaults.precision: expected a string, got an integer"),
        // A key-like line inside a multi-line string is not where the key is.
        ("name = \"x\"\nkind = \"probe\"\ndescription = \"\"\"\nsteps = 3\n\"\"\"\nsteps = 10\n", "bad.toml:6: steps: unknown key 'steps'"),
    ])
    func badInputIsOneLineWithFileLineAndKeyPath(_ source: String, _ expected: String) {
        do {
            _ = try ProbeExperiment(source: source, file: "bad.toml")
            Issue.record("accepted: \(source)")
        } catch let e as ExperimentError {
            #expect(e.description.hasPrefix(expected), "got: \(e.description)")
            #expect(!e.description.contains("\n"))
        } catch {
            Issue.record("not an ExperimentError: \(error)")
        }
    }

    @Test func theShippedExperimentsAreValid() throws {
        let root = Fixtures.packageRoot.appendingPathComponent("Experiments")
        let full = try ProbeExperiment(contentsOf: root.appendingPathComponent("vanishing-gradients.toml").path)
        let cells = Set(full.points.map(\.configuration.cell))
        #expect(cells == ["rnn", "lstm", "gru", "gru_reset_before"])
        #expect(full.points.map(\.configuration.steps).max() == 10_000)
        #expect(Set(full.points.map(\.configuration.seed)).count >= 5)
        let inits = Set(full.points.filter { $0.configuration.cell == "rnn" }.map(\.configuration.recurrentInitName))
        #expect(inits == ["pytorch-default", "orthogonal(0.9)", "orthogonal", "orthogonal(1.1)"])
        let biases = Set(full.points.filter { $0.configuration.cell == "lstm" }.map(\.configuration.forgetBias.description))
        #expect(biases == ["0", "1", "chrono"])
        // The float32 section: every cell and initialization once more in float32, at T = 10 000.
        let f32 = full.points.filter { $0.configuration.precision == .f32 }
        #expect(Set(f32.map { GridPoint.key($0.configuration, includeSeed: false) }).count == 9)
        #expect(f32.allSatisfy { $0.configuration.steps == 10_000 && $0.id.contains("_f32_") })
        #expect(full.points.count - f32.count == 135, "the float64 grid is unchanged")
        let quick = try ProbeExperiment(contentsOf: root.appendingPathComponent("quickstart.toml").path)
        #expect(quick.outputDirectory(quick: false) == "Notes/quickstart")
        #expect(!quick.points.isEmpty)
    }

    @Test func theLocatorFindsHeadersKeysAndMultiLineArrays() {
        let l = TOMLLocator(source: "a = 1 # c\n[t]\nb = [\n 1,\n]\nc = \"x#y\"\n[[g]]\nd = 1\n[[g]]\n  d = 2\n[u.v]\ne.f = 3\n")
        #expect(l.line(of: "a") == 1)
        #expect(l.line(of: "t") == 2)
        #expect(l.line(of: "t.b") == 3)
        #expect(l.line(of: "t.b[2]") == 3)
        #expect(l.line(of: "t.c") == 6)
        #expect(l.line(of: "g[1].d") == 8)
        #expect(l.line(of: "g[2].d") == 10)
        #expect(l.line(of: "g[2]") == 9)
        #expect(l.line(of: "u.v.e.f") == 12)
        #expect(l.line(of: "nothing") == nil)
    }
}
