import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// What xvf could not read is said as unknown, never as zero or as absent: sysfs trees from real machines
/// lack files, cut config space short (an unprivileged read gets 64 bytes), or miss a bridge or an entry.
/// Each case is compared whole with its file in Golden/Unknown/.
@Suite struct UnknownTests {
    let fm = FileManager.default

    /// The real directory of a device of the demo host (sys/bus/pci/devices holds links to it).
    func deviceDirectory(_ root: String, _ bdf: String) throws -> String {
        try fm.destinationOfSymbolicLink(atPath: root + "/sys/bus/pci/devices/" + bdf)
            .replacingOccurrences(of: "../../../", with: root + "/sys/")
    }

    func cutConfigSpace(_ root: String, _ bdf: String, to size: Int) throws {
        let file = try deviceDirectory(root, bdf) + "/config"
        let bytes = try #require(fm.contents(atPath: file))
        try bytes.prefix(size).write(to: URL(fileURLWithPath: file))
    }

    @Test func offsetAndStrideComeFromConfigSpaceWhenSysfsLacksThem() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        let pf = try deviceDirectory(root, "0000:04:00.3")
        try fm.removeItem(atPath: pf + "/sriov_offset")
        try fm.removeItem(atPath: pf + "/sriov_stride")
        run.note("eno52 without sriov_offset and sriov_stride: read from config space")
        try run.xvf(["show", "eno52"])
        try run.xvf(["bootline", "eno52/1"])

        // Neither sysfs nor config space (cut to 64 bytes) can say: unknown, and no VF address is made up.
        try cutConfigSpace(root, "0000:04:00.3", to: 64)
        run.note("and its config space cut to 64 bytes: unknown")
        try run.xvf(["show", "eno52"])
        try run.xvf(["list", "--json"])
        try run.xvf(["bootline", "eno52/1"])
        try run.check("Unknown/offset-and-stride")
    }

    @Test func acsThatCannotBeReadIsUnknownNotAbsent() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try cutConfigSpace(root, "0000:00:03.0", to: 64)
        run.note("the bridge above eno49 with 64 bytes of config space")
        try run.xvf(["show", "eno49"])
        try run.xvf(["show", "eno49", "--json"])
        try run.xvf(["doctor", "--json"])
        try run.check("Unknown/acs-unreadable")
    }

    @Test func aBridgeSysfsDoesNotListStaysInThePath() throws {
        let root = simulatedHost()
        try fm.removeItem(atPath: root + "/sys/bus/pci/devices/0000:00:03.0")
        try Golden.check("Unknown/bridge-not-listed", try xvf(["--root", root, "show", "eno49"]), root: root)
    }

    @Test func anInterfaceMissingFromClassNetIsFoundOnTheDevice() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try fm.removeItem(atPath: root + "/sys/class/net/eno49")
        run.note("sys/class/net/eno49 removed")
        try run.xvf(["list"])
        try run.xvf(["show", "eno49"])
        try run.check("Unknown/interface-not-in-class-net")
    }

    @Test func aVFsNUMANodeIsItsOwn() throws {
        let root = simulatedHost()
        try "1\n".write(toFile: try deviceDirectory(root, "0000:04:11.0") + "/numa_node", atomically: true, encoding: .utf8)
        try Golden.check("Unknown/vf-numa-node", try xvf(["--root", root, "show", "eno49/2", "--json"]), root: root)
    }

    // Discovery reads only a PF's NUMA node; another function's is read when it is shown.
    @Test func aFunctionWithoutSRIOVShowsItsNUMANode() throws {
        let root = simulatedHost()
        try "1\n".write(toFile: try deviceDirectory(root, "0000:00:03.0") + "/numa_node", atomically: true, encoding: .utf8)
        try Golden.check("Unknown/function-numa-node", try xvf(["--root", root, "show", "00:03.0", "--json"]), root: root)
    }
}
