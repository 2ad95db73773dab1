#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// Answers writes to a simulated host's sysfs the way Linux 6.1 and 6.12 do (checked in the lab), so that code written against
/// the kernel's rules is tested against them:
/// - `sriov_numvfs`: creates or removes VFs; ERANGE above `sriov_totalvfs`; EBUSY when changing a
///   non-zero count; ENOENT when the PF has no driver, or one without `sriov_configure` (pciback); EPERM
///   when removing VFs while any of them is bound to pciback (pciback flags a VF it seizes
///   PCI_DEV_FLAGS_ASSIGNED whether or not a guest has it, and igb/ixgbe refuse to free assigned VFs:
///   measured on Linux 6.1 and 6.12); ENOMEM when the PF lacks MMIO space;
///   EINVAL above the count the PF driver takes in its current mode (`driverLimit`).
/// - `sriov_drivers_autoprobe`, `driver_override`: stored; a VF of a PF with autoprobe off binds to
///   nothing unless its `driver_override` names the driver (`pci_device_can_probe`).
/// - `drivers/X/bind` (ENODEV when X does not match, EBUSY when bound), `drivers/X/unbind`,
///   `drivers_probe`, pciback's `new_slot` / `remove_slot` / `permissive`.
/// Any other file is written as it is.
public struct SimulatedKernel: AttributeWriter {
    public init() {}

    public func write(_ value: String, to relativePath: String, in root: HostRoot) throws(SysfsError) {
        SimInterruption.operation("write \(relativePath)")
        // All of one write, or none of it, as for the real kernel's system call.
        try SimKernelJournal.around(root) { () throws(SysfsError) in try carryOut(value, to: relativePath, in: root) }
    }

    private func carryOut(_ value: String, to relativePath: String, in root: HostRoot) throws(SysfsError) {
        let state = loadState(root)
        let text = value.hasSuffix("\n") ? String(value.dropLast()) : value
        func fail(_ code: Int32) -> SysfsError { SysfsError(path: relativePath, value: value, errno: code) }
        let tree = SimTree(root: root)
        // sysfs paths reach an attribute through many links; the canonical path says which one it is.
        let directory = String(relativePath[..<(relativePath.lastIndex(of: "/") ?? relativePath.startIndex)])
        let attribute = lastPathComponent(relativePath)
        guard let canonicalDirectory = root.resolve(directory) else { throw fail(ENOENT) }
        let canonicalPath = canonicalDirectory + "/" + attribute
        guard root.exists(canonicalPath) else { throw fail(ENOENT) }

        if canonicalDirectory == "sys/bus/pci" && attribute == "drivers_probe" {
            guard let address = try? PCIAddress(parsing: text), state.deviceDirectory(address, root) != nil else {
                throw fail(ENODEV)
            }
            if root.driver(of: address) == nil {
                probe(address, state: state, root: root)
            }
            return
        }
        if canonicalDirectory.hasPrefix("sys/bus/pci/drivers/") {
            let driver = lastPathComponent(canonicalDirectory)
            switch attribute {
            case "bind":
                guard let address = try? PCIAddress(parsing: text), state.deviceDirectory(address, root) != nil else {
                    throw fail(ENODEV)
                }
                if root.driver(of: address) != nil { throw fail(EBUSY) }
                guard canProbe(address, root: root), matches(address, driver: driver, state: state, root: root) else {
                    throw fail(ENODEV)
                }
                attach(address, to: driver, state: state, root: root)
            case "unbind":
                guard let address = try? PCIAddress(parsing: text),
                      root.driver(of: address) == driver else { throw fail(ENODEV) }
                detach(address, state: state, root: root)
            case "new_slot" where driver == PCIDevice.pcibackDriver:
                guard let address = try? PCIAddress(parsing: text) else { throw fail(EINVAL) }
                var slots = pcibackList(root, "slots")
                if !slots.contains(address) { slots.append(address) }
                tree.write(canonicalPath.replacingLast("slots"), slots.map { "\($0)\n" }.joined())
            case "remove_slot" where driver == PCIDevice.pcibackDriver:
                guard let address = try? PCIAddress(parsing: text) else { throw fail(EINVAL) }
                var slots = pcibackList(root, "slots")
                guard slots.contains(address) else { throw fail(ENOENT) }
                slots.removeAll { $0 == address }
                tree.write(canonicalPath.replacingLast("slots"), slots.map { "\($0)\n" }.joined())
            case "permissive" where driver == PCIDevice.pcibackDriver:
                guard let address = try? PCIAddress(parsing: text),
                      root.driver(of: address) == PCIDevice.pcibackDriver else { throw fail(ENODEV) }
                var list = pcibackList(root, "permissive")
                if !list.contains(address) { list.append(address) }
                tree.write(canonicalPath, list.map { "\($0)\n" }.joined())
            default:
                tree.write(canonicalPath, value)
            }
            return
        }
        guard let address = try? PCIAddress(parsing: lastPathComponent(canonicalDirectory)),
              canonicalDirectory.hasPrefix("sys/devices/") else {
            tree.write(canonicalPath, value)
            return
        }
        switch attribute {
        case "sriov_numvfs":
            guard let count = UInt16(text) else { throw fail(EINVAL) }
            let total = root.readInteger(canonicalDirectory + "/sriov_totalvfs") ?? 0
            let current = root.readInteger(canonicalDirectory + "/sriov_numvfs") ?? 0
            if Int(count) > total { throw fail(ERANGE) }
            if Int(count) == current { return }
            // `sriov_numvfs_store`: ENOENT unless the bound driver has `sriov_configure` (pciback has none).
            guard let driver = root.linkTarget(canonicalDirectory + "/driver"), driver != PCIDevice.pcibackDriver else {
                throw fail(ENOENT)
            }
            if count == 0 {
                // Linux 6.1 and 6.12 alike (seen in the lab): pciback marks every VF it seizes assigned,
                // with or without a guest, and the PF driver refuses to free assigned VFs.
                let onPciback = virtualFunctions(of: canonicalDirectory, root: root).contains {
                    root.driver(of: $0) == PCIDevice.pcibackDriver
                }
                if onPciback { throw fail(EPERM) }
                removeVFs(pfDirectory: canonicalDirectory, state: state, root: root)
                return
            }
            if current != 0 { throw fail(EBUSY) }
            if state.mmioShort.contains(address) {
                // sriov_enable's pci_err, which is how an operator (and `xvf doctor`) finds the cause.
                let driver = root.linkTarget(canonicalDirectory + "/driver") ?? "pci"
                logKernelMessage("\(driver) \(address): not enough MMIO resources for SR-IOV", root: root)
                throw fail(ENOMEM)
            }
            if let limit = state.vfLimit[address], Int(count) > limit { throw fail(EINVAL) }
            if let limit = state.silentLimit[address], Int(count) > limit {
                logKernelMessage("pci \(address): \(count) VFs requested; only \(limit) enabled", root: root)
                if limit > 0 { createVFs(limit, pf: address, pfDirectory: canonicalDirectory, state: state, root: root) }
                return
            }
            createVFs(Int(count), pf: address, pfDirectory: canonicalDirectory, state: state, root: root)
        case "sriov_drivers_autoprobe":
            guard text == "0" || text == "1" else { throw fail(EINVAL) }
            tree.write(canonicalPath, text + "\n")
        case "driver_override":
            tree.write(canonicalPath, (text.isEmpty ? "(null)" : text) + "\n")
        case "reset":
            guard text == "1" else { throw fail(EINVAL) }
        default:
            tree.write(canonicalPath, value)
        }
    }

    // MARK: kernel log

    /// The simulated `/dev/kmsg`: one record a line in its `priority,sequence,microseconds,-;message` form.
    public static let kernelLog = "dev/kmsg"

    func logKernelMessage(_ message: String, root: HostRoot, priority: Int = 3) {
        let existing = root.readFile(Self.kernelLog).map { String(decoding: $0, as: UTF8.self) } ?? ""
        let sequence = existing.split(separator: "\n").count
        SimTree(root: root).write(Self.kernelLog, existing + "\(priority),\(sequence),\(5_000_000 + sequence * 1000),-;\(message)\n")
    }

    // MARK: drivers

    /// Whether the PCI core would probe the device at all (VFs of a PF with autoprobe off need an override).
    func canProbe(_ address: PCIAddress, root: HostRoot) -> Bool {
        let base = "sys/bus/pci/devices/\(address)"
        guard let physfn = root.linkTarget(base + "/physfn") else { return true }
        if root.readInteger("sys/bus/pci/devices/\(physfn)/sriov_drivers_autoprobe") != 0 { return true }
        return override(of: address, root: root) != nil
    }

    func override(of address: PCIAddress, root: HostRoot) -> String? {
        let value = root.readText("sys/bus/pci/devices/\(address)/driver_override")
        return value == nil || value == "(null)" || value == "" ? nil : value
    }

    func matches(_ address: PCIAddress, driver: String, state: KernelState, root: HostRoot) -> Bool {
        if let override = override(of: address, root: root) { return override == driver }
        if driver == PCIDevice.pcibackDriver { return pcibackList(root, "slots").contains(address) }
        return state.drivers[driver]?.ids.contains(deviceID(address, root: root)) ?? false
    }

    func deviceID(_ address: PCIAddress, root: HostRoot) -> String {
        let base = "sys/bus/pci/devices/\(address)"
        let vendor = root.readText(base + "/vendor")?.dropFirst(2) ?? ""
        let device = root.readText(base + "/device")?.dropFirst(2) ?? ""
        return "\(vendor):\(device)"
    }

    /// What the driver core does for a new or re-probed device: the override, else the first matching driver.
    func probe(_ address: PCIAddress, state: KernelState, root: HostRoot) {
        guard canProbe(address, root: root) else { return }
        if let override = override(of: address, root: root) {
            if state.drivers[override] != nil { attach(address, to: override, state: state, root: root) }
            return
        }
        for name in state.driverOrder where matches(address, driver: name, state: state, root: root) {
            attach(address, to: name, state: state, root: root)
            return
        }
    }

    func attach(_ address: PCIAddress, to driver: String, state: KernelState, root: HostRoot) {
        let tree = SimTree(root: root)
        guard let dir = state.deviceDirectory(address, root) else { return }
        tree.link(dir + "/driver", to: "sys/bus/pci/drivers/" + driver)
        tree.link("sys/bus/pci/drivers/\(driver)/\(address)", to: dir)
        guard state.drivers[driver]?.makesInterfaces == true else { return }
        let name: String
        let mac: String
        if let known = state.interfaces[address] {
            (name, mac) = known
        } else if let physfn = root.linkTarget(dir + "/physfn"), let pf = try? PCIAddress(parsing: physfn),
                  let index = vfIndex(address, pf: pf, root: root) {
            name = (state.interfaces[pf]?.name ?? "pf\(pf.bus)") + "v\(index)"
            mac = "02:00:\(hex(address.bus, width: 2)):\(hex(address.device, width: 2)):\(hex(address.function, width: 2)):\(hex(index, width: 2))"
        } else {
            name = "enp\(address.bus)s\(address.device)f\(address.function)"
            mac = "02:00:00:\(hex(address.bus, width: 2)):\(hex(address.device, width: 2)):\(hex(address.function, width: 2))"
        }
        tree.makeDirectory(dir + "/net/" + name)
        tree.write(dir + "/net/\(name)/address", mac + "\n")
        // 0: the NIC's own address (a PF's EEPROM); 1: random, as igbvf and ixgbevf pick one for a VF.
        tree.write(dir + "/net/\(name)/addr_assign_type", (root.exists(dir + "/physfn") ? "1" : "0") + "\n")
        tree.write(dir + "/net/\(name)/operstate", "down\n")
        tree.write(dir + "/net/\(name)/flags", "0x1002\n")
        // Linux writes this link through the parent (`../../../0000:04:00.0`), so its last component
        // names the function.
        tree.rawLink(dir + "/net/\(name)/device", target: "../../../\(address)")
        tree.link("sys/class/net/" + name, to: dir + "/net/" + name)
    }

    func detach(_ address: PCIAddress, state: KernelState, root: HostRoot) {
        let tree = SimTree(root: root)
        guard let dir = state.deviceDirectory(address, root), let driver = root.linkTarget(dir + "/driver") else {
            return
        }
        for name in root.list(dir + "/net") { tree.remove("sys/class/net/" + name) }
        tree.removeTree(dir + "/net")
        tree.remove(dir + "/driver")
        tree.remove("sys/bus/pci/drivers/\(driver)/\(address)")
        if driver == PCIDevice.pcibackDriver {
            var permissive = pcibackList(root, "permissive")
            permissive.removeAll { $0 == address }
            tree.write("sys/bus/pci/drivers/pciback/permissive", permissive.map { "\($0)\n" }.joined())
        }
    }

    // MARK: SR-IOV

    func createVFs(_ count: Int, pf: PCIAddress, pfDirectory: String, state: KernelState, root: HostRoot) {
        let tree = SimTree(root: root)
        let offset = root.readInteger(pfDirectory + "/sriov_offset") ?? 0
        let stride = root.readInteger(pfDirectory + "/sriov_stride") ?? 0
        let vfDevice = UInt16(root.readHexInteger(pfDirectory + "/sriov_vf_device") ?? 0)
        let vendor = UInt16(root.readInteger(pfDirectory + "/vendor") ?? 0)
        let classCode = UInt32(root.readInteger(pfDirectory + "/class") ?? 0)
        let numa = root.readInteger(pfDirectory + "/numa_node") ?? 0
        let parent = String(pfDirectory[..<pfDirectory.lastIndex(of: "/")!])
        var group = (root.list("sys/kernel/iommu_groups").compactMap { Int($0) }.max() ?? -1) + 1
        var created: [PCIAddress] = []
        for index in 0..<count {
            guard let vf = pf.advanced(byRoutingID: offset + index * stride) else { break }
            let dir = parent + "/\(vf)"
            tree.makeDirectory(dir)
            SimulatedHost.writeFunctionFiles(
                tree, dir: dir, address: vf, vendor: vendor, device: vfDevice, classCode: classCode, numaNode: numa,
                config: ConfigSpace.build(vendor: vendor, device: vfDevice, classCode: classCode, isVF: true))
            tree.link(dir + "/physfn", to: pfDirectory)
            tree.link(pfDirectory + "/virtfn\(index)", to: dir)
            tree.link("sys/bus/pci/devices/\(vf)", to: dir)
            SimulatedHost.addToIOMMUGroup(tree, group, device: vf, dir: dir)
            group += 1
            created.append(vf)
        }
        tree.write(pfDirectory + "/sriov_numvfs", "\(count)\n")
        setConfigNumVFs(count, pfDirectory: pfDirectory, root: root)
        let fresh = loadState(root)
        for vf in created { probe(vf, state: fresh, root: root) }
    }

    func removeVFs(pfDirectory: String, state: KernelState, root: HostRoot) {
        let tree = SimTree(root: root)
        for entry in root.list(pfDirectory) where entry.hasPrefix("virtfn") {
            guard let vf = root.linkTarget(pfDirectory + "/" + entry).flatMap({ try? PCIAddress(parsing: $0) }),
                  let dir = state.deviceDirectory(vf, root) else { continue }
            detach(vf, state: state, root: root)
            if let group = root.linkTarget(dir + "/iommu_group") { tree.removeTree("sys/kernel/iommu_groups/" + group) }
            tree.remove("sys/bus/pci/devices/\(vf)")
            tree.removeTree(dir)
            tree.remove(pfDirectory + "/" + entry)
        }
        tree.write(pfDirectory + "/sriov_numvfs", "0\n")
        setConfigNumVFs(0, pfDirectory: pfDirectory, root: root)
    }

    func setConfigNumVFs(_ count: Int, pfDirectory: String, root: HostRoot) {
        guard var config = root.readFile(pfDirectory + "/config"), config.count == 4096 else { return }
        let at = ConfigSpace.sriovOffset
        config[at + 0x08] = count > 0 ? 0x19 : 0x10
        config[at + 0x10] = UInt8(count & 0xff)
        config[at + 0x11] = UInt8(count >> 8)
        SimTree(root: root).write(pfDirectory + "/config", bytes: config)
    }

    func virtualFunctions(of pfDirectory: String, root: HostRoot) -> [PCIAddress] {
        root.list(pfDirectory).filter { $0.hasPrefix("virtfn") }.compactMap {
            root.linkTarget(pfDirectory + "/" + $0).flatMap { try? PCIAddress(parsing: $0) }
        }
    }

    func vfIndex(_ vf: PCIAddress, pf: PCIAddress, root: HostRoot) -> Int? {
        let base = "sys/bus/pci/devices/\(pf)"
        for entry in root.list(base) where entry.hasPrefix("virtfn") {
            if root.linkTarget(base + "/" + entry) == vf.description { return Int(entry.dropFirst(6)) }
        }
        return nil
    }

    /// The simulated xenstore, shared with the simulated toolstack (SimXen) as xenstore is shared
    /// between libxl and the kernel's pciback on a real dom0.
    public static let xenstoreFile = "xvf-simulated-xenstore"

    func pcibackList(_ root: HostRoot, _ file: String) -> [PCIAddress] {
        (root.readText("sys/bus/pci/drivers/pciback/" + file) ?? "").split(separator: "\n").compactMap {
            try? PCIAddress(parsing: String($0).trimming())
        }
    }

    // MARK: state from the marker file

    struct DriverInfo {
        var ids: [String]
        var makesInterfaces: Bool
    }

    struct KernelState {
        var drivers: [String: DriverInfo] = [:]
        var driverOrder: [String] = []
        var interfaces: [PCIAddress: (name: String, mac: String)] = [:]
        var mmioShort: Set<PCIAddress> = []
        var vfLimit: [PCIAddress: Int] = [:]
        var silentLimit: [PCIAddress: Int] = [:]

        func deviceDirectory(_ address: PCIAddress, _ root: HostRoot) -> String? {
            root.resolve("sys/bus/pci/devices/\(address)")
        }
    }

    func loadState(_ root: HostRoot) -> KernelState {
        var state = KernelState()
        for line in (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            guard let keyword = words.first else { continue }
            switch keyword {
            case "driver" where words.count == 4:
                state.drivers[words[1]] = DriverInfo(ids: words[3] == "-" ? [] : words[3].split(separator: ",").map(String.init),
                                                     makesInterfaces: words[2] == "net")
                state.driverOrder.append(words[1])
            case "interface" where words.count == 4:
                if let address = try? PCIAddress(parsing: words[1]) { state.interfaces[address] = (words[2], words[3]) }
            case "no-mmio" where words.count == 2:
                if let address = try? PCIAddress(parsing: words[1]) { state.mmioShort.insert(address) }
            case "vf-limit" where words.count == 3:
                if let address = try? PCIAddress(parsing: words[1]), let limit = Int(words[2]) {
                    state.vfLimit[address] = limit
                }
            case "vf-silent-limit" where words.count == 3:
                if let address = try? PCIAddress(parsing: words[1]), let limit = Int(words[2]) {
                    state.silentLimit[address] = limit
                }
            default:
                continue
            }
        }
        return state
    }
}

func lastPathComponent(_ path: String) -> String {
    guard let slash = path.lastIndex(of: "/") else { return path }
    return String(path[path.index(after: slash)...])
}

extension String {
    func replacingLast(_ component: String) -> String {
        guard let slash = lastIndex(of: "/") else { return component }
        return String(self[...slash]) + component
    }
}
