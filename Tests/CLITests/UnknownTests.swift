import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// What xvf could not read is said as unknown, never as zero or as absent: sysfs trees from real machines
/// lack files, cut config space short (an unprivileged read gets 64 bytes), or miss a bridge or an entry.
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
        let pf = try deviceDirectory(root, "0000:04:00.3")
        try fm.removeItem(atPath: pf + "/sriov_offset")
        try fm.removeItem(atPath: pf + "/sriov_stride")
        let show = try xvf(["--root", root, "show", "eno52"])
        #expect(show.stdout.contains("0 of 7 VFs, offset 0x80, stride 4"), "\(show.stdout)")
        #expect(try xvf(["--root", root, "bootline", "eno52/1"]).stdout.contains("xen-pciback.hide=(0000:04:10.7)"))

        // Neither sysfs nor config space (cut to 64 bytes) can say: unknown, and no VF address is made up.
        try cutConfigSpace(root, "0000:04:00.3", to: 64)
        let unknown = try xvf(["--root", root, "show", "eno52"])
        #expect(unknown.stdout.contains("0 of 7 VFs, offset unknown, stride unknown"), "\(unknown.stdout)")
        let json = try xvf(["--root", root, "list", "--json"])
        #expect(json.stdout.contains("\"bdf\":\"0000:04:00.3\""))
        #expect(json.stdout.contains("\"vf_offset\":null,\"vf_stride\":null"), "\(json.stdout)")
        let bootline = try xvf(["--root", root, "bootline", "eno52/1"])
        #expect(bootline.status == 2)
        #expect(bootline.stderr.contains("does not report (no sriov_offset)"), "\(bootline.stderr)")
    }

    @Test func acsThatCannotBeReadIsUnknownNotAbsent() throws {
        let root = simulatedHost()
        try cutConfigSpace(root, "0000:00:03.0", to: 64)
        let show = try xvf(["--root", root, "show", "eno49"])
        #expect(show.stdout.contains("upstream     0000:00:03.0  ACS unknown: only 64 bytes of its config space can be read "
                                     + "(run as root)"), "\(show.stdout)")
        let json = try xvf(["--root", root, "show", "eno49", "--json"])
        #expect(json.stdout.contains("{\"bdf\":\"0000:00:03.0\",\"acs\":null,\"isolating\":null,\"acs_state\":\"unknown\"}"))
        let doctor = try xvf(["--root", root, "doctor", "--json"])
        #expect(doctor.stdout.contains("{\"id\":\"acs:0000:04:00.0\",\"status\":\"warn\",\"message\":\"eno49 (0000:04:00.0): ACS "
                                       + "above it could not be read on 0000:00:03.0"), "\(doctor.stdout)")
        #expect(!doctor.stdout.contains("0000:00:03.0 (no ACS)"))
    }

    @Test func aBridgeSysfsDoesNotListStaysInThePath() throws {
        let root = simulatedHost()
        try fm.removeItem(atPath: root + "/sys/bus/pci/devices/0000:00:03.0")
        let show = try xvf(["--root", root, "show", "eno49"])
        #expect(show.stdout.contains("upstream     0000:00:03.0  ACS unknown: 0000:00:03.0 is not in /sys/bus/pci/devices"),
                "\(show.stdout)")
    }

    @Test func anInterfaceMissingFromClassNetIsFoundOnTheDevice() throws {
        let root = simulatedHost()
        try fm.removeItem(atPath: root + "/sys/class/net/eno49")
        let list = try xvf(["--root", root, "list"])
        #expect(list.stdout.contains("0000:04:00.0  eno49  igb"), "\(list.stdout)")
        #expect(try xvf(["--root", root, "show", "eno49"]).status == 0)
    }

    @Test func aVFsNUMANodeIsItsOwn() throws {
        let root = simulatedHost()
        try "1\n".write(toFile: try deviceDirectory(root, "0000:04:11.0") + "/numa_node", atomically: true, encoding: .utf8)
        let json = try xvf(["--root", root, "show", "eno49/2", "--json"])
        #expect(json.stdout.contains("\"numa_node\":1,"), "\(json.stdout)")
    }

    // Discovery reads only a PF's NUMA node; another function's is read when it is shown.
    @Test func aFunctionWithoutSRIOVShowsItsNUMANode() throws {
        let root = simulatedHost()
        try "1\n".write(toFile: try deviceDirectory(root, "0000:00:03.0") + "/numa_node", atomically: true, encoding: .utf8)
        let json = try xvf(["--root", root, "show", "00:03.0", "--json"])
        #expect(json.stdout.contains("\"numa_node\":1,"), "\(json.stdout)")
    }
}
