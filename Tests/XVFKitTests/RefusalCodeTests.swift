import Foundation
import SRIOV
import SimHost
import SimXen
import Testing
import TestSupport
import XenPCI
@testable import XVFKit

/// The refusals of the commands that change the host, by code: what the refusal is and the data its
/// sentence names, rather than words of the sentence (the CLI tests hold the sentences).
@Suite struct RefusalCodeTests {
    func host() throws -> XVFKit.Host {
        try XVFKit.Host(rootPath: simulatedHost(), backends: .simulated)
    }

    let eno49 = "eno49 (0000:04:00.0)"

    @Test func vfCountRefusals() throws {
        let host = try host()
        defer { try? FileManager.default.removeItem(atPath: host.root.prefix) }
        let words = thrown(XVFError.self) {
            try VFCountChange.run(pf: "eno49", count: "seven", force: false, on: host, dryRun: true) { _ in }
        }
        #expect(words?.code == .badVFCount("seven", total: 7, label: eno49))
        #expect(words?.exitCode == 2)
        let above = thrown(XVFError.self) {
            try VFCountChange.run(pf: "eno49", count: "9", force: false, on: host, dryRun: true) { _ in }
        }
        #expect(above?.code == .vfCountAboveTotal(9, total: 7, label: eno49))

        var request = AssignRequest(target: "eno49/2", pf: nil, domain: "web1")
        request.force = false
        _ = try Assignment.run(request, on: host, dryRun: false)
        let attached = thrown(XVFError.self) {
            try VFCountChange.run(pf: "eno49", count: "3", force: false, on: host, dryRun: false) { _ in }
        }
        guard case .vfCountAttached(let label, let vf, let index, let domain)? = attached?.code else {
            Issue.record("not a refusal for an attached VF: \(String(describing: attached))")
            return
        }
        #expect(label == eno49)
        #expect(vf == PCIAddress(domain: 0, bus: 4, device: 0x11, function: 0))
        #expect(index == 2)
        #expect(domain.id == 1 && domain.name == "web1")
        #expect(attached?.exitCode == 1)
    }

    @Test func assignRefusals() throws {
        let host = try host()
        defer { try? FileManager.default.removeItem(atPath: host.root.prefix) }
        func refusal(_ request: AssignRequest) -> XVFError? {
            thrown(XVFError.self) { try Assignment.run(request, on: host, dryRun: false) }
        }
        #expect(refusal(AssignRequest(target: nil, pf: nil, domain: "web1"))?.code == .nothingToAssign)
        #expect(refusal(AssignRequest(target: "eno49/2", pf: "eno49", domain: "web1"))?.code == .deviceAndPF(pf: "eno49"))
        let unknown = refusal(AssignRequest(target: "eno49/2", pf: nil, domain: "web9"))
        #expect(unknown?.code == .domainNotFound(name: "web9"))
        #expect(unknown?.exitCode == 2)
        #expect(refusal(AssignRequest(target: "eno49/2", pf: nil, domain: "0"))?.code == .domainIsDom0(name: "0"))
        let spec = refusal(AssignRequest(target: "04:10.0,bogus=1", pf: nil, domain: "web1"))
        #expect(spec?.code == .input)
        #expect(spec?.underlying is InputError)
    }

    @Test func driverRefusals() throws {
        let host = try host()
        defer { try? FileManager.default.removeItem(atPath: host.root.prefix) }
        func refusal(_ driver: String, _ maxVFs: String) -> XVFError? {
            thrown(XVFError.self) {
                try DriverReload.run(driver: driver, maxVFs: maxVFs, persist: false, force: false, on: host, dryRun: true) { _ in }
            }
        }
        #expect(refusal("ig b", "7")?.code == .notModuleName("ig b"))
        #expect(refusal("igb", "seven")?.code == .badMaxVFs("seven"))
    }

    @Test func migrationTargetRefusals() {
        func refusal(_ host: String, ssh: String? = nil) -> XVFError? {
            thrown(XVFError.self) { try MigrationTarget(host: host, sshCommand: ssh) }
        }
        #expect(refusal("")?.code == .emptyTargetHost)
        #expect(refusal("dom0-b", ssh: " ")?.code == .sshEmpty)
        #expect(refusal("dom0-b; reboot")?.code == .badHostName("dom0-b; reboot"))
        #expect(refusal("-oProxyCommand=x")?.code == .badHostName("-oProxyCommand=x"))
        let unsplit = refusal("dom0-b", ssh: "ssh 'unclosed")
        guard case .sshUnsplittable(let command, _)? = unsplit?.code else {
            Issue.record("not a refusal of --ssh: \(String(describing: unsplit))")
            return
        }
        #expect(command == "ssh 'unclosed")
        #expect(unsplit?.underlying != nil)
    }

    @Test func saveAndLibvirtRefusals() throws {
        let image = thrown(XVFError.self) { try GuestSave.imagePath("/var/lib/xen/save/") }
        #expect(image?.code == .noFileName("/var/lib/xen/save/"))
        let spec = try PCISpec(address: PCIAddress(bus: 4, device: 0x10, function: 0), seize: true)
        let libvirt = thrown(XVFError.self) { try LibvirtXML.hostdevs([spec]) }
        #expect(libvirt?.code == .libvirtLacks(spec.canonical, key: "seize"))
        let whole = try PCISpec(address: PCIAddress(bus: 4, device: 0x10, function: 0), allFunctions: true)
        let slot = thrown(XVFError.self) { try LibvirtXML.hostdevs([whole]) }
        #expect(slot?.code == .notOneDevice(whole.canonical))
    }

    /// What the command line reads from an error: the exit code of each kind, the "already reported"
    /// flag, and the message with what was done before and after the failure.
    @Test func theErrorItself() {
        #expect(XVFError.reported(.failed).isReported)
        #expect(XVFError.reported(.failed).exitCode == 1)
        #expect(!XVFError(.qosWithoutVLAN).isReported)
        #expect(XVFError(.lockBusy(path: "/run/xvf.lock", holder: "pid 7", seconds: 30)).exitCode == 75)
        #expect(XVFError(.pcibackNotLoaded).exitCode == 3)
        let failed = XVFError(.noVFs(pf: "eno49")).after("eno50: on pciback").followed(by: .report("put back: 7 VFs"))
        #expect(failed.message == "eno50: on pciback; eno49 has no VFs; create them with `xvf vfs eno49 N`; put back: 7 VFs")
        #expect(failed.code == .noVFs(pf: "eno49"))
        #expect(failed.afterwards == [.report("put back: 7 VFs")])
        #expect(XVFError(.qosWithoutVLAN).followed(by: .report("")).followed(by: nil).afterwards == [])
        let wrapped = XVFError(.giveBackAfterDetach(label: "eno49/2", domain: XenDomain(id: 1, name: "web1", kind: .pv),
                                                    now: "has no driver"), underlying: XVFError(.pcibackNotLoaded))
        #expect(wrapped.exitCode == 3)
    }
}
