import Foundation

/// File operations of the runner, each failure a `ProbeError.io` naming the path.
enum Files {
    /// The temporary name `write(_:to:)` uses for `path`: hidden, in the same folder (so the
    /// rename is atomic), ending in `.tmp`.
    static func temporaryPath(for path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." + path + ".tmp" }
        return path[...slash] + "." + path[path.index(after: slash)...] + ".tmp"
    }

    /// Writes `text` to `path` atomically: to a temporary file in the same folder, flushed to
    /// disk (fsync), then renamed over `path`. A reader sees the old file or the complete new
    /// one, never a partial one, even after kill -9 or a power loss.
    static func write(_ text: String, to path: String) throws {
        let tmp = temporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ProbeError.io(path: tmp, message: "cannot create (\(String(cString: strerror(errno))))") }
        var ok = true
        Array(text.utf8).withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { ok = false; return }
                offset += n
            }
        }
        if fsync(fd) != 0 { ok = false }
        close(fd)
        guard ok else {
            unlink(tmp)
            throw ProbeError.io(path: tmp, message: "write failed (\(String(cString: strerror(errno))))")
        }
        guard rename(tmp, path) == 0 else {
            throw ProbeError.io(path: path, message: "cannot rename the temporary file into place (\(String(cString: strerror(errno))))")
        }
    }

    /// Creates `path` and its parents if needed.
    static func makeDirectory(_ path: String) throws {
        do { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) } catch {
            throw ProbeError.io(path: path, message: "cannot create the folder (\(error.localizedDescription))")
        }
    }

    /// Removes leftover temporary files (`.*.tmp`) of interrupted writes in `directory`.
    static func removeTemporaryFiles(in directory: String) {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        for n in names where n.hasPrefix(".") && n.hasSuffix(".tmp") {
            try? FileManager.default.removeItem(atPath: directory + "/" + n)
        }
    }

    /// The file's text, or nil when it does not exist or is not UTF-8.
    static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The first executable named `name` on `PATH` (or `name` itself when it contains a `/`).
    static func executable(named name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
