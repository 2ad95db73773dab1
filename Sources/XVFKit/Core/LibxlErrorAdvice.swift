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
            if let domain { return createdWithoutPassthrough(domain, device: device, libxlSaid: words, underlying: error) }
        }
        if said.contains("failed to quarantine") || said.contains("no IOMMU") {
            return noIOMMU(device, underlying: error)
        }
        if said.contains("is not assignable") || said.contains("already assigned to a different guest") {
            if let device, let holder = holders[device] {
                return XVFError(.attached(device, to: holder), underlying: error)
            }
            return XVFError(.notAssignable(subject), underlying: error)
        }
        if said.contains("pciback driver is not loaded") || said.contains("pciback driver not loaded") {
            return XVFError(.pcibackNotLoaded, underlying: error)
        }
        if said.contains("Must specify a v-slot") {
            return XVFError(.needsVirtualSlot(subject), underlying: error)
        }
        if error.code == ToolstackError.domainNotFound {
            return XVFError(.domainNotRunning(domainText), underlying: error)
        }
        if error.code == ToolstackError.notFound {
            return XVFError(.noAssignableNamed, underlying: error)
        }
        if said.contains("not attached to this domain") {
            return XVFError(.notAttachedTo(subject, domain: domainText), underlying: error)
        }
        return XVFError(.libxlRefused(error), underlying: error)
    }

    /// The domain cannot take devices until it is recreated for passthrough; the same fix for PV and HVM.
    static func createdWithoutPassthrough(_ domain: XenDomain, device: PCIAddress?, libxlSaid: String?,
                                          underlying: ToolstackError? = nil) -> XVFError {
        XVFError(.createdWithoutPassthrough(domain, device: device, libxlSaid: libxlSaid), underlying: underlying)
    }

    static func noIOMMU(_ device: PCIAddress?, nothingChanged: Bool = false, underlying: ToolstackError? = nil) -> XVFError {
        XVFError(.noIOMMU(device, nothingChanged: nothingChanged), underlying: underlying)
    }
}
