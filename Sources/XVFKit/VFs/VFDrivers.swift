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
        let sameKind = inventory.physicalFunctions.filter {
            $0.vendorID == device.vendorID && $0.sriov?.vfDeviceID == sriov.vfDeviceID
        }
        if let driver = boundDriver(of: sameKind.flatMap { inventory.virtualFunctions(of: $0) }) { return driver }
        guard let vfDevice = sriov.vfDeviceID else { return nil }
        return alias(vendor: device.vendorID, device: vfDevice, like: device)
    }

    /// The driver a device has (not pciback), else the one `modules.alias` names.
    func driver(of device: PCIDevice) -> String? {
        if let driver = device.driver, driver != "pciback" { return driver }
        return alias(vendor: device.vendorID, device: device.deviceID, like: device)
    }

    private func boundDriver(of devices: [PCIDevice]) -> String? {
        devices.compactMap(\.driver).first { $0 != "pciback" }
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
