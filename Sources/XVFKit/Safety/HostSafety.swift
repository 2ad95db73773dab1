import SRIOV

/// The PCI functions dom0 cannot lose without losing itself: the disk behind `/` and the network
/// interfaces the host is reached through. xvf refuses to hide, unbind, reload or assign them (or the
/// bridges above them, which take everything behind them along) unless the user passes `--force`.
///
/// Everything is read through the host root: `proc/self/mountinfo`, `proc/mounts`, `sys/dev/block` and
/// `sys/class/block` for the root disk,
/// `proc/net/route` and `proc/net/ipv6_route` for the default route, and `sys/class/net` to follow a
/// bridge, bond or VLAN (xenbr0 on a Xen host) down to the ports beneath it.
public struct HostSafety: Sendable {
    /// Why each protected function must stay with dom0, as a clause: "holds the disk behind / (sda1)".
    public let protected: [PCIAddress: String]
    /// Set when `/` is on a disk xvf cannot trace to a PCI function (ZFS, an unknown stack): that disk
    /// is then not protected, and commands say so rather than stay silent.
    public let rootDiskWarning: String?

    public init(protected: [PCIAddress: String], rootDiskWarning: String? = nil) {
        self.protected = protected
        self.rootDiskWarning = rootDiskWarning
    }

    /// Reads what the host depends on.
    public init(_ inventory: HostInventory) {
        let root = inventory.root
        var found: [PCIAddress: String] = [:]
        func protect(_ address: PCIAddress, _ reason: String) {
            if found[address] == nil { found[address] = reason }
        }
        let rootDisk = Self.rootDisk(root)
        for (name, path) in rootDisk.paths {
            for (position, address) in path.enumerated() {
                protect(address, position == path.count - 1
                    ? "holds the disk behind / (\(name))"
                    : "is a bridge above the disk behind / (\(name) on \(path.last!))")
            }
        }
        rootDiskWarning = rootDisk.warning
        for routed in Self.defaultRouteInterfaces(root) {
            for port in Self.physicalPorts(of: routed, root: root) {
                let role = port == routed ? "carries the default route"
                    : "is the management interface (beneath \(routed), which carries the default route)"
                let path = Self.pciPath(of: "sys/class/net/" + port, root: root)
                guard let owner = path.last else { continue }
                for address in path.dropLast() { protect(address, "is a bridge above \(port) (\(owner)), which \(role)") }
                protect(owner, "has \(port), which \(role)")
                // Taking a VF's PF (or changing its VF count) takes the VF with it.
                if let pf = inventory[owner]?.physicalFunction {
                    protect(pf, "is the PF of \(port) (\(owner)), which \(role)")
                }
            }
        }
        protected = found
    }

    /// Why `address` must stay with dom0, or nil when it may go.
    public func reason(for address: PCIAddress) -> String? { protected[address] }

    /// Refuses when any of `addresses` is protected and `force` is off. `action` says what would
    /// happen to it ("hide", "reload the driver of").
    /// An action let through while the disk behind `/` is unknown raises `rootDiskWarning`: the check
    /// could not do its whole job, and the user should know.
    public func check(_ addresses: [PCIAddress], action: String, force: Bool) throws(XVFError) {
        guard !force else { return }
        for address in addresses {
            if let reason = protected[address] {
                throw XVFError(.unsafeDevice(action: action, address, reason: reason))
            }
        }
        if let rootDiskWarning, !addresses.isEmpty { Warnings.add(rootDiskWarning) }
    }

    // MARK: the disk behind /

    /// The PCI functions under the disk behind `/`, each with the block device it was found from, and a
    /// warning when `/` is on a block device none could be found for.
    ///
    /// Two ways, both kept: the major:minor of `/` in `proc/self/mountinfo` (what stat(2) of / says, for
    /// every root: /dev/root, names /dev lacks) through `sys/dev/block/MAJ:MIN`; and the device name in
    /// `proc/mounts` (btrfs mounts report an anonymous 0:N but name their device).
    static func rootDisk(_ root: HostRoot) -> (paths: [(String, [PCIAddress])], warning: String?) {
        let mount = rootMount(root)
        var devices: [String] = []
        if let numbers = mount?.numbers, !numbers.hasPrefix("0:"), let canonical = root.resolve("sys/dev/block/" + numbers) {
            devices.append(canonical)
        }
        // Most often both ways name the same disk: its slaves and path are then read once.
        if let name = rootBlockDevice(root), let canonical = root.resolve("sys/class/block/" + name),
           !devices.contains(canonical) {
            devices.append(canonical)
        }
        var seen: Set<String> = []
        var paths: [(String, [PCIAddress])] = []
        for device in devices {
            for disk in underlyingBlockDevices(device, root: root) where seen.insert(disk).inserted {
                let path = pciFunctions(onCanonical: disk)
                if !path.isEmpty { paths.append((lastComponent(disk), path)) }
            }
        }
        guard paths.isEmpty else { return (paths, nil) }
        // A root that lives in memory or across the network has no disk here to lose.
        if let type = mount?.type, disklessFilesystems.contains(type) { return ([], nil) }
        let what = mount.map { "\($0.source), \($0.type)" } ?? "no / in proc/self/mountinfo or proc/mounts"
        return ([], "cannot tell which PCI device holds the disk behind / (\(what)); it is not protected: "
                    + "make sure the devices you hide, assign or reload are not its controller")
    }

    static let disklessFilesystems: Set<String> = ["tmpfs", "ramfs", "rootfs", "nfs", "nfs4", "cifs", "smb3", "9p", "virtiofs"]

    /// The `/` line of `proc/self/mountinfo` (the last, which is the one visible): `MAJ:MIN`, the file
    /// system type and the source. Fields: id, parent, MAJ:MIN, root, mount point, options, optional
    /// fields up to `-`, then type, source, super options. Falls back to `proc/mounts` for the type.
    static func rootMount(_ root: HostRoot) -> (numbers: String?, type: String, source: String)? {
        var found: (numbers: String?, type: String, source: String)?
        for line in (root.readText("proc/self/mountinfo") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 7, unescapeMountField(fields[4]) == "/",
                  let dash = fields.dropFirst(6).firstIndex(of: "-"), dash + 2 < fields.count else { continue }
            found = (String(fields[2]), unescapeMountField(fields[dash + 1]), unescapeMountField(fields[dash + 2]))
        }
        if let found { return found }
        for line in (root.readText("proc/mounts") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 3, unescapeMountField(fields[1]) == "/" else { continue }
            found = (nil, unescapeMountField(fields[2]), unescapeMountField(fields[0]))
        }
        return found
    }

    /// The block device name (`sda1`, `dm-0`) mounted on `/`, from the last `/` line of `proc/mounts`.
    static func rootBlockDevice(_ root: HostRoot) -> String? {
        var device: String?
        for line in (root.readText("proc/mounts") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 2, unescapeMountField(fields[1]) == "/" else { continue }
            device = unescapeMountField(fields[0])
        }
        guard let device, device.hasPrefix("/dev/") else { return nil }
        // /dev/mapper/vg-root and /dev/disk/by-uuid/… are links to the kernel's name (../dm-0).
        let relative = String(device.dropFirst())
        if root.readLink(relative) != nil, let resolved = root.resolve(relative) {
            return lastComponent(resolved)
        }
        return lastComponent(device)
    }

    /// A block device (its canonical sysfs directory) and, for device-mapper and md devices, the
    /// devices beneath them (`slaves/`), down to the disks.
    static func underlyingBlockDevices(_ directory: String, root: HostRoot, depth: Int = 0) -> [String] {
        let slaves = root.list(directory + "/slaves").sorted()
        guard !slaves.isEmpty, depth < 8 else { return [directory] }
        return slaves.flatMap { slave in
            root.resolve(directory + "/slaves/" + slave).map { underlyingBlockDevices($0, root: root, depth: depth + 1) } ?? []
        }
    }

    /// `proc/mounts` writes space, tab, newline and backslash as octal escapes (`\040`).
    static func unescapeMountField(_ field: Substring) -> String {
        guard field.contains("\\") else { return String(field) }
        var bytes: [UInt8] = []
        var utf8 = Array(field.utf8)[...]
        while let byte = utf8.popFirst() {
            if byte == UInt8(ascii: "\\"), utf8.count >= 3,
               let value = UInt8(String(decoding: utf8.prefix(3), as: UTF8.self), radix: 8) {
                bytes.append(value)
                utf8 = utf8.dropFirst(3)
            } else {
                bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    // MARK: the network the host is reached through

    /// The interfaces that carry a default route, IPv4 or IPv6.
    static func defaultRouteInterfaces(_ root: HostRoot) -> [String] {
        var names: [String] = []
        // Iface Destination Gateway Flags RefCnt Use Metric Mask …; the default route is 0/0.
        for line in (root.readText("proc/net/route") ?? "").split(separator: "\n").dropFirst() {
            let fields = line.split(whereSeparator: { $0 == "\t" || $0 == " " })
            guard fields.count >= 8, fields[1] == "00000000", fields[7] == "00000000" else { continue }
            names.append(String(fields[0]))
        }
        // destination, prefix length, source, source length, next hop, metric, refs, use, flags, iface.
        for line in (root.readText("proc/net/ipv6_route") ?? "").split(separator: "\n") {
            let fields = line.split(separator: " ")
            guard fields.count >= 10, fields[1] == "00", fields[0].allSatisfy({ $0 == "0" }), fields[9] != "lo"
            else { continue }
            names.append(String(fields[9]))
        }
        var seen: Set<String> = []
        return names.filter { seen.insert($0).inserted }
    }

    /// The interfaces that really carry an interface's traffic: itself, or for a bridge, bond or VLAN the
    /// ports beneath it (`lower_*` links, a bridge's `brif/`), followed down to the hardware.
    static func physicalPorts(of interface: String, root: HostRoot) -> [String] {
        var result: [String] = []
        var visited: Set<String> = []
        func walk(_ name: String) {
            guard visited.insert(name).inserted else { return }
            let base = "sys/class/net/" + name
            var lower = root.list(base).filter { $0.hasPrefix("lower_") }.map { String($0.dropFirst(6)) }
            lower += root.list(base + "/brif")
            if lower.isEmpty {
                result.append(name)
            } else {
                for port in Set(lower).sorted() { walk(port) }
            }
        }
        walk(interface)
        return result
    }

    // MARK: sysfs paths

    /// The PCI functions on the canonical sysfs path of a device, from the root complex down.
    static func pciPath(of relative: String, root: HostRoot) -> [PCIAddress] {
        guard let canonical = root.resolve(relative) else { return [] }
        return pciFunctions(onCanonical: canonical)
    }

    /// The PCI functions on a path whose links are resolved already (`HostRoot.resolve` gave it).
    static func pciFunctions(onCanonical path: String) -> [PCIAddress] {
        path.split(separator: "/").compactMap { try? PCIAddress(parsing: String($0)) }
    }
}

extension Host {
    /// What dom0 depends on, read at its first use and kept for the rest of the command, which reads the
    /// host again between its changes: xvf changes no mount or route, and refuses to take the functions
    /// beneath them. `assignable add eno49/*`, a pool and a guest's devices read it once, not once a device.
    public func safety() throws(XVFError) -> HostSafety {
        try readOnce { () throws(XVFError) in HostSafety(try inventory()) }
    }
}
