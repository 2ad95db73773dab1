import Foundation
import SRIOV
import Testing
import TestSupport

/// At boot a PF's interface may not exist yet: its entries fail alone and the other PFs are set up.
@Suite struct BootAbsentPFTests {
    let boot = BootTests()

    @Test func anAbsentPFFailsAloneAndTheOthersAreApplied() throws {
        let root = simulatedHost()
        try boot.writeConfig(root, """
            # hosts
            sriov = [ 'eno99,vfs=2', 'eno52,vfs=2' ]
            vf = [ 'eno99/0,trust=on' ]
            assignable = [ 'eno99/1' ]

            """)
        let ip = try BootTests.FakeIP()
        let file = "\(root)/etc/xen/xvf.cfg"
        let dry = try xvf(["--root", root, "boot", "--dry-run"], environment: ip.environment)
        #expect(dry.status == 1)
        try Golden.check("BootAbsentPF/dry-run", dry, root: root)

        let result = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(result.status == 1)
        #expect(result.stderr.split(separator: "\n").map(String.init) == [
            "xvf: \(file):2: sriov 'eno99,vfs=2': eno99 is not on this host (a PF's interface appears once its driver "
                + "has loaded; `xvf list` shows them); skipped",
            "xvf: \(file):3: vf 'eno99/0,trust=on': eno99 is not on this host (a PF's interface appears once its driver "
                + "has loaded; `xvf list` shows them); skipped",
            "xvf: \(file):4: assignable 'eno99/1': eno99 is not on this host (a PF's interface appears once its driver "
                + "has loaded; `xvf list` shows them); skipped",
        ], "\(result.stderr)")
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == "2")

        let doctor = try xvf(["--root", root, "doctor"])
        try Golden.check("BootAbsentPF/doctor", doctor, root: root)
    }
}
