import Foundation

/// Hugging Face's `.safetensors`: an 8-byte little-endian header length N, N bytes of JSON
/// (`{"name": {"dtype": "F64", "shape": [...], "data_offsets": [begin, end]}, …,
/// "__metadata__": {string: string}}`, padded with spaces to a multiple of 8), then the arrays'
/// raw little-endian bytes, back to back, offsets counted from the end of the header. Written
/// as F64 in name order; read as F64 or F32 (widened). Loads with
/// `safetensors.torch.load_file(path)` or `safetensors.numpy.load_file(path)`.
enum SafeTensors {
    /// The largest header accepted (the format's own reference reader caps it at 100 MB).
    static let maximumHeader = 100_000_000

    static func encode(_ arrays: [NamedArray], metadata: [String: String]) throws -> Data {
        var header = [String: JSONValue]()
        var offset = 0
        for a in arrays {
            let bytes = a.values.count * 8
            header[a.name] = .object(["dtype": .string("F64"), "shape": .array(a.shape.map { .number(Double($0)) }),
                                      "data_offsets": .array([.number(Double(offset)), .number(Double(offset + bytes))])])
            offset += bytes
        }
        if !metadata.isEmpty { header["__metadata__"] = .object(metadata.mapValues(JSONValue.string)) }
        var text = try JSONValue.object(header).text()
        text.removeLast()   // text() ends in a newline
        text += String(repeating: " ", count: (8 - text.utf8.count % 8) % 8)
        var out = Data()
        out.appendLE(UInt64(text.utf8.count))
        out.append(Data(text.utf8))
        for a in arrays { out.append(NPZ.float64Bytes(a.values)) }
        return out
    }

    static func decode(_ data: Data, file: String) throws -> ArrayArchive {
        func fail(_ m: String, _ key: String? = nil) -> CaseFileError { CaseFileError(file: file, key: key, message: m) }
        guard data.count >= 8 else { throw fail("not a .safetensors file (shorter than its 8-byte header length)") }
        let n = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard n <= UInt64(maximumHeader), 8 + Int(n) <= data.count else {
            throw fail("not a .safetensors file (header length \(n) does not fit the file's \(data.count) bytes)")
        }
        let body = data.startIndex + 8 + Int(n)
        let parsed: JSONValue
        do { parsed = try JSONValue(data: data.subdata(in: (data.startIndex + 8)..<body)) } catch let e as JSONParseError {
            if let key = e.duplicateKey { throw ArrayArchive.duplicate(key, file: file) }
            throw fail("not a .safetensors file (the header is not JSON: \(e))")
        }
        guard case .object(let header) = parsed else { throw fail("not a .safetensors file (the header is not a JSON object)") }
        var arrays = [NamedArray](), metadata = [String: String]()
        var spans = [(begin: Int, end: Int, key: String)]()
        for (key, value) in header.sorted(by: { $0.key < $1.key }) {   // the same file, the same first error
            if key == "__metadata__" {
                guard case .object(let o) = value else { throw fail("expected an object of strings", key) }
                for (k, v) in o {
                    guard case .string(let s) = v else { throw fail("expected a string", "__metadata__.\(k)") }
                    metadata[k] = s
                }
                continue
            }
            guard case .object(let info) = value, case .string(let dtype)? = info["dtype"],
                  case .array(let shapeValues)? = info["shape"], case .array(let offsets)? = info["data_offsets"], offsets.count == 2 else {
                throw fail("expected {dtype, shape, data_offsets}", key)
            }
            let width: Int
            switch dtype {
            case "F64": width = 8
            case "F32": width = 4
            default: throw fail("dtype \(dtype) is not supported (use F64 or F32)", key)
            }
            var shape = [Int]()
            for v in shapeValues {
                guard case .number(let d) = v, d >= 0, d == d.rounded(), d <= Double(ArrayArchive.maximumElements) else { throw fail("bad shape", key) }
                shape.append(Int(d))
                guard ArrayArchive.elementCount(shape) != nil else { throw fail("array of shape \(shape) is too large", key) }
            }
            let count = ArrayArchive.elementCount(shape)!
            let buffer = data.count - 8 - Int(n)
            guard case .number(let b) = offsets[0], case .number(let e) = offsets[1] else { throw fail("data_offsets must be two numbers", key) }
            guard b == b.rounded(), e == e.rounded() else { throw fail("data_offsets [\(b), \(e)] are not whole byte offsets", key) }
            guard b >= 0, e >= b, e <= Double(buffer) else {
                throw fail("data_offsets [\(b), \(e)] outside the file's \(buffer) data bytes", key)
            }
            let (begin, end) = (Int(b), Int(e))
            guard end - begin == count * width else { throw fail("\(end - begin) data bytes for shape \(shape) of \(dtype) (\(count * width) needed)", key) }
            spans.append((begin, end, key))
            let raw = data.subdata(in: (body + begin)..<(body + end))
            let values = raw.withUnsafeBytes { p -> [Double] in
                width == 8 ? (0..<count).map { Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
                           : (0..<count).map { Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))) }
            }
            arrays.append(NamedArray(name: key, shape: shape, values: values))
        }
        // As the format's reference reader requires: the arrays tile the data exactly, with no
        // overlap (two names reading the same bytes) and no gap (bytes no array owns).
        var covered = 0
        let ordered = spans.sorted { ($0.begin, $0.end, $0.key) < ($1.begin, $1.end, $1.key) }
        for (i, s) in ordered.enumerated() {
            if s.begin < covered, i > 0 {
                let other = ordered[i - 1]
                throw fail("data_offsets [\(s.begin), \(s.end)] overlap key '\(other.key)''s [\(other.begin), \(other.end)]", s.key)
            }
            if s.begin > covered { throw fail("data bytes \(covered)..<\(s.begin) belong to no array (data_offsets [\(s.begin), \(s.end)] leave a gap)", s.key) }
            covered = s.end
        }
        if covered < data.count - 8 - Int(n) {
            throw fail("the last \(data.count - 8 - Int(n) - covered) data bytes belong to no array")
        }
        return ArrayArchive(arrays: arrays.sorted { $0.name < $1.name }, metadata: metadata)
    }
}
