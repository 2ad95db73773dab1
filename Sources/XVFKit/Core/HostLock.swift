#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// The exclusive lock xvf holds while it chooses and changes devices, so that two `xvf assign` at once
/// never hand out the same VF, and `xvf vfs` never destroys a VF an `xvf assign` is attaching: flock(2)
/// on the host root directory itself. Locking a directory creates nothing, so a command that is refused
/// or undoes its changes leaves the host exactly as it was; the lock goes with the process (on exit or
/// crash the kernel drops it), so nothing is ever left stale.
public final class HostLock {
    private let descriptor: Int32

    /// Waits for the lock.
    public init(_ root: HostRoot) throws(XVFError) {
        let path = root.displayPath
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else {
            throw XVFError(.failed, "cannot open \(path) to lock it: \(String(cString: strerror(errno)))")
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
