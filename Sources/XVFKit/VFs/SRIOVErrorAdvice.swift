#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// What to do when the kernel refuses a write to `sriov_numvfs`. Linux 6.1's `sriov_numvfs_store` and
/// the PF drivers answer with an errno only; these are the causes behind each one on real hosts.
extension ErrorAdvice {
    static func sriovCount(_ error: SysfsError, pf: PCIDevice, count: Int) -> XVFError {
        let name = pf.interfaceName.map { "\($0) (\(pf.address))" } ?? pf.address.description
        let total = pf.sriov?.totalVFs ?? 0
        let what: String
        switch error.errno {
        case ERANGE:
            what = "\(count) is above the \(total) VFs \(name) supports (sriov_totalvfs); use 0-\(total)"
        case ENOENT where pf.driver == nil:
            what = "\(name) has no driver bound, and only its driver can create VFs; load the PF driver "
                + "(modprobe) or bind it, then retry"
        case ENOENT where pf.isOnPciback:
            what = "\(name) is on pciback, which creates no VFs; give it back to its own driver first "
                + "(`xvf assignable remove \(pf.address)`), then retry"
        case ENOENT:
            what = "\(pf.driver!) does not create VFs through sriov_numvfs on \(name); try "
                + "`xvf driver \(pf.driver!) --max-vfs \(count)`"
        case ENOMEM:
            what = "not enough MMIO resources for SR-IOV on \(name): enable SR-IOV and Above 4G Decoding in the "
                + "BIOS, or boot dom0 with pci=realloc"
        case EBUSY:
            what = "\(name) is busy: VFs are still enabled or in use; release them (xvf release) and retry"
        case EPERM:
            what = "\(pf.driver ?? "the PF driver") will not remove VFs that are assigned to a guest; detach "
                + "them (xvf release) and retry"
        case EINVAL:
            what = "\(pf.driver ?? "the PF driver") rejected \(count) VFs on \(name) (EINVAL): its current mode "
                + "(DCB, FCoE, queue layout) may allow fewer; see the kernel log (dmesg)"
        default:
            what = "\(name): \(error)"
        }
        return XVFError(.vfCountRefused(advice: what), underlying: error)
    }

    /// The write succeeded but the driver enabled fewer VFs: what makes each driver do that.
    static func fewerVFsEnabled(pf: PCIDevice, label: String, requested: Int, enabled: Int) -> XVFError {
        let why: String = switch pf.driver {
        // bnxt_en refuses SR-IOV while the PF's interface is down ("Reject SRIOV config request since if is
        // down!") and returns success with no VF.
        case "bnxt_en"?: "bnxt_en enables VFs only while the PF's interface is up: `ip link set "
            + (pf.interfaceName ?? "PF") + " up`, then run this again"
        default: "the kernel log says why (`dmesg | grep -i sr-iov`)"
        }
        return XVFError(.fewerVFs(label: label, enabled: enabled, requested: requested, why: why))
    }
}
