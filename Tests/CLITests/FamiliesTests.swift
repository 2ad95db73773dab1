import Foundation
import SRIOV
import SimHost
import Testing

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
}
