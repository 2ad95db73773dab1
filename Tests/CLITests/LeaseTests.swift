import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// Leases on the simulated DL360 (eno52 = 0000:04:00.3, no VFs yet; its VF i is at 04:10.3, 04:10.7,
/// 04:11.3 …; web1 = domain 1): `xvf boot` binds each lease to a VF, and every other command takes the
/// lease's name. `ip` is BootTests' fake.
@Suite struct LeaseTests {
    static let config = """
        sriov = [ 'eno52,vfs=3' ]
        assignable = [ 'eno52,name=web1-nic', '0000:04:00.3,name=db1-nic' ]
        vf = [ 'web1-nic,mac=52:54:00:aa:00:01,vlan=10', 'db1-nic,trust=on' ]

        """

    func writeConfig(_ root: String, _ text: String = Self.config) throws {
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try text.write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
    }

    func leases(_ root: String) -> String? {
        try? String(contentsOfFile: root + "/var/lib/xvf/leases", encoding: .utf8)
    }

    static let header = "# xvf's lease bindings, written by `xvf boot` (edit the host config, not this file): "
        + "NAME PF VF [SETTING=VALUE …]\n"

    /// A host after `xvf boot` of `config`, with the fake `ip` reporting what boot set.
    func bootedHost() throws -> (root: String, ip: BootTests.FakeIP) {
        let root = simulatedHost()
        try writeConfig(root)
        let ip = try BootTests.FakeIP()
        let boot = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(boot.status == 0, "\(boot.stderr)")
        try ip.report(["eno52": [(0, "52:54:00:aa:00:01", 10, true, false), (1, "02:00:04:10:07:01", 0, true, true),
                                 (2, "02:00:04:11:03:02", 0, true, false)]])
        return (root, ip)
    }

    @Test func dryRunShowsTheBindingAndChangesNothing() throws {
        let root = simulatedHost()
        try writeConfig(root)
        let ip = try BootTests.FakeIP()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "boot", "--dry-run"], environment: ip.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            echo 0 > /sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe
            echo 3 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs
            ip -force -batch - <<EOF
            link set dev eno52 vf 0 mac 52:54:00:aa:00:01 vlan 10
            link set dev eno52 vf 1 trust on
            EOF
            lease web1-nic: eno52/0 (0000:04:10.3), newly bound
            lease db1-nic: eno52/1 (0000:04:10.7), newly bound
            write /var/lib/xvf/leases
            echo pciback > /sys/bus/pci/devices/0000:04:10.3/driver_override
            libxl_device_pci_assignable_add 0000:04:10.3 rebind=1 name=web1-nic
            echo > /sys/bus/pci/devices/0000:04:10.3/driver_override
            echo pciback > /sys/bus/pci/devices/0000:04:10.7/driver_override
            libxl_device_pci_assignable_add 0000:04:10.7 rebind=1 name=db1-nic
            echo > /sys/bus/pci/devices/0000:04:10.7/driver_override
            echo 1 > /sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe
            echo 0000:04:11.3 > /sys/bus/pci/drivers_probe
            dry run: nothing was changed

            """)
        #expect(changes(from: before, to: snapshot(root)) == [])

        let json = try xvf(["--root", root, "boot", "--dry-run", "--json", "--show-content"], environment: ip.environment)
        #expect(json.status == 0, "\(json.stderr)")
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let steps = try #require(object?["steps"] as? [[String: Any]])
        let write = try #require(steps.first { $0["what"] as? String == "file_write" })
        #expect(write["target"] as? String == "/var/lib/xvf/leases")
        #expect(write["content"] as? String == Self.header + """
            db1-nic 0000:04:00.3 0000:04:10.7 trust=on
            web1-nic 0000:04:00.3 0000:04:10.3 mac=52:54:00:aa:00:01 vlan=10

            """)
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func bootBindsTheLeasesThenHasNothingToChange() throws {
        let (root, ip) = try bootedHost()
        #expect(leases(root) == Self.header + """
            db1-nic 0000:04:00.3 0000:04:10.7 trust=on
            web1-nic 0000:04:00.3 0000:04:10.3 mac=52:54:00:aa:00:01 vlan=10

            """)
        let assignable = try xvf(["--root", root, "assignable", "list"])
        #expect(assignable.stdout == """
            BDF           DEVICE   NAME
            0000:04:10.0  eno49/0  -
            0000:04:10.3  eno52/0  web1-nic
            0000:04:10.4  eno49/1  -
            0000:04:10.7  eno52/1  db1-nic
            0000:04:11.1  eno50/2  -

            """)
        #expect(driver(root, "0000:04:11.3") == "igbvf")
        let before = snapshot(root)
        let second = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(second.status == 0, "\(second.stderr)")
        #expect(second.stdout == "nothing to change: the host matches \(root)/etc/xen/xvf.cfg\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func aLeaseKeepsItsVFAcrossBoots() throws {
        // As after a reboot: the VFs are made anew, and the file says which each lease had.
        let root = simulatedHost()
        try writeConfig(root)
        try FileManager.default.createDirectory(atPath: root + "/var/lib/xvf", withIntermediateDirectories: true)
        try (Self.header + "web1-nic 0000:04:00.3 0000:04:11.3 mac=52:54:00:aa:00:01 vlan=10\n")
            .write(toFile: root + "/var/lib/xvf/leases", atomically: true, encoding: .utf8)
        let ip = try BootTests.FakeIP()
        let result = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(result.status == 0, "\(result.stderr)")
        try Golden.check("Lease/kept-across-boots", result, root: root)
        #expect(leases(root) == Self.header + """
            db1-nic 0000:04:00.3 0000:04:10.3 trust=on
            web1-nic 0000:04:00.3 0000:04:11.3 mac=52:54:00:aa:00:01 vlan=10

            """)
        // Reordering the config moves nothing.
        try writeConfig(root, """
            sriov = [ 'eno52,vfs=3' ]
            assignable = [ '0000:04:00.3,name=db1-nic', 'eno52,name=web1-nic' ]
            vf = [ 'web1-nic,mac=52:54:00:aa:00:01,vlan=10', 'db1-nic,trust=on' ]

            """)
        try ip.report(["eno52": [(0, "02:00:04:10:03:00", 0, true, true), (1, "02:00:04:10:07:01", 0, true, false),
                                 (2, "52:54:00:aa:00:01", 10, true, false)]])
        let again = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(again.stdout == "nothing to change: the host matches \(root)/etc/xen/xvf.cfg\n", "\(again.stderr)")
    }

    @Test func aLeaseWhoseGuestRunsStaysAsItIs() throws {
        // web1 has web1-nic's VF and changed its MAC: a boot neither moves the lease nor touches the guest's link.
        let (root, ip) = try bootedHost()
        #expect(try xvf(["--root", root, "assign", "web1-nic", "--dom", "web1"], environment: ip.environment).status == 0)
        try ip.report(["eno52": [(0, "52:54:00:99:99:99", 0, true, false), (1, "02:00:04:10:07:01", 0, true, true),
                                 (2, "02:00:04:11:03:02", 0, true, false)]])
        let before = snapshot(root)
        let result = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(result.stdout == "nothing to change: the host matches \(root)/etc/xen/xvf.cfg\n", "\(result.stderr)")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func aVFLibxlKnowsByALeasesNameLosesTheName() throws {
        // eno49/1 carries the name web1-nic (an earlier binding, or a hand-made name): once the lease is bound
        // to a VF of eno52, eno49/1 stays on pciback without the name, so that `xl create` never finds it.
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assignable", "add", "eno49/1", "--name", "web1-nic"]).status == 0)
        try writeConfig(root)
        let ip = try BootTests.FakeIP()
        let result = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(result.status == 0, "\(result.stderr)")
        try Golden.check("Lease/libxl-name-lost", result, root: root)
        try Golden.check("Lease/libxl-name-lost-assignable-list", try xvf(["--root", root, "assignable", "list"]), root: root)
    }

    @Test func aLeaseOfAPFTheHostLacksWaitsWithItsSettings() throws {
        let root = simulatedHost()
        try writeConfig(root, """
            assignable = [ 'eno99,name=late-nic', 'eno49,name=web2-nic' ]
            vf = [ 'late-nic,mac=52:54:00:aa:00:09' ]

            """)
        let result = try xvf(["--root", root, "boot"])
        #expect(result.status == 1)
        #expect(result.stderr == "xvf: \(root)/etc/xen/xvf.cfg:1: assignable 'eno99,name=late-nic': eno99 is not on this host "
                + "(a PF's interface appears once its driver has loaded; `xvf list` shows them); skipped\n")
        #expect(leases(root) == Self.header + "web2-nic 0000:04:00.0 0000:04:11.0\n")
    }

    @Test func aBindingsFileOthersCanWriteIsNotUsed() throws {
        let root = simulatedHost()
        try writeConfig(root)
        try FileManager.default.createDirectory(atPath: root + "/var/lib/xvf", withIntermediateDirectories: true)
        try (Self.header + "web1-nic 0000:04:00.3 0000:04:11.3\n").write(toFile: root + "/var/lib/xvf/leases", atomically: true,
                                                                         encoding: .utf8)
        chmod(root + "/var/lib/xvf/leases", 0o666)
        let result = try xvf(["--root", root, "boot", "--dry-run"], environment: try BootTests.FakeIP().environment)
        #expect(result.stderr == "xvf: warning: the lease bindings \(root)/var/lib/xvf/leases are not used: "
                + "\(root)/var/lib/xvf/leases is writable by every user; the leases are bound afresh\n")
        try Golden.check("Lease/bindings-others-can-write", result, root: root)
    }

    @Test func leasesThatFindNoVFFailOnTheirOwnLinesAndTheRestAreBound() throws {
        let root = simulatedHost()
        try writeConfig(root, """
            sriov = [ 'eno52,vfs=2' ]
            assignable = [ 'eno52/0',
                           'eno52,name=web1-nic',
                           'eno52,name=db1-nic',
                           'eno52,name=build-nic' ]

            """)
        let result = try xvf(["--root", root, "boot"])
        #expect(result.status == 1)
        #expect(result.stderr == """
            xvf: \(root)/etc/xen/xvf.cfg:4: lease db1-nic: no free VF of eno52 (0000:04:00.3) for it: VF 0: assignable at line 2, \
            VF 1: lease web1-nic; raise its count (sriov = [ 'eno52,vfs=3' ]) or free a VF; the other leases are bound
            xvf: \(root)/etc/xen/xvf.cfg:5: lease build-nic: no free VF of eno52 (0000:04:00.3) for it: VF 0: assignable at line 2, \
            VF 1: lease web1-nic; raise its count (sriov = [ 'eno52,vfs=3' ]) or free a VF; the other leases are bound

            """)
        try Golden.check("Lease/no-free-vf", result, root: root)
        #expect(leases(root) == Self.header + """
            build-nic 0000:04:00.3 -
            db1-nic 0000:04:00.3 -
            web1-nic 0000:04:00.3 0000:04:10.7

            """)
        try Golden.check("Lease/no-free-vf-assignable-list", try xvf(["--root", root, "assignable", "list"]), root: root)
    }

    @Test func aVFADomainOrDom0HoldsIsNotLeased() throws {
        // web1 holds eno49/0, VF 1 is on pciback for someone else: a lease of eno49 gets VF 2, which igbvf has
        // with its interface down.
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/0", "--dom", "web1"]).status == 0)
        try writeConfig(root, "assignable = [ 'eno49,name=web2-nic' ]\n")
        let result = try xvf(["--root", root, "boot"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(leases(root) == Self.header + "web2-nic 0000:04:00.0 0000:04:11.0\n")
        #expect(driver(root, "0000:04:11.0") == "pciback")
    }

    @Test func domainConfigsNameTheLease() throws {
        let (root, _) = try bootedHost()
        let file = "/etc/xen/web1.cfg"
        try "name = 'web1'\nmemory = 512\n".write(toFile: root + file, atomically: true, encoding: .utf8)
        let dry = try xvf(["--root", root, "cfg", "add", file, "web1-nic", "--dry-run"])
        #expect(dry.status == 0, "\(dry.stderr)")
        #expect(dry.stdout == """
            --- \(file)
            +++ \(file)
            @@ line 3 @@
            +pci = [ 'name=web1-nic' ]
            dry run: nothing was changed

            """)
        let added = try xvf(["--root", root, "cfg", "add", file, "web1-nic,permissive=1"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(try String(contentsOfFile: root + file, encoding: .utf8) == "name = 'web1'\nmemory = 512\npci = [ 'permissive=1,name=web1-nic' ]\n")
        let again = try xvf(["--root", root, "cfg", "add", file, "web1-nic"])
        #expect(again.stdout == "note: name=web1-nic is already in pci (as 'permissive=1,name=web1-nic'); not added again\n"
                + "\(file) already says this; nothing to do\n")
        let line = try xvf(["--root", root, "cfg", "line", "web1-nic", "db1-nic"])
        #expect(line.stdout == "pci = [ 'name=web1-nic', 'name=db1-nic' ]\n")
        let unknown = try xvf(["--root", root, "cfg", "line", "web9-nic"])
        #expect(unknown.status == 2)
        #expect(unknown.stderr == "xvf: 'web9-nic' is neither a network interface here nor a name the host config gives "
                + "(assignable = [ 'PF,name=web9-nic' ]); `xvf list` shows the interfaces\n")
    }

    @Test func assignAndReleaseByLease() throws {
        let (root, ip) = try bootedHost()
        let dry = try xvf(["--root", root, "assign", "web1-nic", "--dom", "web1", "--dry-run"], environment: ip.environment)
        #expect(dry.stdout == """
            would assign eno52/0 (0000:04:10.3) to domain 1 (web1)
              1. checked: not behind /, not the default-route or management interface, not a busy PF, not attached elsewhere
              2. attach: libxl_device_pci_add 0000:04:10.3 to domain 1 (web1)
              3. verify: the domain lists it; on failure, detach it again
            dry run: nothing was changed

            """, "\(dry.stderr)")
        let assign = try xvf(["--root", root, "assign", "web1-nic", "--dom", "web1"], environment: ip.environment)
        #expect(assign.status == 0, "\(assign.stderr)")
        #expect(assign.stdout == """
            eno52/0 (0000:04:10.3): attached to domain 1 (web1) as 0000:04:10.3
            verified: domain 1 (web1) lists 0000:04:10.3 at guest slot 00.0

            """)
        // The guest changed the VF's MAC; the release gives the lease's back and keeps the VF on pciback, named.
        try ip.report(["eno52": [(0, "52:54:00:99:99:99", 10, true, false), (1, "02:00:04:10:07:01", 0, true, true),
                                 (2, "02:00:04:11:03:02", 0, true, false)]])
        let toDom0 = try xvf(["--root", root, "release", "web1-nic", "--to-dom0"], environment: ip.environment)
        #expect(toDom0.status == 2)
        #expect(toDom0.stderr == "xvf: eno52/0 (0000:04:10.3) is the VF of lease web1-nic, kept on pciback for its guests; "
                + "leave out --to-dom0 (or take the lease out of the host config and run `xvf boot` first)\n")
        let release = try xvf(["--root", root, "release", "web1-nic"], environment: ip.environment)
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stdout == """
            eno52/0 (0000:04:10.3): detached from domain 1 (web1); it stays on pciback
            eno52/0: link put back (as lease web1-nic has it): ip link set dev eno52 vf 0 mac 52:54:00:aa:00:01

            """)
        try Golden.check("Lease/released-assignable-list", try xvf(["--root", root, "assignable", "list"]), root: root)
    }

    @Test func listAndShowNameTheLeases() throws {
        let (root, _) = try bootedHost()
        let run = Golden.Transcript(root: root)
        try run.xvf(["list"])
        let json = try run.xvf(["list", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any]
        let pfs = try #require(object?["pfs"] as? [[String: Any]])
        let vfs = pfs.flatMap { ($0["vfs"] as? [[String: Any]]) ?? [] }
        #expect(vfs.allSatisfy { $0.keys.contains("lease") })
        #expect(vfs.compactMap { $0["lease"] as? String } == ["web1-nic", "db1-nic"])

        let show = try run.xvf(["show", "web1-nic"])
        #expect(show.status == 0, "\(show.stderr)")
        try run.xvf(["show", "db1-nic", "--json"])
        try run.check("Lease/list-and-show")
    }

    @Test func doctorChecksTheLeasesAndTheDomainConfigs() throws {
        let (root, _) = try bootedHost()
        try "name = 'a'\npci = [ 'name=web1-nic' ]\n".write(toFile: root + "/etc/xen/a.cfg", atomically: true, encoding: .utf8)
        try "name = 'b'\npci = [ 'name=db1-nic' ]\n".write(toFile: root + "/etc/xen/b.cfg", atomically: true, encoding: .utf8)
        func lines(_ ids: [String]) throws -> [String] {
            let text = try xvf(["--root", root, "doctor"]).stdout.split(separator: "\n").map(String.init)
            var kept: [String] = []
            for (index, line) in text.enumerated() where ids.contains(where: { line.contains("  \($0)  ") }) {
                kept.append(line)
                if index + 1 < text.count, text[index + 1].hasPrefix("      fix: ") { kept.append(text[index + 1]) }
            }
            return kept
        }
        #expect(try lines(["leases", "domain-configs", "leased-vfs"]) == [
            "PASS  leases  every lease of the host config has a VF: web1-nic 0000:04:10.3, db1-nic 0000:04:10.7",
            "PASS  domain-configs  no two domain configs under /etc/xen name the same device",
            "PASS  leased-vfs  no domain config names a leased VF by its address",
        ])
        try "name = 'c'\npci = [ 'name=web1-nic', '0000:04:10.7' ]\n".write(toFile: root + "/etc/xen/c.cfg", atomically: true,
                                                                             encoding: .utf8)
        try writeConfig(root, Self.config.replacingOccurrences(of: "'0000:04:00.3,name=db1-nic'",
                                                               with: "'0000:04:00.3,name=db1-nic', 'eno52,name=new-nic'"))
        #expect(try lines(["leases", "domain-configs", "leased-vfs"]) == [
            "WARN  leases  leases without a VF: new-nic is not bound yet",
            "      fix: run `xvf boot` (with --dry-run first: it says which VFs are taken, and why)",
            "WARN  domain-configs  domain configs name the same device, so the second guest to start finds it taken: "
                + "name=web1-nic in /etc/xen/a.cfg and /etc/xen/c.cfg",
            "      fix: give each guest a lease of its own (assignable = [ 'PF,name=NAME' ] in the host config, "
                + "`xvf cfg add FILE NAME`)",
            "WARN  leased-vfs  /etc/xen/c.cfg names 0000:04:10.7, the VF of lease db1-nic: a guest that names it takes it "
                + "from the lease's guest, and the next boot may bind the lease to another VF",
            "      fix: name the lease instead (`xvf cfg remove FILE ADDRESS`, then `xvf cfg add FILE NAME`), or use a VF "
                + "no lease holds",
        ])
    }

    @Test("a bad lease name is refused in one line and nothing changes", arguments: [
        ("web 1", "'web 1' is not a lease name: use a letter, then letters, digits, '-', '_' or '.', at most 64 (web1-nic)"),
        ("1web", "'1web' is not a lease name: use a letter, then letters, digits, '-', '_' or '.', at most 64 (web1-nic)"),
        ("web;rm", "'web;rm' is not a lease name: use a letter, then letters, digits, '-', '_' or '.', at most 64 (web1-nic)"),
        // (Concatenated: Swift 6.0's compiler crashes on an interpolation in a test's arguments.)
        (String(repeating: "a", count: 65), "'" + String(repeating: "a", count: 65)
            + "' is not a lease name: use a letter, then letters, digits, '-', '_' or '.', at most 64 (web1-nic)"),
        ("eno49", "the lease name eno49 is an interface of this host; choose another name"),
    ])
    func badLeaseNames(name: String, expected: String) throws {
        let root = simulatedHost()
        try writeConfig(root, "assignable = [ 'eno52,name=\(name)' ]\n")
        let before = snapshot(root)
        let result = try xvf(["--root", root, "boot"])
        #expect(result.status == 2)
        #expect(result.stdout == "")
        #expect(result.stderr == "xvf: \(root)/etc/xen/xvf.cfg:1: assignable 'eno52,name=\(name)': \(expected)\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func aBadBindingsFileIsNotUsed() throws {
        let root = simulatedHost()
        try writeConfig(root)
        try FileManager.default.createDirectory(atPath: root + "/var/lib/xvf", withIntermediateDirectories: true)
        try "web1-nic 0000:04:00.3 0000:04:11.3 mac=nonsense\n".write(toFile: root + "/var/lib/xvf/leases", atomically: true,
                                                                     encoding: .utf8)
        let result = try xvf(["--root", root, "boot", "--dry-run"], environment: try BootTests.FakeIP().environment)
        #expect(result.status == 0)
        #expect(result.stderr == "xvf: warning: the lease bindings \(root)/var/lib/xvf/leases do not parse at line 1 "
                + "('web1-nic 0000:04:00.3 0000:04:11.3 mac=nonsense'): mac=nonsense is not a MAC address; write six pairs of "
                + "hex digits, 52:54:00:12:34:56; they are not used; the leases are bound afresh\n")
        try Golden.check("Lease/bad-bindings-file", result, root: root)
    }
}
