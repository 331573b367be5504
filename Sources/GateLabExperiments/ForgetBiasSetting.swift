import Foundation
import GateLabSupport

/// The forget-gate bias a run asks for, as every kind's `forget_bias` setting reads it:
/// PyTorch's default draw, a constant, or chrono (whose T_max the kind supplies: the probe's
/// length, the task's steps).
public enum ForgetBiasSetting: Sendable, Equatable, CustomStringConvertible {
    /// Leave b_if, b_hf as the bias initializer drew them (PyTorch: U(±1/√H)).
    case pytorchDefault
    /// b_if = value, b_hf = 0 (Gers et al. 2000; Jozefowicz et al. 2015 recommend 1).
    case constant(Double)
    /// Chrono initialization (Tallec & Ollivier 2018).
    case chrono

    /// `default`, a number such as `1` or `0.5`, or `chrono`: the text `init(parsing:)` reads back.
    public var description: String {
        switch self {
        case .pytorchDefault: return "default"
        case .constant(let b): return formatNumber(b)
        case .chrono: return "chrono"
        }
    }

    /// The accepted forms, for messages.
    public static let forms = "a number (e.g. 0 or 1), chrono, or default"

    /// Reads `default` (also `pytorch-default`), a finite number, or `chrono`, in any case.
    /// - Throws: `SettingProblem` naming the accepted forms.
    public init(parsing text: String) throws {
        switch text.trimmingCharacters(in: .whitespaces).lowercased() {
        case "default", "pytorch-default": self = .pytorchDefault
        case "chrono": self = .chrono
        case let t:
            guard let b = Double(t), b.isFinite else { throw SettingProblem("unknown forget bias '\(text)'; use \(Self.forms)") }
            self = .constant(b)
        }
    }

    /// Reads a setting's value: a number from an experiment file, or the text forms (which is
    /// how the command line gives numbers too).
    /// - Throws: `SettingProblem` for anything else.
    public init(_ value: SettingValue) throws {
        switch value {
        case .string(let text): try self.init(parsing: text)
        case .int, .number:
            let b = try value.number()
            guard b.isFinite else { throw SettingProblem("must be finite, got \(formatNumber(b))") }
            self = .constant(b)
        case .bool: throw SettingProblem("expected \(Self.forms), got a boolean")
        }
    }
}
