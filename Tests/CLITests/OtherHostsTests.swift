import Foundation
import SimHost
import Testing
import TestSupport

/// Hosts where xvf must not do what it does on a plain xl dom0: an xapi host (XCP-ng, XenServer), a host
/// whose domains libvirt's libxl driver manages, a PVH dom0, and a libxl with XSA-476's hole. Every
/// refusal exits with one line and leaves the simulated tree byte-identical.
@Suite struct OtherHostsTests {
    func host(_ change: (inout SimLayout) -> Void) -> String {
        var layout = SimLayout.dl360()
        change(&layout)
        return simulatedHost(layout)
    }

    func expectRefused(_ root: String, _ arguments: [String], status: Int32 = 3, message: String,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let before = snapshot(root)
        let result = try xvf(["--root", root] + arguments)
        #expect(result.status == status, "\(arguments): \(result.stdout)\(result.stderr)", sourceLocation: sourceLocation)
        #expect(result.stdout == "", "\(arguments)", sourceLocation: sourceLocation)
        #expect(result.stderr == message + "\n", "\(arguments)", sourceLocation: sourceLocation)
        #expect(changes(from: before, to: snapshot(root)) == [], "\(arguments)", sourceLocation: sourceLocation)
    }

    func doctor(_ root: String) throws -> [String: (status: String, message: String, fix: String?)] {
        let result = try xvf(["--root", root, "doctor", "--json"])
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        var checks: [String: (status: String, message: String, fix: String?)] = [:]
        for item in try #require(object?["checks"] as? [[String: Any]]) {
            checks[item["id"] as! String] = (item["status"] as! String, item["message"] as! String, item["fix"] as? String)
        }
        return checks
    }

    func writeConfig(_ root: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try text.write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
    }

    // MARK: xapi

    @Test(arguments: [
        ["vfs", "eno52", "2"], ["vfs", "eno49", "0", "--dry-run"], ["driver", "igb", "--max-vfs", "2"],
        ["assignable", "add", "eno49/3"], ["assignable", "remove", "eno49/0"], ["assign", "eno49/0", "--dom", "web1"],
        ["assign", "eno49", "--dom", "web1", "--json"], ["release", "eno49/0"], ["boot"],
        ["bootline", "eno49/0", "--write"],
    ])
    func anXapiHostRefusesEveryChange(arguments: [String]) throws {
        let root = host { $0.toolstack = .xapi }
        try writeConfig(root, "sriov = [ 'eno52,vfs=2' ]\n")
        let expected = "xapi manages this host's domains and devices (\(root)/etc/xensource-inventory is there); xvf "
            + "changes nothing here: use xapi's own commands, `xe network-sriov-create` for VFs and "
            + "`xe vm-param-set uuid=… other-config:pci=0/0000:BB:DD.F` for passthrough (list and show still work)"
        if arguments.contains("--json") {
            let before = snapshot(root)
            let result = try xvf(["--root", root] + arguments)
            #expect(result.status == 3)
            #expect(result.stdout == #"{"changed":false,"dry_run":false,"steps":[],"warnings":[],"messages":[],"#
                    + #""error":{"kind":"unavailable","message":""# + expected + #"","exit_code":3}}"# + "\n")
            #expect(result.stderr == "")
            #expect(changes(from: before, to: snapshot(root)) == [])
        } else {
            try expectRefused(root, arguments, message: "xvf: " + expected)
        }
    }

    @Test func anXapiHostStillListsAndDoctorSaysWhy() throws {
        let root = host { $0.toolstack = .xapi }
        let before = snapshot(root)
        for arguments in [["list"], ["show", "eno49"], ["bootline", "eno49/0"], ["cfg", "line", "eno49/0"]] {
            let result = try xvf(["--root", root] + arguments)
            #expect(result.status == 0, "\(arguments): \(result.stderr)")
        }
        let check = try #require(try doctor(root)["toolstack"])
        #expect(check.status == "fail")
        #expect(check.message.hasPrefix("xapi manages this host's domains and devices"))
        #expect(check.fix == "use `xe network-sriov-create` for VFs and `xe vm-param-set uuid=… other-config:pci=0/0000:BB:DD.F` "
                + "for passthrough")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func aPlainDom0HasNoToolstackOrPVHCheck() throws {
        let checks = try doctor(host { _ in })
        #expect(checks["toolstack"] == nil)
        #expect(checks["pvh-dom0"] == nil)
        #expect(checks["xsa-476"]?.status == "pass")
        #expect(checks["xsa-476"]?.message == "libxl 4.17.7+13 has the fix for XSA-476 (64-bit BARs left to a guest "
                + "after a device is removed)")
    }

    // MARK: libvirt

    static let libvirtWarning = "xvf: warning: libvirt manages domain 1 (web1) (ROOT/run/libvirt/libxl/web1.xml): its "
        + "view of the domain's devices goes stale; to let libvirt do it, put the device in the domain's XML (`xvf cfg "
        + "line --libvirt DEVICE`, or `xvf cfg pool PF` for a VF pool) and use virsh attach-device / detach-device"

    @Test func assignAndReleaseWarnThatLibvirtsViewGoesStale() throws {
        let root = host { $0.toolstack = .libvirt }
        let warning = Self.libvirtWarning.replacingOccurrences(of: "ROOT", with: root)
        let assign = try xvf(["--root", root, "assign", "eno49/0", "--dom", "web1"])
        #expect(assign.status == 0, "\(assign.stderr)")
        #expect(assign.stderr == warning + "\n")
        let release = try xvf(["--root", root, "release", "eno49/0"])
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stderr == warning + "\n")
    }

    @Test func aDomainLibvirtDoesNotKnowGetsNoWarning() throws {
        let root = host { $0.toolstack = .libvirt }
        // web1 was created by xl beside libvirt's guests; db1's status file is an earlier domain's (id 7).
        try FileManager.default.removeItem(atPath: root + "/run/libvirt/libxl/web1.xml")
        try "<domstatus state='running'>\n  <domain type='xen' id='7'>\n    <vcpu id='2'/>\n  </domain>\n</domstatus>\n"
            .write(toFile: root + "/run/libvirt/libxl/db1.xml", atomically: true, encoding: .utf8)
        for domain in ["web1", "db1"] {
            let assign = try xvf(["--root", root, "assign", domain == "web1" ? "eno49/0" : "eno49/1", "--dom", domain])
            #expect(assign.status == 0, "\(assign.stderr)")
            #expect(assign.stderr == "")
        }
    }

    // MARK: PVH dom0

    static let pvhFix = "boot dom0 as PV: add dom0=pv to Xen's command line (GRUB_CMDLINE_XEN_DEFAULT in "
        + "/etc/default/grub), run update-grub and reboot; nothing was changed"

    @Test func aPVHDom0RefusesToCreateVFs() throws {
        let root = host { $0.pvhDom0 = true }
        let dom0 = "xvf: dom0 runs as a PVH guest (\(root)/sys/hypervisor/guest_type says PVH): SR-IOV capability usage "
            + "is not yet supported on PVH dom0, so "
        try expectRefused(root, ["vfs", "eno52", "2"],
                          message: dom0 + "2 VFs on eno52 (0000:04:00.3) would give guests nothing; " + Self.pvhFix)
        try expectRefused(root, ["vfs", "eno52", "2", "--dry-run"],
                          message: dom0 + "2 VFs on eno52 (0000:04:00.3) would give guests nothing; " + Self.pvhFix)
        try writeConfig(root, "sriov = [ 'eno52,vfs=2', 'ens1f1,vfs=4' ]\n")
        try expectRefused(root, ["boot"], message: dom0 + "the VF counts of \(root)/etc/xen/xvf.cfg (2 VFs on eno52 "
                          + "(0000:04:00.3), …) would give guests nothing; " + Self.pvhFix)
        try expectRefused(root, ["driver", "igb", "--max-vfs", "2"],
                          message: dom0 + "igb with max_vfs=2 would give guests nothing; " + Self.pvhFix)
        // Removing VFs gives nothing to a guest: that stays possible.
        let remove = try xvf(["--root", root, "vfs", "ens1f0", "0", "--dry-run"])
        #expect(remove.status == 0, "\(remove.stderr)")
    }

    @Test func aPVHDom0RefusesVFsAndPVGuests() throws {
        let root = host { $0.pvhDom0 = true }
        let dom0 = "xvf: dom0 runs as a PVH guest (\(root)/sys/hypervisor/guest_type says PVH): "
        for domain in ["web1", "db1"] {
            try expectRefused(root, ["assign", "eno49/0", "--dom", domain], message: dom0 + "SR-IOV capability usage is "
                              + "not yet supported on PVH dom0, so eno49/0 (0000:04:10.0) cannot go to a guest; " + Self.pvhFix)
        }
        try expectRefused(root, ["assign", "eno50", "--dom", "db1", "--dry-run"], message: dom0 + "SR-IOV capability "
                          + "usage is not yet supported on PVH dom0, so eno50/0 (0000:04:10.1) cannot go to a guest; "
                          + Self.pvhFix)
        try expectRefused(root, ["assign", "03:00.1", "--dom", "web1"], message: dom0 + "Xen passes devices through from "
                          + "a PVH dom0 to HVM guests only, and domain 1 (web1) is PV; give eno2 (0000:03:00.1) to an HVM "
                          + "guest, or " + Self.pvhFix)
        // A device without SR-IOV goes to an HVM guest.
        let hvm = try xvf(["--root", root, "assign", "03:00.1", "--dom", "db1"])
        #expect(hvm.status == 0, "\(hvm.stderr)")
    }

    @Test func doctorFailsSRIOVOnAPVHDom0() throws {
        let root = host { $0.pvhDom0 = true }
        let check = try #require(try doctor(root)["pvh-dom0"])
        #expect(check.status == "fail")
        #expect(check.message == "dom0 runs as a PVH guest (\(root)/sys/hypervisor/guest_type says PVH): SR-IOV capability "
                + "usage is not yet supported on PVH dom0 (Xen 4.22 and earlier), so no VF can go to a guest; other devices "
                + "go to HVM guests only")
        #expect(check.fix == "boot dom0 as PV: add dom0=pv to Xen's command line (GRUB_CMDLINE_XEN_DEFAULT in "
                + "/etc/default/grub), run update-grub and reboot")
    }

    // MARK: XSA-476

    static let xsaWarning = "xvf: warning: libxl 4.17.3+10 truncates 64-bit BAR addresses when it removes a device from "
        + "a guest, so the guest keeps access to the device's memory (XSA-476, CVE-2025-58149); upgrade the package "
        + "with libxenlight.so.4.17 to 4.17.6 or later"

    @Test func anOldLibxlIsWarnedAboutOnRelease() throws {
        let root = host { $0.libxl = "4.17.3+10-g091466ba55-1.1ubuntu3" }
        let assign = try xvf(["--root", root, "assign", "eno49/0", "--dom", "web1"])
        #expect(assign.status == 0)
        #expect(assign.stderr == "", "assign removes nothing")
        let release = try xvf(["--root", root, "release", "eno49/0", "--to-dom0"])
        #expect(release.status == 0, "\(release.stderr)")
        #expect(release.stderr == Self.xsaWarning + "\n")
        let check = try #require(try doctor(root)["xsa-476"])
        #expect(check.status == "warn")
        #expect(check.message == "libxl 4.17.3+10 truncates 64-bit BAR addresses when it removes a device from a guest, "
                + "so the guest keeps access to the device's memory (XSA-476, CVE-2025-58149)")
        #expect(check.fix == "upgrade the package with libxenlight.so.4.17 to 4.17.6 or later")
    }

    @Test(arguments: [
        ("4.17.5+72-g1234567890-0+deb12u1", "pass"), // bookworm's build of the branch after the fix commit
        ("4.17.5+65-g1234567890-0+deb12u1", "warn"), // one commit before it
        ("4.20.2+7-g1badcf5035-0+deb13u1", "pass"),
        ("4.20.1-1", "warn"),
        ("4.21.0-1", "pass"),
        ("none", "warn"),
    ])
    func doctorJudgesTheInstalledLibxl(version: String, status: String) throws {
        let root = host { $0.libxl = version == "none" ? nil : version }
        let check = try #require(try doctor(root)["xsa-476"])
        #expect(check.status == status, "\(check.message)")
        if version == "none" {
            #expect(check.message == "libxl 4.17's point release cannot be told here (no dpkg record of it); before 4.17.6 "
                    + "it truncates 64-bit BAR addresses when it removes a device from a guest, so the guest keeps access "
                    + "to the device's memory (XSA-476, CVE-2025-58149)")
        }
    }
}
