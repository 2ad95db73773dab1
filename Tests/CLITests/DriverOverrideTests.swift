import Foundation
import SRIOV
import Testing
import TestSupport

/// A VF's `driver_override` is its own (the demo's eno49/2 is 0000:04:11.0): discovery reads it for VFs
/// as for PFs, and `xvf show` says it.
@Suite struct DriverOverrideTests {
    @Test func showSaysAVFsOverride() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        let before = try run.xvf(["show", "eno49/2"])
        #expect(before.status == 0, "\(before.stderr)")
        try HostRoot(root).replaceFile("sys/bus/pci/devices/0000:04:11.0/driver_override", with: "pciback\n")
        run.note("driver_override of 0000:04:11.0 set to pciback")
        try run.xvf(["show", "eno49/2"])
        try run.xvf(["show", "eno49/2", "--json"])
        try run.check("DriverOverride/show")
    }

    /// eno50 made its VFs with sriov_drivers_autoprobe off: its VF 0 has no driver, and Linux lets pciback
    /// bind it only through driver_override, which assign and assignable add set for the add and clear.
    @Test func aVFOfAPFWithAutoprobeOffGoesToPcibackThroughTheOverride() throws {
        let root = simulatedHost()
        let vf0 = try #require(HostRoot(root).readLink("sys/bus/pci/devices/0000:04:00.1/virtfn0")).split(separator: "/").last!
        let vf1 = try #require(HostRoot(root).readLink("sys/bus/pci/devices/0000:04:00.1/virtfn1")).split(separator: "/").last!
        #expect(driver(root, "\(vf0)") == nil)
        let assign = try xvf(["--root", root, "assign", "eno50/0", "--dom", "web1", "--json"])
        #expect(assign.status == 0, "\(assign.stdout)")
        try Golden.check("DriverOverride/assign-with-autoprobe-off", assign, root: root)
        #expect(driver(root, "\(vf0)") == "pciback")
        #expect(HostRoot(root).readText("sys/bus/pci/devices/\(vf0)/driver_override") == "(null)")
        let add = try xvf(["--root", root, "assignable", "add", "eno50/1"])
        #expect(add.status == 0, "\(add.stderr)")
        #expect(driver(root, "\(vf1)") == "pciback")
        #expect(HostRoot(root).readText("sys/bus/pci/devices/\(vf1)/driver_override") == "(null)")
    }
}
