import Foundation

/// File operations of the runners, each failure a `ExperimentError.io` naming the path.
///
/// Several processes may write into one results folder at once (the shards of a Slurm job
/// array, on several hosts sharing a filesystem): every temporary name is unique to its
/// process (`.<name>.<host>.<pid>.tmp`), folders are created without racing, and leftover
/// temporaries are removed only when they cannot belong to a live write
/// (`removeStaleTemporaryFiles(in:of:)`).
public enum Files {
    /// The fixed temporary name of `path`: hidden, in the same folder (so a rename is
    /// atomic), ending in `.tmp`. Used where one process writes (gnuplot's figures, drawn by
    /// the final report step), so that the scripts naming it are the same bytes every time.
    static func temporaryPath(for path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." + path + ".tmp" }
        return path[...slash] + "." + path[path.index(after: slash)...] + ".tmp"
    }

    /// This host's name, as it appears in temporary names (file-name safe).
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "host"
        return String(name.map { $0.isLetter || $0.isNumber || "-_".contains($0) ? $0 : "-" })
    }()

    /// The temporary name `write(_:to:)` uses for `path` in this process:
    /// `.<name>.<host>.<pid>.tmp` in the same folder, so concurrent writers never share one.
    static func processTemporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return folder + "." + name + ".\(hostName).\(getpid()).tmp"
    }

    /// Writes `text` to `path` atomically: to a temporary file of this process in the same
    /// folder, flushed to disk (fsync), then renamed over `path`. A reader sees the old file
    /// or the complete new one, never a partial one, even after kill -9 or a power loss; two
    /// processes writing the same path leave one complete file (the last rename wins).
    public static func write(_ text: String, to path: String) throws {
        let tmp = processTemporaryPath(for: path)
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        guard fd >= 0 else { throw ExperimentError.io(path: tmp, message: "cannot create (\(String(cString: strerror(errno))))") }
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
            throw ExperimentError.io(path: tmp, message: "write failed (\(String(cString: strerror(errno))))")
        }
        guard rename(tmp, path) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(tmp)
            throw ExperimentError.io(path: path, message: "cannot rename the temporary file into place (\(reason))")
        }
    }

    /// Creates `path` and its parents if needed. Safe when other processes create the same
    /// folders at the same moment (an `EEXIST` from a folder is success).
    public static func makeDirectory(_ path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 { continue }
            let code = errno
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw ExperimentError.io(path: path, message: "cannot create the folder (\(String(cString: strerror(code))) at \(prefix))")
            }
        }
    }

    /// Removes leftover temporary files of interrupted writes of the files `names` (e.g.
    /// `lstm_T100_H32_seed1.json`) in `directory`, or of every file when `names` is nil.
    /// A temporary is removed only when no live write can own it: the old fixed form
    /// (`.<name>.tmp`), one of a process of this host that no longer exists, or one older
    /// than an hour (a write takes milliseconds; this covers other hosts). So a shard that
    /// starts never deletes the temporary another running shard is about to rename.
    public static func removeStaleTemporaryFiles(in directory: String, of names: Set<String>? = nil) {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        let now = Date()
        for entry in entries where entry.hasPrefix(".") && entry.hasSuffix(".tmp") {
            guard let parsed = parseTemporaryName(entry) else { continue }
            if let names, !names.contains(parsed.name) { continue }
            let path = directory + "/" + entry
            var stale = parsed.host == nil
            if let host = parsed.host, let pid = parsed.pid {
                if host == hostName { stale = kill(pid, 0) != 0 && errno == ESRCH }
                if !stale, let modified = (try? FileManager.default.attributesOfItem(atPath: path))?[.modificationDate] as? Date {
                    stale = now.timeIntervalSince(modified) > 3600
                }
            }
            if stale { try? FileManager.default.removeItem(atPath: path) }
        }
    }

    /// The file a temporary name `.<name>[.<host>.<pid>].tmp` belongs to, with its writer
    /// (nil host and pid: the old fixed form).
    static func parseTemporaryName(_ entry: String) -> (name: String, host: String?, pid: pid_t?)? {
        guard entry.hasPrefix("."), entry.hasSuffix(".tmp"), entry.count > 5 else { return nil }
        let inner = String(entry.dropFirst().dropLast(4))
        let parts = inner.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count >= 4, let pid = pid_t(parts[parts.count - 1]), !parts[parts.count - 2].isEmpty {
            return (parts.dropLast(2).joined(separator: "."), String(parts[parts.count - 2]), pid)
        }
        return (inner, nil, nil)
    }

    /// The file's text, or nil when it does not exist or is not UTF-8.
    public static func read(_ path: String) -> String? {
        FileManager.default.contents(atPath: path).flatMap { String(data: $0, encoding: .utf8) }
    }

    /// The first executable named `name` on `PATH` (or `name` itself when it contains a `/`).
    public static func executable(named name: String) -> String? {
        if name.contains("/") { return FileManager.default.isExecutableFile(atPath: name) ? name : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }
}
