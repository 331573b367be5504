import GateLabAutodiff
@testable import GateLabCellLanguage
@testable import GateLabCells
import Foundation
import FuzzSupport
import GateLabGSL
import Testing

@Suite("Cell language: fuzzed inputs either parse or throw CellFileError, quickly")
struct LanguageFuzzTests {
    /// The outcome of one input.
    enum Outcome { case parsed(LanguageCell), rejected(CellFileError) }

    /// Reads `bytes`; any other error, or a parsed cell whose graph cannot be built and run
    /// (which would mean the checks let through something the engine refuses), is recorded.
    /// `seconds` is the CPU time of the reading alone.
    static func attempt(_ bytes: [UInt8], label: String) -> (Outcome?, seconds: Double) {
        let start = FuzzMeasure.threadSeconds()
        let outcome: Outcome?
        do {
            outcome = .parsed(try LanguageCell(data: Data(bytes), file: "fuzz.cell"))
        } catch let e as CellFileError {
            #expect(!e.description.contains("\n"), "one line: \(e)")
            #expect(e.position.map { $0.line >= 1 && $0.column >= 1 } ?? true, "\(e)")
            outcome = .rejected(e)
        } catch {
            Issue.record("\(label): \(type(of: error)) instead of CellFileError: \(error)\n\(String(decoding: bytes, as: UTF8.self))")
            outcome = nil
        }
        let seconds = FuzzMeasure.threadSeconds() - start
        if case .parsed(let cell) = outcome {
            do {
                _ = try printedStep(cell)
                var net = RecurrentNetwork(cell: cell, inputSize: 2, hiddenSize: 3, layers: 2)
                try net.initialize(using: RandomSource(seed: 1))
                let u = try Unrolled(network: net, batch: 2, steps: 3)
                try u.forward(inputs: [Double](repeating: 0.3, count: 3 * 2 * 2))
                _ = try u.backward(.everyStep([Double](repeating: 1, count: 3 * 2 * 3)))
            } catch {
                Issue.record("\(label): parsed, but the engine refused it: \(error)\n\(cell.source)")
            }
        }
        return (outcome, seconds)
    }

    /// Characters the language uses, so that random text gets past the first token.
    static let alphabet: [String] = ["h", "c", "x", "f", "W", "U", "b", "_", "'", "′", "(", ")", "=", "+", "-", "−", "*", "⊙", "/", "•",
                                     " ", " ", "\n", "\r\n", "\t", "#", "1", "0.5", "e", "9", ",", "σ", "tanh", "sigmoid", "state ",
                                     "cell ", "init ", "forget ", "input ", "param ", "_below'", "\u{0301}", "\u{FEFF}", "\u{2028}"]

    @Test func randomByteStrings() {
        var rng = SplitMix64(state: 20_240_601)
        var worst = 0.0, parsed = 0
        for k in 0..<400 {
            var bytes = [UInt8]()
            let length = rng.below(300)
            if k % 2 == 0 {
                for _ in 0..<length { bytes.append(UInt8(truncatingIfNeeded: rng.next())) }
            } else {
                while bytes.count < length { bytes += Array(rng.pick(Self.alphabet).utf8) }
                if k % 4 == 1 { bytes = Array("state h\nh' = ".utf8) + bytes }
            }
            let (outcome, seconds) = Self.attempt(bytes, label: "random input \(k)")
            worst = max(worst, seconds)
            if case .parsed = outcome { parsed += 1 }
        }
        #expect(worst < 0.5, "slowest input took \(worst) s")
        _ = parsed
    }

    @Test func mutationsOfEveryShippedFile() throws {
        var rng = SplitMix64(state: 7)
        let tokens = ["(", ")", "'", "h'", "c'", "x", "W_q", " = ", "=", "\nstate q\n", "\ninit b_f = zeros\n", "\ninit W_z = uniform(-1)\n",
                      "\nforget ", "\ninput b_o\n", "_below'", "c_below'", "1e999", "⊙", "\n", "#", "*", " ", "tanh(", "sigmoid", "/ 0",
                      "\nparam u\n", "\u{0301}", "\u{FF}", "-"]
        var worst = 0.0, parsed = 0, rejected = [CellFileError.Kind: Int]()
        for name in ShippedCells.names {
            let original = Array(try ShippedCells.text(name).utf8)
            for k in 0..<50 {
                var bytes = original
                for _ in 0..<(1 + rng.below(3)) {
                    let at = rng.below(bytes.count + 1)
                    switch rng.below(6) {
                    case 0:   // delete a short range
                        let n = min(1 + rng.below(8), bytes.count - at)
                        bytes.removeSubrange(at..<(at + n))
                    case 1:   // insert a token
                        bytes.insert(contentsOf: Array(rng.pick(tokens).utf8), at: at)
                    case 2:   // overwrite one byte
                        if at < bytes.count { bytes[at] = UInt8(truncatingIfNeeded: rng.next()) }
                    case 3, 4:   // delete, duplicate or swap whole lines
                        var lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
                        let i = rng.below(lines.count), j = rng.below(lines.count)
                        switch rng.below(3) {
                        case 0: lines.remove(at: i)
                        case 1: lines.insert(lines[i], at: j)
                        default: lines.swapAt(i, j)
                        }
                        bytes = Array(lines.joined(separator: [UInt8(ascii: "\n")]))
                    default:   // insert random alphabet text
                        bytes.insert(contentsOf: Array(rng.pick(Self.alphabet).utf8), at: at)
                    }
                }
                let (outcome, seconds) = Self.attempt(bytes, label: "mutant \(k) of \(name)")
                worst = max(worst, seconds)
                switch outcome {
                case .parsed: parsed += 1
                case .rejected(let e): rejected[e.kind, default: 0] += 1
                case nil: break
                }
            }
        }
        #expect(worst < 0.5, "slowest input took \(worst) s")
        // The fuzzing reaches both ends: mutants that still parse (and run), and rejections of
        // many kinds, not only syntax errors.
        #expect(parsed >= 50, "only \(parsed) mutants parsed")
        #expect(rejected.keys.count >= 6, "kinds rejected: \(rejected)")
    }

    @Test func pathologicalInputsAreRefusedQuickly() {
        let cases: [(String, String)] = [
            ("deep parentheses", "state h\nh' = " + String(repeating: "(", count: 100_000) + "h"),
            ("long minus chain", "state h\nh' = " + String(repeating: "- ", count: 50_000) + "h"),
            ("long product chain", "state h\nh' = " + String(repeating: "W ", count: 50_000) + "h"),
            ("long sum", "state h\nh' = h" + String(repeating: " + h", count: 10_000)),
            ("many equations", "state h\n" + (0..<2_000).map { "a\($0) = tanh(W x)" }.joined(separator: "\n")),
            ("many parameters", "state h\nh' = h" + (0..<100).map { k in " * (1 + " + (0..<6).map { "b_\(k)_\($0)" }.joined(separator: " + ") + ")" }.joined()),
            ("a very long line", "state h\n# " + String(repeating: "x", count: 60_000)),
            ("a long name", "state " + String(repeating: "h", count: 10_000)),
        ]
        for (label, text) in cases {
            let (outcome, seconds) = Self.attempt(Array(text.utf8), label: label)
            #expect(seconds < 0.5, "\(label): \(seconds) s")
            if case .parsed = outcome { Issue.record("\(label) should be refused") }
        }
    }
}
