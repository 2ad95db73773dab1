import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf vfs`, `xvf driver` and `xvf bootline` on the simulated DL360 (eno49: 7 VFs, 0-1 on pciback;
/// eno50: 7 VFs, autoprobe off; eno51: 4 VFs on igbvf; eno52: none; ens1f0: 4 ixgbevf VFs; eno1 on tg3
/// carries the default route; the Smart Array at 02:00.0 holds /).
@Suite struct HostSetupTests {
    func numvfs(_ root: String, _ pf: String) -> Int? {
        HostRoot(root).readInteger("sys/bus/pci/devices/\(pf)/sriov_numvfs")
    }

    // MARK: xvf vfs

    @Test func changingACountWritesZeroFirstAndReleasesPciback() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "vfs", "eno49", "4"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            libxl_device_pci_assignable_remove 0000:04:10.0 rebind=0
            echo 0000:04:10.0 > /sys/bus/pci/drivers/pciback/unbind
            libxl_device_pci_assignable_remove 0000:04:10.4 rebind=0
            echo 0000:04:10.4 > /sys/bus/pci/drivers/pciback/unbind
            echo 0 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs
            echo 4 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs
            eno49 (0000:04:00.0): 4 VFs (was 7)
            0000:04:10.0 0000:04:10.4 left pciback with the old VFs; hand the new ones to pciback with `xvf assignable add`

            """)
        #expect(numvfs(root, "0000:04:00.0") == 4)
        #expect(driver(root, "0000:04:10.0") == "igbvf", "a new VF gets the dom0 driver (autoprobe on)")
        #expect(HostRoot(root).exists("sys/bus/pci/devices/0000:04:12.0") == false, "VF 4 is gone")
    }

    @Test func fromZeroThereIsNoResetAndTheSameCountIsANoOp() throws {
        let root = simulatedHost()
        let create = try xvf(["--root", root, "vfs", "04:00.3", "3"])
        #expect(create.status == 0)
        #expect(create.stdout == """
            echo 3 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs
            eno52 (0000:04:00.3): 3 VFs (was 0)

            """)
        #expect(create.stderr == "")
        #expect(numvfs(root, "0000:04:00.3") == 3)
        let before = snapshot(root)
        let again = try xvf(["--root", root, "vfs", "eno52", "3"])
        #expect(again.status == 0)
        #expect(again.stdout == "eno52 (0000:04:00.3) already has 3 VFs; nothing to do\n")
        #expect(snapshot(root) == before)
        let remove = try xvf(["--root", root, "vfs", "eno52", "0"])
        #expect(remove.status == 0)
        #expect(remove.stdout == """
            echo 0 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs
            eno52 (0000:04:00.3): 0 VFs (was 3)

            """)
        #expect(remove.stderr == "")
        #expect(numvfs(root, "0000:04:00.3") == 0)
    }

    @Test func dryRunPrintsTheStepsAndChangesNothing() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "vfs", "eno51", "2", "--dry-run"])
        #expect(result.status == 0)
        #expect(result.stdout == """
            echo 0 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            echo 2 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            dry run: nothing was changed

            """)
        #expect(snapshot(root) == before)
    }

    @Test("vfs refusals change nothing", arguments: [
        (["vfs", "eno49", "8"], Int32(2), "8 is above the 7 VFs eno49 (0000:04:00.0) supports (sriov_totalvfs); use 0-7"),
        (["vfs", "ens1f0", "64"], 2, "64 is above the 63 VFs ens1f0 (0000:05:00.0) supports (sriov_totalvfs); use 0-63"),
        (["vfs", "eno49", "+3"], 2, "'+3' is not a VF count; write a whole number 0-7 for eno49 (0000:04:00.0)"),
        (["vfs", "eno49", "seven"], 2, "'seven' is not a VF count; write a whole number 0-7 for eno49 (0000:04:00.0)"),
        (["vfs", "eno1", "2"], 2, "'eno1' (0000:03:00.0) is not SR-IOV capable (no sriov_totalvfs)"),
        (["vfs", "eno49/1", "2"], 2, "'eno49/1' names VFs; name their PF (an interface such as eno49, or its address)"),
        (["vfs", "04:10.4", "2"], 2, "'04:10.4' (0000:04:10.4) is a VF; name its PF (0000:04:00.0)"),
        (["vfs", "eno99", "2"], 2, "'eno99' is not a network interface of a PCI device here; `xvf list` shows them"),
    ])
    func vfsRefusalsChangeNothing(arguments: [String], status: Int32, message: String) throws {
        try expectRefusal(arguments, status: status, message: message)
    }

    @Test func aVFAttachedToADomainStopsTheChangeUnlessForced() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        let before = snapshot(root)
        let refused = try xvf(["--root", root, "vfs", "eno49", "3"])
        #expect(refused.status == 1)
        #expect(refused.stderr == "xvf: refusing to change the VF count of eno49 (0000:04:00.0): VF 2 (0000:04:11.0) is "
                + "attached to domain web1 (1); detach it (xvf release 0000:04:11.0) or pass --force\n")
        #expect(snapshot(root) == before)
        let dry = try xvf(["--root", root, "vfs", "eno49", "3", "--force", "--dry-run"])
        #expect(dry.status == 0)
        #expect(dry.stdout == """
            libxl_device_pci_assignable_remove 0000:04:10.0 rebind=0
            libxl_device_pci_assignable_remove 0000:04:10.4 rebind=0
            echo 0000:04:11.0 > /sys/bus/pci/drivers/pciback/unbind
            echo 0000:04:11.0 > /sys/bus/pci/drivers/pciback/remove_slot
            echo 0 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs
            echo 3 > /sys/bus/pci/devices/0000:04:00.0/sriov_numvfs
            dry run: nothing was changed

            """)
        #expect(dry.stderr == "")
        #expect(snapshot(root) == before)
    }

    @Test func aVFCarryingTheHostsNetworkIsRefused() throws {
        var layout = SimLayout.dl360()
        layout.defaultRouteInterface = "eno51v0"
        let root = simulatedHost(layout)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "vfs", "eno51", "2"])
        #expect(result.status == 1)
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: refusing to change the VF count of eno51 (0000:04:00.2): VF 0 (0000:04:10.2) has eno51v0, "
                + "which carries the default route; pass --force to do it anyway\n")
        #expect(snapshot(root) == before)
    }

    @Test("kernel errors say what to do", arguments: ["mmio", "nodriver"])
    func kernelErrorsSayWhatToDo(knob: String) throws {
        var layout = SimLayout.dl360()
        let index = layout.functions.firstIndex { $0.address == PCIAddress(bus: 4, device: 0, function: 3) }!
        if knob == "mmio" { layout.functions[index].sriov!.mmioShortage = true }
        if knob == "nodriver" {
            layout.functions[index].driver = nil
            layout.functions[index].interface = nil
        }
        let root = simulatedHost(layout)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "vfs", "04:00.3", "2"])
        #expect(result.status == 1)
        try Golden.check("HostSetup/kernel-error-" + knob, result, root: root)
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func aFailureAfterTheResetPutsTheOldVFsBack() throws {
        var layout = SimLayout.dl360()
        let eno51 = layout.functions.firstIndex { $0.interface == "eno51" }!
        layout.functions[eno51].sriov!.driverLimit = 5
        // VF 0 of eno51 on pciback; it must be there again after the failed change.
        layout.functions[eno51].sriov!.rebound = [0: "pciback"]
        let root = simulatedHost(layout)
        let result = try xvf(["--root", root, "vfs", "eno51", "6"])
        #expect(result.status == 1)
        #expect(result.stdout == """
            libxl_device_pci_assignable_remove 0000:04:10.2 rebind=0
            echo 0000:04:10.2 > /sys/bus/pci/drivers/pciback/unbind
            echo 0 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            echo 6 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs

            """)
        #expect(result.stderr == "xvf: igb rejected 6 VFs on eno51 (0000:04:00.2) (EINVAL): its current mode (DCB, FCoE, queue "
                + "layout) may allow fewer; see the kernel log (dmesg); put back: 4 VFs, 0000:04:10.2 on pciback\n")
        #expect(numvfs(root, "0000:04:00.2") == 4)
        #expect(driver(root, "0000:04:10.2") == "pciback")
        #expect(driver(root, "0000:04:10.6") == "igbvf")
        #expect(HostRoot(root).readText("sys/bus/pci/drivers/pciback/slots") == "", "the slot was not there before")
    }

    // MARK: xvf driver

    /// A directory with a `modprobe` that records its arguments (one line a run) and fails when told to.
    func fakeModprobe(failOn: String? = nil) throws -> (path: String, log: String) {
        let directory = temporaryDirectory("bin")
        let log = directory + "/modprobe.log"
        let script = """
            #!/bin/sh
            echo "$*" >> '\(log)'
            \(failOn.map { "[ \"$*\" = '\($0)' ] && { echo \"modprobe: ERROR: could not insert 'ixgbe': Invalid argument\" >&2; exit 1; }" } ?? "")
            exit 0

            """
        #expect(FileManager.default.createFile(atPath: directory + "/modprobe", contents: Data(script.utf8),
                                               attributes: [.posixPermissions: 0o755]))
        return (directory, log)
    }

    func loggedRuns(_ log: String) -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func driverReloadRunsModprobeWithAnArgumentVector() throws {
        let root = simulatedHost()
        let modprobe = try fakeModprobe()
        let environment = fakeProgramEnvironment(modprobe.path)
        // ixgbe's VFs are on ixgbevf and in no domain; eno1 (tg3) carries the network.
        let result = try xvf(["--root", root, "driver", "ixgbe", "--max-vfs", "8"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            modprobe -r ixgbe
            modprobe ixgbe max_vfs=8
            ixgbe reloaded with max_vfs=8

            """)
        #expect(loggedRuns(modprobe.log) == ["-r ixgbe", "ixgbe max_vfs=8"])
    }

    /// The lab's dom0 had MODULES=dep configured but an image built with most, igb inside: without the
    /// advice, `--persist` did not survive the reboot. Only MODULES=list without the driver leaves it out.
    @Test("persist advises update-initramfs unless MODULES=list leaves the driver out", arguments: [
        ("MODULES=most\n", "", true),
        ("MODULES=dep\n", "", true),
        ("MODULES=list\n", "", false),
        ("MODULES=list\n", "ixgbe\n", true),
    ])
    func persistAdvisesUpdateInitramfs(conf: String, modules: String, advised: Bool) throws {
        let root = simulatedHost()
        let modprobe = try fakeModprobe()
        try FileManager.default.createDirectory(atPath: root + "/etc/initramfs-tools", withIntermediateDirectories: true)
        try conf.write(toFile: root + "/etc/initramfs-tools/initramfs.conf", atomically: true, encoding: .utf8)
        try modules.write(toFile: root + "/etc/initramfs-tools/modules", atomically: true, encoding: .utf8)
        let result = try xvf(["--root", root, "driver", "ixgbe", "--max-vfs", "8", "--persist"],
                             environment: fakeProgramEnvironment(modprobe.path))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == Self.persistedIxgbe
                + (advised ? "ixgbe may load from the initramfs: run `update-initramfs -u` so the boot uses it\n" : ""))
        #expect(result.stderr == "")
    }

    /// What `driver ixgbe --max-vfs 8 --persist` says on the demo host before any initramfs advice.
    static let persistedIxgbe = """
            write /etc/modprobe.d/xvf-ixgbe.conf
            modprobe -r ixgbe
            modprobe ixgbe max_vfs=8
            ixgbe reloaded with max_vfs=8
            /etc/modprobe.d/xvf-ixgbe.conf loads ixgbe with these VFs at every boot

            """

    @Test func persistWritesModprobeDAndKeepsTheUsersLines() throws {
        let root = simulatedHost()
        let modprobe = try fakeModprobe()
        let environment = fakeProgramEnvironment(modprobe.path)
        let conf = root + "/etc/modprobe.d/xvf-ixgbe.conf"
        try "# mine\noptions ixgbe allow_unsupported_sfp=1\n".write(toFile: conf, atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/etc/initramfs-tools", withIntermediateDirectories: true)
        let result = try xvf(["--root", root, "driver", "ixgbe", "--max-vfs", "8", "--persist"], environment: environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == Self.persistedIxgbe
                + "ixgbe may load from the initramfs: run `update-initramfs -u` so the boot uses it\n")
        #expect(result.stderr == "")
        let written = try String(contentsOfFile: conf, encoding: .utf8)
        #expect(written == """
            # mine
            options ixgbe allow_unsupported_sfp=1
            # BEGIN xvf driver (written by xvf; changes inside this block are replaced)
            options ixgbe max_vfs=8
            # END xvf driver

            """)
        // Again with another count: the block changes, the user's lines stay.
        _ = try xvf(["--root", root, "driver", "ixgbe", "--max-vfs", "4", "--persist"], environment: environment)
        #expect(try String(contentsOfFile: conf, encoding: .utf8) == written.replacingOccurrences(of: "max_vfs=8", with: "max_vfs=4"))
    }

    @Test func aFailedLoadReloadsTheDriverAndPutsTheFileBack() throws {
        let root = simulatedHost()
        let modprobe = try fakeModprobe(failOn: "ixgbe max_vfs=8")
        let environment = fakeProgramEnvironment(modprobe.path)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "driver", "ixgbe", "--max-vfs", "8", "--persist"], environment: environment)
        #expect(result.status == 1)
        #expect(result.stderr == "xvf: `modprobe ixgbe max_vfs=8` exited with status 1: modprobe: ERROR: could not "
                + "insert 'ixgbe': Invalid argument; loaded ixgbe again without max_vfs; put /etc/modprobe.d/xvf-ixgbe.conf back\n")
        #expect(loggedRuns(modprobe.log) == ["-r ixgbe", "ixgbe max_vfs=8", "ixgbe"])
        #expect(snapshot(root) == before)
    }

    @Test("driver refusals run nothing and change nothing", arguments: [
        (["driver", "tg3", "--max-vfs", "4"], Int32(2), "xvf: tg3 has no max_vfs parameter (igb and ixgbe do); set the VF count of each of its PFs with `xvf vfs DEVICE COUNT`\n"),
        (["driver", "igb", "--max-vfs", "7,7"], 2, "xvf: the in-tree igb takes one max_vfs value for all its ports; write --max-vfs 7 or set ports one by one with `xvf vfs DEVICE COUNT`\n"),
        (["driver", "igb", "--max-vfs", "8"], 2, "xvf: max_vfs 8 is above the 7 VFs eno49 (0000:04:00.0) supports (sriov_totalvfs)\n"),
        (["driver", "igb", "--max-vfs", "x"], 2, "xvf: 'x' is not a max_vfs value; write a VF count (7) or one per port (7,7,0)\n"),
        (["driver", "-r", "--max-vfs", "1"], 64, """
            Error: Missing expected argument '<driver>'
            Help:  <driver>  The PF driver (kernel module): igb, ixgbe.
            Usage: xvf driver [--root <path>] [--verbose] [--wait <seconds>] <driver> --max-vfs <N[,N…]> [--persist] [--force] [--dry-run] [--json] [--show-content]
              See 'xvf driver --help' for more information.

            """),
        (["driver", "ig b", "--max-vfs", "1"], 2, "xvf: 'ig b' is not a kernel module name (letters, digits, _ and -), e.g. igb or ixgbe\n"),
        (["driver", "igb", "--max-vfs", "7"], 1, "xvf: refusing to reload igb: VF 0000:04:11.0 is attached to domain web1 (1), and the reload destroys it; detach it (xvf release 0000:04:11.0) or pass --force\n"),
    ])
    func driverRefusals(arguments: [String], status: Int32, stderr: String) throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        let modprobe = try fakeModprobe()
        let before = snapshot(root)
        let result = try xvf(["--root", root] + arguments,
                             environment: fakeProgramEnvironment(modprobe.path))
        #expect(result.status == status)
        #expect(result.stdout == "")
        #expect(result.stderr == stderr)
        #expect(loggedRuns(modprobe.log).isEmpty)
        #expect(snapshot(root) == before)
    }

    @Test func theDriverOfTheManagementInterfaceIsRefused() throws {
        // xenbr0 carries the default route; its port eno50 is an igb port.
        var layout = SimLayout.dl360()
        layout.defaultRouteInterface = "xenbr0"
        let root = simulatedHost(layout)
        try bridge("xenbr0", ports: ["eno50"], in: root)
        let modprobe = try fakeModprobe()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "driver", "igb", "--max-vfs", "7"],
                             environment: fakeProgramEnvironment(modprobe.path))
        #expect(result.status == 1)
        #expect(result.stderr == "xvf: refusing to reload igb: 0000:04:00.1 has eno50, which is the management interface "
                + "(beneath xenbr0, which carries the default route), and reloading igb takes it down; pass --force to do it anyway\n")
        #expect(loggedRuns(modprobe.log).isEmpty)
        #expect(snapshot(root) == before)
    }

    /// A Linux bridge in sysfs: a virtual device whose ports are `brif/` entries and `lower_` links.
    func bridge(_ name: String, ports: [String], in root: String) throws {
        let fm = FileManager.default
        let dir = root + "/sys/devices/virtual/net/" + name
        try fm.createDirectory(atPath: dir + "/brif", withIntermediateDirectories: true)
        try fm.createSymbolicLink(atPath: root + "/sys/class/net/" + name, withDestinationPath: "../../devices/virtual/net/" + name)
        for port in ports {
            try fm.createSymbolicLink(atPath: dir + "/brif/" + port, withDestinationPath: "../../../../class/net/\(port)/brport")
            try fm.createSymbolicLink(atPath: dir + "/lower_" + port, withDestinationPath: "../../../../class/net/" + port)
        }
    }

    @Test func onARealRootTreeTheSystemsModprobeIsNeverRun() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "driver", "ixgbe", "--max-vfs", "8"],
                             environment: ["PATH": "/usr/sbin:/sbin:/usr/bin:/bin"])
        #expect(result.status != 0)
        if FileManager.default.fileExists(atPath: "/usr/sbin/modprobe") || FileManager.default.fileExists(atPath: "/sbin/modprobe") {
            #expect(result.stderr.contains("it would change this machine, not the tree"), "\(result.stderr)")
        }
        #expect(snapshot(root) == before)
    }
}
