import SRIOV
import XenPCI

/// Putting back a device that `xvf assign` or `xvf assignable add` made assignable, when a later step
/// fails.
enum AssignableUndo {
    /// Gives a device xvf moved to pciback back to the driver it had: through the toolstack first (it
    /// remembers the driver), then directly in sysfs when Xen refuses (a device it never quarantined).
    /// Returns a sentence saying what happened.
    static func giveBack(_ address: PCIAddress, to driver: String?, toolstack: any Toolstack, root: HostRoot) -> String {
        try? toolstack.assignableRemove(.address(address), rebind: true)
        for step in PcibackState.lettingGo(address, bound: root.driver(of: address) == PCIDevice.pcibackDriver, slots: Set(PcibackState.slots(root))) {
            try? step.perform(on: root)
        }
        if let driver, root.driver(of: address) == nil {
            try? root.writeAttribute("sys/bus/pci/drivers/\(driver)/bind", address.description)
        }
        let now = root.driver(of: address)
        guard let driver else {
            return now == nil ? "left \(address) without a driver, as it was" : "\(address) is now on \(now!)"
        }
        if now == driver { return "gave \(address) back to \(driver)" }
        return "could not give \(address) back to \(driver) (it is on \(now ?? "no driver")); "
            + "run `echo \(address) > /sys/bus/pci/drivers/\(driver)/bind`"
    }
}
