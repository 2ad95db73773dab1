import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// A VF's link settings across guests: `assign --mac …` sets them through the PF before the attach, and
/// `release` puts back what the VF had before its first guest, with the host config's vf entries over it
/// (the demo DL360: eno49/2 is 0000:04:11.0 on igbvf; web1 = domain 1, legacy = domain 3 without
/// passthrough). `ip` is BootTests' fake: it records its runs and reports the state the test writes.
@Suite struct VFHandOverTests {
    typealias FakeIP = BootTests.FakeIP
    let record = "run/xvf/vf/0000:04:11.0"

    /// The NIC's view of eno49/2 before any guest: no MAC set by the PF, untagged, not trusted.
    func pristine(_ ip: FakeIP) throws {
        try ip.report(["eno49": [(2, "00:00:00:00:00:00", 0, true, false)]])
    }

    func linkSets(_ ip: FakeIP) -> [String] {
        ip.runs().map { $0[0] }.filter { $0.hasPrefix("ARGV link set") }.map { String($0.dropFirst(5)) }
    }

    @Test func assignSetsTheLinkBeforeTheAttachAndReleasePutsItBack() throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try pristine(ip)
        let assign = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--mac", "52:54:00:aa:00:02",
                              "--vlan", "10", "--trust", "on", "--json"], environment: ip.environment)
        #expect(assign.status == 0, "\(assign.stdout)")
        // The record first, then the link, then the VF goes to the guest.
        let order = ["\"what\":\"file_write\",\"target\":\"/\(record)\"", "\"what\":\"vf_settings\",\"target\":\"eno49/2\"",
                     "\"what\":\"assignable_add\"", "\"what\":\"attach\""].map { assign.stdout.range(of: $0)?.lowerBound }
        #expect(order.allSatisfy { $0 != nil } && order == order.sorted { $0! < $1! }, "\(assign.stdout)")
        #expect(linkSets(ip) == ["link set dev eno49 vf 2 mac 52:54:00:aa:00:02 vlan 10 trust on"])
        #expect(HostRoot(root).readText(record)?.contains("mac=00:00:00:00:00:00\nvlan=0\nqos=0\nspoofchk=on\ntrust=off") == true)

        // The guest had it; the NIC says so now.
        try ip.report(["eno49": [(2, "52:54:00:aa:00:02", 10, true, true)]])
        let release = try xvf(["--root", root, "release", "eno49/2"], environment: ip.environment)
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stdout == """
            eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback
            eno49/2: link put back (as before the assign): ip link set dev eno49 vf 2 mac 00:00:00:00:00:00 vlan 0 qos 0 trust off

            """)
        #expect(release.stderr == "")
        #expect(linkSets(ip).last == "link set dev eno49 vf 2 mac 00:00:00:00:00:00 vlan 0 qos 0 trust off")
        #expect(!HostRoot(root).exists(record))
    }

    /// A record that does not parse (or is a link, or writable by others) is named in one line, and the VF
    /// goes back to safe defaults: never silently left with the last guest's MAC, VLAN and trust.
    @Test("an unusable record gives the VF safe defaults", arguments: ["garbage", "link", "writable"])
    func anUnusableRecordGivesTheVFSafeDefaults(tampering: String) throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try pristine(ip)
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--mac", "52:54:00:aa:00:02", "--vlan", "10",
                         "--trust", "on"], environment: ip.environment).status == 0)
        try ip.report(["eno49": [(2, "52:54:00:aa:00:02", 10, true, true)]])
        let path = root + "/" + record
        let why: String
        switch tampering {
        case "garbage":
            try "mac=52:54:00:aa:00:02\ntrust=maybe\n".write(toFile: path, atomically: false, encoding: .utf8)
            why = "the record \(path) does not parse at line 2: 'trust=maybe' is neither on nor off; it is not used; "
        case "link":
            try FileManager.default.removeItem(atPath: path)
            try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: "/etc/hostname")
            why = "the record \(path) is not a regular file and is not used; "
        default:
            chmod(path, 0o666)
            why = "the record \(path) is not used: \(path) is writable by every user; "
        }
        let release = try xvf(["--root", root, "release", "eno49/2"], environment: ip.environment)
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stderr == "xvf: warning: " + why + "eno49/2's link goes back to safe defaults (no MAC, VLAN 0, "
                + "trust off, spoof checking on) and what the host config sets\n")
        #expect(linkSets(ip).last == "link set dev eno49 vf 2 mac 00:00:00:00:00:00 vlan 0 qos 0 trust off")
    }

    @Test func theHostConfigsSettingsWinOverTheRecord() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "vf = [ 'eno49/2,mac=52:54:00:00:49:02' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let ip = try FakeIP()
        try ip.report(["eno49": [(2, "52:54:00:00:49:02", 0, true, false)]])
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--mac", "52:54:00:aa:00:02"],
                        environment: ip.environment).status == 0)
        try ip.report(["eno49": [(2, "52:54:00:aa:00:02", 0, true, false)]])
        let release = try xvf(["--root", root, "release", "eno49/2"], environment: ip.environment)
        #expect(release.status == 0)
        #expect(release.stdout == """
            eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback
            eno49/2: link put back (as before the assign, as the host config says): ip link set dev eno49 vf 2 mac 52:54:00:00:49:02

            """)
        #expect(release.stderr == "")
    }

    @Test func aFailedAttachPutsTheLinkBackAndKeepsNoRecord() throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try pristine(ip)
        try breakPcibackPermissive(root)
        let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive", "--mac", "52:54:00:aa:00:02", "--json"],
                             environment: ip.environment)
        #expect(result.status == 1)
        #expect(linkSets(ip) == ["link set dev eno49 vf 2 mac 52:54:00:aa:00:02", "link set dev eno49 vf 2 mac 00:00:00:00:00:00"])
        try Golden.check("VFHandOver/failed-attach-puts-the-link-back", result, root: root)
        #expect(!HostRoot(root).exists(record))
    }

    @Test func aVFDetachedOutsideXVFStillGetsItsLinkBack() throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try pristine(ip)
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--vlan", "7"], environment: ip.environment).status == 0)
        // `xl pci-detach` by hand: the domain lets go, the record stays.
        #expect(try xvf(["--root", root, "release", "eno49/2"]).status == 0)
        #expect(HostRoot(root).exists(record))
        try ip.report(["eno49": [(2, "00:00:00:00:00:00", 7, true, false)]])
        let again = try xvf(["--root", root, "release", "eno49/2"], environment: ip.environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(linkSets(ip).last == "link set dev eno49 vf 2 vlan 0 qos 0")
        #expect(!HostRoot(root).exists(record))
    }

    /// An assign without link settings leaves the link as it is: it runs no `ip` and keeps no record,
    /// and its release has nothing of the link to put back.
    @Test func anAssignThatSetsNothingLeavesTheLinkAlone() throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try pristine(ip)
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"], environment: ip.environment).status == 0)
        #expect(ip.runs().isEmpty, "\(ip.runs())")
        #expect(!HostRoot(root).exists(record))
        let release = try xvf(["--root", root, "release", "eno49/2"], environment: ip.environment)
        #expect(release.status == 0)
        #expect(release.stdout == "eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback\n")
        #expect(release.stderr == "")
        #expect(ip.runs().isEmpty, "\(ip.runs())")
    }

    @Test func badSettingsAreRefusedBeforeAnythingChanges() throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try pristine(ip)
        let before = snapshot(root)
        for (arguments, message) in [
            (["eno49/2", "--vlan", "5000"], "xvf: --vlan 5000 is not a VLAN id 0-4095 (0 is untagged)\n"),
            (["eno49/2", "--trust", "yes"], "xvf: --trust yes is neither on nor off\n"),
            (["eno49/2", "--mac", "01:00:5e:00:00:01"], "xvf: --mac 01:00:5e:00:00:01 is a multicast address (the first octet is odd); a VF needs a unicast one such as 52:54:00:12:34:56\n"),
            (["eno49/2", "--qos", "3"], "xvf: --qos without --vlan: ip sets the priority with the VLAN; add --vlan N\n"),
            (["04:00.3", "--mac", "52:54:00:aa:00:02"], "xvf: --mac, --vlan, --qos, --spoofchk, --trust and --state set a VF's link through its PF's interface; eno52 (0000:04:00.3) is not one VF of a PF with an interface\n"),
        ] {
            let result = try xvf(["--root", root, "assign"] + arguments + ["--dom", "web1"], environment: ip.environment)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr == message)
        }
        #expect(snapshot(root) == before)
        #expect(linkSets(ip).isEmpty)
    }

    @Test func withoutIPForTheTreeSettingsAreRefused() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--mac", "52:54:00:aa:00:02"])
        // This machine's ip is refused for a tree (exit 1); a machine without iproute2 says so (exit 3).
        #expect(result.status == 1 && result.stderr.hasPrefix("xvf: refusing to run ")
                || result.status == 3 && result.stderr.hasPrefix("xvf: ip is not on PATH"), "\(result.stderr)")
        #expect(snapshot(root) == before)
    }
}
