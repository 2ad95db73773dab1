import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf bootline` on the simulated DL360: the text the lab proved works, the files, idempotence, refusals.
@Suite struct BootLineTests {
    let grub = "/etc/default/grub.d/xvf-pciback.cfg"
    let modprobe = "/etc/modprobe.d/xvf-pciback.conf"

    @Test func everyIgbvfVFHiddenBlacklistsIgbvf() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "bootline", "eno49/*", "eno50/*", "eno51/*", "eno52/*"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            # dom0 Linux command line (/etc/default/grub.d/xvf-pciback.cfg):
            GRUB_CMDLINE_LINUX_XEN_REPLACE="$GRUB_CMDLINE_LINUX xen-pciback.hide=(0000:04:10.*)(0000:04:11.*)(0000:04:12.*)(0000:04:13.0)(0000:04:13.1)(0000:04:13.2)(0000:04:13.3) modprobe.blacklist=igbvf"

            # modprobe.d, for xen-pciback as a module (/etc/modprobe.d/xvf-pciback.conf):
            options xen-pciback hide=(0000:04:10.*)(0000:04:11.*)(0000:04:12.*)(0000:04:13.0)(0000:04:13.1)(0000:04:13.2)(0000:04:13.3)
            softdep igbvf pre: xen-pciback
            blacklist igbvf

            note: igbvf is blacklisted in dom0: every VF it would drive is hidden, and without the blacklist igbvf (loaded from the initramfs) takes the VFs before xen-pciback loads
            note: 10 of these VFs do not exist yet (0000:04:10.3 0000:04:10.7 0000:04:11.3 0000:04:11.7 …): they are hidden once created at boot (`xvf driver DRIVER --max-vfs N --persist`, or `xvf boot`)

            write them with --write

            """)
        #expect(snapshot(root) == before, "printing changes nothing")
    }

    @Test func someVFsLeftToDom0MeanNoBlacklistAndSaySo() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "bootline", "eno49/0-1"])
        #expect(result.status == 0)
        try Golden.check("BootLine/some-vfs-left-to-dom0", result, root: root)
    }

    @Test func futureVFsAcrossABusBoundary() throws {
        // An 82599 port at 81:00.1 with VF offset 0x7f and stride 4: VF 31 is at routing ID
        // 0x8101 + 0x7f + 31×4 = 0x81fc (81:1f.4); VF 32 at 0x8200, the first function of bus 0x82.
        let port = PCIAddress(bus: 0x80, device: 1, function: 0)
        var layout = SimLayout(
            functions: [
                SimFunction(address: PCIAddress(bus: 0x81, device: 0, function: 1), port: port, vendor: 0x8086,
                            device: 0x10fb, driver: "ixgbe", interface: "ens2f1", mac: "90:e2:ba:00:00:02",
                            sriov: SimSRIOV(totalVFs: 63, offset: 0x7f, stride: 4, vfDevice: 0x10ed,
                                            vfDriver: "ixgbevf")),
            ],
            drivers: [SimDriver(name: "ixgbe", ids: ["8086:10fb"]), SimDriver(name: "ixgbevf", ids: ["8086:10ed"]),
                      .pciback],
            defaultRouteInterface: nil, xenDom0: true)
        layout.moduleAliases = false
        let root = simulatedHost(layout)
        let run = Golden.Transcript(root: root)
        let result = try run.xvf(["bootline", "ens2f1/31-33"])
        #expect(result.status == 0, "\(result.stderr)")
        // The future VF can be named by its address too. ixgbevf is known only from modules.alias here (no
        // VF exists): without it there is no softdep.
        try run.xvf(["bootline", "82:00.0"])
        try FileManager.default.createDirectory(atPath: root + "/lib/modules/6.1.0-28-amd64", withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: root + "/proc/sys/kernel", withIntermediateDirectories: true)
        try "6.1.0-28-amd64\n".write(toFile: root + "/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        try "alias pci:v00008086d000010EDsv*sd*bc*sc*i* ixgbevf\n"
            .write(toFile: root + "/lib/modules/6.1.0-28-amd64/modules.alias", atomically: true, encoding: .utf8)
        // With the alias, a softdep, and a blacklist: no ixgbevf VF exists, so none stays with dom0.
        run.note("modules.alias names ixgbevf for 8086:10ed")
        try run.xvf(["bootline", "82:00.0"])
        try run.check("BootLine/future-vfs-across-a-bus-boundary")
    }

    @Test func writePutsBothFilesInPlaceAndIsIdempotent() throws {
        let root = simulatedHost()
        // The user's own lines in the modprobe.d file stay.
        try FileManager.default.createDirectory(atPath: root + "/etc/modprobe.d", withIntermediateDirectories: true)
        try "# my own\noptions xen-pciback permissive=0\n".write(toFile: root + modprobe, atomically: true, encoding: .utf8)
        let userGrub = try String(contentsOfFile: root + "/etc/default/grub", encoding: .utf8)
        let run = Golden.Transcript(root: root)
        let result = try run.xvf(["bootline", "eno49/0-6", "--write"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(try String(contentsOfFile: root + grub, encoding: .utf8) == """
            # The dom0 Linux command line under Xen, from `xvf bootline`. GRUB_CMDLINE_LINUX_XEN_REPLACE
            # replaces the dom0 line, so it starts with the usual one. Run update-grub after a change.
            # BEGIN xvf bootline (written by xvf; changes inside this block are replaced)
            GRUB_CMDLINE_LINUX_XEN_REPLACE="$GRUB_CMDLINE_LINUX xen-pciback.hide=(0000:04:10.0)(0000:04:10.4)(0000:04:11.0)(0000:04:11.4)(0000:04:12.0)(0000:04:12.4)(0000:04:13.0)"
            # END xvf bootline

            """)
        #expect(try String(contentsOfFile: root + modprobe, encoding: .utf8) == """
            # my own
            options xen-pciback permissive=0
            # BEGIN xvf bootline (written by xvf; changes inside this block are replaced)
            options xen-pciback hide=(0000:04:10.0)(0000:04:10.4)(0000:04:11.0)(0000:04:11.4)(0000:04:12.0)(0000:04:12.4)(0000:04:13.0)
            softdep igbvf pre: xen-pciback
            # END xvf bootline

            """)
        #expect(try String(contentsOfFile: root + "/etc/default/grub", encoding: .utf8) == userGrub)
        let before = snapshot(root)
        let again = try run.xvf(["bootline", "eno49/0-6", "--write"])
        #expect(again.status == 0)
        #expect(snapshot(root) == before)
        try run.check("BootLine/write-then-nothing-to-do")
    }

    /// `bootline` whole, as text and `--json`: the lines alone, the plan of the files, the write, and a
    /// write with nothing to do.
    @Test func bootlineWholeOutputs() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try run.xvf(["bootline", "eno49/0-1", "--json"])
        try run.xvf(["bootline", "eno49/0-1", "--write", "--dry-run"])
        try run.xvf(["bootline", "eno49/0-1", "--write", "--json"])
        try run.xvf(["bootline", "eno49/0-1", "--write"])
        try run.xvf(["bootline", "eno49/0-1", "--write", "--json"])
        try run.check("Families/bootline-write")
    }

    @Test func theInitramfsNeedsAnUpdateWhenTheVFDriverIsInIt() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/initramfs-tools", withIntermediateDirectories: true)
        try "MODULES=most\n".write(toFile: root + "/etc/initramfs-tools/initramfs.conf", atomically: true, encoding: .utf8)
        let result = try xvf(["--root", root, "bootline", "eno49/0", "--write"])
        try Golden.check("BootLine/initramfs-update", result, root: root)
    }

    @Test func dryRunShowsTheFilesAndChangesNothing() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "bootline", "eno49/0", "--write", "--dry-run"])
        #expect(result.status == 0)
        try Golden.check("BootLine/write-dry-run", result, root: root)
        #expect(snapshot(root) == before)
    }

    @Test("bootline refusals change nothing", arguments: [
        (["bootline", "02:00.0", "--write"], Int32(1), "refusing to hide 0000:02:00.0: it holds the disk behind / (sda1); pass --force to do it anyway"),
        (["bootline", "00:01.0", "--write"], 1, "refusing to hide 0000:00:01.0: it is a bridge above the disk behind / (sda1 on 0000:02:00.0); pass --force to do it anyway"),
        (["bootline", "eno1", "eno49/0", "--write"], 1, "refusing to hide 0000:03:00.0: it has eno1, which carries the default route; pass --force to do it anyway"),
        (["bootline", "eno49/7", "--write"], 2, "'eno49/7' names VF 7, but eno49 can have 7 VFs (sriov_totalvfs)"),
        (["bootline", "04:10", "--write"], 2, "'04:10' has no function number; write it as 04:10.0 (BB:DD.F)"),
        (["bootline", "06:00.0", "--write"], 2, "'0000:06:00.0' is not a PCI device on this host; `xvf list` shows the devices"),
    ])
    func refusals(arguments: [String], status: Int32, message: String) throws {
        try expectRefusal(arguments, status: status, message: message)
    }

    @Test func forceHidesTheManagementPortAnyway() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "bootline", "eno1", "--force"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            # dom0 Linux command line (/etc/default/grub.d/xvf-pciback.cfg):
            GRUB_CMDLINE_LINUX_XEN_REPLACE="$GRUB_CMDLINE_LINUX xen-pciback.hide=(0000:03:00.0)"

            # modprobe.d, for xen-pciback as a module (/etc/modprobe.d/xvf-pciback.conf):
            options xen-pciback hide=(0000:03:00.0)
            softdep tg3 pre: xen-pciback

            write them with --write

            """)
        #expect(result.stderr == "")
    }
}
