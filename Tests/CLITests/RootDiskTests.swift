import Foundation
import SimHost
import Testing
import TestSupport

/// The disk behind `/` is found however `/` is mounted (the demo's disk controller is 0000:02:00.0),
/// and when it cannot be found commands and `xvf doctor` say so instead of staying silent.
@Suite struct RootDiskTests {
    func host(_ filesystem: SimRootFilesystem) -> String {
        var layout = SimLayout.dl360()
        layout.rootFilesystem = filesystem
        return simulatedHost(layout)
    }

    @Test("the controller is protected whatever /proc/mounts calls the device", arguments: [
        (SimRootFilesystem.partition, "sda1"),
        // /dev/root is not in /dev; /dev/mapper/vg-root has no link here: only major:minor leads to the disk.
        (.devRoot, "sda1"),
        (.deviceMapper, "sda2"),
    ])
    func theControllerIsProtected(filesystem: SimRootFilesystem, disk: String) throws {
        let root = host(filesystem)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "assign", "02:00.0", "--dom", "web1"])
        #expect(result.status == 1)
        #expect(result.stderr == "xvf: refusing to assign 0000:02:00.0: it holds the disk behind / (\(disk)); "
                + "pass --force to do it anyway\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
        let doctor = try xvf(["--root", root, "doctor"])
        try Golden.check("RootDisk/doctor-\(filesystem)", doctor, root: root)
    }

    @Test func anUnknownRootDiskIsAWarning() throws {
        // ZFS: / is a dataset, not a block device; the pool's disks are not in sysfs' view of the mount.
        let root = host(.zfs)
        let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr == "xvf: warning: cannot tell which PCI device holds the disk behind / (rpool/ROOT/debian, zfs); "
                + "it is not protected: make sure the devices you hide, assign or reload are not its controller\n")
        let doctor = try xvf(["--root", root, "doctor"])
        try Golden.check("RootDisk/doctor-unknown-disk", doctor, root: root)
        // A root in memory has no disk to lose: nothing to warn about.
        var diskless = SimLayout.dl360()
        diskless.rootDiskController = nil
        let quiet = try xvf(["--root", simulatedHost(diskless), "assign", "eno49/2", "--dom", "web1", "--dry-run"])
        #expect(quiet.status == 0 && quiet.stderr == "", "\(quiet.stderr)")
    }

    /// `xvf boot` and `xvf doctor` report through the same runner as every command: warnings reach the user.
    @Test func bootSaysTheRootDiskIsUnprotected() throws {
        let root = host(.zfs)
        let config = root + "/etc/xen/xvf.cfg"
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "assignable = [ 'eno49/2' ]\n".write(toFile: config, atomically: true, encoding: .utf8)
        let result = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            echo pciback > /sys/bus/pci/devices/0000:04:11.0/driver_override
            libxl_device_pci_assignable_add 0000:04:11.0 rebind=1
            echo > /sys/bus/pci/devices/0000:04:11.0/driver_override
            dry run: nothing was changed

            """)
        #expect(result.stderr == "xvf: warning: cannot tell which PCI device holds the disk behind / (rpool/ROOT/debian, zfs); "
                + "it is not protected: make sure the devices you hide, assign or reload are not its controller\n")
    }
}
