#if canImport(Glibc)
import Glibc
#endif

/// Carries out a write to a kernel attribute. The real one writes the file; the simulated kernel
/// (SimHost) also does what Linux would do in answer, so the same code is tested against it.
public protocol AttributeWriter: Sendable {
    func write(_ value: String, to relativePath: String, in root: HostRoot) throws(SysfsError)
}

/// The kernel's answer to a refused attribute write.
public struct SysfsError: Error, Equatable, CustomStringConvertible {
    /// The attribute, relative to the host root (`sys/bus/pci/devices/0000:04:00.0/sriov_numvfs`).
    public let path: String
    public let value: String
    public let errno: Int32
    public init(path: String, value: String, errno: Int32) {
        self.path = path
        self.value = value
        self.errno = errno
    }
    public var description: String {
        "writing '\(value)' to /\(path): \(String(cString: strerror(errno)))"
    }
}

/// Writes attributes with a single write(2), as sysfs needs; the errno is the kernel's answer.
public struct KernelAttributeWriter: AttributeWriter {
    public init() {}
    public func write(_ value: String, to relativePath: String, in root: HostRoot) throws(SysfsError) {
        let fd = open(root.path(relativePath), O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SysfsError(path: relativePath, value: value, errno: errno) }
        defer { close(fd) }
        let bytes = Array(value.utf8)
        let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        if n < 0 { throw SysfsError(path: relativePath, value: value, errno: errno) }
    }
}
