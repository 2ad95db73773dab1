/// One PCI function as sysfs shows it.
public struct PCIDevice: Sendable, Equatable {
    public var address: PCIAddress
    public var vendorID: UInt16
    public var deviceID: UInt16
    /// The 24-bit class code (0x020000 is an Ethernet controller).
    public var classCode: UInt32
    /// The bound driver's name (`igb`, `igbvf`, `pciback`), nil when unbound.
    public var driver: String?
    public var interfaces: [NetInterface]
    /// Switchdev representors on this function (mlx5, ice, bnxt_en: a PF's port for each of its VFs). They
    /// are not interfaces of the function itself: a user naming one means a VF, and `ip link … vf N` is
    /// refused on them.
    public var representors: [Representor] = []
    public var iommuGroup: Int?
    /// A PF's NUMA node; discovery leaves any other function's nil (`HostInventory.numaNode(of:)` reads it).
    public var numaNode: Int?
    /// For a VF: its PF and its index there.
    public var physicalFunction: PCIAddress?
    public var vfIndex: Int?
    /// For a PF: its SR-IOV state.
    public var sriov: SRIOVState?

    public init(address: PCIAddress, vendorID: UInt16, deviceID: UInt16, classCode: UInt32 = 0, driver: String? = nil,
                interfaces: [NetInterface] = [], iommuGroup: Int? = nil,
                numaNode: Int? = nil, physicalFunction: PCIAddress? = nil, vfIndex: Int? = nil,
                sriov: SRIOVState? = nil) {
        self.address = address
        self.vendorID = vendorID
        self.deviceID = deviceID
        self.classCode = classCode
        self.driver = driver
        self.interfaces = interfaces
        self.iommuGroup = iommuGroup
        self.numaNode = numaNode
        self.physicalFunction = physicalFunction
        self.vfIndex = vfIndex
        self.sriov = sriov
    }

    public var isPhysicalFunction: Bool { sriov != nil }
    public var isVirtualFunction: Bool { physicalFunction != nil }

    /// The first network interface, which is what users name a NIC port by.
    public var interfaceName: String? { interfaces.first?.name }
    public var mac: String? { interfaces.first?.mac }

    /// Who holds the device, as far as dom0's kernel can tell (the Xen layer adds the domain).
    public var holder: Holder {
        switch driver {
        case nil: return .none
        case Self.pcibackDriver?: return .pciback
        case let name?: return .dom0(driver: name)
        }
    }

    /// The name xen-pciback registers its driver under (`/sys/bus/pci/drivers/pciback`).
    public static let pcibackDriver = "pciback"

    /// Whether xen-pciback holds the device, ready for a guest.
    public var isOnPciback: Bool { driver == Self.pcibackDriver }
}

/// A network interface of a PCI function.
public struct NetInterface: Sendable, Equatable {
    public var name: String
    public var mac: String?
    public init(name: String, mac: String?) {
        self.name = name
        self.mac = mac
    }
}

/// A switchdev representor: a netdev on the PF that stands for one of the NIC switch's ports, as its
/// `phys_port_name` says (devlink's names: `pf0vf3` VF 3 of PF 0, `c1pf0vf3` a VF of another host's
/// controller, `pf0sf88` a subfunction, `pf0` the PF; ice's older `pf0vfr3`). An uplink is `p0`.
public struct Representor: Sendable, Equatable {
    public var name: String
    public var port: String
    /// For `pfNvfM` of this host's controller: N (the PF's function number, for mlx5, ice and bnxt_en)
    /// and M; nil for the others.
    public let pfNumber: Int?
    public let vfIndex: Int?

    /// nil when `port` is not a representor's name.
    public init?(name: String, port: String) {
        var rest = Substring(port)
        func number() -> Int? {
            let digits = rest.prefix(while: { $0.isASCII && $0.isNumber })
            rest = rest.dropFirst(digits.count)
            return digits.isEmpty ? nil : Int(digits)
        }
        func take(_ prefix: String) -> Bool {
            guard rest.hasPrefix(prefix) else { return false }
            rest = rest.dropFirst(prefix.count)
            return true
        }
        let external = take("c")
        if external { guard number() != nil else { return nil } }
        guard take("pf"), let pf = number() else { return nil }
        var index: Int?
        if take("vfr") || take("vf") {
            guard let vf = number() else { return nil }
            index = external ? nil : vf
        } else if take("sf") {
            guard number() != nil else { return nil }
        }
        guard rest.isEmpty else { return nil }
        self.name = name
        self.port = port
        pfNumber = index == nil ? nil : pf
        vfIndex = index
    }
}

/// A PF's SR-IOV state from its sysfs attributes.
public struct SRIOVState: Sendable, Equatable {
    public var totalVFs: Int
    public var numVFs: Int
    /// First VF offset and VF stride, in routing IDs (the SR-IOV capability's fields); nil when neither
    /// sysfs nor config space could say. Unknown is never taken for 0: no VF address is computed from it.
    public var offset: Int?
    public var stride: Int?
    public var vfDeviceID: UInt16?
    /// `sriov_drivers_autoprobe`: whether dom0 drivers bind new VFs by themselves.
    public var driversAutoprobe: Bool?
    /// The existing VFs, by index: where the offset and stride put them, or the `virtfnN` links say.
    public var virtualFunctions: [Int: PCIAddress]

    public init(totalVFs: Int, numVFs: Int, offset: Int?, stride: Int?, vfDeviceID: UInt16? = nil,
                driversAutoprobe: Bool? = nil, virtualFunctions: [Int: PCIAddress] = [:]) {
        self.totalVFs = totalVFs
        self.numVFs = numVFs
        self.offset = offset
        self.stride = stride
        self.vfDeviceID = vfDeviceID
        self.driversAutoprobe = driversAutoprobe
        self.virtualFunctions = virtualFunctions
    }

    /// The address VF `index` of the PF at `pf` has, or will have once it is created:
    /// the PF's routing ID + offset + index × stride, which may land on a following bus.
    public func address(ofVF index: Int, pf: PCIAddress) -> PCIAddress? {
        if let existing = virtualFunctions[index] { return existing }
        guard index >= 0, index < totalVFs, let offset, offset > 0, let stride, stride > 0 || index == 0 else { return nil }
        return pf.advanced(byRoutingID: offset + index * stride)
    }
}

/// Who holds a device.
public enum Holder: Hashable, Sendable, CustomStringConvertible {
    /// No driver: nothing uses it.
    case none
    /// A dom0 driver (igbvf, ixgbevf, …) has it.
    case dom0(driver: String)
    /// xen-pciback holds it, ready for a guest.
    case pciback
    /// Attached to a Xen domain.
    case domain(id: UInt32, name: String?)

    /// The stable form used in JSON: `none`, `dom0:<driver>`, `pciback`, `domain:<id>`.
    public var description: String {
        switch self {
        case .none: return "none"
        case .dom0(let driver): return "dom0:" + driver
        case .pciback: return "pciback"
        case .domain(let id, _): return "domain:\(id)"
        }
    }
}
