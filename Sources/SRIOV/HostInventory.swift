/// Every PCI function of a host, read from `sys/bus/pci/devices` under a `HostRoot`.
public struct HostInventory: Sendable {
    public let root: HostRoot
    public let devices: [PCIAddress: PCIDevice]
    /// Interface name → the PCI function that has it.
    public let interfaceOwners: [String: PCIAddress]
    /// Representor name → the PF it hangs on.
    public let representorOwners: [String: PCIAddress]

    public init(root: HostRoot, devices: [PCIDevice]) {
        self.root = root
        var byAddress: [PCIAddress: PCIDevice] = [:]
        var owners: [String: PCIAddress] = [:]
        var representorOwners: [String: PCIAddress] = [:]
        // Sized once: growing them one resize at a time was a tenth of discovering 4,000 functions.
        byAddress.reserveCapacity(devices.count)
        owners.reserveCapacity(devices.count)
        for device in devices {
            byAddress[device.address] = device
            for interface in device.interfaces { owners[interface.name] = device.address }
            for representor in device.representors { representorOwners[representor.name] = device.address }
        }
        self.devices = byAddress
        self.interfaceOwners = owners
        self.representorOwners = representorOwners
    }

    /// Reads the host. Fails only when the root has no PCI bus at all.
    public static func discover(_ root: HostRoot) throws(DiscoveryError) -> HostInventory {
        guard root.isDirectory(devicesDirectory) else { throw .noPCIBus(root: root.displayPath) }
        let interfaces = interfacesByDevice(root)
        // In address order a PF comes before its VFs (a VF's routing id is its PF's plus the offset), so
        // each VF is already known from its PF when it is read, and its `physfn` link (one more system
        // call for each of thousands of VFs) need not be.
        let addresses = root.list(devicesDirectory).compactMap { try? PCIAddress(parsing: $0) }.sorted()
        let present = Set(addresses)
        var found: [PCIDevice] = []
        found.reserveCapacity(addresses.count)
        var vfOwner: [PCIAddress: (pf: PCIAddress, index: Int)] = [:]
        vfOwner.reserveCapacity(addresses.count)
        // A function has an `iommu_group` link only when it is in one of `sys/kernel/iommu_groups`; where
        // that lists none (every Xen dom0: Xen, not Linux, drives the IOMMU) no function is asked.
        let grouped = !root.list("sys/kernel/iommu_groups").isEmpty
        // Each function's directory is opened from one descriptor of the devices directory: the kernel
        // walks one name instead of the whole path thousands of times.
        root.withDirectory(devicesDirectory) { devices in
            for address in addresses {
                let device = devices.withDirectory(address.description) {
                    readDevice(address, in: $0, interfaces: interfaces[address] ?? [],
                               physicalFunction: vfOwner[address]?.pf, present: present, grouped: grouped)
                }
                for (index, vf) in device.sriov?.virtualFunctions ?? [:] { vfOwner[vf] = (device.address, index) }
                found.append(device)
            }
        }
        // A VF's ids are its PF's vendor and the PF's `sriov_vf_device` (the SR-IOV capability says so),
        // so discovery reads them from the VF itself only when the PF does not report them.
        var pfIDs: [PCIAddress: (vendor: UInt16, vfDevice: UInt16)] = [:]
        for device in found {
            if let vfDevice = device.sriov?.vfDeviceID { pfIDs[device.address] = (device.vendorID, vfDevice) }
        }
        for i in found.indices {
            guard let pf = found[i].physicalFunction else { continue }
            found[i].vfIndex = vfOwner[found[i].address]?.index  // the index its PF gives it
            if let ids = pfIDs[pf] {
                found[i].vendorID = ids.vendor
                found[i].deviceID = ids.vfDevice
            } else {
                root.withDirectory(devicesDirectory + "/" + found[i].address.description) { dir in
                    found[i].vendorID = UInt16(truncatingIfNeeded: dir.integer("vendor") ?? 0xffff)
                    found[i].deviceID = UInt16(truncatingIfNeeded: dir.integer("device") ?? 0xffff)
                }
            }
        }
        return HostInventory(root: root, devices: found)
    }

    static let devicesDirectory = "sys/bus/pci/devices"

    /// Which PCI function each network interface belongs to, from `sys/class/net`: one listing and a link
    /// per interface, instead of opening every function's `net` directory (most have none).
    static func interfacesByDevice(_ root: HostRoot) -> [PCIAddress: [String]] {
        var result: [PCIAddress: [String]] = [:]
        root.withDirectory("sys/class/net") { net in
            let names = net.list()
            result.reserveCapacity(names.count)
            for name in names {
                guard let address = owner(of: name, in: net) else { continue }
                result[address, default: []].append(name)
            }
        }
        return result
    }

    /// The PCI function an interface of `sys/class/net` hangs on. Its entry there is a link into its
    /// parent device's directory (`../../devices/pci0000:00/0000:00:03.0/0000:04:00.0/net/eno49`), so
    /// the address is read off the link itself, without the kernel following it; an entry that reads
    /// otherwise is asked for its `device` link. nil for an interface on no PCI function (`lo`, USB).
    static func owner(of name: String, in net: HostRoot.Directory) -> PCIAddress? {
        let tail = Array(("/net/" + name).utf8)
        // Read as bytes: splitting thousands of link targets into Strings costs more than the links.
        let fromLink = withLink(at: net.fd, name) { target -> (matched: Bool, owner: PCIAddress?) in
            guard target.count > tail.count, target.suffix(tail.count).elementsEqual(tail) else { return (false, nil) }
            let head = target[..<(target.count - tail.count)]
            let start = head.lastIndex(of: UInt8(ascii: "/")).map { $0 + 1 } ?? head.startIndex
            return (true, try? PCIAddress(parsing: String(decoding: head[start...], as: UTF8.self)))
        }
        if let fromLink, fromLink.matched { return fromLink.owner }
        return net.linkTarget(name + "/device").flatMap { try? PCIAddress(parsing: $0) }
    }

    /// One function's attributes. A VF's vendor and device ids are left for `discover` to take from its
    /// PF (0xffff until then). `physicalFunction` is the PF that has this function as a VF, when that was
    /// read already (its `physfn` link says the same); `present` holds every function the bus lists;
    /// `grouped` says whether the host has IOMMU groups at all.
    static func readDevice(_ address: PCIAddress, in dir: HostRoot.Directory, interfaces: [String],
                           physicalFunction: PCIAddress?, present: Set<PCIAddress>, grouped: Bool) -> PCIDevice {
        let pf = physicalFunction ?? dir.linkTarget("physfn").flatMap { try? PCIAddress(parsing: $0) }
        var device = PCIDevice(
            address: address,
            vendorID: pf != nil ? 0xffff : UInt16(truncatingIfNeeded: dir.integer("vendor") ?? 0xffff),
            deviceID: pf != nil ? 0xffff : UInt16(truncatingIfNeeded: dir.integer("device") ?? 0xffff),
            driver: dir.linkTarget("driver"),
            iommuGroup: grouped ? dir.linkTarget("iommu_group").flatMap { Int($0) } : nil)
        // sys/class/net names almost every interface at once; a function bound to a driver (not pciback)
        // that it names none for is asked itself, as a class directory can lack an entry the device has.
        var names = interfaces
        if names.isEmpty, device.driver != nil, !device.isOnPciback { names = dir.list("net") }
        // A function with several netdevs may be a PF in switchdev mode, whose representors hang on it
        // too; their `phys_port_name` tells them from its own (read only then: most functions have one).
        if names.count > 1 {
            for name in names {
                guard let port = dir.text("net/" + name + "/phys_port_name"),
                      let representor = Representor(name: name, port: port) else { continue }
                device.representors.append(representor)
            }
            let represented = Set(device.representors.map(\.name))
            names.removeAll { represented.contains($0) }
            device.representors.sort { $0.name < $1.name }
        }
        device.interfaces = names.sorted().map { name in
            NetInterface(name: name, mac: dir.text("net/" + name + "/address"))
        }
        // A VF's class and NUMA node follow its PF; reading them for thousands of VFs costs.
        if let pf {
            device.physicalFunction = pf
            return device
        }
        device.classCode = UInt32(truncatingIfNeeded: dir.integer("class") ?? 0)
        if let total = dir.integer("sriov_totalvfs") {
            // Only a PF's NUMA node is part of a listing; any other function's is read when it is shown
            // (`numaNode(of:)`): three system calls less for each bridge, disk and NIC without SR-IOV.
            device.numaNode = dir.integer("numa_node")
            let count = dir.integer("sriov_numvfs")
            var sriov = SRIOVState(
                totalVFs: total,
                numVFs: count ?? 0,
                offset: dir.integer("sriov_offset"),
                stride: dir.integer("sriov_stride"),
                vfDeviceID: dir.hexInteger("sriov_vf_device").map { UInt16(truncatingIfNeeded: $0) },
                driversAutoprobe: dir.integer("sriov_drivers_autoprobe").map { $0 != 0 })
            sriov.virtualFunctions = existingVFs(of: address, sriov, count: count, in: dir, present: present)
            if count == nil { sriov.numVFs = sriov.virtualFunctions.count }
            device.sriov = sriov
        }
        return device
    }

    /// A PF's existing VFs, by index. VF n is the function at the PF's routing ID + offset + n × stride,
    /// the address the kernel gives it and names its `virtfnN` link after: when sysfs gives the count,
    /// the offset and the stride, and the bus lists every such function, that is all it takes. Otherwise
    /// (an older kernel, a VF removed by hand) the links say which there are.
    static func existingVFs(of pf: PCIAddress, _ sriov: SRIOVState, count: Int?, in dir: HostRoot.Directory,
                            present: Set<PCIAddress>) -> [Int: PCIAddress] {
        if let count, count >= 0, count <= sriov.totalVFs {
            var computed: [Int: PCIAddress] = [:]
            computed.reserveCapacity(count)
            for index in 0..<count {
                guard let vf = sriov.address(ofVF: index, pf: pf), present.contains(vf) else { break }
                computed[index] = vf
            }
            if computed.count == count { return computed }
        }
        var links: [Int: PCIAddress] = [:]
        for entry in dir.list() where entry.hasPrefix("virtfn") {
            guard let index = Int(entry.dropFirst(6)), let target = dir.linkTarget(entry),
                  let vf = try? PCIAddress(parsing: target) else { continue }
            links[index] = vf
        }
        return links
    }

    // MARK: queries

    /// How many bytes of a function's config space can be read: 4096 as root, 64 (or 256) unprivileged.
    /// Extended capabilities (ACS, the serial number) start at 0x100; a shorter read cannot tell them.
    public static func readableConfigBytes(of address: PCIAddress, root: HostRoot) -> Int {
        root.readFile(devicesDirectory + "/\(address)/config")?.count ?? 0
    }

    /// A function's own `numa_node`, read on demand: discovery reads only a PF's (a VF's follows its PF).
    public func numaNode(of address: PCIAddress) -> Int? {
        root.readInteger(Self.devicesDirectory + "/\(address)/numa_node")
    }

    /// A function's `driver_override`, nil when unset. Read on demand (`xvf show`): it is a per-device
    /// file that listing thousands of VFs would otherwise open for nothing.
    public func driverOverride(of address: PCIAddress) -> String? {
        guard let value = root.readText(Self.devicesDirectory + "/\(address)/driver_override"),
              value != "(null)", !value.isEmpty else { return nil }
        return value
    }

    /// The SR-IOV capable functions, in address order.
    public var physicalFunctions: [PCIDevice] {
        devices.values.filter(\.isPhysicalFunction).sorted { $0.address < $1.address }
    }

    /// The existing VFs of a PF, by index.
    public func virtualFunctions(of pf: PCIDevice) -> [PCIDevice] {
        (pf.sriov?.virtualFunctions ?? [:]).sorted { $0.key < $1.key }.compactMap { devices[$0.value] }
    }

    public subscript(address: PCIAddress) -> PCIDevice? { devices[address] }

    /// The device that owns a network interface.
    public func device(withInterface name: String) -> PCIDevice? {
        interfaceOwners[name].flatMap { devices[$0] }
    }

    /// The PF and index of the VF at `address`: an existing VF, or one a PF can create (within
    /// sriov_totalvfs, its address from the SR-IOV offset and stride), so that a VF can be named before
    /// it exists (the hide list, the host config).
    public func virtualFunction(at address: PCIAddress) -> (pf: PCIDevice, index: Int)? {
        if let device = devices[address], let pf = device.physicalFunction.flatMap({ devices[$0] }),
           let index = device.vfIndex {
            return (pf, index)
        }
        for pf in physicalFunctions {
            guard let sriov = pf.sriov else { continue }
            if let index = (0..<sriov.totalVFs).first(where: { sriov.address(ofVF: $0, pf: pf.address) == address }) {
                return (pf, index)
            }
        }
        return nil
    }

    /// A device as the user knows it: its name, then its address (`eno49 (0000:04:00.0)`,
    /// `eno49/2 (0000:04:11.0)` for a VF), or the address alone when it has no name.
    public func label(_ device: PCIDevice) -> String {
        let name: String?
        if let pf = device.physicalFunction, let index = device.vfIndex {
            name = "\(devices[pf]?.interfaceName ?? pf.description)/\(index)"
        } else {
            name = device.interfaceName
        }
        return name.map { "\($0) (\(device.address))" } ?? device.address.description
    }
}

public enum DiscoveryError: Error, Equatable, CustomStringConvertible {
    case noPCIBus(root: String)

    public var description: String {
        switch self {
        case .noPCIBus(let root):
            let shown = root == "/" ? "" : root
            return "\(shown)/sys/bus/pci does not exist: is sysfs mounted? (with --root, name a tree that has sys/bus/pci)"
        }
    }
}
