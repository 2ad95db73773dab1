import SRIOV

/// Which dom0 driver takes a device at boot: for a VF, the driver its PF's VFs get (igbvf for an I350),
/// which must be known even before any VF exists.
struct VFDrivers {
    let inventory: HostInventory
    let aliases: ModuleAliases

    init(_ inventory: HostInventory) {
        self.inventory = inventory
        aliases = ModuleAliases(root: inventory.root)
    }

    /// The driver the VFs of `pf` get: what its existing VFs are bound to, else what VFs of the same kind
    /// on other PFs are bound to, else what `modules.alias` names for the VF device id.
    func vfDriver(of pf: PCIAddress) -> String? {
        guard let device = inventory[pf], let sriov = device.sriov else { return nil }
        if let driver = boundDriver(of: inventory.virtualFunctions(of: device)) { return driver }
        let sameKind = inventory.physicalFunctions.filter { other in
            guard other.vendorID == device.vendorID else { return false }
            if let vfDevice = sriov.vfDeviceID, let otherVFDevice = other.sriov?.vfDeviceID { return otherVFDevice == vfDevice }
            // Where sysfs has no `sriov_vf_device`, the PF's own device id tells the kind (an unknown VF id
            // is no match for another unknown one: an I350 and an X710 would both have none).
            return other.deviceID == device.deviceID
        }
        if let driver = boundDriver(of: sameKind.flatMap { inventory.virtualFunctions(of: $0) }) { return driver }
        guard let vfDevice = sriov.vfDeviceID else { return nil }
        return alias(vendor: device.vendorID, device: vfDevice, like: device)
    }

    /// The driver a device has (not pciback), else the one `modules.alias` names.
    func driver(of device: PCIDevice) -> String? {
        if let driver = device.driver, !device.isOnPciback { return driver }
        return alias(vendor: device.vendorID, device: device.deviceID, like: device)
    }

    /// Everything `module` would drive on this host at the next boot besides the devices in `hidden`:
    /// devices bound to it now, devices that are unbound (or on pciback) and that `modules.alias` gives it,
    /// PFs included, and the VFs of every PF whose VFs it takes. Blacklisting it costs dom0 all of these.
    func reach(of module: String, beyond hidden: Set<PCIAddress>) -> ModuleReach {
        var devices: [PCIAddress] = []
        var virtualFunctions: [PCIAddress] = []
        var undetermined: [PCIAddress] = []
        var vfDriverOfPF: [PCIAddress: String?] = [:]
        for device in inventory.devices.values where !hidden.contains(device.address) {
            if let pf = device.physicalFunction {
                if vfDriverOfPF[pf] == nil { vfDriverOfPF[pf] = .some(vfDriver(of: pf)) }
                let wouldBind = (device.isOnPciback ? nil : device.driver) ?? vfDriverOfPF[pf]!
                if wouldBind == module { virtualFunctions.append(device.address) }
                continue
            }
            if let driver = device.driver, !device.isOnPciback {
                if driver == module { devices.append(device.address) }
            } else if let named = alias(vendor: device.vendorID, device: device.deviceID, like: device) {
                if named == module { devices.append(device.address) }
            } else if device.classCode >> 16 != 0x06 && !aliases.isKnown {
                // No driver now and no alias table to say which would bind it (bridges take none of a NIC's).
                undetermined.append(device.address)
            }
        }
        if !undetermined.isEmpty {
            return .unknown(undetermined.sorted())
        }
        return ModuleReach(devices: devices.sorted(), virtualFunctions: virtualFunctions.sorted())
    }

    private func boundDriver(of devices: [PCIDevice]) -> String? {
        devices.compactMap(\.driver).first { $0 != PCIDevice.pcibackDriver }
    }

    private func alias(vendor: UInt16, device: UInt16, like model: PCIDevice) -> String? {
        let base = "sys/bus/pci/devices/\(model.address)/"
        let root = inventory.root
        return aliases.module(
            vendor: vendor, device: device,
            subsystemVendor: UInt16(truncatingIfNeeded: root.readInteger(base + "subsystem_vendor") ?? 0),
            subsystemDevice: UInt16(truncatingIfNeeded: root.readInteger(base + "subsystem_device") ?? 0),
            classCode: model.classCode)
    }
}

/// What a module drives besides the devices to be hidden (`VFDrivers.reach`).
enum ModuleReach: Equatable {
    /// Nothing else: blacklisting it takes nothing from dom0.
    case hiddenOnly
    /// PFs or other devices (not VFs) it drives or would bind.
    case devices([PCIAddress], virtualFunctions: [PCIAddress])
    /// VFs that stay with dom0 and that it would take.
    case virtualFunctions([PCIAddress])
    /// Devices without a driver, and no `modules.alias` to tell which module would bind them.
    case unknown([PCIAddress])

    init(devices: [PCIAddress], virtualFunctions: [PCIAddress]) {
        if !devices.isEmpty {
            self = .devices(devices, virtualFunctions: virtualFunctions)
        } else if !virtualFunctions.isEmpty {
            self = .virtualFunctions(virtualFunctions)
        } else {
            self = .hiddenOnly
        }
    }
}
