#if canImport(Glibc)
import Glibc
#endif

/// A file another program fills for xvf (`xl save` writes a domain's image), made so that it is never
/// seen half-written under its name and never replaces anything: the program writes into a temporary
/// beside it, made empty by xvf with an unpredictable name and O_CREAT|O_EXCL|O_NOFOLLOW in a directory
/// only root (or the user) can write, and `publish` links it under its name, which fails when something
/// took that name meanwhile (link(2) never replaces), then removes the temporary name.
public struct NewFile: Sendable {
    /// The name it will have, and the temporary it is written as, relative to the root.
    public let relative: String
    public let temporary: String
}

extension HostRoot {
    /// Makes the empty temporary of a new file at `relative`; refuses a name that exists, a directory that
    /// does not exist, and a directory another user could write.
    public func makeNewFile(_ relative: String, mode: mode_t = 0o600) throws(FileError) -> NewFile {
        let named = path(relative)
        guard let inside = contained(relative) else { throw FileError(path: named, reason: "leads outside the host root \(displayPath)") }
        if let why = PathTrust.problem(at: named, owner: geteuid()) {
            throw FileError(path: named, reason: "cannot be made safely as root: \(why); use a directory only root can write")
        }
        var info = stat()
        if lstat(named, &info) == 0 { throw FileError(path: named, reason: "exists; name a new file") }
        let directory = String(inside.split(separator: "/").dropLast().joined(separator: "/"))
        guard isDirectory(directory) || directory.isEmpty else {
            throw FileError(path: named, reason: "is in a directory that does not exist; make it first")
        }
        // A temporary whose writer is gone is what an interrupted run left: never the only copy of anything,
        // since the caller makes a new file only while what it will hold still exists elsewhere.
        let directoryFD = open(path(directory), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        if directoryFD >= 0 {
            Self.removeStaleTemporaries(of: lastComponent(inside), in: directoryFD)
            close(directoryFD)
        }
        let temporary = (directory.isEmpty ? "" : directory + "/") + Self.temporaryName(of: lastComponent(inside))
        let fd = open(path(temporary), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw FileError(path: path(temporary), errno: errno) }
        close(fd)
        return NewFile(relative: inside, temporary: temporary)
    }

    /// Gives the filled temporary its name, flushed first so that a crash leaves the whole file or none.
    public func publish(_ file: NewFile) throws(FileError) {
        let fd = open(path(file.temporary), O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw FileError(path: path(file.temporary), errno: errno) }
        let flushed = fsync(fd) == 0 || errno == EINVAL
        let code = errno
        close(fd)
        guard flushed else { throw FileError(path: path(file.temporary), errno: code) }
        guard link(path(file.temporary), path(file.relative)) == 0 else {
            throw FileError(path: path(file.relative), errno: errno)
        }
        unlink(path(file.temporary))
    }

    /// Removes the temporary of a file that will not be published.
    public func discard(_ file: NewFile) {
        unlink(path(file.temporary))
    }
}
