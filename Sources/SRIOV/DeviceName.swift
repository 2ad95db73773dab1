/// How a user names a device on the command line or in a config file:
/// `05:10.0` / `0000:05:10.0` (an address), `eno49` (the function that has that interface),
/// `eno49/3` (VF 3 of that PF), `eno49/0-6` and `eno49/*` (several VFs, where a list is taken).
/// The PF in a VF name may also be an address: `0000:04:00.0/2`.
public enum DeviceName: Equatable, Sendable, CustomStringConvertible {
    case address(PCIAddress)
    case interface(String)
    case virtualFunctions(of: PFReference, VFSelection)

    public enum PFReference: Equatable, Sendable, CustomStringConvertible {
        case interface(String)
        case address(PCIAddress)
        public var description: String {
            switch self {
            case .interface(let name): return name
            case .address(let address): return address.description
            }
        }
    }

    public enum VFSelection: Equatable, Sendable, CustomStringConvertible {
        case index(Int)
        case range(ClosedRange<Int>)
        case all
        public var description: String {
            switch self {
            case .index(let i): return "\(i)"
            case .range(let r): return "\(r.lowerBound)-\(r.upperBound)"
            case .all: return "*"
            }
        }
    }

    public var description: String {
        switch self {
        case .address(let address): return address.description
        case .interface(let name): return name
        case .virtualFunctions(let pf, let selection): return "\(pf)/\(selection)"
        }
    }

    /// Whether the name can stand for more than one device.
    public var isList: Bool {
        switch self {
        case .virtualFunctions(_, .range), .virtualFunctions(_, .all): return true
        default: return false
        }
    }

    public init(parsing text: String) throws(InputError) {
        if let slash = text.firstIndex(of: "/") {
            let pfText = String(text[..<slash])
            let vfText = String(text[text.index(after: slash)...])
            let pf: PFReference
            if pfText.contains(":") {
                do { pf = .address(try PCIAddress(parsing: pfText)) } catch {
                    throw InputError(.deviceName, text, "names PF '\(pfText)', which \(error.reason)")
                }
            } else {
                try Self.checkInterfaceName(pfText, in: text)
                pf = .interface(pfText)
            }
            self = .virtualFunctions(of: pf, try Self.parseSelection(vfText, in: text))
            return
        }
        if text.contains(":") {
            do { self = .address(try PCIAddress(parsing: text)) } catch { throw InputError(.deviceName, text, error.reason) }
            return
        }
        try Self.checkInterfaceName(text, in: text)
        self = .interface(text)
    }

    private static func parseSelection(_ text: String, in whole: String) throws(InputError) -> VFSelection {
        if text == "*" { return .all }
        let bounds = text.split(separator: "-", omittingEmptySubsequences: false)
        guard (1...2).contains(bounds.count), bounds.allSatisfy({ !$0.isEmpty && $0.allSatisfy(\.isASCII) }),
              let first = Int(bounds[0]), first >= 0
        else {
            throw InputError(.deviceName, whole, "has a VF part '\(text)' that is not an index (3), a range (0-6) or *")
        }
        guard bounds.count == 2 else { return .index(first) }
        guard let last = Int(bounds[1]), last >= first else {
            throw InputError(.deviceName, whole, "has a VF range '\(text)' whose end is not a number at or above its start")
        }
        return .range(first...last)
    }

    /// Linux interface names: 1 to 15 bytes, no '/', no whitespace, not "." or "..".
    private static func checkInterfaceName(_ name: String, in whole: String) throws(InputError) {
        guard !name.isEmpty else {
            throw InputError(.deviceName, whole, "names no device; use an address (05:10.0), an interface (eno49) or a VF (eno49/3)")
        }
        guard name.utf8.count <= 15, name != ".", name != "..",
              name.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0 != ":" })
        else {
            throw InputError(.deviceName, whole, "is neither a PCI address (05:10.0) nor an interface name (eno49)")
        }
    }
}

/// One device a name stands for: it exists now, or (a VF not created yet) it will have this address.
public struct ResolvedDevice: Equatable, Sendable {
    public var address: PCIAddress
    /// nil for a VF that does not exist yet.
    public var device: PCIDevice?
    /// For VFs named through their PF.
    public var pf: PCIAddress?
    public var vfIndex: Int?
}

extension HostInventory {
    /// The devices a name stands for. `future` admits VFs that the PF can have but has not created yet
    /// (their addresses come from the SR-IOV offset and stride).
    public func resolve(_ name: DeviceName, future: Bool = false) throws(InputError) -> [ResolvedDevice] {
        switch name {
        case .address(let address):
            guard let device = devices[address] else {
                throw InputError(.deviceName, name.description, "is not a PCI device on this host; `xvf list` shows the devices")
            }
            return [ResolvedDevice(address: address, device: device, pf: device.physicalFunction, vfIndex: device.vfIndex)]
        case .interface(let interface):
            guard let device = device(withInterface: interface) else {
                try refuseRepresentor(interface, whole: interface)
                throw InputError(.deviceName, interface, "is not a network interface of a PCI device here; `xvf list` shows them")
            }
            return [ResolvedDevice(address: device.address, device: device, pf: device.physicalFunction,
                                   vfIndex: device.vfIndex)]
        case .virtualFunctions(let reference, let selection):
            let pf = try physicalFunction(reference, whole: name.description)
            let sriov = pf.sriov!
            let limit = future ? sriov.totalVFs : sriov.numVFs
            // Bounds before building the list: a range such as 0-9223372036854775807 parses, and
            // materialising it would trap or exhaust memory.
            let indices: ClosedRange<Int>?
            switch selection {
            case .index(let i): indices = i...i
            case .range(let r): indices = r
            case .all: indices = limit > 0 ? 0...(limit - 1) : nil
            }
            if let indices, indices.upperBound >= limit {
                let bad = max(indices.lowerBound, limit)
                let what = future ? "can have \(sriov.totalVFs) VFs (sriov_totalvfs)"
                    : sriov.numVFs == 0 ? "has no VFs yet; create them with `xvf vfs \(reference) N`"
                    : "has \(sriov.numVFs) VFs (0-\(sriov.numVFs - 1)); `xvf vfs \(reference) N` changes the count"
                throw InputError(.deviceName, name.description, "names VF \(bad), but \(reference) \(what)")
            }
            return try (indices.map { Array($0) } ?? []).map { (index) throws(InputError) -> ResolvedDevice in
                guard let address = sriov.address(ofVF: index, pf: pf.address) else {
                    throw InputError(.deviceName, name.description, "names VF \(index), whose address \(reference) does not report (no sriov_offset)")
                }
                return ResolvedDevice(address: address, device: devices[address], pf: pf.address, vfIndex: index)
            }
        }
    }

    /// The SR-IOV PF a user names by itself, by interface or address (`eno49`, `04:00.0`), for what acts
    /// on a PF (`xvf vfs`, `xvf assign --pf`, the host config's `sriov`). VFs, a VF, or a function
    /// without SR-IOV are refused with a message that says how to name the PF.
    public func physicalFunction(named text: String) throws(InputError) -> PCIDevice {
        let name = try DeviceName(parsing: text)
        if case .virtualFunctions = name {
            throw InputError(.deviceName, text, "names VFs; name their PF (an interface such as eno49, or its address)")
        }
        guard let device = try resolve(name).first?.device else {
            throw InputError(.deviceName, text, "is not a device on this host; `xvf list` shows them")
        }
        if let pf = device.physicalFunction {
            throw InputError(.deviceName, text, "(\(device.address)) is a VF; name its PF (\(pf))")
        }
        guard device.isPhysicalFunction else {
            throw InputError(.deviceName, text, "(\(device.address)) is not SR-IOV capable (no sriov_totalvfs)"
                            + (FirmwareSRIOV.advice(for: device).map { ": " + $0 } ?? ""))
        }
        return device
    }

    /// A switchdev representor is the PF's port for a VF, not the VF: a name that is one is refused with
    /// the VF to name instead (passing its PF through, or picking another VF, is not what was meant).
    /// `asPF`: the name stands for a PF (`REPR/3`), so the fix is the PF's own name in its place.
    func refuseRepresentor(_ interface: String, whole: String, asPF: Bool = false) throws(InputError) {
        guard let owner = representorOwners[interface].flatMap({ devices[$0] }),
              let representor = owner.representors.first(where: { $0.name == interface }) else { return }
        let pf = owner.interfaceName ?? owner.address.description
        let what = "is the switchdev representor \(representor.port) on \(pf) (\(owner.address)), not a device"
        if asPF, whole.hasPrefix(interface + "/") {
            throw InputError(.deviceName, whole, "names VFs of \(interface), which \(what); name its PF: "
                            + pf + whole.dropFirst(interface.count))
        }
        // The VF is the PF's own only when the port's PF number is this function's (on a shared switch
        // one PF can carry the representors of another's VFs).
        if let index = representor.vfIndex, representor.pfNumber == Int(owner.address.function) {
            throw InputError(.deviceName, whole, what + "; name the VF it stands for: \(pf)/\(index)")
        }
        throw InputError(.deviceName, whole, what + "; name a VF itself, by its PF and index (PF/N) or by its address")
    }

    /// The SR-IOV capable PF a reference names.
    public func physicalFunction(_ reference: DeviceName.PFReference, whole: String) throws(InputError) -> PCIDevice {
        let device: PCIDevice?
        switch reference {
        case .interface(let interface):
            device = self.device(withInterface: interface)
            if device == nil { try refuseRepresentor(interface, whole: whole, asPF: true) }
        case .address(let address): device = devices[address]
        }
        guard let device else {
            throw InputError(.deviceName, whole, "names \(reference), which is not a device on this host; `xvf list` shows them")
        }
        guard device.isPhysicalFunction else {
            throw InputError(.deviceName, whole, "names \(reference) (\(device.address)), which is not SR-IOV capable (no sriov_totalvfs)"
                            + (FirmwareSRIOV.advice(for: device).map { ": " + $0 } ?? ""))
        }
        return device
    }
}
