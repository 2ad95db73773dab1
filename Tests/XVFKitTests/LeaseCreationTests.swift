import Foundation
import SRIOV
import SimHost
import SimXen
import Testing
import TestSupport
import XenPCI
import XVFKit

/// A lease from the host config to a running guest with no xvf command between: `xvf boot` binds it,
/// and the simulated toolstack resolves `pci = [ 'name=…' ]` at domain creation as libxl does.
@Suite struct LeaseCreationTests {
    /// The DL360 (guests web1, db1 and legacy running) after `xvf boot` of two leases of eno52 (its VFs 0 and 1: 04:10.3, 04:10.7).
    func bootedHost() throws -> XVFKit.Host {
        let path = temporaryDirectory("leases")
        SimulatedHost.build(.dl360(), at: path)
        try FileManager.default.createDirectory(atPath: path + "/etc/xen", withIntermediateDirectories: true)
        try "sriov = [ 'eno52,vfs=2' ]\nassignable = [ 'eno52,name=web1-nic', 'eno52,name=db1-nic' ]\n"
            .write(toFile: path + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let host = try XVFKit.Host(rootPath: path, backends: .simulated)
        let outcome = try HostBoot.run(configPath: nil, dryRun: false, on: host) { _ in }
        #expect(outcome.failures == [])
        return host
    }

    @Test func createResolvesTheLeaseNameToItsVF() throws {
        let host = try bootedHost()
        defer { try? FileManager.default.removeItem(atPath: host.root.prefix) }
        let leases = try Leases.load(root: host.root)
        let web = try #require(Leases.named("web1-nic", in: leases))
        // Parsed before the #expects: Swift 6.0's macro does not take a `try` inside its expression.
        let (pf, vf0, vf1) = (try PCIAddress(parsing: "04:00.3"), try PCIAddress(parsing: "04:10.3"), try PCIAddress(parsing: "04:10.7"))
        #expect(web.pf == pf)
        #expect(web.vf == vf0)
        #expect(Leases.holding(vf1, in: leases)?.name == "db1-nic")

        let toolstack = SimulatedToolstack(root: host.root)
        let first = try toolstack.create(name: "web2", pci: [try PCISpec(parsing: "name=web1-nic")])
        #expect(try toolstack.devices(of: first).map(\.address) == [try PCIAddress(parsing: "04:10.3")])
        let second = try toolstack.create(name: "db2", kind: .hvm, pci: [try PCISpec(parsing: "name=db1-nic,permissive=1")])
        #expect(try toolstack.devices(of: second).map(\.address) == [try PCIAddress(parsing: "04:10.7")])
        #expect(try toolstack.domains().map(\.name) == ["Domain-0", "web1", "db1", "legacy", "web2", "db2"])
    }

    @Test func aNameNoDeviceHasCreatesNothing() throws {
        let host = try bootedHost()
        defer { try? FileManager.default.removeItem(atPath: host.root.prefix) }
        let toolstack = SimulatedToolstack(root: host.root)
        #expect(throws: ToolstackError.self) { try toolstack.create(name: "web3", pci: [try PCISpec(parsing: "name=web9-nic")]) }
        // A lease whose VF a guest has: the second domain naming it fails, and is destroyed again.
        try toolstack.create(name: "web2", pci: [try PCISpec(parsing: "name=web1-nic")])
        #expect(throws: ToolstackError.self) { try toolstack.create(name: "web4", pci: [try PCISpec(parsing: "name=web1-nic")]) }
        #expect(try toolstack.domains().map(\.name) == ["Domain-0", "web1", "db1", "legacy", "web2"])
    }
}
