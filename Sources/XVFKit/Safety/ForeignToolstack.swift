import SRIOV
import XenPCI

/// Hosts whose domains another toolstack owns, where a change xvf makes through libxl is a change that
/// toolstack does not know about.
/// - xapi (XCP-ng, XenServer) owns the domains and their devices in its database and re-applies that view
///   on every VM start, migration and host restart; it has its own SR-IOV and passthrough commands. xvf
///   changes nothing there, and says which of xapi's commands do it.
/// - libvirt's libxl driver (Qubes OS, virsh-managed hosts) keeps each of its domains' devices in its own
///   status file: a device xvf attaches or detaches behind its back is missing from (or stays in) libvirt's
///   view of that domain. xvf carries on and says so, and how to let libvirt do it instead.
public enum ForeignToolstack {
    /// The refusal on an xapi host, for every command that would change devices or domains.
    public static func refuseOnXapi(_ root: HostRoot) throws(XVFError) {
        guard XenHost.isXapiHost(root) else { return }
        throw XVFError(.xapiHost(inventory: root.path(XenHost.xapiInventory)))
    }

    static func xapiOwns(_ root: HostRoot) -> String {
        XVFError.xapiOwns(root.path(XenHost.xapiInventory))
    }

    /// The warning when a device goes to or leaves a domain libvirt's libxl driver manages.
    static func warnIfLibvirt(_ domain: XenDomain, root: HostRoot) {
        guard XenHost.libvirtManages(domain, root: root) else { return }
        Warnings.add("libvirt manages domain \(domain.id) (\(domain.name)) (\(root.path(XenHost.libvirtLibxlState))/"
                     + "\(domain.name).xml): its view of the domain's devices goes stale; to let libvirt do it, put the "
                     + "device in the domain's XML (`xvf cfg line --libvirt DEVICE`, or `xvf cfg pool PF` for "
                     + "a VF pool) and use virsh attach-device / detach-device")
    }
}
