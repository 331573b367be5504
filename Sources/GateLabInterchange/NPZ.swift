import Foundation
import ZIPFoundation
import GateLabSupport

/// numpy's `.npz`: a ZIP archive with one `.npy` file per array (`numpy.savez`,
/// `numpy.savez_compressed`). The ZIP container is read and written by ZIPFoundation, so
/// deflated entries and ZIP64 archives (more than 65 535 entries, or past 4 GiB) work; this
/// type holds only the `.npy` layer and the bounds GateLab keeps on every input.
///
/// Written: stored (uncompressed) entries, as `numpy.savez` writes them, each a `.npy` version
/// 1.0 file of little-endian float64 (`'<f8'`) in C order, dated 1980-01-01 so the same archive
/// always gives the same bytes; `numpy.load(path)[name]` gives each array. The metadata is one
/// more entry, `__metadata__.npy`: a 1-D `uint8` array holding the metadata as UTF-8 JSON (an
/// object of strings), read in Python with `json.loads(numpy.load(path)["__metadata__"].tobytes())`.
///
/// Read: stored or deflated entries, every CRC-32 checked, of `.npy` version 1, 2 or 3 with
/// `<f8`, `<f4` (widened) or `|u1` (metadata) data, in C or Fortran order.
enum NPZ {
    static let metadataEntry = "__metadata__"

    /// 1980-01-01 00:00 UTC, the earliest date a ZIP entry can hold: a fixed date keeps the
    /// bytes of an archive a function of its arrays alone.
    static let entryDate = Date(timeIntervalSince1970: 315_532_800)

    static func encode(_ arrays: [NamedArray], metadata: [String: String]) throws -> Data {
        var entries: [(name: String, data: Data)] = arrays.map { ($0.name + ".npy", npy(descr: "<f8", shape: $0.shape, body: float64Bytes($0.values))) }
        if !metadata.isEmpty {
            let json = Data(((try? JSONValue.object(metadata.mapValues(JSONValue.string)).text()) ?? "{}\n").dropLast().utf8)
            entries.append((metadataEntry + ".npy", npy(descr: "|u1", shape: [json.count], body: json)))
        }
        return try zip(entries)
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
        guard ArrayArchive.elementCount(shape) != nil else { throw fail("array of shape \(shape) is too large") }
        return (descr, shape, fortran, d.subdata(in: (d.startIndex + start + headerLength)..<d.endIndex))
    }

    /// The float64 array an `.npy` file holds (`<f8`, or `<f4` widened exactly), in C order
    /// whatever the file's order.
    static func array(fromNPY body: Data, file: String, key: String) throws -> NamedArray {
        let (descr, shape, fortran, raw) = try parseNPY(body, file: file, key: key)
        let count = ArrayArchive.elementCount(shape)!   // parseNPY checked it
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
        if fortran && shape.count > 1 { values = cOrder(fromFortran: values, shape: shape) }
        return NamedArray(name: key, shape: shape, values: values)
    }

    /// Column-major (Fortran) values of `shape` in row-major (C) order: element (i0, …, in−1)
    /// sits at i0 + d0·(i1 + d1·(…)) in the file and at ((i0·d1 + i1)·d2 + …) here.
    static func cOrder(fromFortran values: [Double], shape: [Int]) -> [Double] {
        var out = [Double](repeating: 0, count: values.count)
        var strides = [Int](repeating: 1, count: shape.count)   // Fortran strides
        for k in 1..<shape.count { strides[k] = strides[k - 1] * shape[k - 1] }
        var index = [Int](repeating: 0, count: shape.count), source = 0
        for c in 0..<values.count {
            out[c] = values[source]
            // Advance the C-order index (last dimension fastest), keeping the Fortran offset.
            var k = shape.count - 1
            while k >= 0 {
                index[k] += 1; source += strides[k]
                if index[k] < shape[k] { break }
                source -= strides[k] * shape[k]; index[k] = 0; k -= 1
            }
        }
        return out
    }

    // MARK: ZIP (through ZIPFoundation)

    /// A ZIP archive of stored entries (deflated, for tests), in the order given (ZIP64 when
    /// the count or sizes need it).
    static func zip(_ entries: [(name: String, data: Data)], deflated: Bool = false) throws -> Data {
        let archive = try Archive(data: Data(), accessMode: .create)
        for e in entries {
            try archive.addEntry(with: e.name, type: .file, uncompressedSize: Int64(e.data.count), modificationDate: entryDate,
                                 permissions: 0o644, compressionMethod: deflated ? .deflate : .none, bufferSize: max(1, min(e.data.count, 1 << 20))) { position, size in
                e.data.subdata(in: (e.data.startIndex + Int(position))..<(e.data.startIndex + Int(position) + size))
            }
        }
        return archive.data ?? Data()
    }

    /// The entries of a ZIP archive, in central-directory order, each one's CRC-32 checked.
    /// Bounded: the entries' contents together may not exceed `Files.inputLimit` bytes (a
    /// deflated entry is inflated only up to its stated size), and a deflate stream that runs
    /// past its entry is an error, not a wait for more input.
    static func entries(_ data: Data, file: String) throws -> [(name: String, data: Data)] {
        func fail(_ m: String, _ key: String? = nil) -> CaseFileError { CaseFileError(file: file, key: key, message: m) }
        guard data.count >= 22 else { throw fail("not an .npz file (too short for a ZIP archive)") }
        guard let listed = listedEntryCount(data) else { throw fail("not an .npz file (no ZIP end-of-central-directory record)") }
        // ZIPFoundation reads the copy in a private temporary file, not the bytes in memory: its
        // in-memory archive traps on an offset past the end (as a damaged file can hold), while
        // a file read past its end just comes up short. The bytes themselves were read by the
        // bounded reader (`Files.contents`), so a FIFO or a device never reaches ZIPFoundation.
        let copy = try TemporaryCopy(data, file: file)
        defer { copy.remove() }
        let archive: Archive
        do { archive = try Archive(url: URL(fileURLWithPath: copy.path), accessMode: .read) } catch {
            throw fail("not a readable ZIP archive (\(error))")
        }
        var result = [(name: String, data: Data)](), total = 0
        for entry in archive {
            guard result.count < listed else { break }
            let name = entry.path
            let key = name.hasSuffix(".npy") ? String(name.dropLast(4)) : name
            guard entry.type == .file else { throw fail("a ZIP \(entry.type == .directory ? "folder" : "link") entry, not an array", key) }
            let size = entry.uncompressedSize
            guard size <= UInt64(Files.inputLimit - total) else {
                throw fail("holds \(size) bytes, more than the \(Files.inputLimit) bytes GateLab reads from a file (in all)", key)
            }
            var body = Data()
            let crc: CRC32
            if !entry.isCompressed {
                // Stored: ZIPFoundation reads exactly `size` bytes (fewer at the end of a
                // truncated file, which the length check below catches) and their CRC-32.
                guard entry.compressedSize == size else { throw fail("a stored entry of \(entry.compressedSize) bytes that states \(size) uncompressed", key) }
                do {
                    crc = try archive.extract(entry, bufferSize: 1 << 16, skipCRC32: false) { body.append($0) }
                } catch { throw fail("unreadable entry (\(error))", key) }
            } else {
                guard let layout = Layout(entry), layout.dataOffset <= data.count else { throw fail("corrupt ZIP entry", key) }
                guard layout.method == CompressionMethod.deflate.rawValue else {
                    throw fail("ZIP compression method \(layout.method) is not supported (stored or deflate, as numpy writes)", key)
                }
                guard entry.compressedSize <= UInt64(data.count - layout.dataOffset) else { throw fail("truncated entry", key) }
                let start = data.startIndex + layout.dataOffset
                (body, crc) = try inflate(data.subdata(in: start..<(start + Int(entry.compressedSize))), size: Int(size), file: file, key: key)
            }
            guard body.count == Int(size) else { throw fail("truncated entry (\(body.count) of \(size) bytes)", key) }
            guard crc == entry.checksum else { throw fail("CRC-32 mismatch: the entry is corrupt", key) }
            total += body.count
            result.append((name, body))
        }
        guard result.count == listed else {
            throw fail("corrupt ZIP central directory (it lists \(listed) entries; \(result.count) could be read)")
        }
        return result
    }

    /// A private copy of an archive's bytes on disk (mode 0600, a name no other process
    /// chooses), for ZIPFoundation to read.
    struct TemporaryCopy {
        let path: String

        init(_ data: Data, file: String) throws {
            var template = Array((NSTemporaryDirectory() + "/gatelab-npz-XXXXXX").utf8CString)
            let fd = mkstemp(&template)
            guard fd >= 0 else {
                throw CaseFileError(file: file, key: nil, message: "cannot make a temporary copy to read the ZIP archive (\(String(cString: strerror(errno))))")
            }
            path = String(cString: template)
            defer { close(fd) }
            var written = 0
            let ok = data.withUnsafeBytes { p -> Bool in
                while written < p.count {
                    let n = write(fd, p.baseAddress! + written, p.count - written)
                    if n < 0 { if errno == EINTR { continue }; return false }
                    written += n
                }
                return true
            }
            guard ok else {
                let reason = String(cString: strerror(errno))
                unlink(path)
                throw CaseFileError(file: file, key: nil, message: "cannot make a temporary copy to read the ZIP archive (\(reason))")
            }
        }

        func remove() { unlink(path) }
    }

    /// What ZIPFoundation read of an entry but does not make public: its compression method and
    /// where its data starts (the local header's offset, name and extra field). Taken by
    /// reflection from the version pinned in Package.swift; nil if that layout ever changes.
    struct Layout {
        var method: UInt16
        var dataOffset: Int

        init?(_ entry: Entry) {
            func child(_ value: Any, _ label: String) -> Any? { Mirror(reflecting: value).children.first { $0.label == label }?.value }
            guard let local = child(entry, "localFileHeader"), let central = child(entry, "centralDirectoryStructure"),
                  let method = child(local, "compressionMethod") as? UInt16,
                  let nameLength = child(local, "fileNameLength") as? UInt16, let extraLength = child(local, "extraFieldLength") as? UInt16,
                  let offset = child(central, "relativeOffsetOfLocalHeader") as? UInt32, offset != .max else { return nil }
            self.method = method
            dataOffset = Int(offset) + 30 + Int(nameLength) + Int(extraLength)
        }
    }

    /// Inflates one deflated entry through ZIPFoundation's `Data.decompress`, fed from the
    /// entry's own bytes: `size` bytes at most come out, and a stream that has not ended when
    /// the bytes run out is an error. (ZIPFoundation's own `extract` reads on past the entry
    /// and, at the end of the archive, waits for input forever.)
    static func inflate(_ compressed: Data, size: Int, file: String, key: String) throws -> (Data, CRC32) {
        let chunk = 1 << 16
        var out = Data(), position = 0
        out.reserveCapacity(size)
        do {
            let crc = try Data.decompress(size: Int64(compressed.count), bufferSize: chunk, skipCRC32: false, provider: { _, _ in
                // zlib is always told `chunk` bytes are there, so the last piece is padded with
                // zeros (which no deflate stream that has ended reads); past it, the data is over.
                guard position <= compressed.count else { throw CaseFileError(file: file, key: key, message: "truncated deflate data") }
                let start = compressed.startIndex + position
                var piece = compressed.subdata(in: start..<(start + min(chunk, compressed.count - position)))
                position += chunk
                if piece.count < chunk { piece.append(Data(count: chunk - piece.count)) }
                return piece
            }, consumer: { d in
                guard out.count + d.count <= size else {
                    throw CaseFileError(file: file, key: key, message: "inflates to more than the \(size) bytes the archive states")
                }
                out.append(d)
            })
            return (out, crc)
        } catch let e as CaseFileError { throw e } catch {
            throw CaseFileError(file: file, key: key, message: "corrupt deflate data (\(error))")
        }
    }

    /// The number of entries the archive's end-of-central-directory record lists (its ZIP64
    /// record's when the 16-bit field is full), found as ZIPFoundation finds it: the last
    /// record signature in the file, within the last 65 557 bytes. Nil when there is none.
    static func listedEntryCount(_ data: Data) -> Int? {
        let base = data.startIndex
        func u(_ i: Int, _ n: Int) -> Int { (0..<n).reduce(0) { $0 | Int(data[base + i + $1]) << (8 * $1) } }
        // The record ends the file, after at most a 65 535-byte comment: look no further back
        // (ZIPFoundation scans the whole file, byte by byte, when there is none).
        var end = data.count - 22
        let lowest = max(0, end - 65_535)
        while end >= lowest, u(end, 4) != 0x0605_4b50 { end -= 1 }
        guard end >= lowest else { return nil }
        let count = u(end + 10, 2)
        guard count == 0xFFFF, end >= 20 + 56, u(end - 20, 4) == 0x0706_4b50 else { return count }
        let record = u(end - 20 + 8, 8)   // the locator's offset of the ZIP64 record
        guard record >= 0, record <= end - 56, u(record, 4) == 0x0606_4b50 else { return count }
        return min(u(record + 32, 8) & Int.max, Int(Int32.max))
    }

    static func decode(_ data: Data, file: String) throws -> ArrayArchive {
        var arrays = [NamedArray](), metadata = [String: String](), seen = Set<String>()
        for (name, body) in try entries(data, file: file) {
            guard name.hasSuffix(".npy") else { continue }
            let key = String(name.dropLast(4))
            guard seen.insert(key).inserted else { throw ArrayArchive.duplicate(key, file: file) }
            if key == metadataEntry {
                let (descr, shape, _, raw) = try parseNPY(body, file: file, key: key)
                guard descr == "|u1" || descr == "<u1", shape.count == 1, raw.count >= shape[0] else {
                    throw CaseFileError(file: file, key: key, message: "expected a 1-D uint8 array of UTF-8 JSON")
                }
                guard case .object(let o) = try? JSONValue(data: raw.prefix(shape[0])) else {
                    throw CaseFileError(file: file, key: key, message: "not a JSON object")
                }
                for (k, v) in o {
                    guard case .string(let s) = v else { throw CaseFileError(file: file, key: "\(key).\(k)", message: "expected a string") }
                    metadata[k] = s
                }
                continue
            }
            arrays.append(try array(fromNPY: body, file: file, key: key))
        }
        return ArrayArchive(arrays: arrays.sorted { $0.name < $1.name }, metadata: metadata)
    }
}

extension Data {
    mutating func appendLE<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
