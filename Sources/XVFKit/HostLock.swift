#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// The exclusive lock xvf holds while it chooses and changes devices, so that two `xvf assign` at once
/// never hand out the same VF: flock(2) on `run/xvf.lock` under the host root. The lock goes with the
/// process (on exit or crash the kernel drops it), so a stale lock file is harmless.
public final class HostLock {
    public static let file = "run/xvf.lock"
    private let descriptor: Int32

    /// Waits for the lock.
    public init(_ root: HostRoot) throws(XVFError) {
        let path = root.path(Self.file)
        mkdir(root.path("run"), 0o755)
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw XVFError(.failed, "cannot open the lock \(path): \(String(cString: strerror(errno)))")
        }
        while flock(fd, LOCK_EX) != 0 {
            if errno == EINTR { continue }
            let reason = String(cString: strerror(errno))
            close(fd)
            throw XVFError(.failed, "cannot lock \(path): \(reason)")
        }
        descriptor = fd
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
