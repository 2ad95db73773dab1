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
        try Golden.check("VFCountToolstack/vfs-fewer", result, root: root)
        // libxl keeps driver_path with rebind=0 (libxl_pci.c; it names igbvf, right for that address again);
        // nothing else of the old VFs may stay.
        let left = xenstore(root).filter { !$0.hasSuffix("/driver_path = /sys/bus/pci/drivers/igbvf") }
        #expect(left == [], "\(left)")
        let list = try xvf(["--root", root, "assignable", "list", "--json"])
        #expect(list.status == 0)
        #expect(list.stdout == "{\"assignable\":[{\"bdf\":\"0000:04:11.1\",\"device\":\"eno50/2\",\"name\":null}]}\n")
        #expect(list.stderr == "")
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
        try Golden.check("VFCountToolstack/failed-change", result, root: root)
        #expect(xenstore(root) == before, "libxl has the VF again, with its name and in quarantine")
    }

    // pciback has no sriov_configure: the kernel answers ENOENT, and the way out is the PF's own driver.
    @Test func aPFOnPcibackIsToldToGoBackToItsDriverFirst() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assignable", "add", "04:00.3"]).status == 0)
        let result = try xvf(["--root", root, "vfs", "04:00.3", "2"])
        #expect(result.status == 1)
        #expect(result.stdout == "echo 2 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs\n")
        #expect(result.stderr == "xvf: 0000:04:00.3 is on pciback, which creates no VFs; give it back to its own driver first "
                + "(`xvf assignable remove 0000:04:00.3`), then retry; nothing was changed\n")
        #expect(try String(contentsOfFile: root + "/sys/bus/pci/devices/0000:04:00.3/sriov_numvfs", encoding: .utf8) == "0\n")
    }
}
