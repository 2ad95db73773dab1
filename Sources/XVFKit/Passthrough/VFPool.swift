import SRIOV
import XenPCI

/// Choosing a VF of a PF for a guest.
enum VFPool {
    /// The first VF, lowest index first, that no domain holds, that dom0 does not depend on, and that is
    /// not on a dom0 driver with an interface up.
    /// `taken`: VFs already chosen for the same guest (its other devices, given back together). A VF
    /// bound to a lease (`leases`) is that lease's: never handed to another guest from the pool.
    /// `safety`: read once by the command, not again for every device it chooses.
    static func choose(from pf: PCIDevice, inventory: HostInventory, safety: HostSafety, holders: Holders, leases: [Lease],
                       taken: Set<PCIAddress> = []) throws(XVFError) -> PCIDevice
    {
        let name = pf.interfaceName ?? pf.address.description
        let vfs = inventory.virtualFunctions(of: pf)
        guard !vfs.isEmpty else {
            throw XVFError(.noVFs(pf: name))
        }
        var reasons: [String] = []
        for vf in vfs {
            let index = vf.vfIndex.map(String.init) ?? "?"
            if let holder = holders[vf.address] {
                reasons.append("\(index): domain \(holder.id)")
            } else if taken.contains(vf.address) {
                reasons.append("\(index): chosen for another of the guest's devices")
            } else if let lease = Leases.holding(vf.address, in: leases) {
                reasons.append("\(index): lease \(lease.name)")
            } else if safety.reason(for: vf.address) != nil {
                reasons.append("\(index): dom0 needs it")
            } else if vf.driver != nil, !vf.isOnPciback, let up = vf.interfaces.first(where: { isUp($0.name, inventory.root) }) {
                reasons.append("\(index): \(up.name) is up")
            } else {
                return vf
            }
        }
        throw XVFError(.noFreeVF(pf: name, reasons: reasons))
    }

    /// IFF_UP in the interface's flags.
    static func isUp(_ interface: String, _ root: HostRoot) -> Bool {
        guard let flags = root.readInteger("sys/class/net/\(interface)/flags") else {
            return root.readText("sys/class/net/\(interface)/operstate") == "up"
        }
        return flags & 1 != 0
    }
}
