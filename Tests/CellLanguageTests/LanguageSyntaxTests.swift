import GateLabAutodiff
@testable import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import GateLabGSL
import Testing

@Suite("Cell language: what a file may say, and the shapes and roles it implies")
struct LanguageSyntaxTests {
    @Test func theIssuesExampleParsesIntoOneStepOfEquations() throws {
        let cell = try LanguageCell(source: """
            cell mgu            # Zhou et al. 2016
            state h
            f  = sigmoid(W_f x + U_f h + b_f)
            hc = tanh(W_h x + U_h (f * h) + b_h)
            h' = (1 - f) * h + f * hc
            """, file: "mgu.cell")
        #expect(cell.name == "mgu.cell" && cell.declaredName == "mgu" && cell.stateNames == ["h"])
        #expect(try printedStep(cell) == """
            f = σ(W_f x + U_f h + b_f)
            hc = tanh(W_h x + U_h (f ⊙ h) + b_h)
            h' = (1 − f) ⊙ h + f ⊙ hc
            """)
        #expect(cell.gateCount == 2)
    }

    @Test func shapesAndRolesAreInferredFromUse() throws {
        let cell = try LanguageCell(source: """
            state h c
            a  = W_a x + U_a h + u ⊙ c + b_a + v * x_proj
            x_proj = W_p x
            g  = tanh(x * w_x)
            c' = sigmoid(a) * c + V (g * 1) + b_c
            h' = tanh(c')
            """, file: "roles.cell")
        let specs = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: 3, hiddenSize: 5).map { ($0.name, $0) })
        func check(_ name: String, _ rows: Int, _ cols: Int, _ role: ParameterRole, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(specs[name]?.rows == rows && specs[name]?.cols == cols && specs[name]?.role == role, "\(name): \(String(describing: specs[name]))",
                    sourceLocation: sourceLocation)
        }
        check("W_a", 5, 3, .inputWeight)          // multiplies x: H × I
        check("U_a", 5, 5, .recurrentWeight)      // multiplies a state: H × H
        check("u", 1, 5, .perUnitWeight)          // per unit (diagonal)
        check("b_a", 1, 5, .inputBias)            // only added
        check("v", 1, 5, .perUnitWeight)
        check("W_p", 5, 3, .inputWeight)
        check("w_x", 1, 3, .perUnitWeight)        // meets x: 1 × I
        check("V", 5, 3, .inputWeight)            // multiplies g, which is I wide
        check("b_c", 1, 5, .inputBias)
        #expect(specs.count == 9)
        #expect(specs.values.allSatisfy { $0.initializer == nil }, "no init lines")
        // A matrix scheme does not apply to per-unit vectors: they stay U(±1/√H).
        var net = RecurrentNetwork(cell: cell, inputSize: 3, hiddenSize: 5)
        try net.initialize(.init(inputWeights: .zeros, recurrentWeights: .zeros, biases: .zeros), using: RandomSource(seed: 1))
        for name in ["u", "v", "w_x"] {
            let values = net.weights[0][name]!.scalars
            #expect(values.allSatisfy { abs($0) <= 1 / Foundation.sqrt(5.0) } && values.contains { $0 != 0 }, "\(name): \(values)")
        }
        #expect(net.weights[0]["U_a"]!.scalars.allSatisfy { $0 == 0 } && net.weights[0]["b_a"]!.scalars.allSatisfy { $0 == 0 })
    }

    @Test func parametersAreDrawnEquationByEquationInputRecurrentPerUnitBias() throws {
        let cell = try LanguageCell(source: """
            state h c
            f  = sigmoid(b_f + p_f * c + U_f h + W_f x)
            h' = tanh(b + U h + W x) * f
            c' = f * c
            """, file: "order.cell")
        #expect(cell.parameters(inputSize: 2, hiddenSize: 3).map(\.name) == ["W_f", "U_f", "p_f", "b_f", "W", "U", "b"])
    }

    @Test func notationVariantsMeanTheSame() throws {
        let plain = try LanguageCell(source: "state h\nh' = tanh(W x + U (h * h) - b)\n", file: "a.cell")
        let fancy = try LanguageCell(source: """
            state h
            h' = tanh(W • x + U (h ⊙ h)
                      − b)   # continues while a parenthesis is open
            """, file: "b.cell")
        #expect(try printedStep(plain) == printedStep(fancy))
        let sigma = try LanguageCell(source: "state h\nh' = σ(W x) ∘ h\n", file: "c.cell")
        #expect(try printedStep(sigma) == "h' = σ(W x) ⊙ h")
    }

    @Test func everyFunctionIsAvailable() throws {
        let cell = try LanguageCell(source: """
            state h
            a  = sigmoid(W x) + tanh(h) + relu(h) + hard_sigmoid(h) + exp(h) + log(1 + square(h)) + sqrt(1 + square(h))
            h' = a / 7 * 0.5e-1
            """, file: "f.cell")
        let text = try printedStep(cell)
        for f in ["σ(", "tanh(", "relu(", "exp(", "log(", "√(", "²"] { #expect(text.contains(f), "\(f) in \(text)") }
    }

    @Test func constantsFoldAndNamedConstantsAreSubstituted() throws {
        let cell = try LanguageCell(source: """
            state h
            β  = 1
            h' = sigmoid(W x - β) * h + (2 * 0.5 - 0.25) * tanh(U h)
            """, file: "k.cell")
        #expect(try printedStep(cell) == "h' = σ(W x − 1) ⊙ h + 0.75 tanh(U h)")
    }

    @Test func equationsMayComeInAnyOrderAndNewStatesFeedOtherEquations() throws {
        let cell = try LanguageCell(source: """
            state h c
            h' = o * tanh(c')
            o  = sigmoid(W_o x + U_o h)
            c' = c + tanh(W x)
            """, file: "order.cell")
        #expect(try printedStep(cell) == "o = σ(W_o x + U_o h)\nc' = c + tanh(W x)\nh' = o ⊙ tanh(c')")
    }

    @Test func initLinesBecomeTheParametersOwnInitializers() throws {
        let cell = try LanguageCell(source: """
            state h
            h' = tanh(W x + U h + b + u * h)
            init U = orthogonal(1.1)
            init b = constant(0.25)
            init u = pytorch-default
            init W = glorot-uniform
            """, file: "init.cell")
        let specs = Dictionary(uniqueKeysWithValues: cell.parameters(inputSize: 2, hiddenSize: 9).map { ($0.name, $0) })
        #expect(specs["U"]?.initializer == .orthogonal(gain: 1.1))
        #expect(specs["b"]?.initializer == .constant(0.25))
        #expect(specs["u"]?.initializer == .pytorchRecurrentDefault(hiddenSize: 9))
        #expect(specs["W"]?.initializer == .glorotUniform(gain: 1))
        // RecurrentNetwork.initialize uses them, whatever the scheme says for the role.
        var net = RecurrentNetwork(cell: cell, inputSize: 2, hiddenSize: 9)
        try net.initialize(.init(recurrentWeights: .zeros, biases: .zeros), using: RandomSource(seed: 1))
        #expect(net.weights[0]["b"]!.scalars.allSatisfy { $0 == 0.25 })
        let u = net.weights[0]["U"]!
        let gram = (0..<9).map { i in (0..<9).map { j in (0..<9).reduce(0.0) { $0 + u[$1, i] * u[$1, j] } } }
        #expect((0..<9).allSatisfy { i in abs(gram[i][i] - 1.21) < 1e-12 }, "orthogonal(1.1): UᵀU = 1.21 I")
    }

    @Test func forgetAndInputMarksDriveTheForgetBiasSchemes() throws {
        let cell = try LanguageCell(source: """
            state h c
            i  = sigmoid(W_i x + U_i h + b_i)
            f  = sigmoid(W_f x + U_f h + b_f)
            c' = f * c + i * tanh(W x)
            h' = tanh(c')
            forget b_f
            input b_i
            """, file: "fb.cell")
        let specs = cell.parameters(inputSize: 2, hiddenSize: 3)
        #expect(specs.first { $0.name == "b_f" }?.gate == "forget" && specs.first { $0.name == "b_i" }?.gate == "input")
        #expect(specs.first { $0.name == "W_f" }?.gate == "f")
        var net = RecurrentNetwork(cell: cell, inputSize: 2, hiddenSize: 3)
        try net.initialize(.init(forgetBias: .constant(1)), using: RandomSource(seed: 2))
        #expect(net.weights[0]["b_f"]!.scalars == [1, 1, 1])
        try net.initialize(.init(forgetBias: .chrono(maxSteps: 50)), using: RandomSource(seed: 2))
        let bf = net.weights[0]["b_f"]!.scalars, bi = net.weights[0]["b_i"]!.scalars
        #expect(bf.allSatisfy { $0 >= 0 && $0 < Foundation.log(49) } && zip(bf, bi).allSatisfy { $0 == -$1 })
    }

    @Test func fileReadingResolvesBuiltinsFirstThenFiles() throws {
        #expect(try BuiltinCells.resolve("lstm") is LSTM)
        #expect(try BuiltinCells.resolve("rnn_tanh") is TanhRNN)
        let path = ShippedCells.path("mgu.cell")
        let cell = try BuiltinCells.resolve(path)
        #expect(cell.name == path && (cell as? LanguageCell)?.declaredName == "mgu")
        // named(_:) finds it again by its name, as the probe's code relies on.
        #expect(BuiltinCells.named(cell.name)?.stateNames == ["h"])
        #expect(BuiltinCells.named("transformer") == nil)
        #expect(throws: UnknownCellError(name: "transformer")) { try BuiltinCells.resolve("transformer") }
        #expect(throws: CellFileError(file: "no/such.cell", position: nil, kind: .unreadable, message: "no such cell file")) {
            try BuiltinCells.resolve("no/such.cell")
        }
        #expect(throws: CellFileError.self) { try BuiltinCells.resolve(ShippedCells.directory.path) }   // a directory
    }

    @Test func aBrokenFileIsNilForNamedAndAnErrorWithItsPlaceForResolve() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("gatelab-lang-\(UUID())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("broken.cell").path
        try "state h\nh' = tanh(W x + U hh)\n".write(toFile: path, atomically: true, encoding: .utf8)
        #expect(BuiltinCells.named(path) == nil)
        do {
            _ = try BuiltinCells.resolve(path)
            Issue.record("should not parse")
        } catch let e as CellFileError {
            #expect(e.description == "\(path):2:19: unknown name 'hh': not x, a state, a defined value or a parameter (did you mean 'h'?); "
                    + "a parameter's name starts with W, U, V, R, b, w, u, v or p followed by _ or a digit (W_f, b2), or is declared with param hh")
        }
        try Data([0x73, 0x74, 0xFF, 0x0A]).write(to: URL(fileURLWithPath: path))
        #expect(throws: CellFileError(file: path, position: SourcePosition(line: 1, column: 3), kind: .unreadable, message: "not UTF-8 text")) {
            try LanguageCell(contentsOfFile: path)
        }
        try Data(repeating: 0x20, count: CellFileLimits.bytes + 1).write(to: URL(fileURLWithPath: path))
        #expect(throws: CellFileError.self) { try LanguageCell(contentsOfFile: path) }
    }
}

@Suite("Cell language: every mistake is one line with file, line and column")
struct LanguageErrorTests {
    @Test func syntaxErrors() {
        expectCellError("state h\nh' = tanh(W x\n", .syntax, at: 3, 1, mentions: ["')'", "2:6"])
        expectCellError("state h\nh' = (W x + b\n", .syntax, at: 3, 1, mentions: ["close '('"])
        expectCellError("state h\nh' = 2 h\n", .syntax, at: 2, 8, mentions: ["operator", "*"])
        expectCellError("state h\nh' W x\n", .syntax, at: 2, 4, mentions: ["'='"])
        expectCellError("state h\nh' = tanh(W x) $\n", .syntax, at: 2, 16, mentions: ["'$'"])
        expectCellError("state h\nh'' = h\n", .syntax, at: 2, 1, mentions: ["2 primes"])
        expectCellError("state h\nh' = h +\n", .syntax, at: 2, 9, mentions: ["expected a value"])
        expectCellError("state h\nh' = 1e999 * h\n", .syntax, at: 2, 6, mentions: ["out of range"])
        expectCellError("state\n", .syntax, at: 1, 6, mentions: ["at least one name"])
        expectCellError("state h'\n", .syntax, at: 1, 7, mentions: ["without primes"])
        expectCellError("cell\nstate h\n", .syntax, at: 1, 5, mentions: ["needs a name"])
        expectCellError("cell a b\nstate h\n", .syntax, at: 1, 6, mentions: ["needs a name"])
        expectCellError("state h\nh' = tanh(h, h)\n", .syntax, at: 2, 12, mentions: ["one argument"])
        expectCellError("state h\nh' = tanh h\n", .misuse, at: 2, 6, mentions: ["tanh(…)"])
        expectCellError("state h\n' = h\n", .syntax, at: 2, 1, mentions: ["prime"])
        expectCellError("state h\nh' = W •\n", .syntax, at: 2, 9, mentions: ["operand of W"])
        let deep = String(repeating: "(", count: 300) + "h" + String(repeating: ")", count: 300)
        expectCellError("state h\nh' = tanh(W x) + \(deep)\n", .syntax, at: 2, 146, mentions: ["levels deep"])
        let long = (0..<200).map { _ in "h" }.joined(separator: " + ")
        // A flat sum is no nesting to its writer (issue #17): the message says it is a chain.
        expectCellError("state h\nh' = \(long)\n", .syntax, at: 2, 516, mentions: ["chain of more than"])
    }

    @Test func unknownNamesAndFunctions() {
        expectCellError("state h\nh' = tanh(W x + hc)\n", .unknownName, at: 2, 17, mentions: ["'hc'", "did you mean 'h'?"])
        expectCellError("state h\nhc = tanh(W x)\nh' = tanh(W x + hcc)\n", .unknownName, at: 3, 17, mentions: ["did you mean 'hc'?"])
        expectCellError("state h\nh' = sigmod(W x)\n", .unknownFunction, at: 2, 6, mentions: ["'sigmod'", "sigmoid", "leave a space"])
        expectCellError("state h\nh' = tanh(W x + c')\n", .unknownName, at: 2, 17, mentions: ["c'", "not a declared state"])
        expectCellError("state h\nh' = tanh(Wx x)\n", .unknownName, at: 2, 11, mentions: ["'Wx'", "param Wx"])
        expectCellError("state h\nh' = tanh(W x + d_below')\n", .unknownName, at: 2, 17, mentions: ["d is not a declared state"])
        // The escape hatch: any name declared with param is a parameter.
        #expect(throws: Never.self) { try LanguageCell(source: "state h\nparam Wx\nh' = tanh(Wx x)\n", file: "t.cell") }
    }

    @Test func shapeErrors() {
        expectCellError("state h\nh' = tanh(x + h)\n", .shape, at: 2, 13, mentions: ["'+'", "input's width I", "hidden width H"])
        expectCellError("state h\nh' = tanh(W x + W h)\n", .shape, at: 2, 19, mentions: ["W multiplies", "hidden width H", "2:11"])
        expectCellError("state h\nh' = x * W_x\n", .shape, at: 2, 1, mentions: ["h' has the input's width I"])
        expectCellError("state h\nh' = tanh(W x + W)\n", .shape, at: 2, 17, mentions: ["W is used as a matrix", "as a vector here"])
        expectCellError("state h\nh' = tanh(b + U h) + U\n", .shape, at: 2, 22, mentions: ["U is used as a matrix"])
        expectCellError("state h\nh' = tanh(U b_1) * h\n", .shape, at: 2, 13, mentions: ["cannot infer the width of b_1"])
        expectCellError("state h\na = b_1 * b_2\nh' = tanh(U a) * h\n", .shape, at: 2, 5, mentions: ["cannot infer the width of b_1"])
        expectCellError("state h\nh' = tanh(W 2) * h\n", .shape, at: 2, 13, mentions: ["multiplies a constant"])
    }

    @Test func statesAndDefinitions() {
        expectCellError("state h c\nh' = tanh(W x + U h)\n", .stateNeverUpdated, at: 1, 9, mentions: ["state c is never updated", "c' ="])
        expectCellError("f = sigmoid(W x)\n", .misuse, at: 1, 1, mentions: ["no state declared", "state h"])
        expectCellError("state h\nh = tanh(W x)\n", .misuse, at: 2, 1, mentions: ["previous value", "h' ="])
        expectCellError("state h\nf' = tanh(W x)\nh' = f\n", .misuse, at: 2, 1, mentions: ["not declared with state"])
        expectCellError("state h\nh' = tanh(W x)\nh' = tanh(U h)\n", .duplicateDefinition, at: 3, 1, mentions: ["defined twice", "2:1"])
        expectCellError("state h\nf = W x\nf = U h\nh' = f\n", .duplicateDefinition, at: 3, 1, mentions: ["f is defined twice"])
        expectCellError("state h h\nh' = W x\n", .duplicateDefinition, at: 1, 9)
        expectCellError("cell a\ncell b\nstate h\nh' = W x\n", .duplicateDefinition, at: 2, 6, mentions: ["second cell line"])
        expectCellError("state h\nx = W h\nh' = x\n", .misuse, at: 2, 1, mentions: ["x is the layer's input"])
        expectCellError("state h\ntanh = W h\nh' = W x\n", .misuse, at: 2, 1, mentions: ["function"])
        expectCellError("state h\nh' = tanh(W x)\nf = U h\n", .unused, at: 3, 1, mentions: ["f is defined but no state"])
        expectCellError("state h\nh' = W x\ninit U = zeros\n", .unused, at: 3, 6, mentions: ["init U"])
        expectCellError("state h\nh' = W x\ninit h = zeros\n", .misuse, at: 3, 6, mentions: ["initial states"])
        expectCellError("state h\nh' = W x + b\ninit b = sideways\n", .initializer, at: 3, 10, mentions: ["unknown initializer", "orthogonal"])
        expectCellError("state h\nh' = W x + b\ninit b = uniform\n", .initializer, at: 3, 10, mentions: ["needs a number"])
        expectCellError("state h\nh' = W x + b\ninit b = zeros\ninit b = zeros\n", .duplicateDefinition, at: 4, 6)
        expectCellError("state h\nh' = W x + u * h\nforget u\n", .misuse, at: 3, 8, mentions: ["not a bias"])
        expectCellError("state h\nh' = W x\nforget b\n", .unused, at: 3, 8)
        expectCellError("state h\nh' = W x + b\nforget b\ninput b\n", .duplicateDefinition, at: 4, 7)
        expectCellError("state h\nparam q\nh' = W x\n", .unused, at: 2, 7, mentions: ["q is declared"])
        expectCellError("state h\nf = tanh(W x)\nh' = f\n", .misuse, at: 3, 6, mentions: ["only renames f"])
        expectCellError("state h\nh' = tanh(b)\n", .misuse, at: 2, 1, mentions: ["does not depend on x"])
        expectCellError("state h\nh' = 1 - 1\n", .misuse, at: 2, 1, mentions: ["does not depend on x"])
        expectCellError("state h\nh' = x' * h\n", .misuse, at: 2, 6, mentions: ["no new value"])
        expectCellError("state h\nf = tanh(W x)\nh' = f' * h\n", .misuse, at: 3, 6, mentions: ["no prime"])
        expectCellError("state h\nh' = tanh(W x + W_' h)\n", .syntax, at: 2, 21, mentions: ["operator"])
        expectCellError("state h\nh' = f h\nf = tanh(W x)\n", .misuse, at: 2, 6, mentions: ["f is a value, not a weight", "f * …"])
        expectCellError("state h\nh' = x h\n", .misuse, at: 2, 6, mentions: ["x is the input, not a weight"])
        expectCellError("state h\nh' = 1 / (1 - 1) * h\n", .misuse, at: 2, 8, mentions: ["not a finite number"])
        expectCellError("state c_below\nc_below' = W x\n", .misuse, at: 1, 7, mentions: ["reserved"])
        expectCellError("state c\nc' = tanh(W x + c_below)\n", .misuse, at: 2, 17, mentions: ["c_below'"])
    }

    @Test func cyclesNameTheValuesInvolved() {
        expectCellError("state h\nh' = f * h\nf = sigmoid(W x + g)\ng = tanh(U f)\n", .cycle, at: 3, 1, mentions: ["f → g → f"])
        expectCellError("state h\nh' = tanh(W x + h')\n", .cycle, at: 2, 1, mentions: ["h' → h'"])
        expectCellError("state h c\nh' = tanh(c')\nc' = h' * c\n", .cycle, at: 2, 1, mentions: ["h' → c' → h'"])
    }
}
