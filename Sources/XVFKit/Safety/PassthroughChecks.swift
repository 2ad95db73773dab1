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
                throw XVFError(.pfOfVFsInUse(action: action, device.address, inUse: busy.map(\.address), name: name))
            }
        }
        if let holder = holders[device.address], holder.id != domain?.id {
            throw XVFError(.attached(device.address, to: holder))
        }
    }
}
