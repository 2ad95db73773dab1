/// NICs whose firmware decides whether SR-IOV exists at all: with it off, the function has no SR-IOV
/// capability (so no `sriov_totalvfs`) and no kernel write can change that. What to run instead, per vendor.
public enum FirmwareSRIOV {
    /// The command that turns SR-IOV on in the firmware, or nil for a device whose SR-IOV is not a
    /// firmware setting xvf knows of.
    public static func advice(for device: PCIDevice) -> String? {
        guard !device.isPhysicalFunction, !device.isVirtualFunction, device.classCode >> 16 == 0x02 else { return nil }
        switch device.vendorID {
        case 0x15b3:
            // ConnectX-4 and later (mlx5): SRIOV_EN and NUM_OF_VFS in the NIC's non-volatile config.
            return "its firmware has SR-IOV off: run `mstconfig -d \(device.address) set SRIOV_EN=1 NUM_OF_VFS=8` "
                + "(Debian: mstflint; NVIDIA's mlxconfig takes the same), then reboot"
        case 0x14e4 where device.driver == "bnxt_en" || bnxtDevices.contains(device.deviceID):
            return "its NVM has SR-IOV off: enable it with Broadcom's niccli (`nvm -setoption enable_sriov -value 1`, "
                + "then number_of_vfs_per_pf), then reboot"
        default:
            return nil
        }
    }

    /// NetXtreme-E/-C PFs (bnxt_en) of the 57400 family, which keep SR-IOV in NVM.
    static let bnxtDevices: Set<UInt16> = [0x16d7, 0x16d8, 0x16d9, 0x16df, 0x16e2, 0x16e3]
}
