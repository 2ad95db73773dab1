import SRIOV
import XenPCI

/// `xvf release DEVICE [--dom DOM] [--force] [--to-dom0]`: detach a device from the domain that holds it
/// (it stays on pciback, ready for another guest) and, with `toDom0`, give it back to its dom0 driver.
public enum DeviceRelease {
    public static func run(_ deviceText: String, domain domainText: String?, force: Bool, toDom0: Bool,
                           on host: Host, dryRun: Bool) throws(XVFError) -> String {
        let device = try host.device(deviceText)
        let toolstack: (any Toolstack)?
        if dryRun {
            toolstack = host.isXenDom0 ? try? host.openToolstack() : nil
        } else {
            toolstack = try host.openToolstack()
        }
        let inventory = try host.inventory()
        let label = inventory.label(device)
        let holders = try toolstack?.currentAssignments() ?? [:]
        let holder = holders[device.address]
        if let domainText, let toolstack {
            let wanted = try toolstack.resolveDomain(domainText)
            if let holder, holder.id != wanted.id {
                throw XVFError(.failed, "\(label) is attached to domain \(holder.id) (\(holder.name)), not to domain "
                               + "\(wanted.id) (\(wanted.name)); leave out --dom or name that domain")
            }
            if holder == nil { throw XVFError(.failed, "\(label) is not attached to domain \(wanted.id) (\(wanted.name))") }
        }
        let onPciback = inventory[device.address]?.driver == "pciback"
        if toolstack != nil && holder == nil && !(toDom0 && onPciback) {
            throw XVFError(.failed, "\(label) is not attached to any domain"
                           + (onPciback ? "; it is on pciback (add --to-dom0 to give it back to dom0)" : "; nothing to release"))
        }
        let spec: PCISpec
        do { spec = try PCISpec(address: device.address) } catch { throw XVFError(.badInput, error.description) }

        guard let toolstack, !dryRun else {
            var lines = ["dry run: would release \(label); nothing changed"]
            let from = holder.map { "domain \($0.id) (\($0.name))" } ?? domainText.map { "domain \($0)" } ?? "the domain that holds it"
            if holder != nil || toolstack == nil {
                host.journal.plan("detach", target: device.address.description,
                                  detail: RecordedToolstack.detachDetail(device.address.description,
                                                                         domain: holder.map { "\($0.id)" } ?? domainText ?? "?", force: force))
            }
            if toDom0 {
                host.journal.plan("assignable_remove", target: device.address.description,
                                  detail: RecordedToolstack.assignableRemoveDetail(.address(device.address), rebind: true))
            }
            lines.append("  1. detach: \(force ? "libxl_device_pci_destroy (forced)" : "libxl_device_pci_remove") \(device.address) from \(from)")
            if toDom0 {
                lines.append("  2. give back: libxl_device_pci_assignable_remove \(device.address) rebind=1 (off pciback, back to the driver it had)")
            }
            return lines.joined(separator: "\n") + "\n"
        }
        // Checked without the lock so that a refusal leaves no trace; checked again under it.
        let lock = try HostLock(host.root)
        defer { withExtendedLifetime(lock) {} }
        if try toolstack.currentAssignments()[device.address]?.id != holder?.id {
            throw XVFError(.failed, "\(label) changed hands while xvf was starting; run the command again")
        }
        var report = ""
        if let holder {
            do {
                try toolstack.detach(spec, from: holder.id, force: force)
            } catch {
                let failure = XenFailure.explain(error, device: device.address, domain: holder, holders: holders)
                throw XVFError(failure.kind, failure.message + (force ? "" : "; --force detaches without the guest's help"))
            }
            if (try? toolstack.devices(of: holder.id))?.contains(where: { $0.address == device.address }) == true {
                throw XVFError(.failed, "domain \(holder.id) still lists \(label) after the detach; try --force")
            }
            report += "\(label): detached from domain \(holder.id) (\(holder.name)); it stays on pciback\n"
        }
        if toDom0 {
            // After a detach, a failure here leaves the device detached: the error says so and where the
            // device is now, since the detach is not undone (the guest has already let the device go).
            let driverLink = "sys/bus/pci/devices/\(device.address)/driver"
            func detached() -> String {
                guard let holder else { return "" }
                let now = host.root.linkTarget(driverLink).map { "is on \($0)" } ?? "has no driver"
                return "\(label) was detached from domain \(holder.id) (\(holder.name)) and \(now); "
                    + "giving it back to dom0 failed: "
            }
            do {
                try toolstack.assignableRemove(.address(device.address), rebind: true)
            } catch where error.log.contains(where: { $0.contains("failed to de-quarantine") }) {
                // Put on pciback outside libxl (the hide list, driver_override): Xen never quarantined it,
                // so take it off pciback directly. Only a device pciback has a slot for needs remove_slot.
                let address = device.address.description
                do {
                    if host.root.linkTarget(driverLink) == "pciback" {
                        try host.root.writeAttribute(PcibackState.directory + "/unbind", address)
                    }
                    if PcibackState.slots(host.root).contains(device.address) {
                        try host.root.writeAttribute(PcibackState.directory + "/remove_slot", address)
                    }
                } catch {
                    throw XVFError(.failed, detached() + "Xen never quarantined it, and taking it off pciback "
                                   + "failed: \(error)")
                }
            } catch {
                let failure = XenFailure.explain(error, device: device.address, holders: holders)
                throw XVFError(failure.kind, detached() + failure.message)
            }
            var driver = host.root.linkTarget(driverLink)
            if driver == nil {
                // No driver was remembered (made assignable without rebind): let the kernel choose one.
                try? host.root.writeAttribute("sys/bus/pci/drivers_probe", device.address.description)
                driver = host.root.linkTarget(driverLink)
            }
            report += "\(label): back with dom0, " + (driver.map { "on \($0)" } ?? "without a driver (none claims it)") + "\n"
        }
        return report
    }
}
