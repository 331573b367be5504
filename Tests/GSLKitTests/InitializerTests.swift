import Testing
import GateLabGSL
#if canImport(Glibc)
import Glibc
#endif

@Suite("Initializers")
struct InitializerTests {
    @Test("orthogonal: orthonormal columns (square, tall) or rows (wide), times the gain",
          arguments: [(6, 6, 1.0), (9, 4, 1.0), (4, 9, 1.0), (7, 7, 1.1), (12, 5, 0.5), (3, 10, 2.0), (1, 5, 1.0), (5, 1, 1.0)])
    func orthogonal(rows: Int, cols: Int, gain: Double) throws {
        let q = try Initializer.orthogonal(gain: gain).values(rows: rows, cols: cols, using: RandomSource(seed: 17))
        #expect(q.count == rows * cols)
        let tall = rows >= cols
        let product = gram(rows: rows, cols: cols, q, ofColumns: tall)
        #expect(isClose(product, identity(min(rows, cols), scale: gain * gain), tolerance: 1e-12))
    }

    @Test("orthogonal: the sign correction makes the result differ between seeds and repeat per seed")
    func orthogonalDeterminism() throws {
        let a = try Initializer.orthogonal().values(rows: 8, cols: 8, using: RandomSource(seed: 1))
        let b = try Initializer.orthogonal().values(rows: 8, cols: 8, using: RandomSource(seed: 1))
        let c = try Initializer.orthogonal().values(rows: 8, cols: 8, using: RandomSource(seed: 2))
        #expect(a == b && a != c)
    }

    @Test("glorot-uniform: inside ±gain·√(6/(fan_in+fan_out)) with variance bound²/3")
    func glorotUniform() throws {
        let (rows, cols, gain) = (300, 200, 1.5)
        let values = try Initializer.glorotUniform(gain: gain).values(rows: rows, cols: cols, using: RandomSource(seed: 3))
        let bound = gain * (6.0 / Double(rows + cols)).squareRoot()
        #expect(values.allSatisfy { abs($0) <= bound })
        #expect(try Statistics.max(values) > 0.99 * bound)
        #expect(isClose(try Statistics.variance(values), bound * bound / 3, tolerance: 0.02 * bound * bound / 3))
    }

    @Test("glorot-normal: mean 0 and variance gain²·2/(fan_in+fan_out)")
    func glorotNormal() throws {
        let (rows, cols) = (400, 100)
        let values = try Initializer.glorotNormal().values(rows: rows, cols: cols, using: RandomSource(seed: 4))
        let variance = 2.0 / Double(rows + cols)
        #expect(isClose(try Statistics.mean(values), 0, tolerance: 5 * (variance / Double(values.count)).squareRoot()))
        #expect(isClose(try Statistics.variance(values), variance, tolerance: 0.03 * variance))
    }

    @Test("uniform and pytorch-default stay inside their bounds")
    func uniformBounds() throws {
        let rng = try RandomSource(seed: 5)
        let u = try Initializer.uniform(bound: 0.1).values(rows: 50, cols: 40, using: rng)
        #expect(u.allSatisfy { abs($0) <= 0.1 })
        #expect(try Statistics.max(u) > 0.09)
        let p = try Initializer.pytorchRecurrentDefault(hiddenSize: 25).values(rows: 100, cols: 25, using: rng)
        #expect(p.allSatisfy { abs($0) <= 0.2 })
        #expect(try Statistics.min(p) < -0.19)
    }

    @Test("identity, scaled identity, constant and zeros, also for non-square shapes")
    func deterministic() throws {
        let rng = try RandomSource(seed: 0)
        #expect(try Initializer.identity.values(rows: 3, cols: 3, using: rng) == identity(3))
        #expect(try Initializer.identity.values(rows: 2, cols: 3, using: rng) == [1, 0, 0, 0, 1, 0])
        #expect(try Initializer.scaledIdentity(0.5).values(rows: 3, cols: 2, using: rng) == [0.5, 0, 0, 0.5, 0, 0])
        #expect(try Initializer.constant(1).values(rows: 2, cols: 2, using: rng) == [1, 1, 1, 1])
        #expect(try Initializer.zeros.values(rows: 1, cols: 3, using: rng) == [0, 0, 0])
    }

    @Test("random initializers repeat with the seed")
    func seededDeterminism() throws {
        for initializer in [Initializer.uniform(bound: 1), .glorotUniform(), .glorotNormal(gain: 2), .pytorchRecurrentDefault(hiddenSize: 8)] {
            let a = try initializer.values(rows: 4, cols: 6, using: RandomSource(seed: 77))
            let b = try initializer.values(rows: 4, cols: 6, using: RandomSource(seed: 77))
            #expect(a.map(\.bitPattern) == b.map(\.bitPattern), "\(initializer)")
        }
    }

    @Test("invalid shapes and parameters are errors")
    func invalid() throws {
        let rng = try RandomSource(seed: 0)
        #expect(throws: InvalidArgumentError.self) { try Initializer.zeros.values(rows: 0, cols: 3, using: rng) }
        #expect(throws: InvalidArgumentError.self) { try Initializer.uniform(bound: -1).values(rows: 2, cols: 2, using: rng) }
        #expect(throws: InvalidArgumentError.self) { try Initializer.orthogonal(gain: .nan).values(rows: 2, cols: 2, using: rng) }
        #expect(throws: InvalidArgumentError.self) {
            try Initializer.pytorchRecurrentDefault(hiddenSize: 0).values(rows: 2, cols: 2, using: rng)
        }
    }

    @Test("chrono biases: b_f = log U(1, T−1) in [0, log(T−1)], b_i = −b_f")
    func chrono() throws {
        let maxSteps = 100.0
        let (forget, input) = try Initializer.chronoBiases(count: 5000, maxSteps: maxSteps, using: RandomSource(seed: 8))
        #expect(forget.count == 5000 && input == forget.map { -$0 })
        #expect(forget.allSatisfy { $0 >= 0 && $0 <= log(maxSteps - 1) })
        #expect(try Statistics.max(forget) > 0.99 * log(maxSteps - 1))
        // E[log U(a, b)] = (b log b − b − (a log a − a)) / (b − a), here a = 1, b = 99.
        let expected = (99 * log(99.0) - 99 - (0 - 1)) / 98
        #expect(isClose(try Statistics.mean(forget), expected, tolerance: 0.05))
        #expect(throws: InvalidArgumentError.self) { try Initializer.chronoBiases(count: 3, maxSteps: 2, using: RandomSource(seed: 8)) }
    }

    @Test("names round-trip through description and init(parsing:hiddenSize:)")
    func parsingRoundTrip() throws {
        let cases: [(String, Initializer)] = [
            ("uniform(0.1)", .uniform(bound: 0.1)), ("pytorch-default", .pytorchRecurrentDefault(hiddenSize: 20)),
            ("glorot-uniform", .glorotUniform()), ("glorot-uniform(2)", .glorotUniform(gain: 2)),
            ("glorot-normal", .glorotNormal()), ("orthogonal", .orthogonal()), ("orthogonal(1.1)", .orthogonal(gain: 1.1)),
            ("identity", .identity), ("scaled-identity(0.5)", .scaledIdentity(0.5)), ("constant(1)", .constant(1)),
            ("constant(-0.25)", .constant(-0.25)), ("zeros", .zeros),
            ("progression(-1, -2)", .progression(first: -1, step: -2)), ("progression(0.5, 0.5)", .progression(first: 0.5, step: 0.5)),
        ]
        for (name, initializer) in cases {
            #expect(initializer.description == name)
            #expect(try Initializer(parsing: name, hiddenSize: 20) == initializer)
        }
        #expect(try Initializer(parsing: " Orthogonal( 1.10 ) ", hiddenSize: 1) == .orthogonal(gain: 1.1))
        #expect(try Initializer(parsing: "uniform(1e-3)", hiddenSize: 1) == .uniform(bound: 0.001))
    }

    @Test("every listed form parses and prints back as its name")
    func everyListedFormParses() throws {
        #expect(Initializer.validNames.count == 10)
        for spelled in Initializer.validNames {
            // `uniform(BOUND)` → uniform(0.5); `orthogonal[(GAIN)]` → orthogonal and orthogonal(0.5).
            let name = String(spelled.prefix { $0 != "(" && $0 != "[" })
            let texts = spelled.hasSuffix("]") ? [name, name + "(0.5)"] : spelled.contains(", ") ? [name + "(0.5, -1)"]
                : spelled.hasSuffix(")") ? [name + "(0.5)"] : [name]
            for text in texts {
                #expect(try Initializer(parsing: text, hiddenSize: 4).description == text, "\(spelled)")
            }
        }
    }

    @Test("unknown or malformed names list the valid forms", arguments: ["he-normal", "uniform", "zeros(2)", "constant(x)", "orthogonal(1", "constant(inf)"])
    func parsingErrors(name: String) {
        let error = #expect(throws: InvalidArgumentError.self) { try Initializer(parsing: name, hiddenSize: 8) }
        #expect(error?.message.contains("glorot-uniform[(GAIN)]") == true)
    }
}
