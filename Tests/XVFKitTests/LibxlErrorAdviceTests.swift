import SRIOV
import Testing
import XenPCI
@testable import XVFKit

/// What libxl 4.17 and 4.20 print for a failed attach, turned into what to do (the lines are libxl's,
/// from the lab notes and libxl_pci.c).
@Suite struct LibxlErrorAdviceTests {
    let vf = PCIAddress(domain: 0, bus: 1, device: 0x10, function: 0)

    func advice(_ line: String, domain: XenDomain?) -> XVFError {
        ErrorAdvice.libxl(ToolstackError(operation: "libxl_device_pci_add", code: ToolstackError.fail, log: [line]),
                          device: vf, domain: domain)
    }

    /// Xen refuses a domain without an IOMMU context in two words: the PV path fails the assignment, the
    /// HVM path fails libxl's test of it first. Both mean "recreate the guest for passthrough".
    @Test func aGuestCreatedWithoutPassthroughIsNamedForPVAndHVM() {
        let pv = advice("libxl: error: libxl_pci.c:1529:pci_add_dm_done: Domain 3:xc_assign_device failed: "
                        + "Operation not supported", domain: XenDomain(id: 3, name: "legacy", kind: .pv))
        #expect(pv.message.hasPrefix("domain 3 (legacy) refuses hot-attach: it was created without PCI passthrough"))
        #expect(pv.message.hasSuffix("libxl said: xc_assign_device failed: Operation not supported"))
        let hvm = advice("libxl: error: libxl_pci.c:1661:libxl__device_pci_add: Domain 7:PCI device 0000:01:10.0 "
                         + "cannot be assigned - no IOMMU?", domain: XenDomain(id: 7, name: "win", kind: .hvm))
        #expect(hvm.message.hasPrefix("domain 7 (win) refuses hot-attach: it was created without PCI passthrough"))
        #expect(hvm.message.contains("pci = [ '0000:01:10.0' ]"))
    }

    @Test func aFailedQuarantineIsTheHostsIOMMU() {
        let said = advice("libxl: error: libxl_pci.c:862:libxl__device_pci_assignable_add: failed to quarantine "
                          + "0000:01:10.0", domain: nil)
        #expect(said.message.hasPrefix("Xen could not take 0000:01:10.0 for passthrough: there is no IOMMU"))
    }
}
