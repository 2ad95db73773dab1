#if canImport(Glibc)
import Glibc
#endif
import CSystem

/// Files xvf edits as root (domU configs, GRUB's defaults, modprobe.d, its own records), read and
/// replaced so that no other user can turn the edit against the host and nothing the user had is lost.
extension HostRoot {
    /// The most xvf reads of a file it edits or applies: configs are a few kilobytes, and a file that
    /// never ends (a device, a FIFO fed for ever) must not hold the host lock or exhaust memory.
    public static let editableSizeLimit = 4 << 20

    /// The text of a file xvf edits or applies, every byte kept (`HostText`); nil when it does not exist.
    /// Regular files only: a FIFO, a device or a directory is refused without waiting on it.
    public func editableText(_ relative: String) throws(FileError) -> String? {
        try Self.editableText(atPath: path(relative))
    }

    /// `editableText` of a file named by its own path (`--config FILE`).
    public static func editableText(atPath absolute: String) throws(FileError) -> String? {
        // O_NONBLOCK: opening a FIFO nobody writes returns at once instead of waiting for a writer.
        let fd = open(absolute, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw FileError(path: absolute, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw FileError(path: absolute, errno: errno) }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw FileError(path: absolute, reason: "is not a regular file; name a regular file")
        }
        let bytes = try readAll(fd, path: absolute, limit: editableSizeLimit)
        guard let text = HostText.decode(bytes) else {
            throw FileError(path: absolute, reason: "holds characters U+10FF00-U+10FFFF, which xvf cannot tell from "
                            + "the bytes it keeps; edit this file by hand")
        }
        return text
    }

    /// Reads `fd` to its end, refusing more than `limit` bytes.
    static func readAll(_ fd: Int32, path: String, limit: Int) throws(FileError) -> [UInt8] {
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw FileError(path: path, errno: errno) }
            if n == 0 { return bytes }
            bytes += chunk[..<n]
            if bytes.count > limit {
                throw FileError(path: path, reason: "is larger than \(limit >> 20) MiB; xvf edits only files smaller than that")
            }
        }
    }

    /// Replaces a file atomically: the new content goes to a temporary file in the same directory, made
    /// under a name nobody can predict with O_EXCL|O_NOFOLLOW, which gets the old file's owner, mode and
    /// every extended attribute (ACLs, SELinux labels, `user.*`), is flushed and renamed over the old one;
    /// the directory is flushed so that the rename survives a crash. The path is resolved once: a link is
    /// written through to the file it leads to (`/etc/xen/auto/web1.cfg -> ../web1.cfg` stays a link),
    /// which must lie inside the root, and from there every directory is opened without following links,
    /// so nothing can be swapped in between. A file in a directory that a user other than root or the
    /// file's owner can write is refused (`PathTrust`), and so is one that is not a regular file.
    public func replaceFile(_ relative: String, with content: String, mode defaultMode: mode_t = 0o644)
        throws(FileError)
    {
        do {
            try replaceFileUnrecorded(relative, with: content, mode: defaultMode)
        } catch {
            observer?.observe(.file(path: relative, content: content), failure: error)
            throw error
        }
        observer?.observe(.file(path: relative, content: content), failure: nil)
    }

    private func replaceFileUnrecorded(_ relative: String, with content: String, mode defaultMode: mode_t)
        throws(FileError)
    {
        let named = path(relative)
        guard let inside = contained(relative), let top = canonicalPath(prefix.isEmpty ? "/" : prefix) else {
            throw FileError(path: named, reason: "leads outside the host root \(displayPath)")
        }
        let target = (top == "/" ? "" : top) + "/" + inside
        var info = stat()
        let existingOwner = stat(target, &info) == 0 ? info.st_uid : nil
        // The path as named and where its links lead (PathTrust looks at both).
        if let why = PathTrust.problem(at: named, owner: existingOwner) {
            throw FileError(path: named, reason: "is not safe to replace as root: \(why); make that directory writable "
                            + "by root (or the file's owner) only")
        }
        let name = lastComponent(target)
        let directory = try openDirectories(of: target)
        defer { close(directory) }

        // The old file, opened as the name stands now: not a link any more (it was resolved above), and
        // regular. Its owner, mode and attributes go to the new file.
        var old: Int32 = -1
        defer { if old >= 0 { close(old) } }
        var mode = defaultMode
        if fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 {
            guard info.st_mode & S_IFMT == S_IFREG else {
                throw FileError(path: target, reason: "is not a regular file (or was changed while xvf wrote it); nothing was changed")
            }
            old = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)
            guard old >= 0, fstat(old, &info) == 0 else { throw FileError(path: target, errno: errno) }
            mode = info.st_mode & 0o7777
        } else if errno != ENOENT {
            throw FileError(path: target, errno: errno)
        }

        Self.removeStaleTemporaries(of: name, in: directory)
        let temporary = Self.temporaryName(of: name)
        let fd = openat(directory, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw FileError(path: target, errno: errno) }
        func fail(_ error: FileError) -> FileError {
            close(fd)
            unlinkat(directory, temporary, 0)
            return error
        }
        let bytes = HostText.encode(content)
        var written = 0
        while written < bytes.count {
            let n = bytes[written...].withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw fail(FileError(path: target, errno: errno)) }
            written += n
        }
        // Owner before mode (a chown clears set-id bits), mode before the attributes (an ACL sets the
        // group bits to its mask; a chmod after it would change the ACL).
        if old >= 0, fchown(fd, info.st_uid, info.st_gid) != 0 { throw fail(FileError(path: target, errno: errno)) }
        if fchmod(fd, mode) != 0 { throw fail(FileError(path: target, errno: errno)) }
        if old >= 0 {
            do { try Self.copyAttributes(from: old, to: fd, path: target) } catch { throw fail(error) }
        }
        if fsync(fd) != 0 { throw fail(FileError(path: target, errno: errno)) }
        if close(fd) != 0 {
            let code = errno
            unlinkat(directory, temporary, 0)
            throw FileError(path: target, errno: code)
        }
        if renameat(directory, temporary, directory, name) != 0 {
            let code = errno
            unlinkat(directory, temporary, 0)
            throw FileError(path: target, errno: code)
        }
        // The rename lives in the directory: without this a crash can bring the old file back.
        // EINVAL: a file system that cannot flush directories; the rename is as safe as it gets there.
        if fsync(directory) != 0 && errno != EINVAL { throw FileError(path: target, errno: errno) }
    }

    /// Opens the directory `target` (canonical, absolute) lies in, one component at a time from `/` and
    /// never through a link, making the missing ones (mode 0755).
    private func openDirectories(of target: String) throws(FileError) -> Int32 {
        var fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: "/", errno: errno) }
        var current = ""
        for part in target.split(separator: "/").dropLast().map(String.init) {
            current += "/" + part
            var next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            if next < 0 && errno == ENOENT {
                if mkdirat(fd, part, 0o755) != 0 && errno != EEXIST {
                    let code = errno
                    close(fd)
                    throw FileError(path: current, errno: code)
                }
                next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
            }
            let code = errno
            close(fd)
            guard next >= 0 else {
                // ELOOP, ENOTDIR: a directory became a link (or something else) after the path was resolved.
                throw FileError(path: current, reason: code == ELOOP || code == ENOTDIR
                                ? "is no longer the directory it was (it changed while xvf wrote into it); nothing was changed"
                                : String(cString: strerror(code)))
            }
            fd = next
        }
        return fd
    }

    /// Puts every extended attribute of `source` on `destination`; one that cannot be carried over
    /// refuses the replacement, since the new file would lose what protected or labelled the old one.
    static func copyAttributes(from source: Int32, to destination: Int32, path: String) throws(FileError) {
        var size = flistxattr(source, nil, 0)
        if size < 0 {
            if errno == ENOTSUP { return }  // a file system without attributes: there are none to keep
            throw FileError(path: path, errno: errno)
        }
        guard size > 0 else { return }
        var names = [CChar](repeating: 0, count: size)
        size = flistxattr(source, &names, names.count)
        guard size >= 0 else { throw FileError(path: path, errno: errno) }
        var start = 0
        while start < size {
            let end = names[start..<size].firstIndex(of: 0) ?? size
            let name = String(decoding: names[start..<end].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            start = end + 1
            let length = fgetxattr(source, name, nil, 0)
            guard length >= 0 else { throw FileError(path: path, errno: errno) }
            var value = [UInt8](repeating: 0, count: max(length, 1))
            let read = fgetxattr(source, name, &value, length)
            guard read >= 0, fsetxattr(destination, name, value, read, 0) == 0 else {
                throw FileError(path: path, reason: "its extended attribute \(name) cannot be kept on the new file ("
                                + "\(String(cString: strerror(errno)))); nothing was changed")
            }
        }
    }

    // MARK: temporaries

    /// A replacement's temporary of `name`: `.NAME.xvf-PID-RANDOM`. The random part makes it one nobody
    /// can plant ahead; the process id tells `doctor` and the next replacement that its writer is gone.
    static func temporaryName(of name: String) -> String {
        temporaryPrefix(of: name) + "\(getpid())-" + String(UInt64.random(in: .min ... .max), radix: 16)
    }

    static func temporaryPrefix(of name: String) -> String { "." + name + ".xvf-" }

    /// Removes the temporaries an earlier replacement of `name` left when its process was killed before
    /// the rename, so that no half-written file stays beside it.
    static func removeStaleTemporaries(of name: String, in directory: Int32) {
        let copy = dup(directory)
        guard copy >= 0, let handle = fdopendir(copy) else { if copy >= 0 { close(copy) }; return }
        defer { closedir(handle) }
        for entry in readEntries(handle) where entry.hasPrefix(temporaryPrefix(of: name)) && writerIsGone(entry) {
            unlinkat(directory, entry, 0)
        }
    }

    /// The temporaries in a directory (relative to the root) whose writer is gone: what a killed
    /// replacement left, for `xvf doctor` to name.
    public func staleTemporaries(in relative: String) -> [String] {
        listDirectory(path(relative)).filter(Self.writerIsGone)
    }

    /// Whether `entry` is a replacement's temporary whose process no longer runs.
    static func writerIsGone(_ entry: String) -> Bool {
        let parts = entry.split(separator: ".xvf-", omittingEmptySubsequences: false)
        guard entry.hasPrefix("."), parts.count >= 2, let pid = Int32(parts[parts.count - 1].prefix { $0 != "-" }),
              pid != getpid() else { return false }
        return kill(pid, 0) != 0 && errno == ESRCH
    }
}
