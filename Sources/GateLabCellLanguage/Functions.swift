import Foundation
import GateLabAutodiff

/// One function of the cell language: its names, the engine expression it records, and its
/// value on a constant (a call on a constant is folded when the file is read). A new function
/// is one row of `Functions.table`; the parser, the analyzer and the builder all read it.
struct LanguageFunction {
    /// The canonical name (in `.function` terms and messages).
    let name: String
    /// Other spellings the parser accepts.
    let aliases: [String]
    /// The graph expression of a call; nil for `expand`, which is a term of its own (it needs
    /// the width it spreads, `Term.expand`).
    let record: ((Value) -> Value)?
    /// The call's value on a constant.
    let fold: (Double) -> Double
}

/// The functions of the language: the activations of the engine, by name.
enum Functions {
    /// Every function, in the order the documentation lists them.
    static let table: [LanguageFunction] = [
        LanguageFunction(name: "sigmoid", aliases: ["σ", "sigm"], record: sigmoid, fold: { 1 / (1 + Foundation.exp(-$0)) }),
        LanguageFunction(name: "tanh", aliases: [], record: tanh, fold: { Foundation.tanh($0) }),
        LanguageFunction(name: "relu", aliases: [], record: relu, fold: { max($0, 0) }),
        LanguageFunction(name: "hard_sigmoid", aliases: [], record: hardSigmoid, fold: { min(max(0.2 * $0 + 0.5, 0), 1) }),
        LanguageFunction(name: "exp", aliases: [], record: exp, fold: { Foundation.exp($0) }),
        LanguageFunction(name: "log", aliases: [], record: log, fold: { Foundation.log($0) }),
        LanguageFunction(name: "sqrt", aliases: [], record: sqrt, fold: { $0.squareRoot() }),
        LanguageFunction(name: "square", aliases: [], record: square, fold: { $0 * $0 }),
        // A constant has no gradient to stop, and broadcasts anyway.
        LanguageFunction(name: "stop", aliases: ["stop_gradient"], record: stopGradient, fold: { $0 }),
        LanguageFunction(name: "expand", aliases: [], record: nil, fold: { $0 }),
    ]
    /// Canonical names.
    static let names = table.map(\.name)
    private static let byName: [String: LanguageFunction] = {
        var m = [String: LanguageFunction]()
        for f in table { m[f.name] = f; for a in f.aliases { m[a] = f } }
        return m
    }()
    static func isFunction(_ name: String) -> Bool { byName[name] != nil }
    static func canonical(_ name: String) -> String? { byName[name]?.name }
    /// The function named `name` (canonical or an alias); the analyzer has checked the name.
    static func named(_ name: String) -> LanguageFunction { byName[name]! }
}
