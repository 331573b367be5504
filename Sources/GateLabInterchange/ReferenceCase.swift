import GateLabAutodiff
import GateLabCells
import Foundation
import GateLabSupport

/// A reference case in the format of `shared/reference/README.md`: weights in PyTorch's
/// `state_dict` layout, inputs, initial states, the loss weights R, and what PyTorch (or Keras)
/// computed from them in float64 — outputs, final states, loss and every gradient.
public struct ReferenceCase {
    /// The file it came from (for messages).
    public var file: String
    /// `cell`: `lstm`, `gru`, `gru_reset_before` or `rnn_tanh`.
    public var cellName: String
    /// Where the numbers come from (`source`), if given.
    public var source: String?
    /// The network with the case's weights.
    public var network: RecurrentNetwork
    /// B and T.
    public var batch: Int, steps: Int
    /// x, T·B·I numbers step-major.
    public var x: [Double]
    /// Initial states per layer, per state (h0, and c0 for the LSTM).
    public var initialState: [[Tensor]]
    /// R, T·B·H numbers.
    public var r: [Double]
    /// Every expected tensor by key (`h`, `h_last`, `loss`, `d_weight_ih_l0`, …), flattened;
    /// without the `d_*` gradients and `grad_norm_x` when the file has none of them.
    public var expected: [String: [Double]]

    /// Reads and validates a case file.
    /// - Throws: `CaseFileError` naming the file and the key (missing key, wrong shape,
    ///   ragged array, non-finite number, unknown cell, unreadable JSON).
    public init(contentsOf path: String) throws {
        try self.init(try JSONReader.object(try JSONReader.contents(of: path), file: path), file: path)
    }

    /// Validates a parsed case (see `init(contentsOf:)`).
    public init(_ dict: [String: JSONValue], file: String) throws {
        let json = JSONReader(dict: dict, file: file)
        self.file = file
        cellName = try json.string("cell")
        if case .string(let s)? = dict["source"] { source = s }
        network = try WeightsFile.network(from: json)
        batch = try json.positiveInt("batch")
        steps = try json.positiveInt("steps")
        let (B, T, I, H, L, G) = (batch, steps, network.inputSize, network.hiddenSize, network.layers, network.cell.gateCount)
        let cell = network.cell
        x = try json.numbers("x", [T, B, I])
        r = try json.numbers("R", [T, B, H])
        let hasC = cell.stateNames.count == 2
        let h0 = try json.numbers("h0", [L, B, H])
        let c0 = hasC ? try json.numbers("c0", [L, B, H]) : []
        initialState = (0..<L).map { k in
            let slice = { (a: [Double]) in Tensor(rows: B, cols: H, scalars: Array(a[(k * B * H)..<((k + 1) * B * H)])) }
            return hasC ? [slice(h0), slice(c0)] : [slice(h0)]
        }
        var expected: [String: [Double]] = [:]
        expected["loss"] = [try json.number("loss")]
        expected["h"] = try json.numbers("h", [T, B, H])
        expected["h_last"] = try json.numbers("h_last", [L, B, H])
        if hasC { expected["c_last"] = try json.numbers("c_last", [L, B, H]) }
        // The gradients are optional as a group: a case with only forward values is enough for
        // a probe or a forward check (`verify` then compares what the file has). A file with
        // some d_* keys must have them all.
        let gradientKeys = dict.keys.filter { $0.hasPrefix("d_") || $0 == "grad_norm_x" }
        if !gradientKeys.isEmpty {
            for k in 0..<L {
                let inCols = k == 0 ? I : H
                expected["d_weight_ih_l\(k)"] = try json.numbers("d_weight_ih_l\(k)", [G * H, inCols])
                expected["d_weight_hh_l\(k)"] = try json.numbers("d_weight_hh_l\(k)", [G * H, H])
                expected["d_bias_ih_l\(k)"] = try json.numbers("d_bias_ih_l\(k)", [G * H])
                expected["d_bias_hh_l\(k)"] = try json.numbers("d_bias_hh_l\(k)", [G * H])
            }
            expected["d_x"] = try json.numbers("d_x", [T, B, I])
            expected["d_h0"] = try json.numbers("d_h0", [L, B, H])
            if hasC { expected["d_c0"] = try json.numbers("d_c0", [L, B, H]) }
            expected["grad_norm_x"] = try json.numbers("grad_norm_x", [T])
        }
        self.expected = expected
    }

    /// The cell a case's `cell` value names (the format's names, `BuiltinCells.Entry.interchangeName`).
    public static func cell(named name: String) -> (any RecurrentCell)? {
        BuiltinCells.all.first { $0.interchangeName == name }?.cell
    }

    /// One tensor's agreement.
    public struct Agreement: Sendable {
        /// The case's key.
        public var key: String
        /// Number of elements.
        public var count: Int
        /// max|a − b| / max|b| (a: GateLab, b: the case).
        public var error: Double
    }

    /// Computes everything the case holds with GateLab and compares, tensor by tensor, in a
    /// fixed order: loss, h, h_last, c_last, then gradients.
    /// - Parameter precision: f64 (the default), or f32: the network runs in float32 (weights,
    ///   inputs and states rounded once) and is compared with the case's float64 numbers.
    public func verify(precision: Precision = .f64) throws -> [Agreement] {
        switch precision {
        case .f64: return try verify(in: Double.self)
        case .f32: return try verify(in: Float.self)
        }
    }

    func verify<S: GateLabAutodiff.Scalar>(in _: S.Type) throws -> [Agreement] {
        let T = steps, B = batch, H = network.hiddenSize, L = network.layers
        let unrolled = try UnrolledOf<S>(network: network, batch: B, steps: T)
        try unrolled.forward(inputs: x, initialState: initialState)
        let h = (0..<T).flatMap { unrolled.output(step: $0).scalars }
        let loss = zip(h, r).reduce(0) { $0 + $1.0 * $1.1 }
        let final = unrolled.finalState
        let grads = try unrolled.backward(.everyStep(r))
        var actual: [(String, [Double])] = [("loss", [loss]), ("h", h), ("h_last", final.flatMap { $0[0].scalars })]
        if expected["c_last"] != nil { actual.append(("c_last", final.flatMap { $0[1].scalars })) }
        let gradDict = (0..<L).map { k -> [String: Tensor] in
            var net = network
            net.weights = grads.weights
            return Dictionary(uniqueKeysWithValues: net.stateDict().filter { $0.key.hasSuffix("_l\(k)") })
        }.reduce(into: [String: Tensor]()) { $0.merge($1) { a, _ in a } }
        for k in 0..<L {
            for key in ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] {
                actual.append(("d_\(key)_l\(k)", gradDict["\(key)_l\(k)"]!.scalars))
            }
        }
        actual.append(("d_x", grads.inputs))
        actual.append(("d_h0", grads.initialState.flatMap { $0[0].scalars }))
        if expected["d_c0"] != nil { actual.append(("d_c0", grads.initialState.flatMap { $0[1].scalars })) }
        actual.append(("grad_norm_x", grads.inputNorms(batch: B, inputSize: network.inputSize)))
        _ = H
        return actual.filter { expected[$0.0] != nil }.map { key, a in
            let b = expected[key]!
            let scale = b.map { Swift.abs($0) }.max() ?? 0
            let diff = zip(a, b).map { Swift.abs($0 - $1) }.max() ?? 0
            return Agreement(key: key, count: b.count, error: scale > 0 ? diff / scale : diff)
        }
    }
}

/// A malformed or inconsistent case or weights file: names the file and the key.
public struct CaseFileError: Error, CustomStringConvertible, Equatable {
    /// The file.
    public var file: String
    /// The key, when one is at fault.
    public var key: String?
    /// What is wrong.
    public var message: String
    /// Creates an error about `key` (nil: the file as a whole) of `file`.
    public init(file: String, key: String?, message: String) { self.file = file; self.key = key; self.message = message }
    public var description: String { "\(file): " + (key.map { "key '\($0)': " } ?? "") + message }
}

/// Reads typed values out of a parsed JSON object, throwing `CaseFileError`s that name the key.
public struct JSONReader {
    /// The object's members.
    public let dict: [String: JSONValue]
    /// The file, for messages.
    public let file: String

    /// A reader of `dict`, read from `file`.
    public init(dict: [String: JSONValue], file: String) { self.dict = dict; self.file = file }

    /// The bytes of `file`, read with GateLab's bound (`Files.contents(of:)`).
    /// - Throws: `CaseFileError` when it cannot be read or is too long.
    public static func contents(of file: String) throws -> Data {
        do { return Data(try Files.contents(of: file)) } catch let e as FileError {
            guard case .io(_, let message) = e else { throw CaseFileError(file: file, key: nil, message: e.description) }
            throw CaseFileError(file: file, key: nil, message: message)
        }
    }

    /// Parses `data` as a JSON object, or throws a `CaseFileError` naming the file and position.
    public static func object(_ data: Data, file: String) throws -> [String: JSONValue] {
        // Named before parsing: the decoder reports bytes that are not UTF-8 as a wrong kind of
        // value ("top level is not a JSON object"), which hides the real cause.
        if String(validating: data, as: UTF8.self) == nil {
            throw CaseFileError(file: file, key: nil, message: "not UTF-8 text (a JSON file must be UTF-8)")
        }
        let parsed: JSONValue
        do { parsed = try JSONValue(data: data) }
        catch let e as JSONParseError {
            if let key = e.duplicateKey { throw ArrayArchive.duplicate(key, file: file) }
            throw CaseFileError(file: file, key: nil, message: "not valid JSON (\(e))")
        }
        guard case .object(let dict) = parsed else { throw CaseFileError(file: file, key: nil, message: "top level is not a JSON object") }
        return dict
    }

    public func value(_ key: String) throws -> JSONValue {
        guard let v = dict[key] else { throw CaseFileError(file: file, key: key, message: "missing") }
        return v
    }

    public func string(_ key: String) throws -> String {
        guard case .string(let s) = try value(key) else { throw CaseFileError(file: file, key: key, message: "expected a string") }
        return s
    }

    public func number(_ key: String) throws -> Double {
        guard case .number(let d) = try value(key) else { throw CaseFileError(file: file, key: key, message: "expected a number") }
        guard d.isFinite else { throw CaseFileError(file: file, key: key, message: "not a finite number") }
        return d
    }

    public func positiveInt(_ key: String) throws -> Int {
        let d = try number(key)
        guard d == d.rounded(), d >= 1, d < 1e9 else { throw CaseFileError(file: file, key: key, message: "expected a positive integer, got \(d)") }
        return Int(d)
    }

    /// A nested array of numbers of exactly `shape`, flattened row-major.
    public func numbers(_ key: String, _ shape: [Int]) throws -> [Double] {
        // No capacity is reserved from `shape`: it comes from the file's header, and the walk
        // checks it against the arrays themselves, which the file's length bounds.
        var out = [Double]()
        func walk(_ v: JSONValue, _ depth: Int, _ path: String) throws {
            if depth == shape.count {
                guard case .number(let d) = v else {
                    throw CaseFileError(file: file, key: key, message: "element \(path) is not a number (expected shape \(shapeText(shape)))")
                }
                guard d.isFinite else { throw CaseFileError(file: file, key: key, message: "element \(path) is not finite (\(d))") }
                out.append(d)
                return
            }
            guard case .array(let a) = v else {
                throw CaseFileError(file: file, key: key, message: "expected an array at \(path.isEmpty ? "top level" : path) (shape \(shapeText(shape)))")
            }
            guard a.count == shape[depth] else {
                let what = depth == 0 ? "length \(a.count)" : "ragged: \(path) has length \(a.count)"
                throw CaseFileError(file: file, key: key, message: "expected shape \(shapeText(shape)), \(what) where \(shape[depth]) is needed")
            }
            for (i, e) in a.enumerated() { try walk(e, depth + 1, path + "[\(i)]") }
        }
        try walk(try value(key), 0, "")
        return out
    }

    private func shapeText(_ s: [Int]) -> String { s.map { "[\($0)]" }.joined() }
}
