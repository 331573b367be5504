#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why an input file could not be read: its path and the reason, one line.
public struct InputFileError: Error, Equatable, CustomStringConvertible {
    /// The path as the user gave it.
    public var path: String
    /// What is wrong with it (without the path).
    public var reason: String

    /// An error for `path`.
    public init(path: String, reason: String) { self.path = path; self.reason = reason }

    public var description: String { "\(path): \(reason)" }
}

/// The one reader of every input file GateLab takes (experiment, cell, weights, checkpoint,
/// reference, point and record files): bounded, and for regular files only.
///
/// - At most `limit` bytes are ever held, whatever the file claims or turns out to be.
/// - Only a regular file (or a link to one) is read. A FIFO would block the reader forever
///   waiting for a writer, and a device or socket is never a data file (`/dev/zero` would be
///   read up to the limit): each is refused at once, by its type, with the file opened
///   non-blocking so that even opening a FIFO cannot hang.
public enum InputFile {
    /// The largest input file GateLab reads: 1 GiB.
    public static let defaultLimit = 1 << 30

    /// The bytes of the regular file at `path`.
    /// - Throws: `InputFileError`: missing, unreadable, a folder, not a regular file, or
    ///   longer than `limit`.
    public static func bytes(_ path: String, limit: Int = defaultLimit) throws -> [UInt8] {
        guard !path.isEmpty else { throw InputFileError(path: "\"\"", reason: "an empty path names no file") }
        let fd = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)
        guard fd >= 0 else {
            let reason = errno == ENOENT ? "no such file" : "cannot read the file (\(String(cString: strerror(errno))))"
            throw InputFileError(path: path, reason: reason)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw InputFileError(path: path, reason: "cannot read the file (\(String(cString: strerror(errno))))")
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG: break
        case S_IFDIR: throw InputFileError(path: path, reason: "is a folder, not a file")
        case S_IFIFO: throw InputFileError(path: path, reason: "is a FIFO (named pipe), not a regular file; GateLab reads inputs only from regular files")
        case S_IFCHR, S_IFBLK: throw InputFileError(path: path, reason: "is a device, not a regular file; GateLab reads inputs only from regular files")
        default: throw InputFileError(path: path, reason: "is not a regular file")
        }
        if Int(info.st_size) > limit {
            throw InputFileError(path: path, reason: "is \(info.st_size) bytes, more than the \(limit) bytes GateLab reads")
        }
        // A regular file never blocks; clear O_NONBLOCK all the same so that reads are plain.
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK)
        var bytes = [UInt8]()
        bytes.reserveCapacity(min(Int(info.st_size), limit))
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw InputFileError(path: path, reason: "cannot read the file (\(String(cString: strerror(errno))))")
            }
            if n == 0 { break }
            // The file may grow while it is read: the bound holds on what was read, not on its size.
            guard bytes.count + n <= limit else { throw InputFileError(path: path, reason: "is longer than the \(limit) bytes GateLab reads") }
            bytes.append(contentsOf: chunk[0..<n])
        }
        return bytes
    }
}
