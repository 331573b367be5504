import GateLabExperiments
import Foundation
import FuzzSupport
@testable import GateLabInterchange
import GateLabProbe
import GateLabProbeExperiments
import Testing
@testable import GateLabTraining
import GateLabSupport

/// Every file GateLab reads, mutated: each input is either accepted (and then usable) or
/// refused with the reader's own one-line error; never a trap, never more than its CPU-time
/// bound, and the process's memory stays bounded (issue #17). Cell files are fuzzed in
/// CellLanguageTests (LanguageFuzzTests); command-line values in GateLabCLITests
/// (CommandLineFuzzTests). `make fuzz` runs these with GATELAB_FUZZ_INPUTS inputs each.
@Suite struct InputFuzzTests {
    static let jsonTokens = ["\"hidden_size\": 100000000,", "\"num_layers\": 3,", "\"cell\": \"gru\",", "\"cell\": \"rnn_tanh\",",
                             "[", "]", "{", "}", ",", "[[", "]]", "\"", ":", "-", "e", "1e999", "[[[[[[[[", "\"x\": [],", " "]

    /// Reference cases (and, through the same reader, weights files): accepted cases are
    /// verified, so that what the reader lets through, the engine can run.
    @Test func referenceCases() throws {
        let seeds = try ["gru-small.json", "lstm-small.json", "gru-reset-before-small.json"].map {
            try Fuzz.file("Tests/CellsTests/Fixtures/reference/" + $0)
        }
        let (accepted, rejected) = Fuzz.run("reference case", seeds: seeds, count: FuzzMeasure.inputs(ci: 300), seed: 17, tokens: Self.jsonTokens) { bytes, name in
            do {
                let c = try ReferenceCase(try JSONReader.object(Data(bytes), file: name), file: name)
                _ = try c.verify()
                return true
            } catch is CaseFileError {
                return false
            } catch {
                // verify() may refuse what the engine cannot run (e.g. non-finite results).
                #expect(!"\(error)".isEmpty)
                return false
            }
        }
        #expect(accepted > 0 && rejected > 0, "the fuzzing should reach both outcomes")
    }

    @Test func weightsFiles() throws {
        let seeds = try ["gru-small.json", "lstm-small.json"].map { try Fuzz.file("Tests/CellsTests/Fixtures/reference/" + $0) }
        let (accepted, rejected) = Fuzz.run("weights file", seeds: seeds, count: FuzzMeasure.inputs(ci: 300), seed: 23, tokens: Self.jsonTokens) { bytes, name in
            do {
                let network = try WeightsFile.network(from: JSONReader(dict: try JSONReader.object(Data(bytes), file: name), file: name))
                _ = try WeightsFile.json(network)
                return true
            } catch is CaseFileError {
                return false
            } catch {
                Issue.record("\(name): \(type(of: error)) instead of CaseFileError: \(error)")
                return false
            }
        }
        #expect(accepted > 0 && rejected > 0)
    }

    /// Model files in all three formats — GateLab's, bare PyTorch state_dicts, stored and
    /// deflated `.npz` — mutated byte-wise and with duplicate keys, nested lists and offsets
    /// spliced in: every input is a model (then run one step) or a one-line CaseFileError.
    @Test func modelFiles() throws {
        let models = "Tests/CellsTests/Fixtures/models/"
        let seeds = try ["pytorch-gru.npz", "pytorch-lstm-compressed.npz", "bare-gru-nobias.npz", "bare-lstm2.npz",
                         "bare-gru-nobias.safetensors", "pytorch-gru.safetensors", "gatelab-gru.json"].map { try Fuzz.file(models + $0) }
        let tokens = Self.jsonTokens + ["\"data_offsets\":[0,8]", "\"data_offsets\":[0.5,8]", "\"weight_hh_l0\": [[1]],", "\"w\": 1, \"w\": 2,",
                                        "PK\u{05}\u{06}", "PK\u{03}\u{04}", "[[[[[[[[[[[[[[[[[[[[0,0,0,0,0,0,0,0,0]]]]]]]]]]]]]]]]]]]]", "NaN", "fortran_order': True"]
        let formats: [ArrayArchive.Format] = [.npz, .npz, .npz, .npz, .safetensors, .safetensors, .json]
        var index = 0
        let (accepted, rejected) = Fuzz.run("model file", seeds: seeds, count: FuzzMeasure.inputs(ci: 300), seed: 31, tokens: tokens) { bytes, name in
            // Fuzz.run cycles through the seeds in order; the format follows the seed.
            let format = formats[index % formats.count]
            index += 1
            do {
                let model = try SavedModel(try ArrayArchive.decode(Data(bytes), format: format, file: name), file: name, cell: nil)
                let x = NamedArray(name: "x", shape: [1, 1, model.network.inputSize], values: Array(repeating: 0.5, count: model.network.inputSize))
                _ = try Prediction.run(model, inputs: [x], file: name)
                return true
            } catch is CaseFileError {
                return false
            } catch {
                // The engine may refuse what it cannot run (a budget); never a trap.
                #expect(!"\(error)".isEmpty)
                return false
            }
        }
        #expect(rejected > 0)
        _ = accepted
    }

    /// Experiment files of both kinds: accepted ones have a bounded grid.
    @Test func experimentFiles() throws {
        let seeds = try ["Experiments/quickstart.toml", "Experiments/forgetting-adding.toml", "Experiments/variants.toml"].map { try Fuzz.file($0) }
        let tokens = ["\n[[grid]]\n", "\n[quick]\n", "\n[output]\ndir = \"../x\"\n", "seeds = 100000\n", "steps = [1, 2, 3]\n", "hidden = -1\n",
                      "cell = \"nope\"\n", "kind = \"train\"\n", "kind = \"probe\"\n", "=", "[", "]", "\"", "#", "\n", "{", "}", "'''", "\"\"\""]
        let (accepted, rejected) = Fuzz.run("experiment file", seeds: seeds, count: FuzzMeasure.inputs(ci: 300), seed: 29, tokens: tokens) { bytes, name in
            let source = String(decoding: bytes, as: UTF8.self)
            var ok = false
            for attempt in [{ _ = try Experiment<ProbeKind>(source: source, file: name) }, { _ = try Experiment<TrainingKind>(source: source, file: name) }] {
                do { try attempt(); ok = true } catch let e as ExperimentError {
                    #expect(!e.description.contains("\n"), "\(name): \(e)")
                } catch {
                    Issue.record("\(name): \(type(of: error)) instead of ExperimentError: \(error)")
                }
            }
            return ok
        }
        #expect(accepted > 0 && rejected > 0)
    }

    /// Checkpoints: a mutated checkpoint resumes only when it is intact (the checksum), and is
    /// otherwise refused with TrainingError; a resumed run takes one more update without a trap.
    @Test func checkpoints() throws {
        var c = TrainingConfiguration()
        c.task = "adding"; c.length = 6; c.cell = "gru"; c.hidden = 3; c.batch = 4; c.updates = 12
        c.evalEvery = 4; c.evalSize = 8; c.profileEvery = 0
        let dir = NSTemporaryDirectory() + "gatelab-fuzz-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/run.ckpt"
        try Trainer(c).run(checkpoint: path, checkpointEvery: 100, stopAfter: 5)
        let seed = try Files.contents(of: path)
        let tokens = ["\"updates\":1000000000000", "\"step\":-5", "\"kind\":\"sgd\"", "\"first\":[]", "\"second\":[[1]]", ",", "[", "]", "\"checksum\":\"\""]
        let (accepted, _) = Fuzz.run("checkpoint", seeds: [seed], count: FuzzMeasure.inputs(ci: 100), seed: 31, tokens: tokens) { bytes, name in
            do {
                try Files.write(bytes, to: path)
                let t = try Trainer(resumingFrom: path, configuration: c)
                try t.run(stopAfter: 1)
                return true
            } catch is TrainingError {
                return false
            } catch {
                Issue.record("\(name): \(type(of: error)) instead of TrainingError: \(error)")
                return false
            }
        }
        // A mutation almost always changes the content, so the checksum refuses it; the few
        // accepted ones changed only what the checksum does not cover (none) or nothing.
        _ = accepted
    }
}

/// Inputs the fuzzing found, kept as regression tests.
@Suite struct FuzzFindingsTests {
    /// toml++ aborted the process (an assertion in parse_key) on these table headers: a
    /// 4-line experiment file crashed `gatelab run` with exit 134.
    @Test func tableHeadersThatAbortedTOMLKit() {
        for header in ["[=", "[[[grid]]]", "[[=", "[[]]", "[[[]]", "[[ [x]]", "[]", "[ ="] {
            let source = "name = \"x\"\nkind = \"probe\"\n\(header)\ncell = \"rnn\"\n"
            #expect(throws: ExperimentError.self, "\(header)") { try Experiment<ProbeKind>(source: source, file: "x.toml") }
        }
        // Headers and arrays that are fine still read.
        let fine = "name = \"x\"\nkind = \"probe\"\n[defaults]\nsteps = [\n  10,\n]\nhidden = 4\nseeds = 1\n[[grid]]\ncell = \"rnn\"\n[ output ]\nfigures = false\n"
        #expect(throws: Never.self) { try Experiment<ProbeKind>(source: fine, file: "x.toml") }
    }

    /// A value quoted in a message kept its line break (experiment files #29989, #93672 and
    /// #134427 of seed 29 in the long run: a multi-line string as `kind` or a forget bias): the
    /// error is one line, the break written `\n`.
    @Test func aQuotedValueWithALineBreakStaysOneLine() {
        let source = "name = \"x\"\nkind = \"\"\"tra\nin\"\"\"\n[[grid]]\ncell = \"rnn\"\n"
        let error = #expect(throws: ExperimentError.self) { try Experiment<ProbeKind>(source: source, file: "x.toml") }
        #expect(error.map { !$0.description.contains("\n") && $0.description.contains(#"tra\nin"#) } == true, "\(String(describing: error))")
    }

    /// toml++ aborted the process (an assertion in parse_value, `!is_value_terminator(*cp)`;
    /// undefined behaviour in a release build) on a `}` or a Unicode line separator where an
    /// array expects a value: its array loop hands them to parse_value unchecked. Found by the
    /// experiment-file fuzzer, seed 29: inputs #2720 and #7258, the quickstart file with a `}`
    /// inserted into its `cell = [` lists (the last of the lines below is #7258's); these are
    /// refused with their line before toml++ runs.
    @Test func arrayValuesThatAbortedTOMLKit() {
        let head = "name = \"x\"\nkind = \"probe\"\n[defaults]\nhidden = 4\n"
        for (value, line) in [("steps = [}", 5), ("steps = [10, }", 5), ("steps = [[}]]", 5), ("steps = [\n  10,\n  }\n]", 7),
                              ("steps = [\u{2028}10]", 5), ("steps = [10,\u{85}]", 5), ("steps = [\n\u{2029}]", 6), ("steps = [{a = [}]}]", 5),
                              ("cell = [}\"rnn\", \"gru\"]", 5)] {
            do {
                _ = try Experiment<ProbeKind>(source: head + value + "\n", file: "x.toml")
                Issue.record("accepted \(value.debugDescription)")
            } catch let ExperimentError.file(_, l, _, message) {
                #expect(l == line && message.hasPrefix("not valid TOML"), "\(value.debugDescription): line \(l.map(String.init) ?? "none"): \(message)")
            } catch {
                Issue.record("\(value.debugDescription): \(error)")
            }
        }
        // The same characters inside strings and comments, and brackets at the start of a line
        // inside a multi-line array, are TOML and reach the kind's own checks.
        let strings = #"cell = ["}", '}', """}"\"""", '''a\u{2028}b''', "\\"] # } ["#.replacingOccurrences(of: "\\u{2028}", with: "\u{2028}")
        for value in [strings, "steps = [\n[1],\n[{a = 1}],\n]"] {
            do {
                _ = try Experiment<ProbeKind>(source: head + value + "\n", file: "x.toml")
            } catch let ExperimentError.file(_, _, _, message) {
                #expect(!message.hasPrefix("not valid TOML"), "\(value.debugDescription): \(message)")
            } catch {
                Issue.record("\(value.debugDescription): \(error)")
            }
        }
    }
}
