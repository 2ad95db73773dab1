import LibPCI
import SRIOV

/// What a PF's hardware says it is, so that a host config entry can pin it: a card moved to another slot,
/// a renamed interface or a swapped NIC then stops that PF's entries instead of configuring the wrong
/// device. The PCIe Device Serial Number is the card's own (read through libpci); where a device has none,
/// its vendor, device and subsystem ids still tell a different model apart, and the PF's permanent MAC
/// (from the NIC's EEPROM) tells one card from another of the same model.
public struct HardwareIdentity: Equatable, Sendable {
    /// `vendor:device:subsystem_vendor:subsystem_device`, four hex digits each (`8086:1521:8086:0001`).
    public var ids: String
    /// The Device Serial Number as lspci prints it (`a0-36-9f-ff-ff-12-34-50`); nil when the device has
    /// none, or its config space could not be read that far (`serialKnown` tells which).
    public var serial: String?
    public var serialKnown: Bool
    /// The PF's permanent MAC: its interface's `address` while `addr_assign_type` says 0 (the address the
    /// NIC came with). nil when it has no interface, or its MAC was changed since (then sysfs no longer
    /// shows the permanent one).
    public var permanentMAC: String?

    /// Reads a device's identity: ids from sysfs, the serial from config space.
    public static func read(_ device: PCIDevice, root: HostRoot, library: PCILibrary?) -> HardwareIdentity {
        let base = "sys/bus/pci/devices/\(device.address)/"
        let subsystem = [root.readInteger(base + "subsystem_vendor"), root.readInteger(base + "subsystem_device")]
            .map { $0.map { hex(UInt16(truncatingIfNeeded: $0), width: 4) } ?? "????" }
        let ids = ([hex(device.vendorID, width: 4), hex(device.deviceID, width: 4)] + subsystem).joined(separator: ":")
        var mac: String?
        if let interface = device.interfaceName {
            let net = base + "net/\(interface)/"
            if root.readInteger(net + "addr_assign_type") == 0 { mac = root.readText(net + "address")?.lowercased() }
        }
        let readable = HostInventory.readableConfigBytes(of: device.address, root: root)
        guard let library, readable > 0x100, let serial = try? library.deviceSerialNumber(of: device.address) else {
            return HardwareIdentity(ids: ids, serial: nil, serialKnown: false, permanentMAC: mac)
        }
        return HardwareIdentity(ids: ids, serial: serial, serialKnown: true, permanentMAC: mac)
    }

    /// Why `self` is not what an entry pins (`ids=` matches the first two or all four ids); nil when it is.
    func mismatch(ids pinnedIDs: String?, serial pinnedSerial: String?, mac pinnedMAC: String? = nil) -> String? {
        if let pinnedMAC {
            guard let permanentMAC else {
                return "its permanent MAC cannot be read (no interface, or its MAC was changed since boot: sysfs shows "
                    + "the permanent one only while addr_assign_type is 0), so mac=\(pinnedMAC) cannot be checked"
            }
            if permanentMAC != pinnedMAC.lowercased() { return "expected mac=\(pinnedMAC), found mac=\(permanentMAC)" }
        }
        if let pinnedSerial {
            guard serialKnown else { return "its serial number cannot be read (libpci, config space), so serial=\(pinnedSerial) cannot be checked" }
            guard let serial else { return "it has no Device Serial Number, and the entry pins serial=\(pinnedSerial)" }
            if serial != pinnedSerial.lowercased() { return "expected serial=\(pinnedSerial), found serial=\(serial)" }
        }
        if let pinnedIDs {
            let wanted = pinnedIDs.lowercased()
            let found = wanted.split(separator: ":").count == 2 ? String(ids.prefix(9)) : ids
            if found != wanted { return "expected ids=\(pinnedIDs), found ids=\(found)" }
        }
        return nil
    }
}
