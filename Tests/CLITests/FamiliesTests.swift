import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// Today's NIC families on one simulated host (`SimLayout.families`: ConnectX-5 on mlx5_core for PF and
/// VFs, E810 and X710 whose VFs share iavf, BCM57414 on bnxt_en). What each command decides there: a
/// wrong blacklist costs the host that NIC at the next boot.
/// Each case is compared whole with its file in Golden/Families/.
@Suite struct FamiliesTests {
    /// `xvf bootline DEVICES…` on a fresh host of `layout`, compared whole with Golden/Families/NAME.txt.
    func bootline(_ name: String, _ layout: SimLayout, _ devices: [String]) throws {
        let root = simulatedHost(layout)
        try Golden.check("Families/" + name, try xvf(["--root", root, "bootline"] + devices), root: root)
    }

    // mlx5_core drives the PF too: never blacklisted for its VFs.
    @Test func mlx5CoreIsNeverBlacklistedForItsVFs() throws {
        try bootline("bootline-mlx5", .families(), ["ens1f0np0/0-1"])
        // The host of the report: the PF had no driver at that moment, mlx5_core only in modules.alias.
        try bootline("bootline-mlx5-unbound", .families(mlx5Unbound: true), ["0000:3b:00.0/0-1"])
    }

    @Test func bnxtEnDrivesItsPFToo() throws {
        try bootline("bootline-bnxt", .families(), ["ens4f0np0/*"])
    }

    @Test func iavfIsSharedByE810AndX710() throws {
        // Hiding the E810's VFs leaves the X710's to iavf: two on iavf now, two on pciback (iavf at boot).
        try bootline("bootline-iavf-e810", .families(), ["ens2f0/*"])
        // Every iavf VF hidden: iavf drives nothing else, so the blacklist is what makes the hide list work.
        try bootline("bootline-iavf-all", .families(), ["ens2f0/*", "ens3f0/*", "ens3f1/*"])
    }

    @Test func withoutModulesAliasAnUnboundDeviceMakesTheReachUnknown() throws {
        var layout = SimLayout.families(mlx5Unbound: true)
        layout.moduleAliases = false
        try bootline("bootline-without-modules-alias", layout, ["ens2f0/*", "ens3f0/*", "ens3f1/*"])
    }

    @Test("driver: ice, i40e, mlx5_core and bnxt_en take no max_vfs", arguments: ["ice", "i40e", "mlx5_core", "bnxt_en"])
    func noMaxVFs(driver: String) throws {
        let root = simulatedHost(.families())
        let before = snapshot(root)
        try Golden.check("Families/driver-max-vfs-" + driver, try xvf(["--root", root, "driver", driver, "--max-vfs", "4"]), root: root)
        #expect(snapshot(root) == before)
    }

    @Test func bootPlansEveryFamily() throws {
        let root = simulatedHost(.families())
        let run = Golden.Transcript(root: root)
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try """
            sriov = [ 'ens1f0np0,vfs=4', 'ens2f0,vfs=4', 'ens3f0,vfs=4', 'ens4f0np0,vfs=4' ]
            assignable = [ 'ens1f0np0/0', 'ens2f0/0', 'ens3f0/0-1', 'ens4f0np0/0' ]

            """.write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let before = snapshot(root)
        // mlx5 and bnxt change their count: autoprobe off first, so mlx5_core and bnxt_en do not take
        // the VFs meant for guests; the E810 keeps its 4 VFs and its VF 0 goes to pciback.
        try run.xvf(["boot", "--dry-run"])
        #expect(snapshot(root) == before)
        try run.xvf(["boot"])
        try run.xvf(["list", "--json"])
        try run.xvf(["boot", "--dry-run"])
        try run.check("Families/boot")
    }

    @Test func doctorChecksEveryFamily() throws {
        let root = simulatedHost(.families())
        try Golden.check("Families/doctor", try xvf(["--root", root, "doctor", "--json"]), root: root)
    }

    /// A ConnectX-5 whose firmware has SR-IOV off has no SR-IOV capability: the answer is the firmware
    /// setting, not "not SR-IOV capable" alone.
    @Test func aMellanoxWithSRIOVOffInFirmwareSaysWhatToRun() throws {
        var layout = SimLayout.families()
        layout.functions[2].sriov = nil  // 0000:3b:00.1
        let root = simulatedHost(layout)
        let run = Golden.Transcript(root: root)
        try run.xvf(["vfs", "ens1f1np1", "4"])
        try run.xvf(["doctor", "--json"])
        try run.check("Families/sriov-off-in-firmware")
    }

    /// bnxt_en with the PF's interface down enables no VF and the write still succeeds: xvf reads the count
    /// back and says what to do rather than report VFs that are not there.
    @Test func aDriverThatEnablesFewerVFsIsCaught() throws {
        var layout = SimLayout.families()
        let bnxt = try #require(layout.functions.firstIndex { $0.driver == "bnxt_en" })
        layout.functions[bnxt].sriov?.numVFs = 0
        layout.functions[bnxt].sriov?.silentLimit = 0
        let root = simulatedHost(layout)
        try Golden.check("Families/fewer-vfs-enabled", try xvf(["--root", root, "vfs", "ens4f0np0", "4"]), root: root)
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
        let run = Golden.Transcript(root: root)
        try run.xvf(["list"])
        try run.xvf(["show", "ens1f0np0"])
        try run.xvf(["assign", "enp59s0f0_1", "--dom", "web1"])
        try run.xvf(["assign", "enp59s0f0_2", "--dom", "web1"])
        try run.xvf(["vfs", "enp59s0f0_0", "0"])
        let numvfs = try String(contentsOfFile: root + "/sys/bus/pci/devices/0000:3b:00.0/sriov_numvfs", encoding: .utf8)
        #expect(numvfs == "2\n", "the refused command changed nothing")
        try run.xvf(["assign", "ens1f0np0/1", "--dom", "web1", "--dry-run"])
        // In the host config a representor is an error, not a PF "not on this host" skipped at boot.
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "assignable = [ 'enp59s0f0_0/0' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        run.note("xvf.cfg: assignable = [ 'enp59s0f0_0/0' ]")
        try run.xvf(["boot", "--dry-run"])
        try run.check("Families/switchdev-representor")
    }
}
