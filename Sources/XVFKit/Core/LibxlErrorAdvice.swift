import SRIOV
import XenPCI

/// Turns what libxl said into what the operator should do. The messages matched are the ones a real
/// Xen 4.17 prints (see the lab notes); anything else is passed on with libxl's own words.
extension ErrorAdvice {
    static func libxl(_ error: ToolstackError, device: PCIAddress?, domain: XenDomain? = nil,
                        holders: Holders = [:]) -> XVFError {
        let said = error.log.joined(separator: "\n")
        let subject = device?.description ?? "the device"
        let domainText = domain.map { "domain \($0.id) (\($0.name))" } ?? "the domain"
        // A domain without an IOMMU context, as libxl words it for PV (Xen's refusal of the assignment) and
        // for HVM (Xen's test of it; the device was quarantined, so the host has an IOMMU).
        for words in ["xc_assign_device failed: Operation not supported", "cannot be assigned - no IOMMU"]
        where said.contains(words) {
            if let domain { return createdWithoutPassthrough(domain, device: device, libxlSaid: words) }
        }
        if said.contains("failed to quarantine") || said.contains("no IOMMU") {
            return noIOMMU(device)
        }
        if said.contains("is not assignable") || said.contains("already assigned to a different guest") {
            if let device, let holder = holders[device] {
                return XVFError(.failed, "\(device) is attached to domain \(holder.id) (\(holder.name)); release it "
                                + "first with `xvf release \(device)`")
            }
            return XVFError(.failed, "\(subject) is not assignable (not on pciback); `xvf assignable add \(subject)` "
                            + "makes it so, or let `xvf assign` do it")
        }
        if said.contains("pciback driver is not loaded") || said.contains("pciback driver not loaded") {
            return XVFError(.unavailable, "xen-pciback is not loaded: run `modprobe xen-pciback` and try again")
        }
        if said.contains("Must specify a v-slot") {
            return XVFError(.badInput, "all functions of a slot (\(subject.dropLast())*) need a guest slot: add @VS (e.g. @05) or --vslot")
        }
        if error.code == ToolstackError.domainNotFound {
            return XVFError(.badInput, "\(domainText) is not running; `xl list` shows the domains")
        }
        if error.code == ToolstackError.notFound {
            return XVFError(.badInput, "no assignable device has that name; `xvf assignable list` shows the names")
        }
        if said.contains("not attached to this domain") {
            return XVFError(.failed, "\(subject) is not attached to \(domainText); `xvf list` shows who holds it")
        }
        return XVFError(.failed, "libxl refused (\(error.operation), \(error.codeName))"
                        + (error.reason.map { ": " + $0 } ?? ""))
    }

    /// The domain cannot take devices until it is recreated for passthrough; the same fix for PV and HVM.
    static func createdWithoutPassthrough(_ domain: XenDomain, device: PCIAddress?, libxlSaid: String?) -> XVFError {
        XVFError(.failed, "domain \(domain.id) (\(domain.name)) refuses hot-attach: it was created without PCI passthrough "
                 + "(Xen gives a guest its IOMMU context only at creation). Add passthrough = \"enabled\" (or a "
                 + "pci = [ '\(device?.description ?? "BDF")' ] line) to its xl config and recreate it (xl shutdown, then xl create)"
                 + (libxlSaid.map { "; libxl said: \($0)" } ?? "; nothing was changed"))
    }

    static func noIOMMU(_ device: PCIAddress?) -> XVFError {
        XVFError(.failed, "Xen could not take \(device?.description ?? "the device") for passthrough: there is no IOMMU, or it "
                 + "is off. Enable VT-d/AMD-Vi in the firmware and check `xl dmesg | grep -i iommu`")
    }
}
