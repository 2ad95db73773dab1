#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// The kernel's messages since boot, for `xvf doctor`: read from `/dev/kmsg` under the root (what
/// `dmesg` itself reads, without running a program), else from `/var/log/kern.log` (rsyslog).
enum KernelLog {
    /// The messages, one a line without the record's `priority,sequence,time,flags;` prefix; nil when
    /// neither source can be read (not root, `dmesg_restrict`).
    static func messages(_ root: HostRoot) -> [String]? {
        if let records = readKmsg(root.path("dev/kmsg")) {
            return records.split(separator: "\n").compactMap { record in
                // Continuation lines (` SUBSYSTEM=pci`) describe the record before; they carry no message.
                guard !record.hasPrefix(" "), let semicolon = record.firstIndex(of: ";") else { return nil }
                return String(record[record.index(after: semicolon)...])
            }
        }
        return root.readText("var/log/kern.log").map { $0.split(separator: "\n").map(String.init) }
    }

    /// `/dev/kmsg` hands over one record per read and blocks at the end unless opened non-blocking;
    /// EPIPE says records were overwritten while reading, and reading goes on. A plain file (a test
    /// tree's) reads the same way to its end.
    private static func readKmsg(_ path: String) -> String? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var bytes: [UInt8] = []
        // A record is at most 8 KiB (CONSOLE_EXT_LOG_MAX); a smaller buffer makes the read fail with EINVAL.
        var chunk = [UInt8](repeating: 0, count: 8192)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                bytes += chunk[0..<n]
                continue
            }
            if n < 0 && (errno == EINTR || errno == EPIPE) { continue }
            if n < 0 && errno != EAGAIN && bytes.isEmpty { return nil }
            break
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
