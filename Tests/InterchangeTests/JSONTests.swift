import Foundation
import GateLabInterchange
import Testing

@Suite("JSON through Codable: exact numbers, stable bytes")
struct JSONTests {
    @Test func everyDoubleRoundTripsBitForBit() throws {
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var values: [Double] = [0, -0.0, 1, -1, 0.1, 1e-7, 5e-324, 2.2250738585072014e-308, .greatestFiniteMagnitude,
                                0.30000000000000004, 123456789012345680000]
        for _ in 0..<20_000 {   // random bit patterns, every exponent (finite ones only)
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let d = Double(bitPattern: state)
            if d.isFinite { values.append(d) }
        }
        let text = try JSONValue.array(values.map(JSONValue.number)).text()
        guard case .array(let back) = try JSONValue(parsing: text) else { Issue.record("not an array"); return }
        #expect(back.count == values.count)
        for (a, b) in zip(values, back) {
            guard case .number(let d) = b else { Issue.record("\(b) is not a number"); continue }
            #expect(d.bitPattern == a.bitPattern, "\(a) read back as \(d)")
        }
    }

    @Test func numbersBeyondFloat64AreReadAsSwiftRoundsThem() throws {
        // The decoder refuses them; they are read as Double(String) reads them, so that the
        // case readers can say "not finite" for 1e999 (and accept 1e-400 as 0, as before).
        #expect(try JSONValue(parsing: "[1e999, -1e999, 1e-400, -0]") == .array([.number(.infinity), .number(-.infinity), .number(0), .number(-0.0)]))
        guard case .array(let a) = try JSONValue(parsing: "[-0]"), case .number(let z) = a[0] else { Issue.record("no number"); return }
        #expect(z.sign == .minus)
    }

    @Test func everyKindOfValueIsRead() throws {
        #expect(try JSONValue(parsing: #"{"a": [1, true, "x", null, {"b": []}]}"#)
                == .object(["a": .array([.number(1), .bool(true), .string("x"), .null, .object(["b": .array([])])])]))
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: #"{"cell": "lstm", "#) }
        #expect(throws: JSONParseError.self) { try JSONValue(parsing: "") }
    }

    @Test func textHasSortedKeysSoTheSameValueGivesTheSameBytes() throws {
        let value = JSONValue.object(["weight_ih_l0": .array([.array([.number(0.5)])]), "cell": .string("lstm"), "bias_hh_l0": .array([.number(-2)])])
        let text = try value.text()
        #expect(text == #"{"bias_hh_l0":[-2],"cell":"lstm","weight_ih_l0":[[0.5]]}"# + "\n")
        #expect(try JSONValue(parsing: text) == value)
        #expect(throws: EncodingError.self) { try JSONValue.number(.nan).text() }
    }
}
