import Foundation

/// File operations of the runners, each failure a `FileError` naming the path.
///
/// Several processes may write into one results folder at once (the shards of a Slurm job
/// array, on several hosts sharing a filesystem): every temporary name is unique to its
/// process (`.<name>.<host>.<pid>.tmp`), folders are created without racing, and leftover
/// temporaries are removed only when they cannot belong to a live write
/// (`removeStaleTemporaryFiles(in:of:)`).
public enum Files {
    /// This host's name, as it appears in temporary names (file-name safe).
    static let hostName: String = {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0 ? String(cString: buffer) : "host"
        return String(name.map { $0.isLetter || $0.isNumber || "-_".contains($0) ? $0 : "-" })
    }()

    /// The temporary name `write(_:to:)` uses for `path` in this process:
    /// `.<name>.<host>.<pid>.tmp` in the same folder, so concurrent writers never share one.
    package static func processTemporaryPath(for path: String) -> String {
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[...$0]) } ?? ""
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        return folder + "." + name + ".\(hostName).\(getpid()).tmp"
    }

    /// Writes `text` to `path` by the one output rule of GateLab (Notes/reliability.md):
    ///
    /// - a new path or an existing regular file is replaced atomically: written to a
    ///   temporary file of this process in the same folder, flushed to disk (fsync), then
    ///   renamed over `path`. A reader sees the old file or the complete new one, never a
    ///   partial one, even after kill -9 or a power loss; two processes writing the same path
    ///   leave one complete file (the last rename wins);
    /// - a symbolic link is followed: its final target is written by this same rule (the
    ///   link itself is never replaced);
    /// - a character or block device or a FIFO (`/dev/null`, `/dev/stdout` into a pipe) is
    ///   written through, never replaced; a short write (`/dev/full`) is an error;
    /// - a folder, a socket or anything else is refused.
    /// - Throws: `FileError` naming the path and the reason.
    public static func write(_ text: String, to path: String) throws {
        try write(Array(text.utf8), to: path)
    }

    /// Writes `bytes` to `path` by the rule of `write(_:to:)` (text).
    public static func write(_ bytes: [UInt8], to path: String) throws {
        guard !path.isEmpty else { throw FileError.io(path: "\"\"", message: "an empty path names no file") }
        if let confined = try confinement(of: path) { return try writeConfined(bytes, to: path, confined) }
        let (target, type) = try outputTarget(path)
        switch type {
        case nil, S_IFREG: break
        case S_IFCHR, S_IFBLK, S_IFIFO: return try writeThrough(bytes, to: target, named: path)
        case S_IFDIR: throw FileError.io(path: path, message: "is a folder, not a file; nothing written")
        default: throw FileError.io(path: path, message: "is not a regular file; nothing written")
        }
        try replaceAtomically(bytes, in: AT_FDCWD, name: target, path: path)
    }

    /// Writes `bytes` to a temporary of this process beside `name` (relative to the folder
    /// `folder`, or `AT_FDCWD`), flushes it to disk and renames it over `name`; the temporary
    /// is removed on failure. `path` names the file in errors.
    static func replaceAtomically(_ bytes: [UInt8], in folder: Int32, name: String, path: String) throws {
        let tmp = processTemporaryPath(for: name)
        let fd = openat(folder, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw FileError.io(path: path, message: "cannot create a temporary file beside it (\(String(cString: strerror(errno))))") }
        var failure = writeAll(bytes, to: fd)
        if failure == 0 && fsync(fd) != 0 { failure = errno }
        if close(fd) != 0 && failure == 0 { failure = errno }
        guard failure == 0 else {
            unlinkat(folder, tmp, 0)
            throw FileError.io(path: path, message: "write failed (\(String(cString: strerror(failure)))); the old file, if any, is unchanged")
        }
        guard renameat(folder, tmp, folder, name) == 0 else {
            let reason = String(cString: strerror(errno))
            unlinkat(folder, tmp, 0)
            throw FileError.io(path: path, message: "cannot rename the temporary file into place (\(reason))")
        }
    }

    /// Where the one output rule writes for `path`, and the type of what is there (nil: nothing
    /// yet). A symbolic link is followed to its final target; a link that ends at a device or
    /// FIFO realpath cannot name (`/dev/stdout` into a pipe: `/proc/self/fd/1 -> pipe:[…]`) is
    /// written through by its own name.
    /// - Parameter what: how the user gave the path, for the message (`--save`), if known.
    /// - Throws: `FileError` for a link whose target cannot be resolved.
    static func outputTarget(_ path: String, what: String? = nil) throws -> (target: String, type: mode_t?) {
        var info = stat()
        var target = path
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            if let resolved = realpath(path, nil) {
                target = String(cString: resolved)
                free(resolved)
            } else {
                let reason = String(cString: strerror(errno))
                if stat(path, &info) == 0, [S_IFCHR, S_IFBLK, S_IFIFO].contains(info.st_mode & S_IFMT) {
                    return (path, info.st_mode & S_IFMT)
                }
                // A dangling link (its target does not exist, or a loop): refuse rather than
                // replace the link with a file.
                throw FileError.io(path: path, message: (what.map { $0 + " " } ?? "") + "is a symbolic link whose target cannot be resolved (\(reason)); nothing written")
            }
        }
        return stat(target, &info) == 0 ? (target, info.st_mode & S_IFMT) : (target, nil)
    }

    /// Writes every byte to `fd`, looping over short writes; returns 0, or the errno of the
    /// failure (ENOSPC for a write that makes no progress, as `/dev/full`'s).
    private static func writeAll(_ bytes: [UInt8], to fd: Int32) -> Int32 {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let n = Foundation.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                if n <= 0 { return n < 0 ? errno : ENOSPC }
                offset += n
            }
            return 0
        }
    }

    /// Writes into an existing device or FIFO without creating, truncating or replacing it.
    private static func writeThrough(_ bytes: [UInt8], to target: String, named path: String) throws {
        let fd = open(target, O_WRONLY | O_NOCTTY)
        guard fd >= 0 else { throw FileError.io(path: path, message: "cannot open for writing (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        let failure = writeAll(bytes, to: fd)
        guard failure == 0 else { throw FileError.io(path: path, message: "write failed (\(String(cString: strerror(failure))))") }
    }

    /// Checks an output path given on the command line or in a file, by the one output-path
    /// rule (Notes/reliability.md): it must not be empty (an empty path would mean the root or
    /// the working directory, depending on the code that joins it); a path read from an
    /// experiment file (`fromFile`) must also be relative and must not climb out with `..`,
    /// so that running someone else's experiment file writes only below the working folder.
    /// - Parameters:
    ///   - path: the output path to check, as given.
    ///   - what: how the user gave it, for the message (`--output`, `[output] dir`).
    ///   - fromFile: whether `path` was read from an experiment file (then it must also be
    ///     relative and free of `..`).
    /// - Throws: `FileError.badPath` with one line naming `what`.
    public static func checkOutputPath(_ path: String, what: String, fromFile: Bool = false) throws {
        guard !path.isEmpty else { throw FileError.badPath("\(what) is empty; give a folder or file name (\".\" for the working folder)") }
        guard !path.contains("\0") else { throw FileError.badPath("\(what) contains a NUL character") }
        if fromFile {
            guard !path.hasPrefix("/") else { throw FileError.badPath("\(what) '\(path)' is absolute; a file may only name a folder below the working folder (give --output to write elsewhere)") }
            guard !path.split(separator: "/").contains("..") else { throw FileError.badPath("\(what) '\(path)' climbs out with '..'; a file may only name a folder below the working folder (give --output to write elsewhere)") }
        }
    }

    /// Checks, before any work, that `write(_:to:)` could write the file `path`: the
    /// output-path rule above, then what the write itself would refuse — a symbolic link whose
    /// target cannot be resolved, a folder or socket in its place, a folder that does not
    /// exist or is not writable. So `train --save out/missing/x.npz` stops at once instead of
    /// after an hour of training. (The write checks again: the disk may change in between.)
    /// - Throws: `FileError.badPath` or `.io`, one line naming `what` and the path.
    public static func checkOutputFile(_ path: String, what: String) throws {
        try checkOutputPath(path, what: what)
        let (target, type) = try outputTarget(path, what: what)
        switch type {
        case nil: break
        case S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO: return
        case S_IFDIR: throw FileError.io(path: path, message: "\(what) is a folder, not a file")
        default: throw FileError.io(path: path, message: "\(what) is not a regular file")
        }
        var info = stat()
        let folder = target.lastIndex(of: "/").map { String(target[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        guard stat(folder, &info) == 0 else {
            throw FileError.io(path: path, message: "\(what): the folder \(folder) does not exist")
        }
        guard (info.st_mode & S_IFMT) == S_IFDIR else {
            throw FileError.io(path: path, message: "\(what): \(folder) is not a folder")
        }
        guard access(folder, W_OK) == 0 else {
            throw FileError.io(path: path, message: "\(what): the folder \(folder) is not writable (\(String(cString: strerror(errno))))")
        }
    }

    /// Refuses, before any work, two outputs of one command that would land in the same file:
    /// the same path, two spellings of it (`x.npz`, `./x.npz`), or two names that a symbolic
    /// link or a hard link makes one file — one write would destroy the other (a checkpoint
    /// overwritten by the result, then `--resume` fails). Devices (`/dev/null` twice) are
    /// written through, never replaced, and may be shared.
    /// - Parameter outputs: each output's option (`--save`) and path; nil paths are skipped.
    /// - Throws: `FileError.badPath` naming both options and the file.
    public static func checkDistinctOutputs(_ outputs: [(what: String, path: String?)]) throws {
        var seen = [(what: String, path: String, identity: String)]()
        for case let (what, path?) in outputs {
            guard let identity = outputIdentity(path) else { continue }
            if let first = seen.first(where: { $0.identity == identity }) {
                let same = first.path == path ? "'\(path)'" : "'\(first.path)' and '\(path)', one file"
                throw FileError.badPath("\(first.what) and \(what) name the same file (\(same)); one would overwrite the other: give each its own path")
            }
            seen.append((what, path, identity))
        }
    }

    /// What identifies the file a write to `path` lands in: an existing file's device and
    /// inode (through links), else its folder resolved by `realpath` and its name; nil for a
    /// device or FIFO (written through) or a path whose folder does not exist (refused elsewhere).
    static func outputIdentity(_ path: String) -> String? {
        var info = stat()
        if stat(path, &info) == 0 {
            let type = info.st_mode & S_IFMT
            return type == S_IFREG || type == S_IFDIR ? "inode:\(info.st_dev):\(info.st_ino)" : nil
        }
        let slash = path.lastIndex(of: "/")
        let folder = slash.map { String(path[..<$0]) }.map { $0.isEmpty ? "/" : $0 } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        // A dangling link in the name's place: its target is where the write would go.
        if lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK { return "link:" + path }
        guard let resolved = realpath(folder, nil) else { return nil }
        defer { free(resolved) }
        return "path:" + String(cString: resolved) + "/" + name
    }

    /// Creates `path` and its parents if needed. Safe when other processes create the same
    /// folders at the same moment (an `EEXIST` from a folder is success).
    /// Below a confined output folder (`confineWrites(below:anchor:)`) no component may be a
    /// symbolic link.
    public static func makeDirectory(_ path: String) throws {
        if let confined = try confinement(of: path) {
            if confined.anchor != "." { try makeDirectory(following: confined.anchor) }
            close(try openConfinedFolder(confined, create: true, path: path))
            return
        }
        try makeDirectory(following: path)
    }

    /// `makeDirectory` following links (a path the user named).
    static func makeDirectory(following path: String) throws {
        var prefix = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/", omittingEmptySubsequences: true) {
            prefix += "/" + component
            if mkdir(prefix, 0o755) == 0 { continue }
            let code = errno
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: prefix, isDirectory: &isDirectory), isDirectory.boolValue else {
                throw FileError.io(path: path, message: "cannot create the folder (\(String(cString: strerror(code))) at \(prefix))")
            }
        }
    }

    // MARK: Output folders confined to their tree

    /// A path below a confined output folder: the folder the walk starts from (followed, as
    /// the user named it) and the components below it, none of which may be a link.
    struct ConfinedPath {
        let anchor: String
        let folders: [String]
        let name: String
    }

    /// The confined output folders of this process and their anchors.
    final class ConfinedFolders: @unchecked Sendable {
        let lock = NSLock()
        var folders = [(folder: String, anchor: String)]()
    }
    static let confined = ConfinedFolders()

    /// Confines every write below `folder` (and the creation of its subfolders) to the tree
    /// under `anchor`: from `anchor` down, every folder is opened without following symbolic
    /// links and a file is created and renamed into place inside the folder so opened
    /// (`openat`, `renameat`), so a link anywhere below `anchor` on the way — a file or a folder
    /// that a cloned repository ships — is refused rather than followed out of the tree, with no
    /// window between a check and the write. The runner confines its output folder: anchored at
    /// the working folder (".") when the folder comes from the experiment file or the default,
    /// at the folder itself when the user named it with `--output` (a link the user named is
    /// followed; links below it are not).
    public static func confineWrites(below folder: String, anchor: String) {
        confined.lock.lock()
        defer { confined.lock.unlock() }
        if !confined.folders.contains(where: { $0.folder == folder && $0.anchor == anchor }) { confined.folders.append((folder, anchor)) }
    }

    /// Where `path` lies below a confined folder (nil: it is not below one).
    /// - Throws: `FileError` for a path that climbs out of its folder with `..`.
    static func confinement(of path: String) throws -> ConfinedPath? {
        confined.lock.lock()
        let folders = confined.folders
        confined.lock.unlock()
        for (folder, anchor) in folders where path == folder || path.hasPrefix(folder + "/") {
            let relative: Substring
            if anchor == "." { relative = Substring(path) }
            else if path == anchor { relative = "" }
            else if path.hasPrefix(anchor + "/") { relative = path.dropFirst(anchor.count + 1) }
            else { continue }
            let components = relative.split(separator: "/").filter { $0 != "." }.map(String.init)
            guard !components.contains("..") else { throw FileError.io(path: path, message: "climbs out of the output folder \(folder) with '..'; nothing written") }
            guard let name = components.last else { return ConfinedPath(anchor: anchor, folders: [], name: "") }
            return ConfinedPath(anchor: anchor, folders: Array(components.dropLast()), name: name)
        }
        return nil
    }

    /// The refusal of a link inside a confined output folder.
    static func linkRefusal(_ link: String, path: String) -> FileError {
        var buffer = [CChar](repeating: 0, count: 4097)
        let n = readlink(link, &buffer, 4096)
        let target = n > 0 ? " (to \(String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)))" : ""
        return FileError.io(path: path, message: (link == path ? "" : "\(link) ") + "is a symbolic link\(target) inside the output folder's tree; GateLab never writes "
            + "through a link there (it could lead out of the tree): remove it, or give --output a folder of your own; nothing written")
    }

    /// Opens the folder of a confined path (its whole path when `create`, creating missing
    /// folders), component by component without following links. Returns the descriptor.
    static func openConfinedFolder(_ c: ConfinedPath, create: Bool, path: String) throws -> Int32 {
        var fd = open(c.anchor, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError.io(path: path, message: "cannot open the folder \(c.anchor) (\(String(cString: strerror(errno))))") }
        var walked = c.anchor == "." ? "" : c.anchor
        for component in create && !c.name.isEmpty ? c.folders + [c.name] : c.folders {
            walked += (walked.isEmpty ? "" : "/") + component
            var next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0, errno == ENOENT, create {
                if mkdirat(fd, component, 0o755) != 0, errno != EEXIST {
                    let reason = String(cString: strerror(errno))
                    close(fd)
                    throw FileError.io(path: path, message: "cannot create the folder (\(reason) at \(walked))")
                }
                next = openat(fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            guard next >= 0 else {
                let code = errno
                var info = stat()
                let isLink = fstatat(fd, component, &info, AT_SYMLINK_NOFOLLOW) == 0 && (info.st_mode & S_IFMT) == S_IFLNK
                close(fd)
                if isLink { throw linkRefusal(walked, path: path) }
                throw FileError.io(path: path, message: code == ENOTDIR ? "\(walked) is not a folder" : "cannot open the folder \(walked) (\(String(cString: strerror(code))))")
            }
            close(fd)
            fd = next
        }
        return fd
    }

    /// `write(_:to:)` below a confined folder: the folder opened without following links, the
    /// temporary created in it (`O_NOFOLLOW`, this process's name) and renamed over the name
    /// in it. A link, folder or special file in the name's place is refused; one put there
    /// after that check is replaced by the rename, never written through.
    static func writeConfined(_ bytes: [UInt8], to path: String, _ c: ConfinedPath) throws {
        guard !c.name.isEmpty else { throw FileError.io(path: path, message: "is a folder, not a file; nothing written") }
        let folder = try openConfinedFolder(c, create: false, path: path)
        defer { close(folder) }
        var info = stat()
        if fstatat(folder, c.name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            switch info.st_mode & S_IFMT {
            case S_IFREG: break
            case S_IFLNK: throw linkRefusal(path, path: path)
            case S_IFDIR: throw FileError.io(path: path, message: "is a folder, not a file; nothing written")
            default: throw FileError.io(path: path, message: "is not a regular file; nothing written")
            }
        }
        try replaceAtomically(bytes, in: folder, name: c.name, path: path)
    }

    /// Renames the finished temporary `temporary` (a name in the same folder as `path`) over
    /// `path`: inside a confined folder without following links (a link in `path`'s place
    /// is refused), elsewhere with `rename`.
    /// - Throws: `FileError` naming `path`.
    public static func renameIntoPlace(_ temporary: String, _ path: String) throws {
        guard let c = try confinement(of: path), !c.name.isEmpty else {
            guard rename(temporary, path) == 0 else { throw FileError.io(path: path, message: "cannot rename the temporary file into place (\(String(cString: strerror(errno))))") }
            return
        }
        let folder = try openConfinedFolder(c, create: false, path: path)
        defer { close(folder) }
        var info = stat()
        if fstatat(folder, c.name, &info, AT_SYMLINK_NOFOLLOW) == 0, (info.st_mode & S_IFMT) == S_IFLNK {
            unlink(temporary)
            throw linkRefusal(path, path: path)
        }
        let name = temporary.split(separator: "/").last.map(String.init) ?? temporary
        guard renameat(folder, name, folder, c.name) == 0 else {
            throw FileError.io(path: path, message: "cannot rename the temporary file into place (\(String(cString: strerror(errno))))")
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

    /// A checksum of `bytes` for detecting damage (not tampering): FNV-1a, 64 bits, as
    /// `fnv1a64:` and 16 hex digits. Checkpoints carry one over their content; a checkpoint
    /// records its cell file's.
    public static func checksum<Bytes: Sequence>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes { hash = (hash ^ UInt64(b)) &* 0x0000_0100_0000_01b3 }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }

    /// The largest input file GateLab reads (reference cases, weights, checkpoints, experiment
    /// and cell files): 1 GiB. Every reader goes through `contents(of:limit:)`, so no input,
    /// not even `/dev/zero`, makes it allocate more than this for the bytes.
    public static let inputLimit = InputFile.defaultLimit

    /// The bytes of the regular file at `path`, read with a bound (`InputFile.bytes`): at most
    /// `limit` bytes are ever held; a folder, FIFO, device or socket is refused at once.
    /// - Throws: `FileError` naming the path: cannot be opened, is not a regular
    ///   file, or is longer than `limit`.
    public static func contents(of path: String, limit: Int = inputLimit) throws -> [UInt8] {
        do { return try InputFile.bytes(path, limit: limit) } catch let e as InputFileError {
            throw FileError.io(path: e.path, message: e.reason)
        }
    }

    /// The file's text, or nil when it does not exist or is not UTF-8.
    public static func read(_ path: String) -> String? {
        (try? contents(of: path)).flatMap { String(validating: $0, as: UTF8.self) }
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

/// A file or folder that could not be read, written or created, or a path GateLab refuses to
/// use, as one line. Thrown by `Files` and `ContentHash`, and by every layer above for a file it
/// cannot read or write (a tool that cannot start included).
public enum FileError: Error, Equatable, CustomStringConvertible {
    /// The path and what went wrong with it (without the path).
    case io(path: String, message: String)
    /// A path refused before it is opened: empty, absolute where a relative one is needed,
    /// climbing out with `..`, two outputs on one file.
    case badPath(String)

    /// `path: message`, or the refusal, on one line (a line break inside is written `\n`).
    public var description: String {
        let line: String
        switch self {
        case let .io(path, message): line = "\(path): \(message)"
        case let .badPath(message): line = message
        }
        return line.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
    }

    /// What went wrong without the path an `.io` error names (its description starts with
    /// it): for a caller that names the file itself, so that a message does not say it twice
    /// (`x.npz: cannot write the file (x.npz: is a folder …)`).
    public static func reason(_ error: Error) -> String {
        if case let .io(_, message)? = error as? FileError { return message }
        return "\(error)"
    }
}
