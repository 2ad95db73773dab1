import SRIOV

/// What xvf asks of Xen, in libxl's terms. Two implementations: `LibxlToolstack` (the real one, in a
/// Xen dom0) and the simulated one (SimXen) that enforces libxl's documented rules on a simulated host,
/// so that everything above this protocol runs in CI. Both are checked by one shared test suite.
public protocol Toolstack: AnyObject {
    /// What the toolstack logged during the run (libxl's own messages), for `xvf -v`.
    var messages: [String] { get }

    /// The running domains, Domain-0 included.
    func domains() throws(ToolstackError) -> [XenDomain]

    /// `xl pci-assignable-add`: binds the device to pciback and quarantines it. Idempotent: a device
    /// already on pciback succeeds. With `rebind`, the driver it had is remembered for a later remove.
    func assignableAdd(_ address: PCIAddress, name: String?, rebind: Bool) throws(ToolstackError)

    /// `xl pci-assignable-list -n`: devices on pciback that no domain holds, with their names.
    func assignableList() throws(ToolstackError) -> [AssignableDevice]

    /// `xl pci-assignable-remove [-r]`: takes the device off pciback; with `rebind` it goes back to the
    /// driver remembered by `assignableAdd`.
    func assignableRemove(_ device: AssignableReference, rebind: Bool) throws(ToolstackError)

    /// `xl pci-attach`: gives the device to a running domain with the spec's options.
    func attach(_ spec: PCISpec, to domain: UInt32) throws(ToolstackError)

    /// `xl pci-detach [-f]`: takes the device from the domain; it stays on pciback. `force` does it even
    /// when the guest or the device model does not cooperate (libxl_device_pci_destroy).
    func detach(_ spec: PCISpec, from domain: UInt32, force: Bool) throws(ToolstackError)

    /// `xl pci-list`: the devices a domain has.
    func devices(of domain: UInt32) throws(ToolstackError) -> [AttachedDevice]

    /// `xl save DOM FILE`: the domain's memory and configuration go into `path` (a new file xvf made
    /// empty) and the domain is gone. xl does it: the image starts with xl's own header, which only `xl
    /// restore` reads, and libxl has no call that writes it.
    func save(_ domain: UInt32, to path: String) throws(ToolstackError)

    /// `xl restore FILE`: the domain saved in `path` runs again, under a new id and its old name.
    func restore(from path: String) throws(ToolstackError)

    /// `xl migrate [-s SSH] DOM HOST`: the domain moves to the xl that `SSH HOST xl migrate-receive` reaches
    /// (with an empty `sshCommand`, xl runs HOST itself as the receiving side: `xl migrate-receive` is this
    /// host), where it runs under its name and a new id. nil leaves xl's own default (`ssh`). xl stops
    /// before its point of no return when the domain cannot be suspended (one holding an assigned device:
    /// Xen refuses log-dirty mode) or the receiver does not answer, and the domain runs on here; after it,
    /// the domain is the receiver's. Which happened is read from the domains afterwards, not from xl's words.
    func migrate(_ domain: UInt32, to host: String, sshCommand: String?) throws(ToolstackError)

    /// The release of the libxl in use, as its soname spells it ("4.17").
    var libxlRelease: String { get }

    /// Its full version (point release and stable-branch commits) where xvf can tell; nil elsewhere.
    var libxlVersion: LibxlVersion? { get }

    /// `xl info`'s virt_caps (libxl_get_physinfo): whether Xen can pass devices through at all.
    func capabilities() throws(ToolstackError) -> XenCapabilities

    /// Whether the running domain has an IOMMU context, which Xen gives a domain only at its creation
    /// (`passthrough = "enabled"` or a `pci = [...]` line in its xl config): without one Xen refuses every
    /// device for it, PV and HVM alike, until it is recreated. Asked with `device` as Xen's own test of an
    /// assignment; nil when the answer is not that (the device is another domain's, or Xen cannot say).
    func passthroughEnabled(in domain: UInt32, for device: PCIAddress) throws(ToolstackError) -> Bool?
}

/// What Xen says the machine can do (`libxl_physinfo`).
public struct XenCapabilities: Equatable, Sendable {
    public var pv: Bool
    public var hvm: Bool
    /// `cap_hvm_directio`: Xen runs an IOMMU, so devices can be given to guests (xl shows it as
    /// hvm_directio and pv_directio).
    public var passthrough: Bool
    /// `cap_hap` and `cap_shadow`: an HVM guest needs one of them (Debian builds Xen 4.20 without shadow
    /// paging, so there HVM needs HAP: VT-x EPT or AMD NPT).
    public var hap: Bool
    public var shadow: Bool

    public init(pv: Bool, hvm: Bool, passthrough: Bool, hap: Bool = true, shadow: Bool = true) {
        self.pv = pv
        self.hvm = hvm
        self.passthrough = passthrough
        self.hap = hap
        self.shadow = shadow
    }
}

public struct XenDomain: Equatable, Sendable {
    public enum Kind: String, Sendable {
        case pv, hvm, pvh, unknown
    }

    public var id: UInt32
    public var name: String
    public var kind: Kind

    public init(id: UInt32, name: String, kind: Kind) {
        self.id = id
        self.name = name
        self.kind = kind
    }
}

/// Which domain holds each attached device: one name for it across xvf (Domain-0 holds none).
public typealias Holders = [PCIAddress: XenDomain]

/// A device on pciback, ready for a guest.
public struct AssignableDevice: Equatable, Sendable {
    public var address: PCIAddress
    public var name: String?

    public init(address: PCIAddress, name: String?) {
        self.address = address
        self.name = name
    }
}

/// How `assignableRemove` is told which device: xl takes a name or an address.
public enum AssignableReference: Equatable, Sendable, CustomStringConvertible {
    case address(PCIAddress)
    case name(String)

    public var description: String {
        switch self {
        case .address(let address): return address.description
        case .name(let name): return "name=" + name
        }
    }
}

/// A device a domain has, with the guest slot it sits in.
public struct AttachedDevice: Equatable, Sendable {
    public var address: PCIAddress
    /// The guest's slot and function (libxl's `vdevfn`).
    public var virtualDevFn: UInt32
    /// The options it was attached with, as libxl reads them back from the PCI backend (`opts-N`): only
    /// those that are on (permissive, msitranslate, power_mgmt) and a relaxed rdm_policy.
    public var permissive: Bool
    public var msitranslate: Bool
    public var powerManagement: Bool
    public var relaxedRDM: Bool

    public init(address: PCIAddress, virtualDevFn: UInt32, permissive: Bool = false, msitranslate: Bool = false,
                powerManagement: Bool = false, relaxedRDM: Bool = false) {
        self.address = address
        self.virtualDevFn = virtualDevFn
        self.permissive = permissive
        self.msitranslate = msitranslate
        self.powerManagement = powerManagement
        self.relaxedRDM = relaxedRDM
    }

    /// `00.0` as `xl pci-list` prints the guest's slot and function.
    public var guestSlot: String {
        hex((virtualDevFn >> 3) & 0x1f, width: 2) + "." + String(virtualDevFn & 7)
    }
}

extension Toolstack {
    /// The domain a user names by id (`3`) or by name (`web1`).
    public func domain(named text: String) throws(ToolstackError) -> XenDomain? {
        let all = try domains()
        if let id = UInt32(text), text.allSatisfy(\.isASCII) {
            return all.first { $0.id == id }
        }
        return all.first { $0.name == text }
    }

    /// Which domain holds each attached device (Domain-0 has none to give).
    public func holders() throws(ToolstackError) -> Holders {
        var result: Holders = [:]
        for domain in try domains() where domain.id != 0 {
            for device in try devices(of: domain.id) { result[device.address] = domain }
        }
        return result
    }
}

extension Toolstack {
    /// A toolstack with nothing of its own to say.
    public var messages: [String] { [] }
}
