import SRIOV
import XenPCI

/// What must hold before a device leaves dom0 for a guest. Shared by `xvf assign`, `xvf assignable add`
/// and `xvf boot`.
enum PassthroughChecks {
    /// Refuses a device dom0 depends on (disk behind /, default-route or management interface: `safety`,
    /// read once for all the devices of a command), a PF whose VFs are in use, and a device another
    /// domain holds.
    static func refuse(_ device: PCIDevice, inventory: HostInventory, safety: HostSafety, holders: Holders,
                       except domain: XenDomain? = nil, action: String, force: Bool = false) throws(XVFError) {
        try safety.check([device.address], action: action, force: force)
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
}
