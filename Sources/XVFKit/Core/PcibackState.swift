import SRIOV
import XenPCI

/// What xen-pciback's sysfs directory says, and how a device leaves it.
public enum PcibackState {
    public static let directory = "sys/bus/pci/drivers/" + PCIDevice.pcibackDriver

    /// The devices pciback gives guests permissive config-space access to.
    public static func permissiveDevices(_ root: HostRoot) -> Set<PCIAddress> {
        Set((root.readText(directory + "/permissive") ?? "").split(separator: "\n").compactMap {
            try? PCIAddress(parsing: String($0))
        })
    }

    public static func isLoaded(_ root: HostRoot) -> Bool { root.isDirectory(directory) }

    /// The devices pciback will bind when asked (`new_slot`), whether or not it holds them yet.
    public static func slots(_ root: HostRoot) -> [PCIAddress] {
        (root.readText(directory + "/slots") ?? "").split(separator: "\n").compactMap {
            try? PCIAddress(parsing: String($0))
        }
    }

    /// pciback lets a device go in sysfs: unbind it when it holds it, and drop its slot when it has one
    /// (only a device pciback was told about, by `new_slot` or the hide list, has a slot).
    static func lettingGo(_ address: PCIAddress, bound: Bool, slots: Set<PCIAddress>) -> [HostStep] {
        var steps: [HostStep] = []
        if bound { steps.append(.writeAttribute(path: directory + "/unbind", value: address.description)) }
        if slots.contains(address) { steps.append(.writeAttribute(path: directory + "/remove_slot", value: address.description)) }
        return steps
    }

    /// Whether pciback still has anything of the device: it holds it, or keeps a slot for it.
    static func has(_ address: PCIAddress, root: HostRoot) -> Bool {
        root.driver(of: address) == PCIDevice.pcibackDriver || slots(root).contains(address)
    }

    /// Gives a device back to dom0: libxl's assignable remove first (it de-quarantines the device, takes
    /// it off pciback and, with `rebind`, binds the driver it remembered). Where Xen has no quarantine
    /// of it (put on pciback by the hide list or driver_override, or an earlier remove stopped after the
    /// de-quarantine), pciback lets it go in sysfs instead. A device left without a driver then gets one
    /// from the kernel when `rebind` asks for one. Returns the driver it is on now.
    static func giveBack(_ address: PCIAddress, rebind: Bool, toolstack: any Toolstack, root: HostRoot,
                         holders: Holders) throws(XVFError) -> String? {
        do {
            try toolstack.assignableRemove(.address(address), rebind: rebind)
        } catch where error.log.contains(where: { $0.contains("failed to de-quarantine") }) {
            let steps = lettingGo(address, bound: root.driver(of: address) == PCIDevice.pcibackDriver, slots: Set(slots(root)))
            do {
                for step in steps { try step.perform(on: root) }
            } catch {
                throw XVFError(.noQuarantine(address), underlying: error)
            }
        } catch {
            throw ErrorAdvice.libxl(error, device: address, holders: holders)
        }
        if rebind && root.driver(of: address) == nil {
            // No driver was remembered (made assignable without rebind, or libxl stopped before binding it).
            try? root.writeAttribute("sys/bus/pci/drivers_probe", address.description)
        }
        return root.driver(of: address)
    }
}

extension PcibackState {
    /// Whether Linux lets pciback bind the device only through `driver_override`: a VF whose PF has
    /// `sriov_drivers_autoprobe` off gets no driver at all otherwise (`pci_device_can_probe`), pciback's
    /// bind included (ENODEV), and libxl's assignable add fails.
    static func needsOverride(_ device: PCIDevice, inventory: HostInventory) -> Bool {
        guard let pf = device.physicalFunction else { return false }
        return inventory[pf]?.sriov?.driversAutoprobe == false
    }

    /// The override that lets pciback, and only pciback, probe such a VF.
    static func overridePath(_ address: PCIAddress) -> String { "sys/bus/pci/devices/\(address)/driver_override" }

    /// libxl's assignable add, with `driver_override=pciback` meanwhile where Linux needs it, cleared
    /// afterwards whatever happened (a VF whose override stayed pciback could not go back to a dom0 driver
    /// later). libxl's refusal comes back through `explain`; a clear that fails is returned as a sentence
    /// for the report.
    static func makeAssignable(_ address: PCIAddress, name: String?, rebind: Bool, override: Bool,
                               toolstack: any Toolstack, root: HostRoot,
                               explain: (ToolstackError) -> XVFError) throws(XVFError) -> String? {
        if override {
            do { try root.writeAttribute(overridePath(address), PCIDevice.pcibackDriver) } catch {
                throw XVFError(.driverOverride(address), underlying: error)
            }
        }
        func clear() -> String? {
            guard override else { return nil }
            do {
                try root.writeAttribute(overridePath(address), "\n")
                return nil
            } catch {
                return "driver_override of \(address) stays pciback (\(error)); clear it with "
                    + "`echo > /\(overridePath(address))` before giving the device back to dom0"
            }
        }
        do {
            try toolstack.assignableAdd(address, name: name, rebind: rebind)
        } catch {
            _ = clear()
            throw explain(error)
        }
        return clear()
    }
}
