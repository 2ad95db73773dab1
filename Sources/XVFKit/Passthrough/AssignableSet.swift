import SRIOV
import XenPCI

/// `xvf assignable add|list|remove`: xl's pci-assignable steps, through the toolstack, with xvf's checks.
public enum AssignableSet {
    public static func add(_ names: [String], name: String?, rebind: Bool, on host: Host,
                           dryRun: Bool) throws(XVFError) -> ChangeReport {
        if let name {
            do { _ = try PCISpec(address: nil, name: name) } catch { throw XVFError(error) }
        }
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            try AddPlan(names, name: name, toolstack: toolstack, host: host)
        }, planned: { planned in
            for device in planned.devices where !planned.alreadyDone(device) {
                host.journal.plan("assignable_add", target: device.address.description,
                                  detail: RecordedToolstack.assignableAddDetail(device.address, name: name, rebind: rebind))
            }
            return ChangeReport(planned.devices.map { device in
                "libxl_device_pci_assignable_add \(device.address) rebind=\(rebind ? 1 : 0)"
                    + (name.map { " name=\($0)" } ?? "")
                    + (device.isOnPciback ? " (already on pciback)" : " (unbind from \(device.driver ?? "no driver"), bind to pciback)")
            })
        }, apply: { (planned, toolstack) throws(XVFError) in
            try planned.apply(rebind: rebind, toolstack: toolstack, root: host.root)
        })
    }

    /// The devices `assignable add` names, checked, with what libxl already has.
    struct AddPlan {
        var devices: [PCIDevice] = []
        var name: String?
        var inventory: HostInventory
        var holders: Holders
        var assignable: [PCIAddress: String?]

        init(_ names: [String], name: String?, toolstack: (any Toolstack)?, host: Host) throws(XVFError) {
            for text in names {
                for found in try host.resolve(text) {
                    guard let device = found.device else { throw XVFError(.notCreatedYetAt(name: text, address: found.address)) }
                    devices.append(device)
                }
            }
            if name != nil && devices.count != 1 {
                throw XVFError(.nameNeedsOneDevice(count: devices.count))
            }
            self.name = name
            inventory = try host.inventory()
            holders = try toolstack?.currentHolders() ?? [:]
            let safety = try host.safety()
            for device in devices {
                try PassthroughChecks.refuse(device, inventory: inventory, safety: safety, holders: holders,
                                             action: "make assignable")
            }
            assignable = Dictionary(((try? toolstack?.assignableList()) ?? []).map { ($0.address, $0.name) },
                                    uniquingKeysWith: { first, _ in first })
        }

        /// Already assignable under the name asked for (or with no name asked): nothing to do, so a second
        /// identical run changes nothing.
        func alreadyDone(_ device: PCIDevice) -> Bool {
            guard device.isOnPciback, let current = assignable[device.address] else { return false }
            return name == nil || current == name
        }

        func apply(rebind: Bool, toolstack: any Toolstack, root: HostRoot) throws(XVFError) -> ChangeReport {
            var report: [String] = []
            // The devices this run moved to pciback, with the driver each had: a later failure gives them back,
            // so that `assignable add A B` either does all of it or none of it.
            var moved: [(PCIAddress, String?)] = []
            for device in devices {
                let label = inventory.label(device)
                if alreadyDone(device) {
                    report.append("\(label): already on pciback; assignable")
                    continue
                }
                do {
                    if let note = try PcibackState.makeAssignable(
                        device.address, name: name, rebind: rebind, override: PcibackState.needsOverride(device, inventory: inventory),
                        toolstack: toolstack, root: root,
                        explain: { ErrorAdvice.libxl($0, device: device.address, holders: holders) }) {
                        Warnings.add(note)
                    }
                } catch {
                    // libxl stops half-way (no IOMMU to quarantine, a refused bind): a device that left its
                    // driver is given back with the ones done before.
                    if !device.isOnPciback,
                       root.driver(of: device.address) != device.driver {
                        moved.append((device.address, device.driver))
                    }
                    let undone = root.undoing {
                        moved.reversed().map {
                            AssignableUndo.giveBack($0.0, to: $0.1, toolstack: toolstack, root: root)
                        }
                    }
                    throw error.followed(by: .report(undone.joined(separator: "; ")))
                }
                if !device.isOnPciback { moved.append((device.address, device.driver)) }
                report.append(device.isOnPciback
                    ? "\(label): already on pciback; assignable"
                    : "\(label): assignable (was on \(device.driver ?? "no driver")\(rebind ? ", remembered for remove --rebind" : ""))")
            }
            return ChangeReport(report)
        }
    }

    /// `xvf assignable list`: what libxl has on pciback that no domain holds.
    public static func list(on host: Host) throws(XVFError) -> AssignableReport {
        let toolstack = try host.openToolstack()
        let assignable: [AssignableDevice]
        do { assignable = try toolstack.assignableList() } catch { throw ErrorAdvice.libxl(error, device: nil) }
        return AssignableReport(assignable, inventory: try host.inventory())
    }

    public static func remove(_ names: [String], rebind: Bool, on host: Host, dryRun: Bool) throws(XVFError) -> ChangeReport {
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            try RemovePlan(names, toolstack: toolstack, host: host)
        }, planned: { planned in
            for (reference, _, address) in planned.targets {
                host.journal.plan("assignable_remove", target: address.description,
                                  detail: RecordedToolstack.assignableRemoveDetail(reference, rebind: rebind))
            }
            return ChangeReport(planned.targets.map { "libxl_device_pci_assignable_remove \($0.0) rebind=\(rebind ? 1 : 0)" })
        }, apply: { (planned, toolstack) throws(XVFError) in
            try planned.apply(rebind: rebind, toolstack: toolstack, root: host.root)
        })
    }

    /// What `assignable remove` names (like xl, a name first, then a device), none held by a domain.
    struct RemovePlan {
        /// Each argument as libxl is asked for it, as the user wrote it, and the device it is. A name libxl
        /// does not know is read as a device name, and one that names no device here is refused.
        var targets: [(AssignableReference, String, PCIAddress)] = []
        var holders: Holders

        init(_ names: [String], toolstack: (any Toolstack)?, host: Host) throws(XVFError) {
            let named = Dictionary(((try? toolstack?.assignableList()) ?? []).compactMap { device in
                device.name.map { ($0, device.address) }
            }, uniquingKeysWith: { first, _ in first })
            for text in names {
                if let address = named[text] {
                    targets.append((.name(text), text, address))
                    continue
                }
                for found in try host.resolve(text) {
                    targets.append((.address(found.address), found.address.description, found.address))
                }
            }
            holders = try toolstack?.currentHolders() ?? [:]
            // Refused before any is removed, so that a refusal changes nothing.
            for (_, _, address) in targets {
                if let holder = holders[address] {
                    throw XVFError(.attachedReleaseFirst(address, to: holder))
                }
            }
        }

        func apply(rebind: Bool, toolstack: any Toolstack, root: HostRoot) throws(XVFError) -> ChangeReport {
            var report: [String] = []
            let assignableNow = Set(((try? toolstack.assignableList()) ?? []).map(\.address))
            for (_, text, address) in targets {
                let driverNow = root.driver(of: address)
                // Nothing of it on pciback or in libxl: already given back (a second run), unless a remove that
                // was interrupted left it without the driver --rebind asks for.
                if !assignableNow.contains(address), !PcibackState.has(address, root: root), !(rebind && driverNow == nil) {
                    report.append("\(text): not assignable (\(driverNow.map { "on \($0)" } ?? "no driver")); nothing to do")
                    continue
                }
                let driver: String?
                do {
                    driver = try PcibackState.giveBack(address, rebind: rebind, toolstack: toolstack, root: root,
                                                       holders: holders)
                } catch {
                    // Those removed before stay removed (putting them back would need their names and drivers
                    // again): the error names them, so the user knows where the host stands.
                    let done = report.joined(separator: "; ")
                    throw error.followed(by: done.isEmpty ? nil : .doneBeforeFailure(done))
                }
                report.append("\(text): no longer assignable; " + (driver.map { "on \($0)" } ?? "no driver"
                    + (rebind ? " (none was remembered)" : " (add --rebind to give it back to its driver)")))
            }
            return ChangeReport(report)
        }
    }
}
