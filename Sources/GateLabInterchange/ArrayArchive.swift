import Foundation
import GateLabSupport

/// One named array of float64 values: a tensor of a model file.
public struct NamedArray: Equatable, Sendable {
    /// The array's name (`weight_ih_l0`, `readout.weight`).
    public var name: String
    /// Its shape, outermost first (`[16, 3]`; `[16]` for a bias, as PyTorch stores it).
    public var shape: [Int]
    /// Its values, row-major (C order).
    public var values: [Double]

    /// An array; `values.count` must be the product of `shape`.
    public init(name: String, shape: [Int], values: [Double]) {
        precondition(shape.reduce(1, *) == values.count, "NamedArray \(name): \(values.count) values for shape \(shape)")
        self.name = name; self.shape = shape; self.values = values
    }
}

/// A set of named float64 arrays plus a string map of metadata, in one of three file formats
/// chosen by the file's extension: `.json` (the reference cases' layout: each array a nested
/// list at the top level), `.npz` (numpy's own: a ZIP of `.npy` files, through ZIPFoundation) and
/// `.safetensors` (Hugging Face's: a JSON header, then raw little-endian data). The model files
/// of `gatelab train --save` and `gatelab weights` are such archives (`SavedModel`); the
/// layout of each format is in `Notes/formats.md`.
public struct ArrayArchive: Equatable, Sendable {
    /// The arrays, in the order they are written (sorted by name when encoded).
    public var arrays: [NamedArray]
    /// Metadata, as strings (safetensors' `__metadata__` allows only strings).
    public var metadata: [String: String]

    /// An archive of `arrays` and `metadata`.
    public init(arrays: [NamedArray], metadata: [String: String] = [:]) {
        self.arrays = arrays; self.metadata = metadata
    }

    /// The array named `name`, or nil.
    public subscript(name: String) -> NamedArray? { arrays.first { $0.name == name } }

    /// The three file formats.
    public enum Format: String, CaseIterable, Sendable {
        case json, npz, safetensors

        /// The format of `path`'s extension, or nil for any other extension.
        public init?(path: String) {
            let ext = (path as NSString).pathExtension.lowercased()
            self.init(rawValue: ext)
        }
    }

    /// Arrays larger than this many elements (in all) are refused before anything is allocated.
    public static let maximumElements = 1 << 28

    /// The number of elements of an array of `shape`, or nil when the product overflows or
    /// passes `maximumElements` (shapes come from files: their product is never trusted).
    public static func elementCount(_ shape: [Int]) -> Int? {
        var count = 1
        for n in shape {
            guard n >= 0 else { return nil }
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, p <= maximumElements else { return nil }
            count = p
        }
        return count
    }

    /// The one message for a name a file holds twice, in every format (an `.npz` entry, a
    /// JSON or safetensors key): readers differ on which copy wins, so GateLab takes neither.
    static func duplicate(_ key: String, file: String) -> CaseFileError {
        CaseFileError(file: file, key: key, message: "appears more than once in the file (readers differ on which copy wins; keep one)")
    }

    /// The one message for a weight that is NaN or infinite, in every format.
    static func nonFinite(_ key: String, file: String, shape: [Int], index: Int, value: Double) -> CaseFileError {
        var path = "", rest = index
        for n in shape.reversed() { path = "[\(rest % n)]" + path; rest /= n }
        return CaseFileError(file: file, key: key, message: "element \(path) is not finite (\(value))")
    }

    /// Refuses the first NaN or infinite value of any array, naming the array and the element.
    static func checkFinite(_ arrays: [NamedArray], file: String) throws {
        for a in arrays {
            if let i = a.values.firstIndex(where: { !$0.isFinite }) {
                throw nonFinite(a.name, file: file, shape: a.shape, index: i, value: a.values[i])
            }
        }
    }

    /// The metadata key of the content checksum every format carries (`contentChecksum`).
    public static let checksumKey = "checksum"

    /// A checksum of the archive's content, the same in every format (so a converted file
    /// keeps it): FNV-1a 64 (`Files.checksum`) over, for each array by name, its name, rank,
    /// dimensions and float64 bit patterns (little-endian), then every metadata entry but the
    /// checksum by key. For damage, not tampering: it tells a flipped bit or a hand-edited
    /// weight from the file GateLab wrote. `.npz` entries also carry their CRC-32.
    public func contentChecksum() -> String {
        var bytes = [UInt8]()
        func append(_ n: UInt64) { withUnsafeBytes(of: n.littleEndian) { bytes.append(contentsOf: $0) } }
        for a in arrays.sorted(by: { $0.name < $1.name }) {
            bytes.append(contentsOf: Array(a.name.utf8) + [0])
            append(UInt64(a.shape.count))
            for n in a.shape { append(UInt64(n)) }
            for v in a.values { append(v.bitPattern) }
        }
        for (key, value) in metadata.sorted(by: { $0.key < $1.key }) where key != Self.checksumKey {
            bytes.append(contentsOf: Array(key.utf8) + [0] + Array(value.utf8) + [0])
        }
        return Files.checksum(bytes)
    }

    /// The file's bytes in `format`, with the content checksum in the metadata
    /// (`checksumKey`); the same archive always gives the same bytes.
    public func encoded(as format: Format) throws -> Data {
        let sorted = arrays.sorted { $0.name < $1.name }
        var metadata = self.metadata
        metadata[Self.checksumKey] = contentChecksum()
        switch format {
        case .json: return try ArrayJSON.encode(sorted, metadata: metadata)
        case .npz: return try NPZ.encode(sorted, metadata: metadata)
        case .safetensors: return try SafeTensors.encode(sorted, metadata: metadata)
        }
    }

    /// Writes the archive to `path` in the format of its extension — `.json` for any other
    /// name, such as a device — by GateLab's one output rule (`Files.write`: a new path or a
    /// regular file atomically, a device written through).
    /// - Throws: `CaseFileError` for a file that cannot be written.
    public func write(to path: String) throws {
        let format = Format(path: path) ?? .json
        let data = try encoded(as: format)
        do { try Files.write([UInt8](data), to: path) } catch {   // GateLab's one output rule
            throw CaseFileError(file: path, key: nil, message: "cannot write the file (\(FileError.reason(error)))")
        }
    }

    /// Reads an archive from `path` in the format of its extension.
    /// - Throws: `CaseFileError` naming the file and, where there is one, the key.
    public static func read(_ path: String) throws -> ArrayArchive {
        guard let format = Format(path: path) else { throw unknownExtension(path) }
        return try decode(try JSONReader.contents(of: path), format: format, file: path)   // the one bounded reader
    }

    /// Decodes the bytes of a file in `format`; `file` names it in errors. One rule for every
    /// format: a name held twice, a NaN or infinite value, and a content checksum that does
    /// not match are refused with the same message (`duplicate`, `nonFinite`, the checksum's).
    /// A file with no checksum (PyTorch's, numpy's, or one GateLab wrote before it added them) is read as it is;
    /// the checksum is not part of the archive's metadata.
    public static func decode(_ data: Data, format: Format, file: String) throws -> ArrayArchive {
        var archive: ArrayArchive
        switch format {
        case .json: archive = try ArrayJSON.decode(data, file: file)
        case .npz: archive = try NPZ.decode(data, file: file)
        case .safetensors: archive = try SafeTensors.decode(data, file: file)
        }
        try checkFinite(archive.arrays, file: file)
        if let recorded = archive.metadata.removeValue(forKey: checksumKey) {
            let computed = archive.contentChecksum()
            guard recorded == computed else {
                throw CaseFileError(file: file, key: checksumKey, message: "the arrays and metadata do not match the checksum the file carries "
                                    + "(\(recorded); computed \(computed)): it was damaged or edited after it was written; "
                                    + "to keep an edit on purpose, delete the checksum entry from the metadata")
            }
        }
        return archive
    }

    static func unknownExtension(_ path: String) -> CaseFileError {
        CaseFileError(file: path, key: nil, message: "unknown model file format '.\((path as NSString).pathExtension)'; use .json, .npz or .safetensors")
    }
}

// MARK: - JSON

/// `.json`: every array a nested list at the top level (1-D a flat list, 2-D a list of rows),
/// the sizes `cell`, `input_size`, `hidden_size`, `num_layers` as top-level values (as the
/// reference cases have them) and every other metadata entry in a `__metadata__` object of
/// strings.
enum ArrayJSON {
    static let topLevelKeys: [String: Bool] = ["cell": false, "input_size": true, "hidden_size": true, "num_layers": true]

    static func encode(_ arrays: [NamedArray], metadata: [String: String]) throws -> Data {
        var object = [String: JSONValue]()
        var rest = [String: JSONValue]()
        for (key, value) in metadata {
            if let numeric = topLevelKeys[key] {
                object[key] = numeric ? .number(Double(value) ?? 0) : .string(value)
            } else {
                rest[key] = .string(value)
            }
        }
        if !rest.isEmpty { object["__metadata__"] = .object(rest) }
        for a in arrays {
            object[a.name] = try nested(a)
        }
        return Data(try JSONValue.object(object).text().utf8)
    }

    static func nested(_ a: NamedArray) throws -> JSONValue {
        func walk(_ depth: Int, _ offset: Int) -> JSONValue {
            if depth == a.shape.count - 1 {
                return .array(a.values[offset..<(offset + a.shape[depth])].map(JSONValue.number))
            }
            let stride = a.shape[(depth + 1)...].reduce(1, *)
            return .array((0..<a.shape[depth]).map { walk(depth + 1, offset + $0 * stride) })
        }
        if a.shape.isEmpty { return .number(a.values[0]) }
        return walk(0, 0)
    }

    static func decode(_ data: Data, file: String) throws -> ArrayArchive {
        let dict = try JSONReader.object(data, file: file)
        var arrays = [NamedArray]()
        var metadata = [String: String]()
        for (key, value) in dict {
            switch value {
            case .string(let s): metadata[key] = s
            case .number(let d):
                metadata[key] = d == d.rounded() && abs(d) < 1e15 ? String(Int(d)) : String(d)
            case .object(let o) where key == "__metadata__":
                for (k, v) in o {
                    guard case .string(let s) = v else { throw CaseFileError(file: file, key: "__metadata__.\(k)", message: "expected a string") }
                    metadata[k] = s
                }
            case .array:
                var shape = [Int]()
                var probe = value
                while case .array(let items) = probe {
                    shape.append(items.count)
                    guard let first = items.first else { break }
                    probe = first
                }
                guard ArrayArchive.elementCount(shape) != nil else {
                    throw CaseFileError(file: file, key: key, message: "array of shape \(shape) is too large")
                }
                arrays.append(NamedArray(name: key, shape: shape, values: try JSONReader(dict: dict, file: file).numbers(key, shape)))
            default: break   // null, booleans: not arrays, not metadata
            }
        }
        return ArrayArchive(arrays: arrays.sorted { $0.name < $1.name }, metadata: metadata)
    }
}
