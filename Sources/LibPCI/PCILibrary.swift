#if canImport(Glibc)
import Glibc
#endif
import CPCI
import SRIOV

/// libpci over a host root: device names from pci.ids and capabilities read from config space.
///
/// One instance holds one libpci access object; it is not shared between threads.
public final class PCILibrary {
    private let handle: OpaquePointer
    private let namesFromHWDB: Bool
    /// pci.ids, read for the ids asked for; nil when libpci must load it (compressed, unreadable).
    private lazy var idList: PCIIDList? = {
        // Debian's libpci names `pci.ids.gz` and, as libpci does, reads `pci.ids` when that is missing.
        let path = String(cString: xvf_pci_ids_file(handle))
        if let list = PCIIDList(path: path) { return list }
        guard path.hasSuffix(".gz"), access(path, F_OK) != 0 else { return nil }
        return PCIIDList(path: String(path.dropLast(3)))
    }()
    /// A host has hundreds of functions and a handful of different ids.
    private var knownNames: [UInt32: (vendor: String?, device: String?)] = [:]

    /// Opens libpci on `root`'s `sys/bus/pci`. `idsPath` overrides the pci.ids file (tests). On the
    /// running system's root, names come from udev's hwdb first; a tree gets them from pci.ids alone, the
    /// same on every machine that has the same pci.ids.
    public init(root: HostRoot, idsPath: String? = nil) throws(PCILibraryError) {
        var message = [CChar](repeating: 0, count: 512)
        namesFromHWDB = root.prefix.isEmpty && idsPath == nil
        guard let handle = xvf_pci_open(root.path("sys/bus/pci"), idsPath, namesFromHWDB ? 1 : 0, &message,
                                        message.count) else {
            throw PCILibraryError(message: cString(message))
        }
        self.handle = handle
    }

    deinit { xvf_pci_close(handle) }

    /// The vendor and device names the hwdb or pci.ids gives, nil for ids they do not list.
    public func names(vendor: UInt16, device: UInt16) -> (vendor: String?, device: String?) {
        let key = UInt32(vendor) << 16 | UInt32(device)
        if let known = knownNames[key] { return known }
        var found: (vendor: String?, device: String?) = (nil, nil)
        if namesFromHWDB { found = libpciNames(vendor: vendor, device: device, fromHWDB: true) }
        if found.vendor == nil || found.device == nil {
            let listed: (vendor: String?, device: String?)
            if let idList {
                listed = (idList.vendorName(vendor), idList.deviceName(vendor: vendor, device: device))
            } else {
                listed = libpciNames(vendor: vendor, device: device, fromHWDB: false)
            }
            found = (found.vendor ?? listed.vendor, found.device ?? listed.device)
        }
        knownNames[key] = found
        return found
    }

    /// The names as libpci looks them up: in the hwdb, or in all of the ids file, loaded at the first call.
    func libpciNames(vendor: UInt16, device: UInt16, fromHWDB: Bool) -> (vendor: String?, device: String?) {
        var vendorName = [CChar](repeating: 0, count: 256)
        var deviceName = [CChar](repeating: 0, count: 256)
        _ = xvf_pci_names(handle, fromHWDB ? 1 : 0, vendor, device, &vendorName, vendorName.count, &deviceName,
                          deviceName.count)
        let v = cString(vendorName)
        let d = cString(deviceName)
        return (v.isEmpty ? nil : v, d.isEmpty ? nil : d)
    }

    /// Where a capability sits in the device's config space; nil when the device does not have it.
    public func capabilityOffset(_ capability: PCICapability, of address: PCIAddress) throws(PCILibraryError) -> Int? {
        var message = [CChar](repeating: 0, count: 512)
        let offset = xvf_pci_find_cap(handle, Int32(address.domain), Int32(address.bus), Int32(address.device),
                                      Int32(address.function), capability.id, capability.extended ? 1 : 0,
                                      &message, message.count)
        if offset < 0 { throw PCILibraryError(message: cString(message)) }
        return offset == 0 ? nil : Int(offset)
    }

    /// A config-space register of 1, 2 or 4 bytes.
    public func readConfig(_ address: PCIAddress, offset: Int, width: Int) -> UInt32? {
        var value: UInt32 = 0
        let rc = xvf_pci_read_config(handle, Int32(address.domain), Int32(address.bus), Int32(address.device),
                                     Int32(address.function), Int32(offset), Int32(width), &value)
        return rc == 0 ? value : nil
    }

    /// The PCIe Device Serial Number as lspci prints it (`a0-36-9f-ff-ff-12-34-50`: the upper dword's bytes,
    /// then the lower's, most significant first); nil when the device has no such capability.
    public func deviceSerialNumber(of address: PCIAddress) throws(PCILibraryError) -> String? {
        guard let at = try capabilityOffset(.deviceSerialNumber, of: address) else { return nil }
        guard let lower = readConfig(address, offset: at + 4, width: 4),
              let upper = readConfig(address, offset: at + 8, width: 4) else {
            throw PCILibraryError(message: "cannot read the serial number of \(address)")
        }
        let value = UInt64(upper) << 32 | UInt64(lower)
        return (0..<8).reversed().map { byte in
            hex((value >> (UInt64(byte) * 8)) & 0xff, width: 2)
        }.joined(separator: "-")
    }

    /// The SR-IOV capability's fields as the device's config space holds them.
    public func sriovCapability(of address: PCIAddress) throws(PCILibraryError) -> SRIOVCapability? {
        guard let at = try capabilityOffset(.sriov, of: address) else { return nil }
        func word(_ offset: Int) -> Int { Int(readConfig(address, offset: at + offset, width: 2) ?? 0) }
        let control = word(0x08)
        return SRIOVCapability(offset: at, initialVFs: word(0x0c), totalVFs: word(0x0e), numVFs: word(0x10),
                               firstVFOffset: word(0x14), vfStride: word(0x16), vfDeviceID: UInt16(word(0x1a)),
                               vfEnabled: control & 0x1 != 0, ariCapableHierarchy: control & 0x10 != 0)
    }

    /// The ACS capability and which controls are on; nil when the function has no ACS.
    public func accessControlServices(of address: PCIAddress) throws(PCILibraryError) -> ACSCapability? {
        guard let at = try capabilityOffset(.acs, of: address) else { return nil }
        let capability = UInt16(readConfig(address, offset: at + 4, width: 2) ?? 0)
        let control = UInt16(readConfig(address, offset: at + 6, width: 2) ?? 0)
        return ACSCapability(offset: at, capabilities: capability, controls: control)
    }
}

/// The capabilities xvf asks libpci about.
public struct PCICapability: Sendable {
    public let id: UInt32
    public let extended: Bool
    public static let pciExpress = PCICapability(id: 0x10, extended: false)
    public static let msix = PCICapability(id: 0x11, extended: false)
    public static let acs = PCICapability(id: 0x0d, extended: true)
    public static let ari = PCICapability(id: 0x0e, extended: true)
    public static let sriov = PCICapability(id: 0x10, extended: true)
    public static let deviceSerialNumber = PCICapability(id: 0x03, extended: true)
}

/// The SR-IOV extended capability (PCIe base spec, "SR-IOV Extended Capability").
public struct SRIOVCapability: Sendable, Equatable {
    public var offset: Int
    public var initialVFs: Int
    public var totalVFs: Int
    public var numVFs: Int
    public var firstVFOffset: Int
    public var vfStride: Int
    public var vfDeviceID: UInt16
    public var vfEnabled: Bool
    public var ariCapableHierarchy: Bool
}

/// The ACS extended capability: which isolation controls the port has and has turned on.
public struct ACSCapability: Sendable, Equatable {
    public var offset: Int
    public var capabilities: UInt16
    public var controls: UInt16

    /// Source Validation, Request Redirect, Completion Redirect, Upstream Forwarding: the controls Linux
    /// requires (PCI_ACS_SV | RR | CR | UF) before it treats the functions below a port as isolated.
    public static let isolationControls: UInt16 = 0x0001 | 0x0004 | 0x0008 | 0x0010

    public var isolates: Bool { controls & Self.isolationControls == Self.isolationControls }

    /// The names of the controls that are on (`SrcValid`, `ReqRedir`, … as lspci names them).
    public var enabledControls: [String] {
        let names = ["SrcValid", "TransBlk", "ReqRedir", "CmpltRedir", "UpstreamFwd", "EgressCtrl", "DirectTrans"]
        return names.indices.filter { controls & (1 << $0) != 0 }.map { names[$0] }
    }
}

public struct PCILibraryError: Error, CustomStringConvertible {
    public let message: String
    public var description: String { "libpci: " + message }
}

/// The text of a NUL-terminated C buffer.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
