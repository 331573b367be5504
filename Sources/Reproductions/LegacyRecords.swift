/// Reading trial records of GateLab 0.3.0, whose nested `parameters` had the Swift names as
/// keys (`learningRate`, `cellsPerBlock`, `{"adding": {"T": 100}}`, `{"absolute": {"_0": 0.04}}`)
/// where records now have snake_case (`learning_rate`, `cells_per_block`, `{"adding": {"t":
/// 100}}`, `{"absolute": {"threshold": 0.04}}`). `TrialRecord` first decodes its parameters
/// as they are written now and, failing that, through `LegacyKeyDecoder`, which answers every
/// request for a snake_case key with the old key whose snake_case spelling it is.

/// A coding key of any name.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

/// The snake_case spelling of a Swift name: `cellsPerBlock` → `cells_per_block`, `T` → `t`,
/// `temporalOrder4` → `temporal_order4`; the one unlabelled associated value `_0` is `threshold`
/// or `levels`, whichever is asked for.
func snakeCase(_ name: String) -> String {
    var out = ""
    for (i, ch) in name.enumerated() {
        if ch.isUppercase {
            if i > 0 { out += "_" }
            out += ch.lowercased()
        } else {
            out.append(ch)
        }
    }
    return out
}

/// A decoder over another one whose keyed containers find each requested key `k` under `k`
/// itself or under the old key whose `snakeCase` is `k`.
struct LegacyKeyDecoder: Decoder {
    let base: Decoder
    var codingPath: [CodingKey] { base.codingPath }
    var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(LegacyKeyedContainer<Key>(base: try base.container(keyedBy: AnyCodingKey.self)))
    }
    func unkeyedContainer() throws -> UnkeyedDecodingContainer { try base.unkeyedContainer() }
    func singleValueContainer() throws -> SingleValueDecodingContainer { try base.singleValueContainer() }
}

struct LegacyKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let base: KeyedDecodingContainer<AnyCodingKey>
    var codingPath: [CodingKey] { base.codingPath }

    /// The stored key that `key` means.
    func stored(_ key: Key) -> AnyCodingKey {
        let wanted = key.stringValue
        if base.contains(AnyCodingKey(wanted)) { return AnyCodingKey(wanted) }
        if let old = base.allKeys.first(where: { snakeCase($0.stringValue) == wanted }) { return old }
        if (wanted == "threshold" || wanted == "levels") && base.contains(AnyCodingKey("_0")) { return AnyCodingKey("_0") }
        return AnyCodingKey(wanted)
    }

    var allKeys: [Key] { base.allKeys.compactMap { Key(stringValue: $0.stringValue) ?? Key(stringValue: snakeCase($0.stringValue)) } }
    func contains(_ key: Key) -> Bool { base.contains(stored(key)) }
    func decodeNil(forKey key: Key) throws -> Bool { try base.decodeNil(forKey: stored(key)) }
    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try base.decode(type, forKey: stored(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try base.decode(type, forKey: stored(key)) }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try T(from: LegacyKeyDecoder(base: try base.superDecoder(forKey: stored(key))))
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(LegacyKeyedContainer<NestedKey>(base: try base.nestedContainer(keyedBy: AnyCodingKey.self, forKey: stored(key))))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try base.nestedUnkeyedContainer(forKey: stored(key)) }
    func superDecoder() throws -> Decoder { LegacyKeyDecoder(base: try base.superDecoder()) }
    func superDecoder(forKey key: Key) throws -> Decoder { LegacyKeyDecoder(base: try base.superDecoder(forKey: stored(key))) }
}
