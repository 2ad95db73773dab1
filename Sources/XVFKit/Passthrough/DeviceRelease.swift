import SRIOV
import XenPCI

/// `xvf release DEVICE [--dom DOM] [--force] [--to-dom0]`: detach a device from the domain that holds it
/// (it stays on pciback, ready for another guest) and, with `toDom0`, give it back to its dom0 driver.
public enum DeviceRelease {
    public static func run(_ deviceText: String, domain domainText: String?, force: Bool, toDom0: Bool,
                           on host: Host, dryRun: Bool) throws(XVFError) -> ChangeReport {
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            try Plan(deviceText, domain: domainText, toDom0: toDom0, toolstack: toolstack, host: host)
        }, planned: { planned in
            planned.dryRun(domain: domainText, force: force, toDom0: toDom0, host: host)
        }, apply: { (planned, toolstack) throws(XVFError) in
            try release(planned, force: force, toDom0: toDom0, toolstack: toolstack, host: host)
        })
    }

    /// What a release finds and will do, read from the host (again under the lock).
    struct Plan {
        var device: PCIDevice
        var label: String
        var holders: Holders
        var holder: XenDomain?
        /// Whether the toolstack said who holds what (a dry run may plan without it).
        var holdersKnown: Bool
        var handOver: VFHandOver?
        var settingsBack: SettingsBack?
        /// A VF detached before (by xl, or a release stopped half-way) may still have its settings to put back.
        var onlySettings: Bool
        var spec: PCISpec
        /// The lease whose VF this is: it goes back to the lease's link and stays assignable under its name.
        var lease: Lease?

        init(_ deviceText: String, domain domainText: String?, toDom0: Bool, toolstack: (any Toolstack)?,
             host: Host) throws(XVFError) {
            if let leased = try Leases.device(deviceText, host: host) { device = leased } else { device = try host.device(deviceText) }
            let inventory = try host.inventory()
            let lease = try Self.lease(of: device.address, host: host)
            self.lease = lease
            if let lease, toDom0 {
                throw XVFError(.leaseVFToDom0(label: inventory.label(device), lease: lease.name))
            }
            label = inventory.label(device)
            holders = try toolstack?.currentHolders() ?? [:]
            holdersKnown = toolstack != nil
            holder = holders[device.address]
            if let domainText, let toolstack {
                let wanted = try toolstack.resolveDomain(domainText)
                if let holder, holder.id != wanted.id {
                    throw XVFError(.attachedToOther(label: label, holder: holder, named: wanted))
                }
                if holder == nil { throw XVFError(.notAttachedToDomain(label: label, wanted)) }
            }
            let onPciback = inventory[device.address]?.isOnPciback == true
            handOver = VFHandOver(device, inventory: inventory)
            settingsBack = try handOver.flatMap { (handOver) throws(XVFError) in
                try settingsToPutBack(handOver, lease: lease, host: host, inventory: inventory)
            }
            onlySettings = holder == nil && settingsBack != nil && !(toDom0 && onPciback)
            if let holder {
                ForeignToolstack.warnIfLibvirt(holder, root: host.root)
                if let toolstack, let warning = XSA476.warning(toolstack) { Warnings.add(warning) }
            }
            // A give-back interrupted after pciback let go and before a driver took it: only the probe is left.
            let unbound = inventory[device.address]?.driver == nil
            if toolstack != nil && holder == nil && !(toDom0 && (onPciback || unbound)) && !onlySettings {
                throw XVFError(.notAttachedToAny(label: label, onPciback: onPciback))
            }
            do { spec = try PCISpec(address: device.address) } catch { throw XVFError(error) }
        }

        /// The lease holding `vf` in the bindings file; a file that cannot be used is said, and the VF
        /// released as any other.
        static func lease(of vf: PCIAddress, host: Host) throws(XVFError) -> Lease? {
            do { return Leases.holding(vf, in: try Leases.load(root: host.root)) } catch {
                Warnings.add(error.message + "; the VF is released as one of no lease")
                return nil
            }
        }

        func dryRun(domain domainText: String?, force: Bool, toDom0: Bool, host: Host) -> ChangeReport {
            var lines = ["would release \(label)"]
            let from = holder.map { "domain \($0.id) (\($0.name))" } ?? domainText.map { "domain \($0)" } ?? "the domain that holds it"
            if !onlySettings && (holder != nil || !holdersKnown) {
                host.journal.plan("detach", target: device.address.description,
                                  detail: RecordedToolstack.detachDetail(device.address.description,
                                                                         domain: holder.map { "\($0.id)" } ?? domainText ?? "?", force: force))
            }
            if toDom0 {
                host.journal.plan("assignable_remove", target: device.address.description,
                                  detail: RecordedToolstack.assignableRemoveDetail(.address(device.address), rebind: true))
            }
            var number = 0
            if !onlySettings {
                number += 1
                lines.append("  \(number). detach: \(force ? "libxl_device_pci_destroy (forced)" : "libxl_device_pci_remove") \(device.address) from \(from)")
            }
            if toDom0 {
                number += 1
                lines.append("  \(number). give back: libxl_device_pci_assignable_remove \(device.address) rebind=1 (off pciback, back to the driver it had)")
            }
            if let settingsBack, let handOver {
                number += 1
                if let step = settingsBack.step { host.journal.plan(step) }
                lines.append("  \(number). put \(handOver.label)'s link back: " + (settingsBack.step.map { "\($0)" } ?? "it has it already")
                             + " (" + settingsBack.source + ")")
            }
            return ChangeReport(lines)
        }
    }

    static func release(_ plan: Plan, force: Bool, toDom0: Bool, toolstack: any Toolstack,
                        host: Host) throws(XVFError) -> ChangeReport {
        let (device, label, holder, holders, handOver, settingsBack, spec) =
            (plan.device, plan.label, plan.holder, plan.holders, plan.handOver, plan.settingsBack, plan.spec)
        var report: [String] = []
        if let holder {
            do {
                try toolstack.detach(spec, from: holder.id, force: force)
            } catch {
                throw ErrorAdvice.libxl(error, device: device.address, domain: holder, holders: holders)
                    .followed(by: force ? nil : .forceDetaches)
            }
            if (try? toolstack.devices(of: holder.id))?.contains(where: { $0.address == device.address }) == true {
                throw XVFError(.stillListed(label: label, domain: holder))
            }
            report.append("\(label): detached from domain \(holder.id) (\(holder.name)); it stays on pciback")
            // A lease's VF stays assignable under the lease's name, for the next `xl create` that names it.
            if let lease = plan.lease,
               (try? toolstack.assignableList())?.contains(AssignableDevice(address: device.address, name: lease.name)) != true {
                do { try toolstack.assignableAdd(device.address, name: lease.name, rebind: true) } catch {
                    throw XVFError(.leaseRename(lease: lease.name), underlying: ErrorAdvice.libxl(error, device: device.address))
                        .after(report.joined(separator: "; "))
                }
                report.append("\(label): assignable as \(lease.name) again")
            }
        }
        if toDom0 {
            // After a detach, a failure here leaves the device detached: the error says so and where the
            // device is now, since the detach is not undone (the guest has already let the device go).
            func detached(_ error: XVFError) -> XVFError {
                guard let holder else { return error }
                let now = host.root.driver(of: device.address).map { "is on \($0)" } ?? "has no driver"
                return XVFError(.giveBackAfterDetach(label: label, domain: holder, now: now), underlying: error)
            }
            let driver: String?
            do {
                driver = try PcibackState.giveBack(device.address, rebind: true, toolstack: toolstack, root: host.root,
                                                   holders: holders)
            } catch {
                throw detached(error)
            }
            report.append("\(label): back with dom0, " + (driver.map { "on \($0)" } ?? "without a driver (none claims it)"))
        }
        // Last, once no guest has the VF: its link as it was before its first guest, or as the host config says.
        if let settingsBack, let handOver {
            if let step = settingsBack.step {
                do { try step.perform(on: host.root) } catch {
                    throw XVFError(.linkRestore(label: handOver.label), underlying: error).after(report.joined(separator: "; "))
                }
                report.append("\(handOver.label): link put back (\(settingsBack.source)): \(step)")
            }
            try handOver.forget(root: host.root)
        }
        return ChangeReport(report.isEmpty ? ["\(label): not attached, and its link is as before; nothing to do"] : report)
    }

    /// What a released VF's link goes back to, and the step that does it (nil when it has it already).
    struct SettingsBack {
        var step: HostStep?
        /// Where the settings come from, for the report.
        var source: String
    }

    /// The step sets what differs from the VF's link now; all of the target when `ip` cannot say.
    /// A lease's VF goes back to the lease's settings (what `xvf boot` gave it), not to what the host
    /// config says for the VF's index: the index is the lease's only while it holds the VF.
    static func settingsToPutBack(_ handOver: VFHandOver, lease: Lease?, host: Host, inventory: HostInventory) throws(XVFError)
        -> SettingsBack? {
        var recorded: VFLinkSettings?
        switch handOver.recorded(root: host.root) {
        case .success(let settings)?: recorded = settings
        case .failure(let error)?:
            Warnings.add(error.message + "; \(handOver.label)'s link goes back to safe defaults (no MAC, VLAN 0, trust off, "
                         + "spoof checking on) and what the host config sets")
            recorded = VFHandOver.safeDefaults
        case nil: recorded = nil
        }
        var configured: VFLinkSettings?
        if let lease {
            configured = lease.settings.isEmpty ? nil : lease.settings
        } else { do {
            let config = try HostConfig.load(path: nil, root: host.root, inventory: inventory, library: host.library)
            configured = config?.links.first { $0.interface == handOver.interface && $0.index == handOver.index }?.settings
        } catch {
            Warnings.add("the host config cannot be read (\(error.message)); \(handOver.label)'s link goes back as it "
                         + "was before the assign")
        } }
        guard let target = handOver.target(recorded: recorded, configured: configured) else { return nil }
        let source = [recorded.map { _ in "as before the assign" },
                      configured.map { _ in lease.map { "as lease \($0.name) has it" } ?? "as the host config says" }]
            .compactMap { $0 }.joined(separator: ", ")
        let current = handOver.current(root: host.root)
        if current == nil, (try? ProgramGuard.check([.run(["ip"])], root: host.root)) == nil {
            Warnings.add("\(handOver.label): its link is not put back: `ip` cannot be run for this host tree")
            return nil
        }
        return SettingsBack(step: handOver.step(target, from: current), source: source)
    }
}
