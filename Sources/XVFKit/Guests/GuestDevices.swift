import SRIOV
import XenPCI

/// A running guest's devices taken away before its memory is saved (Xen cannot save or move a guest
/// that holds an assigned device: the restored guest crashed in 5 of 7 tries in the lab), and given back
/// once it runs again: each through the same chain as `xvf release` and `xvf assign`, so the checks, the
/// VF's link across guests and the undo of a half-done step are theirs.
enum GuestDevices {
    /// What `domain` holds now, with each device's options and, for a VF, its PF's identity and its link
    /// as the guest has it; nil when it holds no device.
    static func record(of domain: XenDomain, toolstack: any Toolstack, host: Host) throws(XVFError) -> GuestRecord? {
        let attached: [AttachedDevice]
        do { attached = try toolstack.devices(of: domain.id) } catch {
            throw XVFError(.cannotReadDevices(domain), underlying: error)
        }
        guard !attached.isEmpty else { return nil }
        let inventory = try host.inventory()
        let links = IPLinkReport.read(root: host.root)
        let leases = host.leases()
        var devices: [GuestRecord.Device] = []
        for device in attached {
            var spec: PCISpec
            do {
                // An HVM guest sees the device in the slot its device model chose: it goes back there.
                spec = try PCISpec(address: device.address,
                                   vslot: domain.kind == .hvm ? UInt8((device.virtualDevFn >> 3) & 0x1f) : nil,
                                   permissive: device.permissive ? true : nil, msitranslate: device.msitranslate ? true : nil,
                                   powerManagement: device.powerManagement ? true : nil,
                                   rdmPolicy: device.relaxedRDM ? .relaxed : nil)
            } catch { throw XVFError(error) }
            var entry = GuestRecord.Device(address: device.address, spec: spec, pf: nil, index: nil, settings: VFLinkSettings())
            if let found = inventory[device.address], let pfAddress = found.physicalFunction, let pf = inventory[pfAddress] {
                let identity = HardwareIdentity.read(pf, root: host.root, library: host.library)
                entry.pf = GuestRecord.PFIdentity(address: pfAddress, interface: pf.interfaceName, ids: identity.ids,
                                                  serial: identity.serial, permanentMAC: identity.permanentMAC)
                entry.index = found.vfIndex
                entry.lease = Leases.holding(device.address, in: leases)?.name
                if let interface = pf.interfaceName, let index = found.vfIndex, var settings = links?[interface]?[index] {
                    if settings.mac == VFHandOver.noMAC { settings.mac = nil }
                    entry.settings = settings
                }
            }
            devices.append(entry)
        }
        return GuestRecord(domain: domain.name, kind: domain.kind, devices: devices)
    }

    /// Detaches every device of `record` from `domain`, as `xvf release` does (the guest lets it go; a VF's
    /// link goes back to what it had before its first guest). When one fails, those already detached are
    /// given back, and the error says what happened to each. Returns the lines each release reported.
    static func takeAway(_ record: GuestRecord, from domain: XenDomain, toolstack: any Toolstack,
                         host: Host) throws(XVFError) -> [String] {
        var report: [String] = []
        var detached: [GuestRecord.Device] = []
        for device in record.devices {
            do {
                host.reload()
                let plan = try DeviceRelease.Plan(device.address.description, domain: String(domain.id), toDom0: false,
                                                  toolstack: toolstack, host: host)
                report += try DeviceRelease.release(plan, force: false, toDom0: false, toolstack: toolstack, host: host).lines
                detached.append(device)
            } catch {
                guard !detached.isEmpty else { throw error }
                var partial = record
                partial.devices = detached
                let back = giveBack(partial, to: domain, devices: detached.compactMap { host.inventoryDevice($0.address) },
                                    toolstack: toolstack, host: host)
                throw XVFError(.deviceStep(device.address), underlying: error)
                    .followed(by: back.failures.isEmpty ? .gaveBackDetached(domain)
                              : .report(back.failures.joined(separator: "; ")))
            }
        }
        return report
    }

    /// The device each recorded one goes to, chosen before anything changes: the same device when it is
    /// there, free (or held by `domain` already) and, for a VF, still of the same PF; else for a VF a free
    /// VF of that PF (found by its hardware when it moved), lowest index first. Throws, naming the device,
    /// when one has nowhere to go. A record written on `anotherHost` names hardware this host cannot have:
    /// there the PF is the one of the same model under the same interface name, else at the same address.
    /// `safety` is read only when a VF comes from a pool.
    static func choose(_ record: GuestRecord, for domain: XenDomain?, inventory: HostInventory, holders: Holders,
                       leases: [Lease], identity: (PCIDevice) -> HardwareIdentity,
                       safety: () throws(XVFError) -> HostSafety, anotherHost: Bool = false)
        throws(XVFError) -> [PCIDevice] {
        var chosen: [PCIDevice] = []
        var taken: Set<PCIAddress> = []
        for entry in record.devices {
            let pf = entry.pf.flatMap {
                physicalFunction($0, inventory: inventory, identity: identity)
                    ?? (anotherHost ? sameModel($0, inventory: inventory, identity: identity) : nil)
            }
            // Free for this guest: held by no other domain, and bound to no lease but its own.
            func isFree(_ device: PCIDevice) -> Bool {
                let lease = Leases.holding(device.address, in: leases)?.name
                return !taken.contains(device.address) && (holders[device.address] == nil || holders[device.address]?.id == domain?.id)
                    && (lease == nil || lease == entry.lease)
            }
            // A leased VF comes back as its lease's VF, wherever `xvf boot` bound the lease since.
            if let name = entry.lease, let bound = Leases.named(name, in: leases)?.vf, let device = inventory[bound], isFree(device) {
                chosen.append(device)
                taken.insert(device.address)
                continue
            }
            if let same = inventory[entry.address], isFree(same), entry.pf == nil || same.physicalFunction == pf?.address {
                chosen.append(same)
                taken.insert(same.address)
                continue
            }
            guard let recordedPF = entry.pf else {
                throw XVFError(.cannotStandIn(entry.address, domain: record.domain, present: inventory[entry.address] != nil,
                                              holder: holders[entry.address]))
            }
            guard let pf else {
                throw XVFError(.recordedPFMissing(entry.address, pf: recordedPF.interface ?? recordedPF.address.description,
                                                  ids: recordedPF.ids, domain: record.domain))
            }
            let vf = try VFPool.choose(from: pf, inventory: inventory, safety: try safety(),
                                       holders: holders.filter { $0.value.id != domain?.id }, leases: leases, taken: taken)
            chosen.append(vf)
            taken.insert(vf.address)
        }
        return chosen
    }

    /// The PF a recorded identity stands for now: at its address when the hardware there is the same,
    /// else wherever its serial number or permanent MAC is.
    static func physicalFunction(_ identity: GuestRecord.PFIdentity, inventory: HostInventory,
                                 identity read: (PCIDevice) -> HardwareIdentity) -> PCIDevice? {
        func same(_ pf: PCIDevice) -> Bool {
            let now = read(pf)
            guard now.ids == identity.ids else { return false }
            if let serial = identity.serial, now.serialKnown { return now.serial == serial }
            if let mac = identity.permanentMAC, let found = now.permanentMAC { return found == mac }
            return pf.address == identity.address
        }
        if let there = inventory[identity.address], there.isPhysicalFunction, same(there) { return there }
        guard identity.serial != nil || identity.permanentMAC != nil else { return nil }
        return inventory.physicalFunctions.first { $0.address != identity.address && same($0) }
    }

    /// On another host: the PF of the same model (ids) with the recorded interface name, else at the
    /// recorded address. Hosts that migrate guests to each other name the NICs on one network alike, as
    /// they name the bridges of the guests' netfronts alike.
    static func sameModel(_ identity: GuestRecord.PFIdentity, inventory: HostInventory,
                          identity read: (PCIDevice) -> HardwareIdentity) -> PCIDevice? {
        if let interface = identity.interface,
           let named = inventory.physicalFunctions.first(where: { $0.interfaceName == interface }), read(named).ids == identity.ids {
            return named
        }
        guard let there = inventory[identity.address], there.isPhysicalFunction, read(there).ids == identity.ids else { return nil }
        return there
    }

    /// Gives `domain` its recorded devices on `devices` (from `choose`), each through `xvf assign`'s chain
    /// with its options and link; one that fails is undone by that chain and named with the command that
    /// finishes it, and the others still go.
    static func giveBack(_ record: GuestRecord, to domain: XenDomain, devices: [PCIDevice], toolstack: any Toolstack,
                         host: Host) -> (lines: [String], failures: [String], missing: [GuestRecord.Device]) {
        var lines: [String] = []
        var failures: [String] = []
        var missing: [GuestRecord.Device] = []
        for (entry, device) in zip(record.devices, devices) {
            var spec = entry.spec
            spec.address = device.address
            var request = AssignRequest(target: spec.canonical, pf: nil, domain: String(domain.id))
            request.settings = device.physicalFunction != nil ? entry.settings : VFLinkSettings()
            do {
                host.reload()
                let selection = try Assignment.Selection(request, host: host)
                let inventory = try host.inventory()
                let choice = try Assignment.choose(selection, request, inventory: inventory, safety: try host.safety(),
                                                   toolstack: toolstack)
                let given = try Assignment.perform(choice, inventory: inventory, toolstack: toolstack, root: host.root)
                lines += given.lines
            } catch {
                let instead = device.address == entry.address ? "" : " (instead of \(entry.address))"
                failures.append("\(device.address)\(instead) was not given back to domain \(domain.id) "
                                + "(\(domain.name)): \(error.message); `xvf assign \(assignArguments(spec, entry, domain))` "
                                + "gives it")
                missing.append(entry)
            }
        }
        return (lines, failures, missing)
    }

    /// The `xvf assign` arguments that give the guest the device by hand.
    static func assignArguments(_ spec: PCISpec, _ entry: GuestRecord.Device, _ domain: XenDomain) -> String {
        let settings = entry.settings
        var words = [spec.canonical, "--dom", domain.name]
        if let mac = settings.mac { words += ["--mac", mac] }
        if let vlan = settings.vlan, vlan != 0 { words += ["--vlan", String(vlan)] + (settings.qos.map { ["--qos", String($0)] } ?? []) }
        if let trust = settings.trust, trust { words += ["--trust", "on"] }
        if let spoofCheck = settings.spoofCheck, !spoofCheck { words += ["--spoofchk", "off"] }
        return words.joined(separator: " ")
    }
}

extension Host {
    /// The device at `address` as the host is now, nil when it is gone.
    func inventoryDevice(_ address: PCIAddress) -> PCIDevice? {
        reload()
        return (try? inventory())?[address]
    }

    /// A PF's hardware identity as this host reads it (libpci opened only when first asked).
    func hardwareIdentity(_ pf: PCIDevice) -> HardwareIdentity {
        HardwareIdentity.read(pf, root: root, library: library)
    }
}
