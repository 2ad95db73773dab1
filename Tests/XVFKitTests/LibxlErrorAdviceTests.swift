import SRIOV
import Testing
import XenPCI
@testable import XVFKit

/// What libxl 4.17 and 4.20 print for a failed attach, turned into what to do (the lines are libxl's,
/// from the lab notes and libxl_pci.c).
@Suite struct LibxlErrorAdviceTests {
    let vf = PCIAddress(domain: 0, bus: 1, device: 0x10, function: 0)

    func refusal(_ line: String, code: Int32 = ToolstackError.fail) -> ToolstackError {
        ToolstackError(operation: "libxl_device_pci_add", code: code, log: [line])
    }

    func advice(_ line: String, domain: XenDomain?, holders: Holders = [:]) -> XVFError {
        ErrorAdvice.libxl(refusal(line), device: vf, domain: domain, holders: holders)
    }

    /// Xen refuses a domain without an IOMMU context in two words: the PV path fails the assignment, the
    /// HVM path fails libxl's test of it first. Both mean "recreate the guest for passthrough".
    @Test func aGuestCreatedWithoutPassthroughIsNamedForPVAndHVM() {
        let legacy = XenDomain(id: 3, name: "legacy", kind: .pv)
        let pv = advice("libxl: error: libxl_pci.c:1529:pci_add_dm_done: Domain 3:xc_assign_device failed: "
                        + "Operation not supported", domain: legacy)
        #expect(pv.code == .createdWithoutPassthrough(legacy, device: vf,
                                                      libxlSaid: "xc_assign_device failed: Operation not supported"))
        #expect(pv.kind == .failed)
        #expect(pv.message.hasPrefix("domain 3 (legacy) refuses hot-attach: it was created without PCI passthrough"))
        #expect(pv.message.hasSuffix("libxl said: xc_assign_device failed: Operation not supported"))
        let win = XenDomain(id: 7, name: "win", kind: .hvm)
        let hvm = advice("libxl: error: libxl_pci.c:1661:libxl__device_pci_add: Domain 7:PCI device 0000:01:10.0 "
                         + "cannot be assigned - no IOMMU?", domain: win)
        #expect(hvm.code == .createdWithoutPassthrough(win, device: vf, libxlSaid: "cannot be assigned - no IOMMU"))
        #expect(hvm.message.contains("pci = [ '0000:01:10.0' ]"))
    }

    @Test func aFailedQuarantineIsTheHostsIOMMU() {
        let line = "libxl: error: libxl_pci.c:862:libxl__device_pci_assignable_add: failed to quarantine 0000:01:10.0"
        let said = advice(line, domain: nil)
        #expect(said.code == .noIOMMU(vf, nothingChanged: false))
        #expect(said.underlying as? ToolstackError == refusal(line))
        #expect(said.message.hasPrefix("Xen could not take 0000:01:10.0 for passthrough: there is no IOMMU"))
    }

    /// Each refusal libxl words on its own gets its code, and the exit code that goes with it.
    @Test func libxlsRefusalsHaveTheirCodes() {
        let web = XenDomain(id: 2, name: "web", kind: .hvm)
        let notAssignable = "libxl: error: libxl_pci.c:1480:libxl__device_pci_add: PCI device 0000:01:10.0 is not assignable"
        #expect(advice(notAssignable, domain: web, holders: [vf: web]).code == .attached(vf, to: web))
        #expect(advice(notAssignable, domain: web).code == .notAssignable("0000:01:10.0"))
        let unloaded = advice("libxl: error: libxl_pci.c:1410: pciback driver is not loaded", domain: web)
        #expect(unloaded.code == .pcibackNotLoaded)
        #expect(unloaded.exitCode == 3)
        let slot = advice("libxl: error: libxl_pci.c:1200: Must specify a v-slot for multi-function devices", domain: web)
        #expect(slot.code == .needsVirtualSlot("0000:01:10.0"))
        #expect(slot.exitCode == 2)
        let gone = ErrorAdvice.libxl(refusal("", code: ToolstackError.domainNotFound), device: vf, domain: web)
        #expect(gone.code == .domainNotRunning("domain 2 (web)"))
        let unnamed = ErrorAdvice.libxl(refusal("", code: ToolstackError.notFound), device: nil)
        #expect(unnamed.code == .noAssignableNamed)
        let other = refusal("libxl: error: something else")
        #expect(ErrorAdvice.libxl(other, device: vf).code == .libxlRefused(other))
        #expect(ErrorAdvice.libxl(other, device: vf).message 
                == "libxl refused (libxl_device_pci_add, ERROR_FAIL): libxl: error: something else")
    }
}
