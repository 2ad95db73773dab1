import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// Today's NIC families on one simulated host (`SimLayout.families`: ConnectX-5 on mlx5_core for PF and
/// VFs, E810 and X710 whose VFs share iavf, BCM57414 on bnxt_en). What each command decides there: a
/// wrong blacklist costs the host that NIC at the next boot.
@Suite struct FamiliesTests {
    func bootline(_ layout: SimLayout, _ devices: [String]) throws -> CommandResult {
        let root = simulatedHost(layout)
        let result = try xvf(["--root", root, "bootline"] + devices)
        #expect(result.status == 0, "\(result.stderr)")
        return result
    }

    func expectNoBlacklist(_ result: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(!result.stdout.contains("modprobe.blacklist") && !result.stdout.contains("\nblacklist "), "\(result.stdout)",
                sourceLocation: sourceLocation)
    }

    @Test func mlx5CoreIsNeverBlacklistedForItsVFs() throws {
        let bound = try bootline(.families(), ["ens1f0np0/0-1"])
        expectNoBlacklist(bound)
        #expect(bound.stdout.contains("note: mlx5_core also drives 0000:3b:00.0 0000:3b:00.1, which dom0 keeps"))
        // The host of the report: the PF had no driver at that moment, mlx5_core only in modules.alias.
        let unbound = try bootline(.families(mlx5Unbound: true), ["0000:3b:00.0/0-1"])
        expectNoBlacklist(unbound)
        #expect(unbound.stdout.contains("note: mlx5_core also drives 0000:3b:00.0 0000:3b:00.1"), "\(unbound.stdout)")
        #expect(unbound.stdout.contains("`xvf boot`, with sriov = [ 'PF,vfs=N' ] in the host config"), "\(unbound.stdout)")
    }

    @Test func bnxtEnDrivesItsPFToo() throws {
        let result = try bootline(.families(), ["ens4f0np0/*"])
        expectNoBlacklist(result)
        #expect(result.stdout.contains("note: bnxt_en also drives 0000:d8:00.0"))
    }

    @Test func iavfIsSharedByE810AndX710() throws {
        // Hiding the E810's VFs leaves the X710's to iavf: two on iavf now, two on pciback (iavf at boot).
        let e810 = try bootline(.families(), ["ens2f0/*"])
        expectNoBlacklist(e810)
        #expect(e810.stdout.contains("note: 4 VFs of iavf stay with dom0 (0000:af:02.0 0000:af:02.1 0000:af:02.2 0000:af:02.3)"))
        // Every iavf VF hidden: iavf drives nothing else, so the blacklist is what makes the hide list work.
        let all = try bootline(.families(), ["ens2f0/*", "ens3f0/*", "ens3f1/*"])
        #expect(all.stdout.contains(" modprobe.blacklist=iavf\""), "\(all.stdout)")
        #expect(all.stdout.contains("\nblacklist iavf\n"))
    }

    @Test func withoutModulesAliasAnUnboundDeviceMakesTheReachUnknown() throws {
        var layout = SimLayout.families(mlx5Unbound: true)
        layout.moduleAliases = false
        let result = try bootline(layout, ["ens2f0/*", "ens3f0/*", "ens3f1/*"])
        expectNoBlacklist(result)
        #expect(result.stdout.contains("note: which devices iavf would bind at boot is unknown (0000:3b:00.0 0000:3b:00.1 "
                                       + "have no driver, and the running kernel's modules.alias could not be read)"))
    }

    @Test("driver: ice, i40e, mlx5_core and bnxt_en take no max_vfs", arguments: ["ice", "i40e", "mlx5_core", "bnxt_en"])
    func noMaxVFs(driver: String) throws {
        let root = simulatedHost(.families())
        let before = snapshot(root)
        let result = try xvf(["--root", root, "driver", driver, "--max-vfs", "4"])
        #expect(result.status == 2)
        #expect(result.stderr == "xvf: \(driver) has no max_vfs parameter (igb and ixgbe do); set the VF count of each "
                + "of its PFs with `xvf vfs DEVICE COUNT`\n")
        #expect(snapshot(root) == before)
    }

    @Test func bootPlansEveryFamily() throws {
        let root = simulatedHost(.families())
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try """
            sriov = [ 'ens1f0np0,vfs=4', 'ens2f0,vfs=4', 'ens3f0,vfs=4', 'ens4f0np0,vfs=4' ]
            assignable = [ 'ens1f0np0/0', 'ens2f0/0', 'ens3f0/0-1', 'ens4f0np0/0' ]

            """.write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let before = snapshot(root)
        let plan = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(plan.status == 0, "\(plan.stderr)")
        // mlx5 and bnxt change their count: autoprobe off first, so mlx5_core and bnxt_en do not take
        // the VFs meant for guests; the E810 keeps its 4 VFs and its VF 0 goes to pciback.
        for pf in ["0000:3b:00.0", "0000:d8:00.0"] {
            #expect(plan.stdout.contains("echo 0 > /sys/bus/pci/devices/\(pf)/sriov_drivers_autoprobe"), "\(plan.stdout)")
            #expect(plan.stdout.contains("echo 4 > /sys/bus/pci/devices/\(pf)/sriov_numvfs"))
        }
        #expect(!plan.stdout.contains("0000:5e:00.0/sriov_numvfs"))
        #expect(plan.stdout.contains("libxl_device_pci_assignable_add 0000:5e:01.0 rebind=1"))
        #expect(snapshot(root) == before)
        let applied = try xvf(["--root", root, "boot"])
        #expect(applied.status == 0, "\(applied.stderr)")
        let list = try xvf(["--root", root, "list", "--json"])
        for vf in ["0000:3b:00.2", "0000:5e:01.0", "0000:af:02.0", "0000:af:02.1", "0000:d8:01.0"] {
            #expect(list.stdout.contains("\"bdf\":\"\(vf)\",\"ifname\":null,\"driver\":\"pciback\""), "\(vf)")
        }
        #expect(try xvf(["--root", root, "boot", "--dry-run"]).stdout.contains("nothing to change"))
    }

    @Test func doctorChecksEveryFamily() throws {
        let root = simulatedHost(.families())
        let result = try xvf(["--root", root, "doctor", "--json"])
        for pf in ["0000:3b:00.0", "0000:3b:00.1", "0000:5e:00.0", "0000:af:00.0", "0000:af:00.1", "0000:d8:00.0"] {
            #expect(result.stdout.contains("{\"id\":\"sriov-capability:\(pf)\",\"status\":\"pass\""), "\(pf)")
        }
        #expect(result.stdout.contains("\"id\":\"vf-drivers:0000:3b:00.0\",\"status\":\"warn\""), "\(result.stdout)")
    }

    /// A ConnectX-5 whose firmware has SR-IOV off has no SR-IOV capability: the answer is the firmware
    /// setting, not "not SR-IOV capable" alone.
    @Test func aMellanoxWithSRIOVOffInFirmwareSaysWhatToRun() throws {
        var layout = SimLayout.families()
        layout.functions[2].sriov = nil  // 0000:3b:00.1
        let root = simulatedHost(layout)
        let vfs = try xvf(["--root", root, "vfs", "ens1f1np1", "4"])
        #expect(vfs.status == 2)
        #expect(vfs.stderr.contains("is not SR-IOV capable (no sriov_totalvfs): its firmware has SR-IOV off: run `mstconfig "
                                    + "-d 0000:3b:00.1 set SRIOV_EN=1 NUM_OF_VFS=8`"), "\(vfs.stderr)")
        let doctor = try xvf(["--root", root, "doctor", "--json"])
        #expect(doctor.stdout.contains("{\"id\":\"sriov-capability:0000:3b:00.1\",\"status\":\"warn\",\"message\":\"ens1f1np1 "
                                       + "(0000:3b:00.1): no SR-IOV capability\",\"fix\":\"its firmware has SR-IOV off"), "\(doctor.stdout)")
    }

    /// bnxt_en with the PF's interface down enables no VF and the write still succeeds: xvf reads the count
    /// back and says what to do rather than report VFs that are not there.
    @Test func aDriverThatEnablesFewerVFsIsCaught() throws {
        var layout = SimLayout.families()
        let bnxt = try #require(layout.functions.firstIndex { $0.driver == "bnxt_en" })
        layout.functions[bnxt].sriov?.numVFs = 0
        layout.functions[bnxt].sriov?.silentLimit = 0
        let root = simulatedHost(layout)
        let result = try xvf(["--root", root, "vfs", "ens4f0np0", "4"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("ens4f0np0 (0000:d8:00.0): the driver enabled 0 of the 4 VFs asked for; bnxt_en "
                                       + "enables VFs only while the PF's interface is up: `ip link set ens4f0np0 up`"),
                "\(result.stderr)")
        #expect(result.stderr.split(separator: "\n").count == 1)
    }

    /// The ConnectX-5 PF in switchdev mode: its uplink `ens1f0np0` (phys_port_name p0) and a representor for
    /// each VF on the PF itself, named the way older udev rules did (`enp59s0f0_N`, before the uplink in order).
    func switchdevHost() throws -> String {
        let root = simulatedHost(.families())
        let pf = root + "/sys/bus/pci/devices/0000:3b:00.0"
        try "p0\n".write(toFile: pf + "/net/ens1f0np0/phys_port_name", atomically: true, encoding: .utf8)
        let fm = FileManager.default
        // The third: on a switch the two ports share, PF 1's VF 0, whose representor hangs on PF 0.
        for (vf, port) in ["pf0vf0", "pf0vf1", "pf1vf0"].enumerated() {
            let name = "enp59s0f0_\(vf)", dir = pf + "/net/" + name
            try fm.createDirectory(atPath: dir, withIntermediateDirectories: true)
            try "\(port)\n".write(toFile: dir + "/phys_port_name", atomically: true, encoding: .utf8)
            try "5e:1a:00:00:00:0\(vf)\n".write(toFile: dir + "/address", atomically: true, encoding: .utf8)
            try fm.createSymbolicLink(atPath: dir + "/device", withDestinationPath: "../../../0000:3b:00.0")
            try fm.createSymbolicLink(atPath: root + "/sys/class/net/" + name, withDestinationPath: fm.destinationOfSymbolicLink(
                atPath: root + "/sys/class/net/ens1f0np0").replacingOccurrences(of: "ens1f0np0", with: name))
        }
        return root
    }

    // A representor names the PF's switch port for a VF, not the VF: taking it for the PF would pick
    // another VF (assign) or remove them all (vfs 0). Refused, with the VF to name instead.
    @Test func aSwitchdevRepresentorIsNotThePFNorItsName() throws {
        let root = try switchdevHost()
        let list = try xvf(["--root", root, "list"])
        #expect(list.status == 0 && list.stdout.contains("0000:3b:00.0  ens1f0np0  mlx5_core"), "\(list.stdout)")
        #expect(!list.stdout.contains("enp59s0f0_"), "\(list.stdout)")
        let show = try xvf(["--root", root, "show", "ens1f0np0"])
        #expect(show.stdout.contains("representor") && show.stdout.contains("enp59s0f0_1  pf0vf1"), "\(show.stdout)")

        let assign = try xvf(["--root", root, "assign", "enp59s0f0_1", "--dom", "web1"])
        #expect(assign.status != 0)
        #expect(assign.stderr.contains("'enp59s0f0_1' is the switchdev representor pf0vf1 on ens1f0np0 (0000:3b:00.0), "
                                       + "not a device; name the VF it stands for: ens1f0np0/1"), "\(assign.stderr)")
        let shared = try xvf(["--root", root, "assign", "enp59s0f0_2", "--dom", "web1"])
        #expect(shared.status != 0 && shared.stderr.contains("representor pf1vf0 on ens1f0np0 (0000:3b:00.0), not a device; "
                                                             + "name a VF itself, by its PF and index (PF/N) or by its address"),
                "\(shared.stderr)")
        let vfs = try xvf(["--root", root, "vfs", "enp59s0f0_0", "0"])
        #expect(vfs.status != 0 && vfs.stderr.contains("switchdev representor pf0vf0"), "\(vfs.stderr)")
        let numvfs = try String(contentsOfFile: root + "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", encoding: .utf8)
        #expect(numvfs == "2\n", "the refused command changed nothing")
        let named = try xvf(["--root", root, "assign", "ens1f0np0/1", "--dom", "web1", "--dry-run"])
        #expect(named.status == 0 && named.stdout.contains("0000:3b:00.3"), "\(named.stdout)\(named.stderr)")
        // In the host config a representor is an error, not a PF "not on this host" skipped at boot.
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "assignable = [ 'enp59s0f0_0/0' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let boot = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(boot.status != 0 && boot.stderr.contains("'enp59s0f0_0/0' names VFs of enp59s0f0_0, which is the switchdev "
                + "representor pf0vf0 on ens1f0np0 (0000:3b:00.0), not a device; name its PF: ens1f0np0/0"), "\(boot.stdout)\(boot.stderr)")
    }
}
