import SRIOV
import XenPCI

/// What must hold before a device leaves dom0 for a guest, and how it is given back when a later step
/// fails. Shared by `xvf assign`, `xvf assignable add` and `xvf release`.
enum PassthroughChecks {
    /// Refuses a device dom0 depends on (disk behind /, default-route or management interface), a PF
    /// whose VFs are in use, and a device another domain holds.
    static func refuse(_ device: PCIDevice, inventory: HostInventory, holders: [PCIAddress: XenDomain],
                       except domain: XenDomain? = nil, action: String, force: Bool = false) throws(XVFError) {
        try HostSafety(inventory).check([device.address], action: action, force: force)
        if device.isPhysicalFunction {
            let busy = inventory.virtualFunctions(of: device).filter { $0.driver != nil || holders[$0.address] != nil }
            if !busy.isEmpty {
                let name = device.interfaceName ?? device.address.description
                throw XVFError(.failed, "refusing to \(action) \(device.address): it is the PF of \(busy.count) VF"
                               + "\(busy.count == 1 ? "" : "s") in use (\(busy.map(\.address.description).joined(separator: ", "))); "
                               + "assign a VF instead (`xvf assign \(name) --dom …` picks one) or remove the VFs (`xvf vfs \(name) 0`)")
            }
        }
        if let holder = holders[device.address], holder.id != domain?.id {
            throw XVFError(.failed, "\(device.address) is attached to domain \(holder.id) (\(holder.name)); "
                           + "release it first with `xvf release \(device.address)`")
        }
    }

    /// Gives a device xvf moved to pciback back to the driver it had: through the toolstack first (it
    /// remembers the driver), then directly in sysfs when Xen refuses (a device it never quarantined).
    /// Returns a sentence saying what happened.
    static func giveBack(_ address: PCIAddress, to driver: String?, toolstack: any Toolstack, root: HostRoot) -> String {
        let link = "sys/bus/pci/devices/\(address)/driver"
        try? toolstack.assignableRemove(.address(address), rebind: true)
        for step in PcibackState.lettingGo(address, bound: root.linkTarget(link) == "pciback", slots: Set(PcibackState.slots(root))) {
            try? step.perform(on: root)
        }
        if let driver, root.linkTarget(link) == nil {
            try? root.writeAttribute("sys/bus/pci/drivers/\(driver)/bind", address.description)
        }
        let now = root.linkTarget(link)
        guard let driver else {
            return now == nil ? "left \(address) without a driver, as it was" : "\(address) is now on \(now!)"
        }
        if now == driver { return "gave \(address) back to \(driver)" }
        return "could not give \(address) back to \(driver) (it is on \(now ?? "no driver")); "
            + "run `echo \(address) > /sys/bus/pci/drivers/\(driver)/bind`"
    }
}

/// Choosing a VF of a PF for a guest.
enum VFPool {
    /// The first VF, lowest index first, that no domain holds, that dom0 does not depend on, and that is
    /// not on a dom0 driver with an interface up.
    static func choose(from pf: PCIDevice, inventory: HostInventory, holders: [PCIAddress: XenDomain]) throws(XVFError)
        -> PCIDevice
    {
        let name = pf.interfaceName ?? pf.address.description
        let vfs = inventory.virtualFunctions(of: pf)
        guard !vfs.isEmpty else {
            throw XVFError(.failed, "\(name) has no VFs; create them with `xvf vfs \(name) N`")
        }
        let safety = HostSafety(inventory)
        var reasons: [String] = []
        for vf in vfs {
            let index = vf.vfIndex.map(String.init) ?? "?"
            if let holder = holders[vf.address] {
                reasons.append("\(index): domain \(holder.id)")
            } else if safety.reason(for: vf.address) != nil {
                reasons.append("\(index): dom0 needs it")
            } else if vf.driver != nil, vf.driver != "pciback", let up = vf.interfaces.first(where: { isUp($0.name, inventory.root) }) {
                reasons.append("\(index): \(up.name) is up")
            } else {
                return vf
            }
        }
        throw XVFError(.failed, "no free VF on \(name): \(reasons.joined(separator: ", ")); "
                       + "release one (`xvf release`) or create more (`xvf vfs \(name) N`)")
    }

    /// IFF_UP in the interface's flags.
    static func isUp(_ interface: String, _ root: HostRoot) -> Bool {
        guard let flags = root.readInteger("sys/class/net/\(interface)/flags") else {
            return root.readText("sys/class/net/\(interface)/operstate") == "up"
        }
        return flags & 1 != 0
    }
}
