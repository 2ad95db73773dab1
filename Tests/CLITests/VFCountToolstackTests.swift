import Foundation
import SRIOV
import Testing
import TestSupport

/// On a dom0, `xvf vfs` takes the VFs libxl made assignable off pciback through libxl (rebind=0), so
/// Xen de-quarantines them and libxl forgets their names; raw sysfs writes left both behind for the next
/// VF at that address (the demo DL360: eno49 = 0000:04:00.0 with 7 VFs; VF 2 = 0000:04:11.0,
/// VF 5 = 0000:04:12.4; VFs 0-1 are on pciback through driver_override, never quarantined, so libxl
/// refuses them and sysfs takes them off).
@Suite struct VFCountToolstackTests {
    func xenstore(_ root: String) -> [String] {
        ((try? String(contentsOfFile: root + "/xvf-simulated-xenstore", encoding: .utf8)) ?? "")
            .split(separator: "\n").map(String.init)
    }

    @Test func removedVFsLeaveNoNameOrQuarantineBehind() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assignable", "add", "eno49/2", "--name", "web-nic"]).status == 0)
        #expect(try xvf(["--root", root, "assignable", "add", "eno49/5"]).status == 0)
        #expect(xenstore(root).contains("/libxl/pci/0000-04-11-0/name = web-nic"))

        let result = try xvf(["--root", root, "vfs", "eno49", "3"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("""
            libxl_device_pci_assignable_remove 0000:04:10.0 rebind=0
            echo 0000:04:10.0 > /sys/bus/pci/drivers/pciback/unbind
            libxl_device_pci_assignable_remove 0000:04:10.4 rebind=0
            echo 0000:04:10.4 > /sys/bus/pci/drivers/pciback/unbind
            libxl_device_pci_assignable_remove 0000:04:11.0 rebind=0
            libxl_device_pci_assignable_remove 0000:04:12.4 rebind=0
            echo 0 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs
            echo 3 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs

            """), "\(result.stdout)")
        // libxl keeps driver_path with rebind=0 (libxl_pci.c; it names igbvf, right for that address again);
        // nothing else of the old VFs may stay.
        let left = xenstore(root).filter { !$0.hasSuffix("/driver_path = /sys/bus/pci/drivers/igbvf") }
        #expect(left == [], "\(left)")
        let list = try xvf(["--root", root, "assignable", "list", "--json"])
        #expect(!list.stdout.contains("web-nic") && !list.stdout.contains("0000:04:12.4"), "\(list.stdout)")
    }

    @Test func aFailedChangeHandsTheVFsBackToLibxlWithTheirNames() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assignable", "add", "eno49/2", "--name", "web-nic"]).status == 0)
        let before = xenstore(root)
        // Only the PF's driver can change the count: without one, writing 0 fails (ENOENT) after the
        // VFs have left pciback.
        try HostRoot(root).removeFile("sys/bus/pci/devices/0000:04:00.0/driver")
        let result = try xvf(["--root", root, "vfs", "eno49", "3"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("put back: ") && result.stderr.contains("0000:04:11.0 on pciback"),
                "\(result.stderr)")
        #expect(xenstore(root) == before, "libxl has the VF again, with its name and in quarantine")
    }

    // pciback has no sriov_configure: the kernel answers ENOENT, and the way out is the PF's own driver.
    @Test func aPFOnPcibackIsToldToGoBackToItsDriverFirst() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assignable", "add", "04:00.3"]).status == 0)
        let result = try xvf(["--root", root, "vfs", "04:00.3", "2"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("0000:04:00.3 is on pciback, which creates no VFs; give it back to its own driver "
                                       + "first (`xvf assignable remove 0000:04:00.3`), then retry"), "\(result.stderr)")
        #expect(try String(contentsOfFile: root + "/sys/bus/pci/devices/0000:04:00.3/sriov_numvfs", encoding: .utf8) == "0\n")
    }
}
