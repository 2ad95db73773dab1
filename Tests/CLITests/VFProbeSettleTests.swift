import Foundation
import SRIOV
import Testing
import TestSupport

/// New VFs with autoprobe on get their driver through udev after `sriov_numvfs` is written: `xvf vfs`
/// waits for udev (`udevadm settle`) so that the next command does not race the probe. `udevadm` is a
/// stand-in that records its runs (the demo DL360: eno52 no VFs and autoprobe on; eno50 autoprobe off).
@Suite struct VFProbeSettleTests {
    func fakeUdevadm() throws -> (environment: [String: String], log: String) {
        let directory = temporaryDirectory("fake-udevadm")
        try "#!/bin/sh\necho \"$*\" >> '\(directory)/udevadm.log'\n"
            .write(toFile: directory + "/udevadm", atomically: true, encoding: .utf8)
        chmod(directory + "/udevadm", 0o755)
        return (fakeProgramEnvironment(directory), directory + "/udevadm.log")
    }

    func runs(_ log: String) -> [String] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    @Test func newVFsThatProbeAreWaitedFor() throws {
        let root = simulatedHost()
        let udevadm = try fakeUdevadm()
        #expect(try xvf(["--root", root, "vfs", "eno52", "2"], environment: udevadm.environment).status == 0)
        #expect(runs(udevadm.log) == ["settle --timeout=10"])
    }

    @Test func nothingToWaitForWhenNoDriverProbesOrNoVFIsNew() throws {
        let root = simulatedHost()
        let udevadm = try fakeUdevadm()
        // eno50 creates its VFs with autoprobe off: no driver probes them.
        #expect(try xvf(["--root", root, "vfs", "eno50", "0"], environment: udevadm.environment).status == 0)
        #expect(try xvf(["--root", root, "vfs", "eno50", "3"], environment: udevadm.environment).status == 0)
        // Fewer VFs than before: none is new.
        #expect(try xvf(["--root", root, "vfs", "eno51", "2"], environment: udevadm.environment).status == 0)
        #expect(runs(udevadm.log).isEmpty)
    }
}
