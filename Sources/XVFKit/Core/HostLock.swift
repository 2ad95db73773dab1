#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// The exclusive lock xvf holds while it chooses and changes devices, so that two `xvf assign` at once
/// never hand out the same VF, and `xvf vfs` never destroys a VF an `xvf assign` is attaching.
///
/// It is flock(2) on `run/xvf/lock` under the host root: a file only root can open, in a directory only
/// root can write, so no other user can take it and hang every xvf, the udev-started units and
/// `xvf-boot.service` (which runs before xendomains, so no guest would autostart). The file is made
/// once and stays empty; the lock goes with the process (on exit or crash the kernel drops it), so
/// nothing is ever left stale. A command waits for it at most `timeout` seconds, saying whom it waits for.
public final class HostLock {
    public static let path = "run/xvf/lock"
    private let descriptor: Int32

    /// Takes the lock, waiting at most `timeout` seconds; `waiting` is told once, with the holder, when the
    /// lock is taken by another process.
    public init(_ root: HostRoot, timeout: Int, waiting: (String) -> Void) throws(XVFError) {
        let file = root.path(Self.path)
        let directory = String(file[..<file.lastIndex(of: "/")!])
        for made in [root.path("run"), directory] where mkdir(made, 0o755) != 0 && errno != EEXIST {
            throw XVFError(.lockDirectory(path: made, errno: errno))
        }
        if let why = PathTrust.problem(at: file, owner: geteuid()) {
            throw XVFError(.lockUntrusted(path: file, why: why))
        }
        let fd = open(file, O_RDONLY | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw XVFError(.lockOpen(path: file, errno: errno))
        }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG, info.st_uid == geteuid() || info.st_uid == 0,
              info.st_mode & 0o022 == 0 else {
            close(fd)
            throw XVFError(.lockFileUnsafe(path: file))
        }
        var told = false
        let deadline = monotonicSeconds() + Double(timeout)
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            if code == EINTR { continue }
            guard code == EWOULDBLOCK else {
                close(fd)
                throw XVFError(.lock(path: file, errno: code))
            }
            if !told {
                waiting("waiting for the xvf lock held by \(Self.holder(of: info)) (at most \(timeout) s; --wait SECONDS changes that)")
                told = true
            }
            if monotonicSeconds() >= deadline {
                close(fd)
                throw XVFError(.lockBusy(path: file, holder: Self.holder(of: info), seconds: timeout))
            }
            usleep(50_000)
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    /// Who holds the lock on the file `info` describes: `pid N (COMMAND)` from the kernel's own list of
    /// locks, which a process cannot forge (a pid written into the file could be); what cannot be found
    /// is said so. The holder is a process of this machine whatever the host root.
    static func holder(of info: stat) -> String {
        let inode = ":\(info.st_ino)"
        let major = (info.st_dev >> 8) & 0xfff | ((info.st_dev >> 32) & ~0xfff)
        let minor = (info.st_dev & 0xff) | ((info.st_dev >> 12) & ~0xff)
        let device = hex(major, width: 2) + ":" + hex(minor, width: 2)
        for line in (readFile(atPath: "/proc/locks").map { String(decoding: $0, as: UTF8.self) } ?? "").split(separator: "\n") {
            let words = line.split(separator: " ")
            // "1: FLOCK  ADVISORY  WRITE 1234 fd:01:5678 0 EOF"; waiters carry "->" and are not holders.
            guard !words.contains("->"), words.count >= 6, words[1] == "FLOCK",
                  words[5].hasSuffix(inode), words[5].hasPrefix(device),
                  let pid = Int32(words[4]) else { continue }
            let command = readFile(atPath: "/proc/\(pid)/comm").map { String(decoding: $0, as: UTF8.self) }?
                .split(separator: "\n").first.map { String($0).escapingControlCharacters } ?? "?"
            return "pid \(pid) (\(command))"
        }
        return "another process"
    }
}

/// Seconds on the monotonic clock, which a change of the wall clock does not move.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
