import GateLabSupport
import TOMLKit

/// A value given to a setting: from an experiment file (its TOML type kept) or from the command
/// line (typed by its option: an integer option gives `.int`, a number option `.number`, the
/// others `.string`).
public enum SettingValue: Sendable, Equatable {
    case int(Int)
    case number(Double)
    case string(String)
    case bool(Bool)

    /// A TOML value; a table, an array or a date is refused with `SettingProblem`.
    public init(toml v: TOMLValueConvertible) throws {
        switch v.type {
        case .int: self = .int(v.int!)
        case .double: self = .number(v.double!)
        case .string: self = .string(v.string!)
        case .bool: self = .bool(v.bool!)
        default: throw SettingProblem("expected a single value, got \(article(v.type))")
        }
    }

    /// The value as written (strings quoted), for messages.
    var text: String {
        switch self {
        case .int(let n): String(n)
        case .number(let x): formatNumber(x)
        case .string(let s): "'\(s)'"
        case .bool(let b): String(b)
        }
    }

    var typeName: String {
        switch self {
        case .int: "an integer"
        case .number: "a number"
        case .string: "a string"
        case .bool: "a boolean"
        }
    }

    /// An integer, else a problem naming what was given.
    public func int() throws -> Int {
        guard case .int(let n) = self else { throw SettingProblem("expected an integer, got \(typeName)") }
        return n
    }

    /// A number (an integer is accepted).
    public func number() throws -> Double {
        switch self {
        case .int(let n): return Double(n)
        case .number(let x): return x
        default: throw SettingProblem("expected a number, got \(typeName)")
        }
    }

    /// A string.
    public func string() throws -> String {
        guard case .string(let s) = self else { throw SettingProblem("expected a string, got \(typeName)") }
        return s
    }

    /// A boolean (on the command line: true or false).
    public func bool() throws -> Bool {
        switch self {
        case .bool(let b): return b
        case .string("true"): return true
        case .string("false"): return false
        case .string(let text): throw SettingProblem("expected true or false, got '\(text)'")
        default: throw SettingProblem("expected true or false, got \(typeName)")
        }
    }
}

/// Why a value cannot be a setting's: the message without the place (`must be at least 1, got
/// 0`). An experiment file's reader puts the file, line and key before it, the command line the
/// option's flag.
public struct SettingProblem: Error, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// What reading a setting needs from where its value came from.
public struct SettingContext {
    /// A path given as a value (a cell file), as seen from the working folder: an experiment
    /// file's paths are relative to the file, the command line's to the working folder.
    public var path: (String) throws -> String

    /// Values typed on the command line.
    public static let commandLine = SettingContext(path: { $0 })

    /// - Parameter path: how a path given as a value is resolved.
    public init(path: @escaping (String) throws -> String) { self.path = path }
}

/// One setting of an experiment kind, declared once: its key (in experiment files and in the
/// records, which store the configuration it sets), its command-line flag and help, how a value
/// is read and where it lands in the kind's configuration, and the check of what landed there,
/// which a configuration built in code passes too (`SettingsTable.validate`). Its default is the
/// configuration's own (`current` of a fresh configuration), shown in the help.
public struct Setting<Configuration> {
    /// The key in experiment files.
    public let key: String
    /// Other names accepted in experiment files (`length` for `steps`).
    public let aliases: [String]
    /// The command-line flag (`--forget-bias`).
    public let flag: String
    /// One sentence for `--help` and the notes.
    public let help: String
    /// Reads `value` (refusing what cannot be read) and stores it in the configuration.
    public let read: (SettingValue, inout Configuration, SettingContext) throws -> Void
    /// Checks the value stored in a configuration (nil: `read` refuses every bad value itself).
    public let check: ((Configuration) throws -> Void)?
    /// The configuration's value of this setting, as text (its default when the configuration is fresh).
    public let current: (Configuration) -> String

    /// A setting.
    /// - Parameters:
    ///   - key: The experiment files' key.
    ///   - aliases: Other accepted keys.
    ///   - flag: The command-line flag.
    ///   - help: What it is, for `--help`.
    ///   - current: The configuration's value as text.
    ///   - check: Checks the stored value (throwing `SettingProblem`); run after every `read`.
    ///   - read: Reads a value (throwing `SettingProblem`) and stores it.
    public init(_ key: String, aliases: [String] = [], flag: String, help: String, current: @escaping (Configuration) -> String,
                check: ((Configuration) throws -> Void)? = nil,
                read: @escaping (SettingValue, inout Configuration, SettingContext) throws -> Void) {
        (self.key, self.aliases, self.flag, self.help, self.current, self.check, self.read) = (key, aliases, flag, help, current, check, read)
    }

    /// Reads `value` into `configuration` and checks what landed.
    public func apply(_ value: SettingValue, to configuration: inout Configuration, context: SettingContext) throws {
        try read(value, &configuration, context)
        try check?(configuration)
    }
}

/// A kind's settings, in the order of its grids' axes (outermost first): the one place from
/// which its experiment-file keys, its grid expansion and its command-line options are read.
public struct SettingsTable<Configuration> {
    /// The rows.
    public let settings: [Setting<Configuration>]
    /// The configuration a run starts from (the defaults).
    public let base: Configuration

    /// - Parameters:
    ///   - settings: The rows, in axis order.
    ///   - base: The defaults.
    public init(_ settings: [Setting<Configuration>], base: Configuration) {
        precondition(Set(settings.map(\.key)).count == settings.count, "a key is declared twice")
        precondition(Set(settings.map(\.flag)).count == settings.count, "a flag is declared twice")
        self.settings = settings
        self.base = base
    }

    /// The experiment files' keys, in axis order.
    public var keys: [String] { settings.map(\.key) }
    /// Other accepted keys, each with its setting's key.
    public var aliases: [String: String] {
        Dictionary(uniqueKeysWithValues: settings.flatMap { s in s.aliases.map { ($0, s.key) } })
    }

    /// The row of `key`.
    public func setting(key: String) -> Setting<Configuration>? { settings.first { $0.key == key } }
    /// The row of the command-line `flag`.
    public func setting(flag: String) -> Setting<Configuration>? { settings.first { $0.flag == flag } }

    /// The help of `flag`'s setting with its default (`… (default: 128)`).
    public func help(flag: String) -> String {
        guard let s = setting(flag: flag) else { preconditionFailure("no setting has the flag \(flag)") }
        return s.help + " (default: \(s.current(base)))"
    }

    /// Sets `key` from `value` in `configuration`.
    /// - Throws: `SettingProblem` for a value the setting refuses; a precondition failure for an
    ///   undeclared key (callers check keys first).
    public func set(_ key: String, _ value: SettingValue, in configuration: inout Configuration, context: SettingContext) throws {
        guard let s = setting(key: key) else { preconditionFailure("no setting has the key \(key)") }
        try s.apply(value, to: &configuration, context: context)
    }

    /// Checks every setting's value in `configuration` (one built in code, or read elsewhere).
    /// - Throws: `SettingProblem` whose message starts with the key (`momentum: must be …`).
    public func validate(_ configuration: Configuration) throws {
        for s in settings {
            do { try s.check?(configuration) } catch let p as SettingProblem { throw SettingProblem("\(s.key): \(p.message)") }
        }
    }

    /// The configuration of the command line's typed options, over the defaults: each given
    /// (flag, value) read by its row, in the table's order.
    /// - Throws: `SettingProblem` whose message starts with the flag (`--hidden: must be …`).
    public func configuration(_ given: [String: SettingValue]) throws -> Configuration {
        var c = base
        for s in settings {
            guard let value = given[s.flag] else { continue }
            do { try s.apply(value, to: &c, context: .commandLine) } catch let p as SettingProblem { throw SettingProblem("\(s.flag): \(p.message)") }
        }
        return c
    }

    /// Every configuration of the product of `axes`' lists over `base`, in the table's order
    /// (the grid's order is the file's meaning, not a hash's): the grid expansion of every
    /// kind with a settings table.
    /// - Parameters:
    ///   - axes: Per key, its values with their key paths (`TOMLReader.axes`).
    ///   - base: The configuration the grid starts from.
    ///   - path: The block's key path, for the size check.
    ///   - r: The experiment file's reader (errors at `file:line: key:`; paths relative to the file).
    public func product(_ axes: [String: [(TOMLValueConvertible, String)]], base: Configuration, path: String,
                        reader r: TOMLReader) throws -> [Configuration] {
        try r.checkGridSize(keys.compactMap { axes[$0]?.count }, path)
        var out = [base]
        for s in settings {
            guard let values = axes[s.key] else { continue }
            var next = [Configuration]()
            for c in out {
                for (v, p) in values {
                    var d = c
                    do {
                        try s.apply(try SettingValue(toml: v), to: &d, context: SettingContext(path: { try r.cellPath($0, at: p) }))
                    } catch let problem as SettingProblem {
                        throw r.error(p, problem.message)
                    }
                    next.append(d)
                }
            }
            out = next
        }
        return out
    }

    /// The unknown-key message of `key` in an experiment file: a near name, the valid keys.
    public func unknownKey(_ key: String) -> String {
        let aliasText = aliases.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)" }.joined(separator: ", ")
        return "unknown key '\(key)'\(didYouMean(key, among: keys + Array(aliases.keys))); valid keys here: \(keys.joined(separator: ", "))"
            + (aliasText.isEmpty ? "" : " (also \(aliasText))")
    }
}

extension Setting {
    /// An integer setting from `least` to `most`, stored at `keyPath`.
    public static func integer(_ key: String, aliases: [String] = [], flag: String, help: String, least: Int, most: Int = .max,
                               _ keyPath: WritableKeyPath<Configuration, Int>) -> Setting {
        Setting(key, aliases: aliases, flag: flag, help: help, current: { String($0[keyPath: keyPath]) }, check: { c in
            let n = c[keyPath: keyPath]
            guard n >= least else {
                throw SettingProblem(least == 1 ? "must be a positive integer, got \(n)" : "must be an integer ≥ \(least), got \(n)")
            }
            guard n <= most else { throw SettingProblem("must be at most \(most), got \(n)") }
        }) { v, c, _ in
            c[keyPath: keyPath] = try v.int()
        }
    }

    /// One of `choices` (a string, in any case), stored by `store`; `noun` names what is chosen
    /// in the refusal ("unknown optimizer 'adamw'").
    public static func choice<Value>(_ key: String, flag: String, help: String, noun: String, _ choices: [(name: String, value: Value)],
                                     current: @escaping (Configuration) -> String,
                                     store: @escaping (Value, inout Configuration) -> Void) -> Setting {
        Setting(key, flag: flag, help: help, current: current) { v, c, _ in
            let name = try v.string()
            guard let chosen = choices.first(where: { $0.name == name.lowercased() }) else {
                let names = choices.map(\.name)
                throw SettingProblem("unknown \(noun) '\(name)'\(didYouMean(name.lowercased(), among: names)); valid: \(names.joined(separator: ", "))")
            }
            store(chosen.value, &c)
        }
    }
}
