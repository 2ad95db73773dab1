import SRIOV
import XenPCI

/// Which VF each lease of the host config gets at `xvf boot`. A lease keeps the VF it had (the bindings
/// file says which) while that VF is still of its PF, within the count the PF gets, needed by no other
/// entry and not by dom0: a guest of the lease may be running with it, which is why a VF a domain holds
/// stays the lease's. Otherwise the lease gets the free VF of its PF with the lowest index: one no domain
/// holds, dom0 does not depend on (`HostSafety`), no other lease or `assignable` entry has, not on pciback
/// for someone else, and not on a dom0 driver whose interface is up. A lease no VF is left for fails on
/// its own line; the others are bound.
struct LeaseBinding {
    /// A lease and its VF.
    struct Bound: Equatable {
        var entry: HostConfig.LeaseEntry
        var vf: PCIAddress
        var index: Int
        /// The PF's label and the VF's index (`eno49/2`), as the plan names it.
        var label: String
        /// Kept from the bindings file, or chosen now.
        var kept: Bool
        /// A domain holds the VF now: its link and pciback state are the guest's, and are left alone.
        var held: Bool
    }

    private(set) var bound: [Bound] = []
    private(set) var problems: [BootPlan.Problem] = []
    /// What the bindings file is to say, in name order.
    private(set) var leases: [Lease] = []

    /// `recreated`: PFs whose VFs are made anew by the plan (nothing of their VFs now matters);
    /// `blocked`: PFs whose count cannot change (their leases keep what the file says, untouched).
    init(config: HostConfig, inventory: HostInventory, holders: Holders, safety: HostSafety,
         assignableNames: [PCIAddress: String?]?, previous: [Lease], recreated: Set<PCIAddress>, blocked: Set<PCIAddress>) {
        // What the VFs of the config's fixed entries are for: the operator chose them.
        var taken = Dictionary(config.assignable.map { ($0.address, "assignable at line \($0.line)") },
                               uniquingKeysWith: { a, _ in a })
        let active = config.leases.filter { !blocked.contains($0.pf) }
        let activeNames = Set(active.map(\.name))
        // A PF's VFs as the plan leaves them: the configured count, else what it has.
        func addresses(of pf: PCIDevice) -> [(index: Int, address: PCIAddress)] {
            guard let sriov = pf.sriov else { return [] }
            return (0..<config.plannedCount(of: pf)).compactMap { index in
                sriov.address(ofVF: index, pf: pf.address).map { (index, $0) }
            }
        }
        func label(_ pf: PCIDevice, _ index: Int) -> String { "\(pf.interfaceName ?? pf.address.description)/\(index)" }
        /// Why the VF cannot be this lease's now; nil when it can. `keeping`: the lease had it before.
        func unavailable(_ vf: PCIAddress, for lease: HostConfig.LeaseEntry, keeping: Bool) -> String? {
            if let owner = taken[vf] { return owner }
            if recreated.contains(lease.pf) { return nil }
            guard let device = inventory[vf] else { return nil }
            if let holder = holders[vf] { return keeping ? nil : "domain \(holder.id)" }
            if safety.reason(for: vf) != nil { return "dom0 needs it" }
            if device.isOnPciback {
                // On pciback for a guest: free only when it is this lease's (the file or libxl says so).
                let name = assignableNames?[vf] ?? nil
                if keeping || name == lease.name { return nil }
                return name.map { "on pciback as \($0)" } ?? "on pciback"
            }
            if device.driver != nil, let up = device.interfaces.first(where: { VFPool.isUp($0.name, inventory.root) }) {
                return "\(up.name) is up"
            }
            return nil
        }

        var chosen: [String: Bound] = [:]
        // First the leases that can keep their VF, so that no lease earlier in the file takes it from them.
        for entry in active {
            guard let pf = inventory[entry.pf], let before = Leases.named(entry.name, in: previous), before.pf == entry.pf,
                  let vf = before.vf, let index = addresses(of: pf).first(where: { $0.address == vf })?.index,
                  unavailable(vf, for: entry, keeping: true) == nil else { continue }
            taken[vf] = "lease \(entry.name)"
            chosen[entry.name] = Bound(entry: entry, vf: vf, index: index, label: label(pf, index), kept: true,
                                       held: !recreated.contains(entry.pf) && holders[vf] != nil)
        }
        for entry in active where chosen[entry.name] == nil {
            guard let pf = inventory[entry.pf] else { continue }
            var reasons: [String] = []
            for (index, vf) in addresses(of: pf) {
                if let why = unavailable(vf, for: entry, keeping: false) {
                    reasons.append("\(index): \(why)")
                    continue
                }
                taken[vf] = "lease \(entry.name)"
                chosen[entry.name] = Bound(entry: entry, vf: vf, index: index, label: label(pf, index), kept: false, held: false)
                break
            }
            guard chosen[entry.name] == nil else { continue }
            let name = pf.interfaceName ?? pf.address.description
            let count = config.plannedCount(of: pf)
            problems.append(BootPlan.Problem(pf: pf.address, message: "\(config.filename):\(entry.line): lease \(entry.name): "
                + "no free VF of \(inventory.label(pf)) for it"
                + (reasons.isEmpty ? " (it gets no VFs)" : ": VF " + reasons.joined(separator: ", VF "))
                + "; raise its count (sriov = [ '\(name),vfs=\(count + 1)' ]) or free a VF; the other leases are bound"))
        }
        bound = active.compactMap { chosen[$0.name] }

        // The file: this run's leases, and those of PFs the run leaves alone as the file had them.
        var file = active.map { entry in
            Lease(name: entry.name, pf: entry.pf, vf: chosen[entry.name]?.vf, settings: entry.settings)
        }
        for lease in previous where !activeNames.contains(lease.name) && config.names.contains(lease.name) {
            file.append(lease)
        }
        leases = file.sorted { $0.name < $1.name }
    }
}
