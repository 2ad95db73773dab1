import Foundation
import SRIOV
import SimHost
import SimXen
import Testing
import TestSupport
import XenPCI

/// What both toolstacks must do, written once: run against the simulated toolstack on a simulated host
/// here, and against libxl on a Xen dom0 lab host (see `LibxlToolstackTests`).
struct ToolstackContract {
    let toolstack: any Toolstack
    let root: HostRoot
    /// A device bound to a dom0 driver that the contract may move around, and a domain that accepts it.
    let device: PCIAddress
    let domain: UInt32

    func driver() -> String? { root.driver(of: device) }

    func checkAll() throws {
        try domainZeroIsListed()
        try assignableAddIsIdempotentAndRebinds()
        try removeWithoutRememberedDriverLeavesItUnbound()
        try attachNeedsAnAssignableDevice()
        try attachDetachCycle()
        try namedAssignable()
    }

    func domainZeroIsListed() throws {
        let domains = try toolstack.domains()
        #expect(domains.contains { $0.id == 0 && $0.name == "Domain-0" })
        #expect(try toolstack.domain(named: "0")?.id == 0)
        #expect(try toolstack.domain(named: "Domain-0")?.id == 0)
        #expect(try toolstack.domain(named: "no-such-domain") == nil)
    }

    func assignableAddIsIdempotentAndRebinds() throws {
        let original = try #require(driver())
        try toolstack.assignableAdd(device, name: nil, rebind: true)
        #expect(driver() == "pciback")
        try toolstack.assignableAdd(device, name: nil, rebind: true)   // again: a warning, not an error
        #expect(try toolstack.assignableList().contains { $0.address == device })
        try toolstack.assignableRemove(.address(device), rebind: true)
        #expect(driver() == original)
        #expect(try !toolstack.assignableList().contains { $0.address == device })
        // Removing what is not assignable any more fails (Xen cannot de-quarantine it).
        #expect(throws: ToolstackError.self) { try toolstack.assignableRemove(.address(device), rebind: true) }
    }

    func removeWithoutRememberedDriverLeavesItUnbound() throws {
        let original = try #require(driver())
        try toolstack.assignableAdd(device, name: nil, rebind: false)
        try toolstack.assignableRemove(.address(device), rebind: true)
        #expect(driver() == nil)
        // Give it back the way an operator would.
        try root.writeAttribute("sys/bus/pci/drivers/\(original)/bind", device.description)
        #expect(driver() == original)
    }

    func attachNeedsAnAssignableDevice() throws {
        let spec = try PCISpec(address: device)
        #expect {
            try toolstack.attach(spec, to: domain)
        } throws: { error in
            (error as? ToolstackError)?.log.contains { $0.contains("is not assignable") } == true
        }
        #expect(throws: ToolstackError.self) { try toolstack.attach(spec, to: 4_000_000) }
    }

    func attachDetachCycle() throws {
        let original = try #require(driver())
        try toolstack.assignableAdd(device, name: nil, rebind: true)
        let spec = try PCISpec(address: device, permissive: true)
        try toolstack.attach(spec, to: domain)
        #expect(try toolstack.devices(of: domain).contains { $0.address == device })
        #expect(try toolstack.holders()[device]?.id == domain)
        #expect(try !toolstack.assignableList().contains { $0.address == device })
        #expect((root.readText("sys/bus/pci/drivers/pciback/permissive") ?? "").contains(device.description))
        // Attached already: attaching again (anywhere) is refused.
        #expect(throws: ToolstackError.self) { try toolstack.attach(spec, to: domain) }
        try toolstack.detach(spec, from: domain, force: false)
        #expect(try !toolstack.devices(of: domain).contains { $0.address == device })
        #expect(driver() == "pciback")   // detaching does not give it back to dom0
        #expect(try toolstack.assignableList().contains { $0.address == device })
        #expect {
            try toolstack.detach(spec, from: domain, force: false)
        } throws: { ($0 as? ToolstackError)?.code == ToolstackError.invalid }
        try toolstack.assignableRemove(.address(device), rebind: true)
        #expect(driver() == original)
    }

    func namedAssignable() throws {
        let original = try #require(driver())
        try toolstack.assignableAdd(device, name: "xvf-contract", rebind: true)
        #expect(try toolstack.assignableList().first { $0.address == device }?.name == "xvf-contract")
        #expect {
            try toolstack.assignableRemove(.name("xvf-no-such-name"), rebind: true)
        } throws: { ($0 as? ToolstackError)?.code == ToolstackError.notFound }
        try toolstack.assignableRemove(.name("xvf-contract"), rebind: true)
        #expect(driver() == original)
    }
}

/// A simulated host in a temporary directory.
func simulatedRoot(_ layout: SimLayout = .dl360()) -> HostRoot {
    let path = temporaryDirectory("xenpci")
    return SimulatedHost.build(layout, at: path)
}

@Suite("Toolstack contract")
struct ToolstackContractTests {
    @Test("the simulated toolstack keeps libxl's rules")
    func simulated() throws {
        let root = simulatedRoot()
        defer { SimulatedHost.remove(at: root.prefix) }
        // eno49 VF 2 (04:11.0) is on igbvf in the demo layout; web1 is domain 1.
        let contract = ToolstackContract(toolstack: SimulatedToolstack(root: root), root: root,
                                         device: PCIAddress(bus: 4, device: 0x11, function: 0), domain: 1)
        try contract.checkAll()
    }
}
