import SRIOV
import XenPCI

/// The doctor's checks of leases and of the domain configs that use them: every lease of the host config
/// has a VF, no two domain configs under /etc/xen name the same lease or the same VF (the second guest
/// to start would find its device taken), and no domain config names by address a VF a lease holds
/// (it would take the lease's VF from the guest that names the lease). Each is made only where there is
/// something to check: a host without leases or domain configs with `pci` lists sees none of them.
enum LeaseChecks {
    /// A domain config's `pci` list as libxlutil reads it.
    struct DomainConfig {
        var file: String
        var specs: [PCISpec]
    }

    static func checks(config: HostConfig?, root: HostRoot, inventory: HostInventory) -> [Doctor.Check] {
        var checks: [Doctor.Check] = []
        var leases: [Lease] = []
        var leasesUsable = true
        do { leases = try Leases.load(root: root) } catch {
            leasesUsable = false
            checks.append(Doctor.Check(id: "leases", status: .fail, message: error.message,
                                       fix: "remove /\(Leases.path) (root's, mode 0644, in root's directories) and run `xvf boot`"))
        }
        if let config, !config.leases.isEmpty, leasesUsable {
            var unbound: [String] = []
            // A lease written since the last `xvf boot` waits for the next one: a step still to take, not a fault.
            var pending: [String] = []
            for entry in config.leases {
                guard let lease = Leases.named(entry.name, in: leases), lease.pf == entry.pf else {
                    pending.append(entry.name)
                    continue
                }
                guard let vf = lease.vf else {
                    unbound.append("\(entry.name) found no free VF of \(inventory[entry.pf].map { inventory.label($0) } ?? entry.pf.description)")
                    continue
                }
                if inventory[vf] == nil { unbound.append("\(entry.name)'s VF \(vf) is not on the host") }
            }
            if !pending.isEmpty {
                unbound.append((pending.count == 1 ? "\(pending[0]) is" : "\(pending.joined(separator: ", ")) are")
                               + " not bound yet")
            }
            if unbound.isEmpty {
                checks.append(Doctor.Check(id: "leases", status: .pass, message: "every lease of the host config has a VF: "
                    + config.leases.compactMap { entry in Leases.named(entry.name, in: leases)?.vf.map { "\(entry.name) \($0)" } }
                        .joined(separator: ", "), fix: nil))
            } else {
                checks.append(Doctor.Check(id: "leases", status: unbound.count == 1 && !pending.isEmpty ? .warn : .fail,
                                           message: "leases without a VF: " + unbound.joined(separator: "; "),
                                           fix: "run `xvf boot` (with --dry-run first: it says which VFs are taken, and why)"))
            }
        }

        let domains = domainConfigs(root)
        guard domains.contains(where: { !$0.specs.isEmpty }) else { return checks }
        // Who names each lease and each VF.
        var byName: [String: [String]] = [:]
        var byAddress: [PCIAddress: [String]] = [:]
        for domain in domains {
            for spec in domain.specs {
                if let address = spec.address { byAddress[address, default: []].append(domain.file) }
                if let name = spec.name { byName[name, default: []].append(domain.file) }
            }
        }
        var shared: [String] = []
        for (name, files) in byName.sorted(by: { $0.key < $1.key }) where Set(files).count > 1 {
            shared.append("name=\(name) in \(Set(files).sorted().joined(separator: " and "))")
        }
        for (address, files) in byAddress.sorted(by: { $0.key < $1.key }) where Set(files).count > 1 {
            shared.append("\(address) in \(Set(files).sorted().joined(separator: " and "))")
        }
        if shared.isEmpty {
            checks.append(Doctor.Check(id: "domain-configs", status: .pass, message: "no two domain configs under /etc/xen "
                                       + "name the same device", fix: nil))
        } else {
            checks.append(Doctor.Check(id: "domain-configs", status: .warn, message: "domain configs name the same device, so "
                + "the second guest to start finds it taken: " + shared.joined(separator: "; "),
                fix: "give each guest a lease of its own (assignable = [ 'PF,name=NAME' ] in the host config, "
                    + "`xvf cfg add FILE NAME`)"))
        }

        let bound = leases.filter { $0.vf != nil }
        guard !bound.isEmpty else { return checks }
        var taken: [String] = []
        for (address, files) in byAddress.sorted(by: { $0.key < $1.key }) {
            guard let lease = Leases.holding(address, in: leases) else { continue }
            taken.append("\(Set(files).sorted().joined(separator: " and ")) name\(Set(files).count == 1 ? "s" : "") \(address), "
                         + "the VF of lease \(lease.name)")
        }
        if taken.isEmpty {
            checks.append(Doctor.Check(id: "leased-vfs", status: .pass, message: "no domain config names a leased VF by its "
                                       + "address", fix: nil))
        } else {
            checks.append(Doctor.Check(id: "leased-vfs", status: .warn, message: taken.joined(separator: "; ")
                + ": a guest that names it takes it from the lease's guest, and the next boot may bind the lease to another VF",
                fix: "name the lease instead (`xvf cfg remove FILE ADDRESS`, then `xvf cfg add FILE NAME`), or use a VF no lease holds"))
        }
        return checks
    }

    /// The xl domain configs under /etc/xen (`*.cfg`, and the links of `auto/`, each file once), with
    /// their `pci` lists; a file libxlutil cannot read is left out (xl would refuse it too).
    static func domainConfigs(_ root: HostRoot) -> [DomainConfig] {
        var seen: Set<String> = []
        var found: [DomainConfig] = []
        let candidates = root.list("etc/xen").filter { $0.hasSuffix(".cfg") }.sorted().map { "etc/xen/" + $0 }
            + root.list("etc/xen/auto").sorted().map { "etc/xen/auto/" + $0 }
        for relative in candidates where relative != HostConfig.defaultPath {
            guard let real = root.resolve(relative), !seen.contains(real) else { continue }
            seen.insert(real)
            guard let text = try? root.editableText(relative),
                  let config = try? XLConfig(parsing: text, filename: "/" + relative),
                  let items = try? config.stringList("pci") else { continue }
            found.append(DomainConfig(file: "/" + relative, specs: items.compactMap { try? PCISpec(parsing: $0) }))
        }
        return found
    }
}
