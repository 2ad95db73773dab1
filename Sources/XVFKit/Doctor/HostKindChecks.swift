import SRIOV
import XenPCI

/// The doctor's checks of hosts xvf must not change the way it changes others (a PVH dom0, an xapi host)
/// and the libxl hole they must know of, kept beside the other checks so that the safety rules they describe stay free of the doctor.
extension PVHDom0 {
    /// `xvf doctor`'s word on it; nil for a PV dom0 (or no Xen).
    static func check(_ root: HostRoot) -> Doctor.Check? {
        guard XenHost.isPVHDom0(root) else { return nil }
        return Doctor.Check(id: "pvh-dom0", status: .fail, message: "\(dom0(root)): \(sriovUnsupported) (Xen 4.22 and "
                            + "earlier), so no VF can go to a guest; other devices go to HVM guests only", fix: bootAsPV)
    }
}

extension ForeignToolstack {
    /// `xvf doctor`'s word on an xapi host; nil elsewhere.
    static func check(_ root: HostRoot) -> Doctor.Check? {
        guard XenHost.isXapiHost(root) else { return nil }
        return Doctor.Check(id: "toolstack", status: .fail, message: xapiOwns(root) + ": what xvf changes through "
                            + "libxl is not in xapi's database, which re-applies its own view at every VM start, so "
                            + "xvf's changing commands refuse here", fix: "use `xe network-sriov-create` for VFs and "
                            + "`xe vm-param-set uuid=… other-config:pci=0/0000:BB:DD.F` for passthrough")
    }
}

extension XSA476 {
    /// `xvf doctor`'s check.
    static func check(_ toolstack: any Toolstack) -> Doctor.Check {
        let release = toolstack.libxlRelease
        let version = toolstack.libxlVersion
        switch verdict(release: release, version: version) {
        case .fixed:
            return Doctor.Check(id: "xsa-476", status: .pass, message: "libxl \(version?.description ?? release) has the "
                                + "fix for XSA-476 (64-bit BARs left to a guest after a device is removed)", fix: nil)
        case .affected(let fixed):
            return Doctor.Check(id: "xsa-476", status: .warn, message: "libxl \(version?.description ?? release) \(what)",
                                fix: "upgrade the package with libxenlight.so.\(release) to \(fixed) or later")
        case .unknown(let fixed):
            return Doctor.Check(id: "xsa-476", status: .warn, message: "libxl \(release)'s point release cannot be told "
                                + "here (no dpkg record of it); before \(fixed) it \(what)",
                                fix: "check that the installed Xen libraries are \(fixed) or later")
        }
    }
}
