import Foundation
import Testing
import TestSupport

/// Every command that acts on a PF (`xvf vfs`, `xvf assign --pf`, the host config's `sriov`) names it the
/// same way and refuses VFs, a VF and functions without SR-IOV with the same words (the demo DL360:
/// eno49 = 0000:04:00.0, its VF 1 = 0000:04:10.4; eno1 = 0000:03:00.0 has no SR-IOV).
@Suite struct PFNameTests {
    @Test("a PF is named one way everywhere", arguments: [
        (["vfs", "eno49/1", "2"], "'eno49/1' names VFs; name their PF (an interface such as eno49, or its address)"),
        (["assign", "--pf", "eno49/1", "--dom", "web1"], "'eno49/1' names VFs; name their PF (an interface such as eno49, or its address)"),
        (["vfs", "04:10.4", "2"], "'04:10.4' (0000:04:10.4) is a VF; name its PF (0000:04:00.0)"),
        (["assign", "--pf", "04:10.4", "--dom", "web1"], "'04:10.4' (0000:04:10.4) is a VF; name its PF (0000:04:00.0)"),
        (["vfs", "eno1", "2"], "'eno1' (0000:03:00.0) is not SR-IOV capable (no sriov_totalvfs)"),
        (["assign", "--pf", "eno1", "--dom", "web1"], "'eno1' (0000:03:00.0) is not SR-IOV capable (no sriov_totalvfs)"),
    ])
    func refused(arguments: [String], message: String) throws {
        try expectRefusal(arguments, status: 2, message: message)
    }

    @Test func theHostConfigNamesPFsTheSameWay() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "sriov = [ '04:10.4,vfs=2' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let result = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: \(root)/etc/xen/xvf.cfg:1: sriov '04:10.4,vfs=2': '04:10.4' (0000:04:10.4) is a VF; name "
                + "its PF (0000:04:00.0)\n")
    }
}
