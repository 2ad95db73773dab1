import SRIOV
import XenPCI

/// `xvf assignable add|list|remove`: xl's pci-assignable steps, through the toolstack, with xvf's checks.
public enum AssignableDevices {
    public static func add(_ names: [String], name: String?, rebind: Bool, on host: Host,
                           dryRun: Bool) throws(XVFError) -> String {
        var devices: [PCIDevice] = []
        for text in names {
            for found in try host.resolve(text) {
                guard let device = found.device else { throw XVFError(.badInput, "'\(text)': \(found.address) does not exist yet") }
                devices.append(device)
            }
        }
        if name != nil && devices.count != 1 {
            throw XVFError(.badInput, "--name gives one device a name; \(devices.count) devices were named")
        }
        if let name {
            do { _ = try PCISpec(address: nil, name: name) } catch { throw XVFError(.badInput, error.description) }
        }
        let toolstack = dryRun ? (host.isXenDom0 ? try? host.openToolstack() : nil) : try host.openToolstack()
        let inventory = try host.inventory()
        let holders = try toolstack?.currentAssignments() ?? [:]
        for device in devices {
            try PassthroughChecks.refuse(device, inventory: inventory, holders: holders, action: "make assignable")
        }
        guard let toolstack, !dryRun else {
            return "dry run: nothing changed\n" + devices.map { device in
                "  libxl_device_pci_assignable_add \(device.address) rebind=\(rebind ? 1 : 0)"
                    + (name.map { " name=\($0)" } ?? "")
                    + (device.driver == "pciback" ? " (already on pciback)" : " (unbind from \(device.driver ?? "no driver"), bind to pciback)")
            }.joined(separator: "\n") + "\n"
        }
        let lock = try HostLock(host.root)
        defer { withExtendedLifetime(lock) {} }
        var report = ""
        for device in devices {
            let label = PassthroughChecks.label(device, inventory: inventory)
            do {
                try toolstack.assignableAdd(device.address, name: name, rebind: rebind)
            } catch {
                // Without an IOMMU libxl fails to quarantine yet leaves the device on pciback: undo that.
                var undone = ""
                if device.driver != "pciback",
                   host.root.linkTarget("sys/bus/pci/devices/\(device.address)/driver") == "pciback" {
                    undone = "; " + PassthroughChecks.giveBack(device.address, to: device.driver, toolstack: toolstack, root: host.root)
                }
                let failure = XenFailure.explain(error, device: device.address, holders: holders)
                throw XVFError(failure.kind, (report.isEmpty ? "" : "(\(report.split(separator: "\n").count) done before) ")
                               + failure.message + undone)
            }
            report += device.driver == "pciback"
                ? "\(label): already on pciback; assignable\n"
                : "\(label): assignable (was on \(device.driver ?? "no driver")\(rebind ? ", remembered for remove --rebind" : ""))\n"
        }
        return report
    }

    public static func list(on host: Host, json: Bool) throws(XVFError) -> String {
        let toolstack = try host.openToolstack()
        let assignable: [AssignableDevice]
        do { assignable = try toolstack.assignableList() } catch { throw XenFailure.explain(error, device: nil) }
        let inventory = try host.inventory()
        func deviceName(_ address: PCIAddress) -> String? {
            guard let device = inventory[address] else { return nil }
            if let pf = device.physicalFunction, let index = device.vfIndex {
                return "\(inventory[pf]?.interfaceName ?? pf.description)/\(index)"
            }
            return device.interfaceName
        }
        if json {
            return JSON.object([("assignable", .array(assignable.map {
                .object([("bdf", .string($0.address.description)), ("device", .string(deviceName($0.address))),
                         ("name", .string($0.name))])
            }))]).serialized() + "\n"
        }
        if assignable.isEmpty { return "No assignable devices (none on pciback that a domain does not hold).\n" }
        var table = Table(["BDF", "DEVICE", "NAME"])
        for device in assignable {
            table.append([device.address.description, deviceName(device.address) ?? "-", device.name ?? "-"])
        }
        return table.render()
    }

    public static func remove(_ names: [String], rebind: Bool, on host: Host, dryRun: Bool) throws(XVFError) -> String {
        let toolstack = dryRun ? (host.isXenDom0 ? try? host.openToolstack() : nil) : try host.openToolstack()
        let named = Dictionary(((try? toolstack?.assignableList()) ?? []).compactMap { device in
            device.name.map { ($0, device.address) }
        }, uniquingKeysWith: { first, _ in first })
        // Like xl: an argument is a name first, then a device.
        var targets: [(AssignableReference, String)] = []
        for text in names {
            if named[text] != nil {
                targets.append((.name(text), text))
                continue
            }
            for found in try host.resolve(text) { targets.append((.address(found.address), found.address.description)) }
        }
        guard let toolstack, !dryRun else {
            return "dry run: nothing changed\n" + targets.map {
                "  libxl_device_pci_assignable_remove \($0.0) rebind=\(rebind ? 1 : 0)"
            }.joined(separator: "\n") + "\n"
        }
        let lock = try HostLock(host.root)
        defer { withExtendedLifetime(lock) {} }
        let holders = try toolstack.currentAssignments()
        var report = ""
        for (reference, text) in targets {
            let address: PCIAddress? = switch reference {
            case .address(let address): address
            case .name(let name): named[name]
            }
            if let address, let holder = holders[address] {
                throw XVFError(.failed, "\(address) is attached to domain \(holder.id) (\(holder.name)); "
                               + "`xvf release \(address)` first")
            }
            do {
                try toolstack.assignableRemove(reference, rebind: rebind)
            } catch {
                throw XenFailure.explain(error, device: address, holders: holders)
            }
            let driver = address.flatMap { host.root.linkTarget("sys/bus/pci/devices/\($0)/driver") }
            report += "\(text): no longer assignable; " + (driver.map { "on \($0)" } ?? "no driver"
                + (rebind ? " (none was remembered)" : " (add --rebind to give it back to its driver)")) + "\n"
        }
        return report
    }
}
