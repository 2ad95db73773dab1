import SRIOV

/// What Xen is on the host, read through the host root: the dom0 test both toolstacks share, how dom0
/// runs, and which toolstack owns the domains.
public enum XenHost {
    /// Whether the host root is a Xen control domain: `proc/xen/capabilities` says `control_d`.
    public static func isControlDomain(_ root: HostRoot) -> Bool {
        (root.readText("proc/xen/capabilities") ?? "").split(separator: "\n").contains { $0.contains("control_d") }
    }

    /// Whether dom0 runs as a PVH guest: Linux's `sys/hypervisor/guest_type` says `PVH` (it says `PV` for
    /// a PV dom0 and `HVM` for an HVM guest; drivers/xen/sys-hypervisor.c). libxl cannot tell: it reports
    /// a PVH domain 0's `domain_type` as HVM, as for any domain Xen flags as an HVM container.
    public static func isPVHDom0(_ root: HostRoot) -> Bool {
        root.readText("sys/hypervisor/guest_type")?.split(separator: "\n").first == "PVH"
    }

    /// The file xapi's hosts (XCP-ng, XenServer) all have: `/etc/xensource-inventory`, with the host's
    /// UUIDs, written at installation. xapi owns the domains and devices there; `xl` is shipped but what
    /// it changes is not in xapi's database.
    public static let xapiInventory = "etc/xensource-inventory"

    /// Whether xapi manages this host.
    public static func isXapiHost(_ root: HostRoot) -> Bool {
        root.exists(xapiInventory)
    }

    /// The directory libvirt's libxl driver keeps its state in (LIBXL_STATE_DIR, RUNSTATEDIR
    /// "/libvirt/libxl", the same for libvirtd and the modular virtxend).
    public static let libvirtLibxlState = "run/libvirt/libxl"

    /// Whether libvirt's libxl driver manages `domain` (Qubes OS, or any host whose guests virsh starts).
    /// The driver writes a status file, `<name>.xml`, for each running domain it started or took over
    /// (`<domstatus …><domain type='xen' id='N'>`) and removes it when the domain stops; it keeps it while
    /// libvirtd itself is stopped and reads it again when it starts, so libvirt's view of that domain's
    /// devices goes stale whether or not libvirtd runs now. The status file, with the domain's own id in
    /// it, is therefore the signal, rather than libvirtd's pid file or socket: those say libvirt runs, not
    /// that it knows this domain (an `xl create`d guest beside libvirt's is not libvirt's). The id check
    /// keeps a leftover file of an earlier domain of the same name from counting.
    public static func libvirtManages(_ domain: XenDomain, root: HostRoot) -> Bool {
        guard !domain.name.contains("/"),
              let status = root.readText(libvirtLibxlState + "/" + domain.name + ".xml") else { return false }
        // The id is the <domain> element's own attribute (other elements have ids too: <vcpu id='1'>).
        guard let start = status.ranges(of: "<domain ").first?.upperBound,
              let end = status[start...].firstIndex(of: ">") else { return false }
        let attributes = status[start..<end]
        return attributes.contains("id='\(domain.id)'") || attributes.contains("id=\"\(domain.id)\"")
    }
}
