import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport
@testable import XVFKit

/// `xvf boot` hands a VF to pciback through `driver_override` and clears the override afterwards; an
/// override it could not clear keeps dom0's driver away from the VF for good, so it is said in a note.
@Suite struct BootRunOverrideTests {
    /// The simulated kernel, except that it refuses to clear a `driver_override`.
    struct KeepsOverrides: AttributeWriter {
        let kernel = SimulatedKernel()
        func write(_ value: String, to relativePath: String, in root: HostRoot) throws(SysfsError) {
            if relativePath.hasSuffix("/driver_override") && value == "\n" {
                throw SysfsError(path: relativePath, value: value, errno: EIO)
            }
            try kernel.write(value, to: relativePath, in: root)
        }
    }

    @Test func anOverrideThatCannotBeClearedIsANote() throws {
        let path = temporaryDirectory("override")
        SimulatedHost.build(.dl360(), at: path)
        try FileManager.default.createDirectory(atPath: path + "/etc/xen", withIntermediateDirectories: true)
        try "assignable = [ 'eno49/2' ]\n".write(toFile: path + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let root = HostRoot(path, attributeWriter: KeepsOverrides())
        let inventory = try HostInventory.discover(root)
        let config = try #require(try HostConfig.load(path: nil, root: root, inventory: inventory))
        // Off a dom0 (no toolstack) the VF goes to pciback through sysfs.
        let plan = BootPlan(config: config, inventory: inventory, holders: [:], safety: HostSafety(inventory),
                            assignableNames: nil, linkState: nil)
        var run = BootRun(plan: plan, inventory: inventory, toolstack: nil, holders: [:])
        run.apply { _ in }
        #expect(run.failures == [])
        #expect(driver(path, "0000:04:11.0") == "pciback")
        #expect(run.notes.count == 1)
        #expect(run.notes.first?.contains("(0000:04:11.0): driver_override stays pciback") == true, "\(run.notes)")
        #expect(run.notes.first?.contains("echo > /sys/bus/pci/devices/0000:04:11.0/driver_override") == true)
    }
}
