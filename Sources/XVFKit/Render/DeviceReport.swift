import LibPCI
import SRIOV
import XenPCI

/// What `xvf show DEVICE` tells about one function: identity, driver and holder, SR-IOV state from sysfs
/// and from the capability in config space, and ACS on every bridge between it and the root complex.
public struct DeviceReport {
    public struct Bridge {
        public var address: PCIAddress
        public var acs: ACSReading
    }

    /// ACS on a bridge as far as it could be read: "no ACS" is said only when the capability list was read
    /// and lacks it.
    public enum ACSReading: Equatable {
        case present(ACSCapability)
        case absent
        /// Why it could not be read: config space cut short (an unprivileged read gives 64 bytes), a bridge
        /// sysfs does not list, libpci unavailable.
        case unknown(String)

        /// The controls that are on, when the capability is there.
        var controls: [String]? {
            if case .present(let capability) = self { return capability.enabledControls }
            return nil
        }

        /// `present`, `absent` or `unknown`, as `show --json` says it.
        var state: String {
            switch self {
            case .present: return "present"
            case .absent: return "absent"
            case .unknown: return "unknown"
            }
        }

        /// Whether the bridge isolates the devices below it; nil when that is unknown.
        public var isolates: Bool? {
            switch self {
            case .present(let capability): return capability.isolates
            case .absent: return false
            case .unknown: return nil
            }
        }
    }

    public var device: PCIDevice
    /// `driver_override`, when set.
    public var driverOverride: String?
    public var vendorName: String?
    public var deviceName: String?
    public var holder: Holder
    /// The lease bound to the device (a VF), if any.
    public var lease: String?
    /// For a VF: its PF's address and first interface.
    public var pf: PCIDevice?
    public var vfs: [HostReport.VF]
    /// VFs the PF can still create, with the addresses they will have.
    public var futureVFs: [(index: Int, address: PCIAddress)]
    public var sriovCapability: SRIOVCapability?
    public var upstream: [Bridge]
    public var permissive: Bool
    /// Problems met while reading config space (a missing or short config file).
    public var warnings: [String]

    public init(_ device: PCIDevice, inventory: HostInventory, library: PCILibrary?,
                holders: Holders = [:], leases: [Lease] = []) {
        var device = device
        if device.numaNode == nil { device.numaNode = inventory.numaNode(of: device.address) }
        self.device = device
        driverOverride = inventory.driverOverride(of: device.address)
        let names = library?.names(vendor: device.vendorID, device: device.deviceID)
        vendorName = names?.vendor
        deviceName = names?.device
        holder = HostReport.holder(of: device, holders: holders)
        lease = Leases.holding(device.address, in: leases)?.name
        pf = device.physicalFunction.flatMap { inventory[$0] }
        vfs = inventory.virtualFunctions(of: device).map {
            HostReport.VF(device: $0, holder: HostReport.holder(of: $0, holders: holders), lease: Leases.holding($0.address, in: leases)?.name)
        }
        if let sriov = device.sriov {
            futureVFs = (sriov.numVFs..<max(sriov.numVFs, sriov.totalVFs)).compactMap { index in
                sriov.address(ofVF: index, pf: device.address).map { (index, $0) }
            }
        } else {
            futureVFs = []
        }
        warnings = []
        permissive = PcibackState.permissiveDevices(inventory.root).contains(device.address)
        var capability: SRIOVCapability?
        var bridges: [Bridge] = []
        if let library {
            do {
                if device.isPhysicalFunction { capability = try library.sriovCapability(of: device.address) }
            } catch {
                warnings.append("\(device.address): \(error)")
            }
        }
        bridges = Self.upstreamBridges(of: device.address, root: inventory.root).map { bridge in
            Bridge(address: bridge.address, acs: Self.acs(of: bridge.address, listed: bridge.listed, library: library,
                                                          root: inventory.root))
        }
        sriovCapability = capability
        upstream = bridges
    }

    /// The bridges above a function, nearest first, from its canonical sysfs path
    /// (`sys/devices/pci0000:00/0000:00:03.0/0000:04:00.0`). A VF is reached through its PF. A function on
    /// that path is a bridge even when `sys/bus/pci/devices` does not list it (`listed` false): it stays
    /// in the path, its ACS unknown, rather than vanish from it.
    public static func upstreamBridges(of address: PCIAddress, root: HostRoot) -> [(address: PCIAddress, listed: Bool)] {
        guard let path = root.resolve("sys/bus/pci/devices/\(address)") else { return [] }
        let parts = path.split(separator: "/").compactMap { try? PCIAddress(parsing: String($0)) }
        return parts.filter { $0 != address }.reversed().compactMap { candidate in
            let entry = "sys/bus/pci/devices/\(candidate)"
            guard root.exists(entry) else { return (candidate, false) }
            guard root.linkTarget(entry + "/physfn") == nil,
                  (root.readInteger(entry + "/class") ?? 0x060400) >> 8 == 0x0604 else { return nil }
            return (candidate, true)
        }
    }

    /// ACS on one bridge, or why it cannot be known.
    static func acs(of bridge: PCIAddress, listed: Bool, library: PCILibrary?, root: HostRoot) -> ACSReading {
        guard listed else { return .unknown("\(bridge) is not in /sys/bus/pci/devices") }
        guard let library else { return .unknown("libpci cannot read this host") }
        let readable = HostInventory.readableConfigBytes(of: bridge, root: root)
        guard readable > 0x100 else {
            return .unknown("only \(readable) bytes of its config space can be read (run as root)")
        }
        do {
            return try library.accessControlServices(of: bridge).map(ACSReading.present) ?? .absent
        } catch {
            return .unknown(error.description)
        }
    }

    // MARK: rendering

    public func text() -> String {
        var lines: [(String, String)] = []
        let d = device
        var title = d.address.description
        if let interface = d.interfaceName { title += "  " + interface }
        if let pf, let index = d.vfIndex {
            title += "  (VF \(index) of \(pf.address)\(pf.interfaceName.map { " " + $0 } ?? ""))"
        } else if d.isPhysicalFunction {
            title += "  (SR-IOV PF)"
        }
        let ids = "[\(hex(d.vendorID, width: 4)):\(hex(d.deviceID, width: 4))]"
        lines.append(("name", [vendorName, deviceName].compactMap { $0 }.joined(separator: " ") + (vendorName == nil && deviceName == nil ? ids : " " + ids)))
        lines.append(("driver", d.driver ?? "(none)"))
        if let override = driverOverride { lines.append(("driver_override", override)) }
        for interface in d.interfaces { lines.append(("interface", interface.name + "  " + (interface.mac ?? "-"))) }
        for representor in d.representors { lines.append(("representor", representor.name + "  " + representor.port)) }
        lines.append(("holder", holderText))
        if let lease { lines.append(("lease", lease)) }
        if d.isOnPciback { lines.append(("permissive", permissive ? "yes" : "no")) }
        if let group = d.iommuGroup { lines.append(("iommu group", String(group))) }
        if let numa = d.numaNode { lines.append(("numa node", String(numa))) }
        if let s = d.sriov {
            var value = "\(s.numVFs) of \(s.totalVFs) VFs, offset " + (s.offset.map { "0x" + String($0, radix: 16) } ?? "unknown")
                + ", stride " + (s.stride.map(String.init) ?? "unknown")
            if let vfDevice = s.vfDeviceID { value += ", VF device \(hex(d.vendorID, width: 4)):\(hex(vfDevice, width: 4))" }
            if let autoprobe = s.driversAutoprobe { value += ", drivers autoprobe \(autoprobe ? "on" : "off")" }
            lines.append(("sr-iov", value))
        }
        if let cap = sriovCapability {
            lines.append(("sr-iov cap", "at 0x\(String(cap.offset, radix: 16)): TotalVFs \(cap.totalVFs), NumVFs \(cap.numVFs), "
                          + "offset 0x\(String(cap.firstVFOffset, radix: 16)), stride \(cap.vfStride), "
                          + "VF Enable \(cap.vfEnabled ? "on" : "off")" + (cap.ariCapableHierarchy ? ", ARI" : "")))
        }
        for bridge in upstream {
            let acs: String
            switch bridge.acs {
            case .present(let cap):
                let on = cap.enabledControls
                acs = "ACS " + (on.isEmpty ? "present, all controls off" : on.joined(separator: " "))
                    + (cap.isolates ? " (isolating)" : " (not isolating)")
            case .absent:
                acs = "no ACS"
            case .unknown(let why):
                acs = "ACS unknown: " + why
            }
            lines.append(("upstream", "\(bridge.address)  " + acs))
        }
        for vf in vfs {
            let v = vf.device
            lines.append(("vf \(v.vfIndex.map(String.init) ?? "?")", "\(v.address)  \(v.interfaceName ?? "-")  \(vf.holder)"))
        }
        if let first = futureVFs.first, let last = futureVFs.last {
            lines.append(("future vfs", "\(first.index)-\(last.index) at \(first.address) … \(last.address)"))
        }
        for warning in warnings { lines.append(("warning", warning)) }
        let width = lines.map(\.0.count).max() ?? 0
        return title + "\n" + lines.map { "  " + $0.0 + String(repeating: " ", count: width - $0.0.count) + "  " + $0.1 }
            .joined(separator: "\n") + "\n"
    }

    var holderText: String {
        if case .domain(let id, let name) = holder { return "domain \(id)" + (name.map { " (\($0))" } ?? "") }
        return holder.description
    }

    public var json: JSON {
        let d = device
        var fields: [(String, JSON)] = [
            ("bdf", .string(d.address.description)),
            ("kind", .string(d.isPhysicalFunction ? "pf" : d.isVirtualFunction ? "vf" : "device")),
            ("vendor", .string(hex(d.vendorID, width: 4))),
            ("device", .string(hex(d.deviceID, width: 4))),
            ("vendor_name", .string(vendorName)),
            ("name", .string(deviceName)),
            ("driver", .string(d.driver)),
            ("driver_override", .string(driverOverride)),
            ("ifname", .string(d.interfaceName)),
            ("mac", .string(d.mac)),
            ("iommu_group", .int(d.iommuGroup)),
            ("numa_node", .int(d.numaNode)),
            ("holder", .string(holder.description)),
            ("permissive", .bool(permissive)),
        ]
        if let pf = d.physicalFunction {
            fields.append(("pf", .string(pf.description)))
            fields.append(("index", .int(d.vfIndex)))
            fields.append(("lease", .string(lease)))
        }
        if !d.representors.isEmpty {
            fields.append(("representors", .array(d.representors.map {
                .object([("ifname", .string($0.name)), ("port", .string($0.port)), ("vf_index", .int($0.vfIndex))])
            })))
        }
        if let s = d.sriov {
            fields += s.jsonFields
            fields.append(("vfs", .array(vfs.map(\.json))))
            fields.append(("future_vfs", .array(futureVFs.map {
                .object([("index", .int($0.index)), ("bdf", .string($0.address.description))])
            })))
        }
        if let cap = sriovCapability {
            fields.append(("sriov_capability", .object([
                ("offset", .int(cap.offset)), ("totalvfs", .int(cap.totalVFs)), ("numvfs", .int(cap.numVFs)),
                ("vf_offset", .int(cap.firstVFOffset)), ("vf_stride", .int(cap.vfStride)),
                ("vf_device", .string(hex(cap.vfDeviceID, width: 4))), ("vf_enable", .bool(cap.vfEnabled)),
                ("ari", .bool(cap.ariCapableHierarchy)),
            ])))
        }
        fields.append(("upstream", .array(upstream.map { bridge in
            .object([
                ("bdf", .string(bridge.address.description)),
                ("acs", bridge.acs.controls.map { .array($0.map(JSON.string)) } ?? .null),
                ("isolating", bridge.acs.isolates.map(JSON.bool) ?? .null),
                ("acs_state", .string(bridge.acs.state)),
            ])
        })))
        return .object(fields)
    }
}
