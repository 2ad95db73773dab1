import Foundation
import SRIOV
import Testing
import XenPCI

/// libxl itself. Off Xen its refusal is checked for real; in a Xen dom0 the contract runs against it when
/// the lab names a device and a domain it may use (XVF_LAB_DEVICE=0000:01:10.0 XVF_LAB_DOMAIN=1).
@Suite("libxl toolstack")
struct LibxlToolstackTests {
    static let isDom0 = XenHost.isControlDomain(HostRoot("/"))

    @Test("off a Xen dom0, libxl refuses to open and says why", .enabled(if: !isDom0, "this host is a Xen dom0"))
    func refusesOffXen() {
        #expect {
            _ = try LibxlToolstack(XenLibraries.load(), runProgram: { _ in (127, "not run in tests") })
        } throws: { error in
            guard let error = error as? ToolstackError else { return false }
            return error.operation == "libxl_ctx_alloc" && error.code == ToolstackError.fail
                && error.log.contains { $0.contains("cannot open libxc handle") }
        }
    }

    @Test("in a Xen dom0, libxl keeps the contract", .enabled(if: isDom0, "not a Xen dom0 (no control_d in /proc/xen/capabilities): skipped"))
    func contractOnXen() throws {
        let toolstack = try LibxlToolstack(XenLibraries.load(), runProgram: { _ in (127, "not run in tests") })
        #expect(try toolstack.domains().contains { $0.id == 0 })
        let environment = ProcessInfo.processInfo.environment
        guard let deviceText = environment["XVF_LAB_DEVICE"], let domainText = environment["XVF_LAB_DOMAIN"],
              let domain = UInt32(domainText) else {
            print("libxl contract: set XVF_LAB_DEVICE and XVF_LAB_DOMAIN to run the device steps; only read steps ran")
            return
        }
        let contract = ToolstackContract(toolstack: toolstack, root: HostRoot("/"),
                                         device: try PCIAddress(parsing: deviceText), domain: domain)
        try contract.checkAll()
    }
}
