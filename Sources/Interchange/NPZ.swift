import Foundation

/// numpy's `.npz`: a ZIP archive with one `.npy` file per array (`numpy.savez`). Written here
/// as a *stored* (uncompressed) ZIP with CRC-32s and `.npy` version 1.0 headers, little-endian
/// float64 (`'<f8'`), so `numpy.load(path)[name]` gives each array. The metadata is one more
/// entry, `__metadata__.npy`: a 1-D `uint8` array holding the metadata as UTF-8 JSON (an object
/// of strings), read in Python with `json.loads(numpy.load(path)["__metadata__"].tobytes())`.
///
/// Reading accepts stored entries of `.npy` version 1, 2 or 3 with `<f8`, `<f4` (widened) or
/// `|u1` (metadata) data, in C or Fortran order. A compressed entry (`numpy.savez_compressed`)
/// is refused with a message saying so: GateLab has no inflate.
enum NPZ {
    static let metadataEntry = "__metadata__"

    static func encode(_ arrays: [NamedArray], metadata: [String: String]) -> Data {
        var entries: [(name: String, data: Data)] = arrays.map { ($0.name + ".npy", npy(descr: "<f8", shape: $0.shape, body: float64Bytes($0.values))) }
        if !metadata.isEmpty {
            let json = Data(((try? JSONValue.object(metadata.mapValues(JSONValue.string)).text()) ?? "{}\n").dropLast().utf8)
            entries.append((metadataEntry + ".npy", npy(descr: "|u1", shape: [json.count], body: json)))
        }
        return storedZip(entries)
    }

    // MARK: .npy

    static func npy(descr: String, shape: [Int], body: Data) -> Data {
        let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // numpy pads with spaces and ends with a newline so that the data starts at a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var d = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        d.appendLE(UInt16(header.utf8.count))
        d.append(Data(header.utf8))
        d.append(body)
        return d
    }

    static func float64Bytes(_ values: [Double]) -> Data {
        var d = Data(capacity: values.count * 8)
        for v in values { d.appendLE(v.bitPattern) }
        return d
    }

    /// The descr, shape and data of an `.npy` file.
    static func parseNPY(_ d: Data, file: String, key: String) throws -> (descr: String, shape: [Int], fortran: Bool, body: Data) {
        func fail(_ m: String) -> CaseFileError { CaseFileError(file: file, key: key, message: m) }
        let b = [UInt8](d.prefix(12))
        guard b.count >= 10, b[0] == 0x93, Array(b[1..<6]) == Array("NUMPY".utf8) else { throw fail("not an .npy array (no \\x93NUMPY magic)") }
        let major = b[6]
        let headerLength: Int, start: Int
        switch major {
        case 1: headerLength = Int(b[8]) | Int(b[9]) << 8; start = 10
        case 2, 3:
            guard b.count >= 12 else { throw fail("truncated .npy header") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; start = 12
        default: throw fail(".npy format version \(major) is not supported (1, 2 or 3)")
        }
        guard start + headerLength <= d.count else { throw fail("truncated .npy header") }
        let header = String(decoding: d.subdata(in: (d.startIndex + start)..<(d.startIndex + start + headerLength)), as: UTF8.self)
        func field(_ name: String) -> String? {
            guard let r = header.range(of: "'\(name)':") else { return nil }
            return String(header[r.upperBound...]).trimmingCharacters(in: .whitespaces)
        }
        guard let descrField = field("descr"), descrField.hasPrefix("'"),
              let descrEnd = descrField.dropFirst().firstIndex(of: "'") else { throw fail("no 'descr' in the .npy header") }
        let descr = String(descrField[descrField.index(after: descrField.startIndex)..<descrEnd])
        let fortran = field("fortran_order")?.hasPrefix("True") ?? false
        guard let shapeField = field("shape"), shapeField.hasPrefix("("), let close = shapeField.firstIndex(of: ")") else {
            throw fail("no 'shape' in the .npy header")
        }
        let dims = shapeField[shapeField.index(after: shapeField.startIndex)..<close].split(separator: ",")
            .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var shape = [Int]()
        for dim in dims {
            guard let n = Int(dim), n >= 0 else { throw fail("bad shape \(shapeField[...close]) in the .npy header") }
            shape.append(n)
        }
        var count = 1
        for n in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: n)
            guard !overflow, p <= ArrayArchive.maximumElements else { throw fail("array of shape \(shape) is too large") }
            count = p
        }
        return (descr, shape, fortran, d.subdata(in: (d.startIndex + start + headerLength)..<d.endIndex))
    }

    // MARK: ZIP

    static func storedZip(_ entries: [(name: String, data: Data)]) -> Data {
        var out = Data(), central = Data()
        for e in entries {
            let name = Data(e.name.utf8), crc = CRC32.checksum(e.data), offset = UInt32(out.count)
            // Local file header: version 2.0, no flags, stored, 1980-01-01 00:00.
            out.appendLE(UInt32(0x0403_4b50)); out.appendLE(UInt16(20)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
            out.appendLE(UInt16(0)); out.appendLE(UInt16(0x21))
            out.appendLE(crc); out.appendLE(UInt32(e.data.count)); out.appendLE(UInt32(e.data.count))
            out.appendLE(UInt16(name.count)); out.appendLE(UInt16(0))
            out.append(name); out.append(e.data)
            central.appendLE(UInt32(0x0201_4b50)); central.appendLE(UInt16(20)); central.appendLE(UInt16(20))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0x21))
            central.appendLE(crc); central.appendLE(UInt32(e.data.count)); central.appendLE(UInt32(e.data.count))
            central.appendLE(UInt16(name.count)); central.appendLE(UInt16(0)); central.appendLE(UInt16(0))
            central.appendLE(UInt16(0)); central.appendLE(UInt16(0)); central.appendLE(UInt32(0)); central.appendLE(offset)
            central.append(name)
        }
        let centralOffset = UInt32(out.count)
        out.append(central)
        out.appendLE(UInt32(0x0605_4b50)); out.appendLE(UInt16(0)); out.appendLE(UInt16(0))
        out.appendLE(UInt16(entries.count)); out.appendLE(UInt16(entries.count))
        out.appendLE(UInt32(central.count)); out.appendLE(centralOffset); out.appendLE(UInt16(0))
        return out
    }

    /// The entries of a ZIP archive, by the central directory (whose sizes are right even when
    /// a writer streamed the local headers, as Python's zipfile does for `numpy.savez`).
    static func entries(_ data: Data, file: String) throws -> [(name: String, data: Data)] {
        let b = [UInt8](data)
        func fail(_ m: String, _ key: String? = nil) -> CaseFileError { CaseFileError(file: file, key: key, message: m) }
        func u16(_ i: Int) throws -> Int { guard i + 2 <= b.count else { throw fail("truncated ZIP archive") }; return Int(b[i]) | Int(b[i + 1]) << 8 }
        func u32(_ i: Int) throws -> Int { return try u16(i) | (try u16(i + 2)) << 16 }
        guard b.count >= 22 else { throw fail("not an .npz file (too short for a ZIP archive)") }
        var end = b.count - 22
        let lowest = max(0, b.count - 22 - 65_535)
        while end >= lowest, !(b[end] == 0x50 && b[end + 1] == 0x4b && b[end + 2] == 5 && b[end + 3] == 6) { end -= 1 }
        guard end >= lowest else { throw fail("not an .npz file (no ZIP end-of-central-directory record)") }
        let count = try u16(end + 10)
        var p = try u32(end + 16)
        guard count != 0xFFFF, p != 0xFFFF_FFFF else { throw fail("ZIP64 archives are not supported") }
        var result = [(name: String, data: Data)]()
        for _ in 0..<count {
            guard try u32(p) == 0x0201_4b50 else { throw fail("corrupt ZIP central directory") }
            let method = try u16(p + 10), crc = UInt32(try u32(p + 16)), size = try u32(p + 20), usize = try u32(p + 24)
            let nameLength = try u16(p + 28), extraLength = try u16(p + 30), commentLength = try u16(p + 32), local = try u32(p + 42)
            guard p + 46 + nameLength <= b.count else { throw fail("truncated ZIP archive") }
            let name = String(decoding: b[(p + 46)..<(p + 46 + nameLength)], as: UTF8.self)
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            guard method == 0 else {
                throw fail("compressed entry (ZIP method \(method)\(method == 8 ? ", deflate" : "")): GateLab reads only uncompressed .npz files; write them with numpy.savez, not numpy.savez_compressed", key)
            }
            guard size == usize, size != 0xFFFF_FFFF, local != 0xFFFF_FFFF else { throw fail("ZIP64 entries are not supported", key) }
            guard try u32(local) == 0x0403_4b50 else { throw fail("corrupt ZIP local header", key) }
            let start = local + 30 + (try u16(local + 26)) + (try u16(local + 28))
            guard start + size <= b.count else { throw fail("truncated entry", key) }
            let body = data.subdata(in: (data.startIndex + start)..<(data.startIndex + start + size))
            guard CRC32.checksum(body) == crc else { throw fail("CRC-32 mismatch: the entry is corrupt", key) }
            result.append((name, body))
            p += 46 + nameLength + extraLength + commentLength
        }
        return result
    }

    static func decode(_ data: Data, file: String) throws -> ArrayArchive {
        var arrays = [NamedArray](), metadata = [String: String]()
        for (name, body) in try entries(data, file: file) {
            guard name.hasSuffix(".npy") else { continue }
            let key = String(name.dropLast(4))
            let (descr, shape, fortran, raw) = try parseNPY(body, file: file, key: key)
            let count = shape.reduce(1, *)
            if key == metadataEntry {
                guard descr == "|u1" || descr == "<u1", shape.count == 1, raw.count >= count else {
                    throw CaseFileError(file: file, key: key, message: "expected a 1-D uint8 array of UTF-8 JSON")
                }
                guard case .object(let o) = try? JSONValue(data: raw.prefix(count)) else {
                    throw CaseFileError(file: file, key: key, message: "not a JSON object")
                }
                for (k, v) in o {
                    guard case .string(let s) = v else { throw CaseFileError(file: file, key: "\(key).\(k)", message: "expected a string") }
                    metadata[k] = s
                }
                continue
            }
            let width: Int
            switch descr {
            case "<f8", "=f8": width = 8
            case "<f4", "=f4": width = 4
            default: throw CaseFileError(file: file, key: key, message: "dtype '\(descr)' is not supported (use float64 '<f8' or float32 '<f4')")
            }
            guard raw.count == count * width else {
                throw CaseFileError(file: file, key: key, message: "\(raw.count) data bytes for shape \(shape) of '\(descr)' (\(count * width) needed)")
            }
            var values = raw.withUnsafeBytes { p -> [Double] in
                width == 8 ? (0..<count).map { Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 8, as: UInt64.self))) }
                           : (0..<count).map { Double(Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))) }
            }
            if fortran && shape.count == 2 {   // column-major: transpose into rows
                let (r, c) = (shape[0], shape[1])
                values = (0..<(r * c)).map { values[($0 % c) * r + $0 / c] }
            } else if fortran && shape.count > 2 {
                throw CaseFileError(file: file, key: key, message: "Fortran-order arrays of more than 2 dimensions are not supported")
            }
            arrays.append(NamedArray(name: key, shape: shape, values: values))
        }
        return ArrayArchive(arrays: arrays.sorted { $0.name < $1.name }, metadata: metadata)
    }
}

/// CRC-32 (ISO 3309, polynomial 0xEDB88320), as ZIP uses it.
enum CRC32 {
    static let table: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    static func checksum(_ data: Data) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in data { c = table[Int((c ^ UInt32(byte)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
