#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// File-system operations on a simulated host tree, by paths relative to its root. Inside a simulated
/// kernel write each change is kept in the kernel's journal first (`SimKernelJournal`).
struct SimTree {
    let root: HostRoot

    func makeDirectory(_ relative: String) {
        var current = root.prefix
        var made = ""
        for part in relative.split(separator: "/") {
            current += "/" + part
            made += (made.isEmpty ? "" : "/") + part
            if access(current, F_OK) != 0 { SimKernelJournal.keep(made, in: root) }
            mkdir(current, 0o755)
        }
    }

    func write(_ relative: String, _ text: String) {
        write(relative, bytes: Array(text.utf8))
    }

    /// Each simulated file is replaced whole (a temporary beside it, then rename), as a sysfs attribute
    /// changes in one step: a process killed between two simulated kernel writes never leaves one of the
    /// simulated kernel's files empty or half-written.
    func write(_ relative: String, bytes: [UInt8]) {
        SimKernelJournal.keep(relative, in: root)
        let path = root.path(relative)
        let slash = path.lastIndex(of: "/").map { path.index(after: $0) } ?? path.startIndex
        let temporary = String(path[..<slash]) + ".sim-\(getpid())-" + String(path[slash...])
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        precondition(fd >= 0, "simulated host: cannot write \(path)")
        _ = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
        precondition(rename(temporary, path) == 0, "simulated host: cannot replace \(path)")
    }

    /// A relative symbolic link at `linkPath` to `target`, the way sysfs makes them (`../../devices/…`).
    func link(_ linkPath: String, to target: String) {
        let linkDirectory = linkPath.split(separator: "/").dropLast()
        let targetParts = target.split(separator: "/")
        var common = 0
        while common < linkDirectory.count, common < targetParts.count,
              linkDirectory[linkDirectory.startIndex + common] == targetParts[common] { common += 1 }
        let up = Array(repeating: "..", count: linkDirectory.count - common)
        let relativeTarget = (up + targetParts[common...].map(String.init)).joined(separator: "/")
        SimKernelJournal.keep(linkPath, in: root)
        unlink(root.path(linkPath))
        symlink(relativeTarget, root.path(linkPath))
    }

    /// A symbolic link with exactly this target text.
    func rawLink(_ linkPath: String, target: String) {
        SimKernelJournal.keep(linkPath, in: root)
        unlink(root.path(linkPath))
        symlink(target, root.path(linkPath))
    }

    func remove(_ relative: String) {
        SimKernelJournal.keep(relative, in: root)
        unlink(root.path(relative))
    }

    /// Removes a directory tree (without following links out of it).
    func removeTree(_ relative: String) {
        let path = root.path(relative)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        SimKernelJournal.keep(relative, in: root)
        removeTreeUnkept(relative)
    }

    private func removeTreeUnkept(_ relative: String) {
        let path = root.path(relative)
        var info = stat()
        guard lstat(path, &info) == 0 else { return }
        if (info.st_mode & S_IFMT) == S_IFDIR {
            for name in root.list(relative) { removeTreeUnkept(relative + "/" + name) }
            rmdir(path)
        } else {
            unlink(path)
        }
    }
}

/// The 4 KiB PCIe config space a simulated function answers with: a type 0 or 1 header, the PCI Express
/// capability, and in the extended space ARI + SR-IOV (PFs) or ACS (root ports).
enum ConfigSpace {
    static let sriovOffset = 0x160

    static func build(vendor: UInt16, device: UInt16, classCode: UInt32, isBridge: Bool = false,
                      isVF: Bool = false, sriov: SimSRIOV? = nil, numVFs: Int = 0, acs: Bool = false,
                      serial: UInt64? = nil) -> [UInt8] {
        var space = [UInt8](repeating: 0, count: 4096)
        func put16(_ at: Int, _ v: Int) { space[at] = UInt8(v & 0xff); space[at + 1] = UInt8((v >> 8) & 0xff) }
        func put32(_ at: Int, _ v: Int) { put16(at, v & 0xffff); put16(at + 2, (v >> 16) & 0xffff) }
        // A VF answers 0xffff for its ids in config space; Linux shows the real ones in `vendor`/`device`.
        put16(0x00, isVF ? 0xffff : Int(vendor))
        put16(0x02, isVF ? 0xffff : Int(device))
        put16(0x04, 0x0406)
        put16(0x06, 0x0010)                        // capability list present
        space[0x08] = 0x01                         // revision
        space[0x09] = UInt8(classCode & 0xff)
        space[0x0a] = UInt8((classCode >> 8) & 0xff)
        space[0x0b] = UInt8((classCode >> 16) & 0xff)
        space[0x0e] = isBridge ? 0x01 : 0x00
        space[0x34] = 0x40
        // PCI Express capability: version 2, a root port (4) or an endpoint (0).
        space[0x40] = 0x10
        space[0x41] = 0x00
        space[0x42] = isBridge ? 0x42 : 0x02
        func extended(_ at: Int, id: Int, next: Int) { put32(at, id | 1 << 16 | next << 20) }
        if isBridge && acs {
            extended(0x100, id: 0x000d, next: 0)
            put16(0x104, 0x005f)                   // SV TB RR CR UF DT
            put16(0x106, 0x001d)                   // SV RR CR UF on
        } else if let sriov {
            extended(0x100, id: 0x000e, next: serial == nil ? 0x150 : 0x140)   // ARI
            if let serial {
                extended(0x140, id: 0x0003, next: 0x150)    // Device Serial Number
                put32(0x144, Int(serial & 0xffff_ffff))
                put32(0x148, Int(serial >> 32))
            }
            extended(0x150, id: 0x0001, next: sriovOffset)  // AER, so SR-IOV is not first in the list
            extended(sriovOffset, id: 0x0010, next: 0)
            put32(sriovOffset + 0x04, 0x2)
            put16(sriovOffset + 0x08, numVFs > 0 ? 0x19 : 0x10)  // VF Enable + VF MSE when on; ARI hierarchy
            put16(sriovOffset + 0x0c, sriov.totalVFs)
            put16(sriovOffset + 0x0e, sriov.totalVFs)
            put16(sriovOffset + 0x10, numVFs)
            put16(sriovOffset + 0x14, sriov.offset)
            put16(sriovOffset + 0x16, sriov.stride)
            put16(sriovOffset + 0x1a, Int(sriov.vfDevice))
            put32(sriovOffset + 0x1c, 0x553)
            put32(sriovOffset + 0x20, 0x1)
        } else {
            put32(0x100, 0)
        }
        return space
    }
}
