import Foundation
import Glibc
import SRIOV
import SimHost
import SimXen
import Testing
import TestSupport
import XVFKit

/// The simulated kernel must answer the way Linux does, or tests built on it prove nothing.
@Suite struct SimulatedKernelTests {
    func numvfs(_ pf: String) -> String { "sys/bus/pci/devices/\(pf)/sriov_numvfs" }

    func errno(of body: () throws -> Void) -> Int32? {
        do { try body() } catch let error as SysfsError { return error.errno } catch { return -1 }
        return nil
    }

    @Test func sriovNumvfsCreatesAndRemovesVFs() throws {
        let host = TemporaryHost()
        try host.root.writeAttribute(numvfs("0000:04:00.3"), "3")
        var inventory = try host.inventory()
        let eno52 = try #require(inventory.device(withInterface: "eno52"))
        #expect(inventory.virtualFunctions(of: eno52).map(\.address.shortDescription) == ["04:10.3", "04:10.7", "04:11.3"])
        #expect(inventory.virtualFunctions(of: eno52).allSatisfy { $0.driver == "igbvf" }, "autoprobe on binds igbvf")
        try host.root.writeAttribute(numvfs("0000:04:00.3"), "0")
        inventory = try host.inventory()
        #expect(inventory.device(withInterface: "eno52")?.sriov?.numVFs == 0)
        #expect(try inventory[PCIAddress(parsing: "04:10.3")] == nil)
        #expect(host.root.readLink("sys/class/net/eno52v0") == nil, "the VF's interface went with it")
    }

    @Test func refusesLikeLinux() throws {
        let host = TemporaryHost()
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.3"), "8") } == ERANGE)
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.2"), "5") } == EBUSY)
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.2"), "x") } == EINVAL)
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.2"), "4") } == nil, "same count: no-op")
        // igb will not free VFs that are assigned to a guest: pciback exports them from a PCI backend.
        try "/local/domain/0/backend/pci/3/0/dev-0 = 0000:04:10.4\n".write(
            toFile: host.path + "/" + SimulatedKernel.xenstoreFile, atomically: true, encoding: .utf8)
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.0"), "0") } == EPERM)
        // Through the interface's device link, as operators write it.
        #expect(errno { try host.root.writeAttribute("sys/class/net/eno52/device/sriov_numvfs", "2") } == nil)
        #expect(try host.inventory().device(withInterface: "eno52")?.sriov?.numVFs == 2)
    }

    /// As the lab measured on Linux 6.1 and 6.12: a VF on pciback is assigned even with no guest, so the
    /// count cannot go to 0 until pciback lets go of it; then it can.
    @Test func vfsOnPcibackWithoutAGuestStillHoldTheCount() throws {
        let host = TemporaryHost()
        // eno49/0 and eno49/1 are on pciback, exported to no guest.
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.0"), "0") } == EPERM)
        #expect(try host.inventory().device(withInterface: "eno49")?.sriov?.numVFs == 7)
        for vf in ["0000:04:10.0", "0000:04:10.4"] {
            #expect(errno { try host.root.writeAttribute("sys/bus/pci/drivers/pciback/unbind", vf) } == nil)
        }
        #expect(errno { try host.root.writeAttribute(numvfs("0000:04:00.0"), "0") } == nil)
        #expect(try host.inventory().device(withInterface: "eno49")?.sriov?.numVFs == 0)
    }

    @Test func aPFWithoutDriverCannotEnableVFsAndMMIOShortageIsENOMEM() throws {
        var layout = TestLayouts.unusual()
        layout.functions[2].sriov?.mmioShortage = true
        let host = TemporaryHost(layout)
        #expect(errno { try host.root.writeAttribute(numvfs("0000:81:00.0"), "1") } == ENOENT)
        #expect(errno { try host.root.writeAttribute(numvfs("0000:81:00.1"), "1") } == ENOMEM)
    }

    @Test func bindUnbindOverrideAndProbeMoveDevices() throws {
        let host = TemporaryHost()
        let vf = "0000:04:11.0"  // eno49/2 on igbvf
        let root = host.root
        #expect(errno { try root.writeAttribute("sys/bus/pci/drivers/pciback/bind", vf) } == EBUSY)
        #expect(errno { try root.writeAttribute("sys/bus/pci/drivers/igb/unbind", vf) } == ENODEV)
        try root.writeAttribute("sys/bus/pci/drivers/igbvf/unbind", vf)
        #expect(driver(host.path, vf) == nil)
        // pciback binds only what was handed to it.
        #expect(errno { try root.writeAttribute("sys/bus/pci/drivers/pciback/bind", vf) } == ENODEV)
        try root.writeAttribute("sys/bus/pci/devices/\(vf)/driver_override", "pciback")
        try root.writeAttribute("sys/bus/pci/drivers_probe", vf)
        #expect(driver(host.path, vf) == "pciback")
        try root.writeAttribute("sys/bus/pci/drivers/pciback/permissive", vf)
        #expect(root.readText("sys/bus/pci/drivers/pciback/permissive") == vf)
        try root.writeAttribute("sys/bus/pci/drivers/pciback/unbind", vf)
        #expect(root.readText("sys/bus/pci/drivers/pciback/permissive") == "", "permissive goes with the binding")
        try root.writeAttribute("sys/bus/pci/devices/\(vf)/driver_override", "")
        try root.writeAttribute("sys/bus/pci/drivers_probe", vf)
        #expect(driver(host.path, vf) == "igbvf")
    }

    @Test func autoprobeOffLeavesNewVFsUnboundAndNeedsAnOverrideToBind() throws {
        let host = TemporaryHost()
        let root = host.root
        try root.writeAttribute("sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe", "0")
        try root.writeAttribute(numvfs("0000:04:00.3"), "1")
        let vf = "0000:04:10.3"
        #expect(driver(host.path, vf) == nil)
        #expect(errno { try root.writeAttribute("sys/bus/pci/drivers/igbvf/bind", vf) } == ENODEV)
        try root.writeAttribute("sys/bus/pci/drivers/pciback/new_slot", vf)
        #expect(errno { try root.writeAttribute("sys/bus/pci/drivers/pciback/bind", vf) } == ENODEV,
                "pci_device_can_probe: a VF of a PF with autoprobe off needs driver_override")
        try root.writeAttribute("sys/bus/pci/devices/\(vf)/driver_override", "pciback")
        try root.writeAttribute("sys/bus/pci/drivers/pciback/bind", vf)
        #expect(driver(host.path, vf) == "pciback")
    }

    @Test func theTreeHasRealLinksAndConfigSpace() throws {
        let host = TemporaryHost()
        let root = host.root
        #expect(root.readLink("sys/bus/pci/devices/0000:04:00.0") == "../../../devices/pci0000:00/0000:00:03.0/0000:04:00.0")
        #expect(root.resolve("sys/class/net/eno49/device/..")?.hasSuffix("0000:00:03.0") == true)
        #expect(root.readFile("sys/bus/pci/devices/0000:04:10.0/config")?.count == 4096)
        #expect(root.linkTarget("sys/bus/pci/devices/0000:04:10.0/physfn") == "0000:04:00.0")
        let group = try #require(root.linkTarget("sys/bus/pci/devices/0000:04:10.0/iommu_group"))
        #expect(root.list("sys/kernel/iommu_groups/\(group)/devices") == ["0000:04:10.0"])
    }
}

/// The marker file that selects the simulated kernel must never take effect on the running system.
@Suite struct SimulatedRootTests {
    @Test func theRunningSystemIsNeverSimulated() throws {
        for spelling in ["/", "/.", "//", "/tmp/.."] {
            #expect(HostRoot(spelling).isRunningSystem, "\(spelling)")
            #expect(!SimulatedHost.isSimulated(HostRoot(spelling)), "\(spelling)")
        }
        let host = TemporaryHost()
        #expect(!host.root.isRunningSystem)
        #expect(SimulatedHost.isSimulated(host.root))
        // The simulator's backends take a simulated tree only; the real ones never simulate.
        #expect(try HostBackends.simulated.root(host.path).attributeWriter is SimulatedKernel)
        let error = thrown(XVFError.self) { try HostBackends.simulated.root("/") }
        #expect(error?.code == .notSimulated(root: "/", marker: SimulatedHost.markerFile))
        #expect(try HostBackends.real.root(host.path).attributeWriter is KernelAttributeWriter)
    }
}
