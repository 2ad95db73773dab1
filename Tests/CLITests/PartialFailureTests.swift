import Foundation
import SRIOV
import Testing
import TestSupport

/// A command over several steps or devices that fails half-way says what it had done, or undoes it
/// (the demo DL360: eno51's VFs 0 and 1 are 0000:04:10.2 and 0000:04:10.6 on igbvf; web1 = domain 1).
@Suite struct PartialFailureTests {
    /// Points libxl's remembered driver of a device at a driver that will not bind it.
    func breakRememberedDriver(_ root: String, _ bdf: String) throws {
        let path = root + "/xvf-simulated-xenstore"
        let key = "/libxl/pci/" + bdf.replacingOccurrences(of: ":", with: "-").replacingOccurrences(of: ".", with: "-")
        let text = try String(contentsOfFile: path, encoding: .utf8)
        #expect(text.contains(key + "/driver_path = /sys/bus/pci/drivers/igbvf"))
        try text.replacingOccurrences(of: key + "/driver_path = /sys/bus/pci/drivers/igbvf",
                                      with: key + "/driver_path = /sys/bus/pci/drivers/ixgbevf")
            .write(toFile: path, atomically: true, encoding: .utf8)
    }

    @Test func releaseToDom0SaysTheDeviceWasDetachedWhenGivingItBackFails() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno51/0", "--dom", "web1"]).status == 0)
        try breakRememberedDriver(root, "0000:04:10.2")
        let result = try xvf(["--root", root, "release", "eno51/0", "--to-dom0"])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        // libxl took it off pciback, then the bind to the remembered driver failed: it has no driver now.
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: eno51/0 (0000:04:10.2) was detached from domain 1 (web1) and has no driver; giving it back "
                + "to dom0 failed: libxl refused (libxl_device_pci_assignable_remove, ERROR_NONSPECIFIC): libxl: "
                + "error: libxl_pci.c:920:libxl__device_pci_assignable_remove: Couldn't bind device to "
                + "/sys/bus/pci/drivers/ixgbevf\n")
        #expect(driver(root, "0000:04:10.2") == nil)
        try Golden.check("PartialFailure/release-to-dom0-list", try xvf(["--root", root, "list", "--json"]), root: root)
    }

    @Test func assignableAddGivesBackWhatItDidWhenALaterDeviceFails() throws {
        let root = simulatedHost()
        // eno51/1 may only ever bind igbvf: libxl unbinds it, then pciback refuses it (ENODEV).
        try HostRoot(root).replaceFile("sys/bus/pci/devices/0000:04:10.6/driver_override", with: "igbvf\n")
        let result = try xvf(["--root", root, "assignable", "add", "eno51/0", "eno51/1"])
        #expect(result.status == 1)
        #expect(result.stdout.isEmpty)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: libxl refused (libxl_device_pci_assignable_add, ERROR_FAIL): libxl: error: "
                + "libxl_pci.c:0:sysfs_write_bdf: Couldn't write 0000:04:10.6 to "
                + "/sys/bus/pci/drivers/pciback/bind: writing '0000:04:10.6' to /sys/bus/pci/drivers/pciback/bind: "
                + "No such device; gave 0000:04:10.6 back to igbvf; gave 0000:04:10.2 back to igbvf\n")
        #expect(driver(root, "0000:04:10.2") == "igbvf")
        #expect(driver(root, "0000:04:10.6") == "igbvf")
        try Golden.check("PartialFailure/assignable-add-list", try xvf(["--root", root, "assignable", "list"]), root: root)
    }

    @Test func assignableRemoveNamesTheDevicesItRemovedBeforeAFailure() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assignable", "add", "eno51/0", "eno51/1"]).status == 0)
        // libxl remembers a driver for eno51/1 that will not bind it.
        try breakRememberedDriver(root, "0000:04:10.6")
        let result = try xvf(["--root", root, "assignable", "remove", "eno51/0", "eno51/1", "--rebind"])
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: libxl refused (libxl_device_pci_assignable_remove, ERROR_NONSPECIFIC): libxl: error: "
                + "libxl_pci.c:920:libxl__device_pci_assignable_remove: Couldn't bind device to "
                + "/sys/bus/pci/drivers/ixgbevf; done before the failure: 0000:04:10.2: no longer assignable; on "
                + "igbvf\n")
        #expect(driver(root, "0000:04:10.2") == "igbvf")
    }

    @Test func removingWhatIsNotAssignableChangesNothing() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        // eno51/1 was never made assignable: it is on igbvf, and a second `remove` (Ansible's absent) is fine.
        let result = try xvf(["--root", root, "assignable", "remove", "eno51/1", "--rebind"])
        #expect(result.status == 0)
        #expect(result.stdout == "0000:04:10.6: not assignable (on igbvf); nothing to do\n")
        #expect(snapshot(root) == before)
    }
}
