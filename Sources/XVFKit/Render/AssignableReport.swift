import SRIOV
import XenPCI

/// What `xvf assignable list` shows: the devices libxl has on pciback that no domain holds, each with the
/// name xvf knows it by (`eno49/3`, an interface) and the name libxl gave it.
public struct AssignableReport {
    public struct Entry {
        public var address: PCIAddress
        /// The VF's `PF/index`, or the device's interface; nil for a device that has neither here.
        public var device: String?
        /// libxl's name for it (`assignable add --name`).
        public var name: String?
    }

    public var entries: [Entry]

    public init(_ assignable: [AssignableDevice], inventory: HostInventory) {
        entries = assignable.map { Entry(address: $0.address, device: Self.deviceName($0.address, inventory), name: $0.name) }
    }

    static func deviceName(_ address: PCIAddress, _ inventory: HostInventory) -> String? {
        guard let device = inventory[address] else { return nil }
        if let pf = device.physicalFunction, let index = device.vfIndex {
            return "\(inventory[pf]?.interfaceName ?? pf.description)/\(index)"
        }
        return device.interfaceName
    }

    public var json: JSON {
        .object([("assignable", .array(entries.map {
            .object([("bdf", .string($0.address.description)), ("device", .string($0.device)), ("name", .string($0.name))])
        }))])
    }

    public func table() -> String {
        if entries.isEmpty { return "No assignable devices (none on pciback that a domain does not hold).\n" }
        var table = Table(["BDF", "DEVICE", "NAME"])
        for entry in entries { table.append([entry.address.description, entry.device ?? "-", entry.name ?? "-"]) }
        return table.render()
    }
}
