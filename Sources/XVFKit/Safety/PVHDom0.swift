import SRIOV
import XenPCI

/// A dom0 that runs as a PVH guest (`sys/hypervisor/guest_type` says PVH). Xen 4.21 and 4.22 pass
/// devices through from such a dom0 to HVM guests only, and not VFs at all: Xen's vPCI, which a PVH dom0's
/// PCI config space goes through, does not handle the SR-IOV capability, so the VF BARs are never mapped
/// (SUPPORT.md lists PCI SR-IOV as missing for PVH dom0; CHANGELOG 4.21: "SR-IOV capability usage is not
/// yet supported on PVH dom0"). What xvf would do there either fails inside Xen or leaves VFs no guest can
/// use, so it refuses first.
enum PVHDom0 {
    /// Xen's own words for the limit.
    static let sriovUnsupported = XVFError.pvhSRIOVUnsupported

    /// How to get a dom0 that can: boot it as PV.
    static let bootAsPV = XVFError.bootDom0AsPV

    /// The start of every refusal, naming the file that says so.
    static func dom0(_ root: HostRoot) -> String { XVFError.pvhDom0(guestType(root)) }

    static func guestType(_ root: HostRoot) -> String { root.path("sys/hypervisor/guest_type") }

    /// Refuses to create VFs (`xvf vfs`, `xvf boot`'s VF counts): `what` is what would get them.
    static func refuseVFs(_ what: String, root: HostRoot) throws(XVFError) {
        guard XenHost.isPVHDom0(root) else { return }
        throw XVFError(.pvhDom0VFs(guestType: guestType(root), what: what))
    }

    /// Refuses to give `device` to `domain`: any VF, and anything to a PV guest.
    static func refuseAssign(_ device: PCIDevice, to domain: XenDomain, label: String, root: HostRoot) throws(XVFError) {
        guard XenHost.isPVHDom0(root) else { return }
        if device.isVirtualFunction {
            throw XVFError(.pvhDom0VF(guestType: guestType(root), label: label))
        }
        if domain.kind == .pv {
            throw XVFError(.pvhDom0PVGuest(guestType: guestType(root), domain: domain, label: label))
        }
    }
}
