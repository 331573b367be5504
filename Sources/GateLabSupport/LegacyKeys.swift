// Reading records written with older key spellings, for every module that keeps records:
// GateLab 0.2.0's gradient-check reports had camelCase keys (`absoluteError`, `retestFailures`)
// and 0.3.0's trial records had the Swift names of nested parameters (`learningRate`,
// `{"adding": {"T": 100}}`), where records now have snake_case. A decoder wrapped in
// `LegacyKeyDecoder` answers every request for a snake_case key with the old key whose
// snake_case spelling it is, at every level of nesting.

/// A coding key of any name.
public struct AnyCodingKey: CodingKey, ExpressibleByStringLiteral {
    public var stringValue: String
    public var intValue: Int?
    public init(_ string: String) { stringValue = string }
    public init(stringLiteral value: String) { stringValue = value }
    public init?(stringValue: String) { self.stringValue = stringValue }
    public init?(intValue: Int) { stringValue = "\(intValue)"; self.intValue = intValue }
}

/// The snake_case spelling of a Swift name: `cellsPerBlock` → `cells_per_block`, `T` → `t`,
/// `temporalOrder4` → `temporal_order4`.
public func snakeCase(_ name: String) -> String {
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
/// itself or under the old key whose `snakeCase` is `k`; a key in `unlabelled` is also found
/// under `_0`, Codable's name for an enum case's one unlabelled associated value (as old records
/// stored `{"absolute": {"_0": 0.04}}` where records now have `{"absolute": {"threshold": 0.04}}`).
public struct LegacyKeyDecoder: Decoder {
    public let base: Decoder
    public let unlabelled: Set<String>
    public init(base: Decoder, unlabelled: Set<String> = []) { self.base = base; self.unlabelled = unlabelled }
    public var codingPath: [CodingKey] { base.codingPath }
    public var userInfo: [CodingUserInfoKey: Any] { base.userInfo }

    public func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        KeyedDecodingContainer(LegacyKeyedContainer<Key>(base: try base.container(keyedBy: AnyCodingKey.self), unlabelled: unlabelled))
    }
    public func unkeyedContainer() throws -> UnkeyedDecodingContainer { try base.unkeyedContainer() }
    public func singleValueContainer() throws -> SingleValueDecodingContainer { try base.singleValueContainer() }
}

struct LegacyKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let base: KeyedDecodingContainer<AnyCodingKey>
    let unlabelled: Set<String>
    var codingPath: [CodingKey] { base.codingPath }

    /// The stored key that `key` means.
    func stored(_ key: Key) -> AnyCodingKey {
        let wanted = key.stringValue
        if base.contains(AnyCodingKey(wanted)) { return AnyCodingKey(wanted) }
        if let old = base.allKeys.first(where: { snakeCase($0.stringValue) == wanted }) { return old }
        if unlabelled.contains(wanted) && base.contains(AnyCodingKey("_0")) { return AnyCodingKey("_0") }
        return AnyCodingKey(wanted)
    }
    func wrap(_ decoder: Decoder) -> Decoder { LegacyKeyDecoder(base: decoder, unlabelled: unlabelled) }

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
        try T(from: wrap(try base.superDecoder(forKey: stored(key))))
    }
    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        KeyedDecodingContainer(LegacyKeyedContainer<NestedKey>(base: try base.nestedContainer(keyedBy: AnyCodingKey.self, forKey: stored(key)), unlabelled: unlabelled))
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> UnkeyedDecodingContainer { try base.nestedUnkeyedContainer(forKey: stored(key)) }
    func superDecoder() throws -> Decoder { wrap(try base.superDecoder()) }
    func superDecoder(forKey key: Key) throws -> Decoder { wrap(try base.superDecoder(forKey: stored(key))) }
}

extension KeyedDecodingContainer where Key == AnyCodingKey {
    /// The value under `name` (found under its old spelling too, through `LegacyKeyDecoder`).
    public func value<T: Decodable>(_ name: String) throws -> T { try decode(T.self, forKey: AnyCodingKey(name)) }
    /// The same, nil when the record has no such key.
    public func optionalValue<T: Decodable>(_ name: String) throws -> T? { try decodeIfPresent(T.self, forKey: AnyCodingKey(name)) }
}
