import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf save` / `xvf restore` and `xvf guests detach|attach` on the demo DL360 (web1 = domain 1, PV; db1 =
/// domain 2, HVM; legacy = domain 3, created without passthrough). Xen cannot save a guest that holds a
/// device (in the lab the restored guest crashed in 5 of 7 tries), so xvf takes the devices away first
/// and gives them back after. The simulated toolstack does what xl does: save destroys the domain and
/// writes an image, restore starts it again under the next id; `xen-fail …` marker lines make one of its
/// calls fail, for the undo paths.
@Suite struct GuestSaveTests {
    typealias FakeIP = BootTests.FakeIP

    func host() throws -> String {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/var/lib/xen/save", withIntermediateDirectories: true)
        return root
    }

    func domains(_ root: String) -> [String] {
        (HostRoot(root).readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").filter { $0.hasPrefix("domain ") }.map(String.init)
    }

    @Test func saveAndRestoreGiveTheGuestItsVFBackWithItsLink() throws {
        let root = try host()
        let ip = try FakeIP()
        try ip.report(["eno49": [(2, "00:00:00:00:00:00", 0, true, false)]])
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive", "--mac", "52:54:00:aa:00:02",
                         "--trust", "on"], environment: ip.environment).status == 0)
        try ip.report(["eno49": [(2, "52:54:00:aa:00:02", 0, true, true)]])

        let save = try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"], environment: ip.environment)
        #expect(save.status == 0 && save.stderr == "", "\(save.stderr)")
        #expect(save.stdout == """
            eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback
            eno49/2: link put back (as before the assign): ip link set dev eno49 vf 2 mac 00:00:00:00:00:00 trust off
            saved domain 1 (web1) to \(root)/var/lib/xen/save/web1; its devices are recorded in \(root)/var/lib/xen/save/web1.xvf, \
            and `xvf restore \(root)/var/lib/xen/save/web1` gives them back

            """)
        #expect(try String(contentsOfFile: root + "/var/lib/xen/save/web1.xvf", encoding: .utf8) == """
            # xvf: the devices domain web1 held when xvf took them away; xvf gives them back when it runs again (xvf restore, \
            xvf guests attach).
            domain web1 pv
            device 0000:04:11.0 spec=0000:04:11.0,permissive=1 pf=0000:04:00.0 index=2 ids=8086:1521:8086:0000 interface=eno49 \
            serial=a0-36-9f-ff-ff-12-34-50 permanent_mac=a0:36:9f:12:34:50 mac=52:54:00:aa:00:02 vlan=0 qos=0 spoofchk=on trust=on state=auto

            """)
        #expect(HostRoot(root).readText("var/lib/xen/save/web1")?.hasPrefix("xvf-sim saved domain\ndomain 1 web1 pv passthrough") == true)
        #expect(domains(root) == ["domain 2 db1 hvm passthrough", "domain 3 legacy pv -"])

        try ip.report(["eno49": [(2, "00:00:00:00:00:00", 0, true, false)]])
        let restore = try xvf(["--root", root, "restore", "/var/lib/xen/save/web1"], environment: ip.environment)
        #expect(restore.status == 0 && restore.stderr == "", "\(restore.stderr)")
        #expect(restore.stdout == """
            restored domain 4 (web1) from \(root)/var/lib/xen/save/web1
            eno49/2 (0000:04:11.0): link set for the guest: ip link set dev eno49 vf 2 mac 52:54:00:aa:00:02 trust on
            eno49/2 (0000:04:11.0): attached to domain 4 (web1) as 0000:04:11.0,permissive=1
            verified: domain 4 (web1) lists 0000:04:11.0 at guest slot 00.0; pciback shows it permissive

            """)
        #expect(try holders(root) == ["0000:04:11.0 domain:4 (web1)"])
    }

    /// The VF it had is another guest's now: it gets the free VF of the same PF with the lowest index,
    /// with the same options.
    @Test func restoreTakesAnotherVFOfTheSamePFWhenItsOwnIsTaken() throws {
        let root = try host()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"]).status == 0)
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "db1"]).status == 0)
        let restore = try xvf(["--root", root, "restore", "/var/lib/xen/save/web1", "--dry-run"])
        #expect(restore.stdout == """
            would restore domain web1 from /var/lib/xen/save/web1
              1. restore: xl restore /var/lib/xen/save/web1
              2. give back 0000:04:11.0 (VF 2 of eno49) on 0000:04:10.0, as `xvf assign` does (link, pciback, attach, verify)
            dry run: nothing was changed

            """)
        #expect(try xvf(["--root", root, "restore", "/var/lib/xen/save/web1"]).status == 0)
        #expect(try holders(root) == ["0000:04:10.0 domain:4 (web1)", "0000:04:11.0 domain:2 (db1)"])
    }

    /// Refusals change nothing on the host, byte for byte, and say what to do in one line.
    @Test("refusals change nothing", arguments: ["no device", "image exists", "no free VF", "not saved by xvf", "running"])
    func refusalsChangeNothing(_ refusal: String) throws {
        let root = try host()
        var arguments: [String] = []
        var expected = ""
        var status: Int32 = 1
        switch refusal {
        case "no device":
            arguments = ["save", "legacy", "/var/lib/xen/save/legacy"]
            expected = "xvf: domain 3 (legacy) holds no PCI device: `xl save 3 \(root)/var/lib/xen/save/legacy` saves it as it is\n"
        case "image exists":
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
            try "an earlier image".write(toFile: root + "/var/lib/xen/save/web1", atomically: true, encoding: .utf8)
            arguments = ["save", "web1", "/var/lib/xen/save/web1"]
            expected = "xvf: \(root)/var/lib/xen/save/web1 exists; xvf save never replaces an image: name a new file\n"
            status = 2
        case "no free VF":
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
            #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"]).status == 0)
            // db1 takes every VF of eno49 that a guest may have.
            while try xvf(["--root", root, "assign", "eno49", "--dom", "db1"]).status == 0 {}
            arguments = ["restore", "/var/lib/xen/save/web1"]
            expected = "xvf: no free VF on eno49: 0: domain 2, 1: domain 2, 2: domain 2, 3: domain 2, 4: domain 2, 5: domain 2, "
                + "6: domain 2; release one (`xvf release`) or create more (`xvf vfs eno49 N`)\n"
        case "not saved by xvf":
            try "an image of xl's".write(toFile: root + "/var/lib/xen/save/other", atomically: true, encoding: .utf8)
            arguments = ["restore", "/var/lib/xen/save/other"]
            expected = "xvf: \(root)/var/lib/xen/save/other has no record of its devices (\(root)/var/lib/xen/save/other.xvf): "
                + "`xl restore \(root)/var/lib/xen/save/other` restores it as it is\n"
            status = 2
        default:
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
            #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"]).status == 0)
            #expect(try xvf(["--root", root, "restore", "/var/lib/xen/save/web1"]).status == 0)
            arguments = ["restore", "/var/lib/xen/save/web1"]
            expected = "xvf: domain web1 is running already (domain 4); a second one of that name cannot be restored. If it "
                + "runs from this image (a restore that stopped half-way), `xvf guests attach --record "
                + "\(root)/var/lib/xen/save/web1.xvf` gives it the devices its record names\n"
        }
        let before = snapshot(root)
        let result = try xvf(["--root", root] + arguments)
        #expect(result.status == status)
        #expect(result.stdout == "")
        #expect(result.stderr == expected)
        #expect(snapshot(root) == before)
    }

    /// `xl save` fails: the guest still runs, and gets its VF back; no record and no image are left.
    @Test func aFailedSaveGivesTheGuestItsDevicesBack() throws {
        let root = try host()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"]).status == 0)
        try addMarker(root, "xen-fail save")
        let save = try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"])
        #expect(save.status == 1)
        #expect(save.stdout == "")
        #expect(save.stderr == "xvf: xl save of domain 1 (web1) failed: libxl: error: libxl_dom_suspend.c:0:"
                + "suspend_common_wait_guest_timeout: Domain 1:guest did not suspend, timed out; gave web1 its devices back\n")
        #expect(try holders(root) == ["0000:04:11.0 domain:1 (web1)"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/xen/save") == [])
        #expect(HostRoot(root).readText("sys/bus/pci/drivers/pciback/permissive")?.contains("0000:04:11.0") == true)
    }

    /// The second device will not leave the guest: the first one goes back to it, and nothing is saved.
    @Test func aDetachThatFailsHalfWayGivesBackWhatWasDetached() throws {
        let root = try host()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try xvf(["--root", root, "assign", "eno49/0", "--dom", "web1"]).status == 0)
        try addMarker(root, "xen-fail detach 0000:04:10.0")
        let save = try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"])
        #expect(save.status == 1)
        #expect(save.stderr == "xvf: 0000:04:10.0: libxl refused (libxl_device_pci_remove, ERROR_FAIL): libxl: error: "
                + "libxl_pci.c:2218:pci_remove_timeout: Domain 1:timed out waiting for the guest to release 0000:04:10.0; "
                + "--force detaches without the guest's help; gave domain 1 (web1) back what was detached; web1 was not saved\n")
        #expect(try holders(root) == ["0000:04:10.0 domain:1 (web1)", "0000:04:11.0 domain:1 (web1)"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/xen/save") == [])
    }

    /// Once the guest runs, a device that cannot be attached is named with the command that gives it.
    @Test func aRestoredGuestMissingADeviceIsToldHowToGiveIt() throws {
        let root = try host()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"]).status == 0)
        try addMarker(root, "xen-fail attach 0000:04:11.0")
        let restore = try xvf(["--root", root, "restore", "/var/lib/xen/save/web1"])
        #expect(restore.status == 1)
        #expect(restore.stdout == "restored domain 4 (web1) from \(root)/var/lib/xen/save/web1\n")
        #expect(restore.stderr == "xvf: 0000:04:11.0 was not given back to domain 4 (web1): libxl refused (libxl_device_pci_add, "
                + "ERROR_FAIL): libxl: error: libxl_pci.c:1529:pci_add_dm_done: Domain 4:xc_assign_device failed: Device or "
                + "resource busy; `xvf assign 0000:04:11.0 --dom web1` gives it\n")
        #expect(try holders(root) == [])
        #expect(domains(root).last == "domain 4 web1 pv passthrough")
    }

    /// Whole outputs of `restore` and `guests`, as text and as `--json`: the plan, a run, a run that gives a
    /// device back only in part (named with the command that gives it, exit 1), and runs with nothing to do.
    @Test func restoreAndGuestsWholeOutputs() throws {
        let root = try host()
        let run = Golden.Transcript(root: root)
        try run.xvf(["assign", "eno49/2", "--dom", "web1", "--permissive"])
        try run.xvf(["save", "web1", "/var/lib/xen/save/web1"])
        try run.xvf(["restore", "/var/lib/xen/save/web1", "--dry-run"])
        try run.xvf(["restore", "/var/lib/xen/save/web1", "--dry-run", "--json"])
        try run.xvf(["restore", "/var/lib/xen/save/web1", "--json"])
        try run.xvf(["save", "4", "/var/lib/xen/save/web1-again"])
        try addMarker(root, "xen-fail attach 0000:04:11.0")
        run.note("xen-fail attach 0000:04:11.0")
        try run.xvf(["restore", "/var/lib/xen/save/web1-again", "--json"])

        try run.xvf(["assign", "eno49/0", "--dom", "db1"])
        try run.xvf(["guests", "detach", "--dry-run"])
        try run.xvf(["guests", "detach", "--json"])
        try run.xvf(["guests", "detach"])
        try run.xvf(["guests", "attach", "--dry-run"])
        try run.xvf(["guests", "attach"])
        try run.xvf(["guests", "attach", "--json"])
        try run.check("Guests/restore-and-guests")
    }

    /// What xendomains does around a reboot, with xvf-guests.service's stop and start around it: the
    /// devices (an HVM guest's in the same guest slot) are recorded and detached, then given back, and the
    /// records go; a record whose guest does not run again is removed with a warning naming what it held.
    @Test func guestsDetachAndAttachAroundXendomains() throws {
        let root = try host()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try xvf(["--root", root, "assign", "eno49/0", "--dom", "db1", "--permissive"]).status == 0)
        let nothing = try xvf(["--root", root, "guests", "detach", "--xendomains"])
        #expect(nothing.stdout == "xendomains does not save guests at shutdown (XENDOMAINS_SAVE is empty or there is no "
                + "xendomains): their devices stay with them; nothing to do\n")
        try FileManager.default.createDirectory(atPath: root + "/etc/default", withIntermediateDirectories: true)
        try "XENDOMAINS_SAVE=/var/lib/xen/save\n".write(toFile: root + "/etc/default/xendomains", atomically: true, encoding: .utf8)

        let detach = try xvf(["--root", root, "guests", "detach", "--xendomains"])
        #expect(detach.status == 0 && detach.stderr == "", "\(detach.stderr)")
        #expect(detach.stdout == """
            eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback
            domain 1 (web1): devices recorded in \(root)/var/lib/xvf/guests/web1
            eno49/0 (0000:04:10.0): detached from domain 2 (db1); it stays on pciback
            domain 2 (db1): devices recorded in \(root)/var/lib/xvf/guests/db1

            """)
        #expect(try holders(root) == [])
        #expect(HostRoot(root).readText("var/lib/xvf/guests/db1")?.contains(
            "\ndevice 0000:04:10.0 spec=0000:04:10.0@04,permissive=1 pf=0000:04:00.0 index=0 ") == true)

        // A guest xendomains did not bring back.
        try HostRoot(root).readText("var/lib/xvf/guests/web1")!.replacingOccurrences(of: "domain web1", with: "domain gone1")
            .write(toFile: root + "/var/lib/xvf/guests/gone1", atomically: true, encoding: .utf8)
        let attach = try xvf(["--root", root, "guests", "attach"])
        #expect(attach.status == 0)
        #expect(attach.stdout == """
            eno49/0 (0000:04:10.0): attached to domain 2 (db1) as 0000:04:10.0@04,permissive=1
            verified: domain 2 (db1) lists 0000:04:10.0 at guest slot 04.0; pciback shows it permissive
            eno49/2 (0000:04:11.0): attached to domain 1 (web1) as 0000:04:11.0
            verified: domain 1 (web1) lists 0000:04:11.0 at guest slot 00.0

            """)
        // The unit is not enabled in this tree, so giving a guest a VF warns as `xvf assign` does.
        #expect(attach.stderr == "xvf: warning: xendomains saves running guests at shutdown (XENDOMAINS_SAVE=/var/lib/xen/save "
                + "in /etc/default/xendomains); a guest saved while it holds a VF is likely to crash right after its restore: "
                + "enable xvf-guests.service (`systemctl enable --now xvf-guests.service`), which detaches the guests' devices "
                + "before xendomains saves them and gives them back after it restores them; or set XENDOMAINS_SAVE= (empty) in "
                + "/etc/default/xendomains, so that xendomains shuts guests down and starts them again\n"
                + "xvf: warning: domain gone1 is not running, so its recorded devices are not given back "
                + "(0000:04:11.0 (VF 2 of eno49)); its record \(root)/var/lib/xvf/guests/gone1 is removed\n")
        #expect(try holders(root) == ["0000:04:10.0 domain:2 (db1)", "0000:04:11.0 domain:1 (web1)"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/xvf/guests") == [])
        #expect(try xvf(["--root", root, "guests", "attach"]).stdout
                == "no guest's devices are recorded in /var/lib/xvf/guests; nothing to do\n")
    }

    /// A guest whose VF came from a lease gets its lease's VF back, and a restore that must fall back to
    /// the PF's pool never takes another lease's VF (LeaseTests' host: eno52 with 3 VFs, web1-nic bound
    /// to eno52/0, db1-nic to eno52/1).
    @Test func leasesSurviveSaveAndRestore() throws {
        let (root, ip) = try LeaseTests().bootedHost()
        try FileManager.default.createDirectory(atPath: root + "/var/lib/xen/save", withIntermediateDirectories: true)
        #expect(try xvf(["--root", root, "assign", "web1-nic", "--dom", "web1"], environment: ip.environment).status == 0)
        #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"], environment: ip.environment).status == 0)
        #expect(try String(contentsOfFile: root + "/var/lib/xen/save/web1.xvf", encoding: .utf8)
                    .contains(" lease=web1-nic mac=52:54:00:aa:00:01 vlan=10 ") == true)
        let restore = try xvf(["--root", root, "restore", "/var/lib/xen/save/web1"], environment: ip.environment)
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(try holders(root) == ["0000:04:10.3 domain:4 (web1)"])

        // Without its lease's VF (taken by hand for db1), the restore picks eno52's free VF, never db1-nic's.
        #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1-again"], environment: ip.environment).status == 0)
        #expect(try xvf(["--root", root, "assign", "0000:04:10.3", "--dom", "db1"], environment: ip.environment).status == 0)
        let plan = try xvf(["--root", root, "restore", "/var/lib/xen/save/web1-again", "--dry-run"], environment: ip.environment)
        #expect(plan.status == 0)
        #expect(plan.stdout == """
            would restore domain web1 from /var/lib/xen/save/web1-again
              1. restore: xl restore /var/lib/xen/save/web1-again
              2. give back 0000:04:10.3 (VF 0 of eno52, mac 52:54:00:aa:00:01, vlan 10) on 0000:04:11.3, as `xvf assign` does (link, pciback, attach, verify)
            dry run: nothing was changed

            """)
        #expect(plan.stderr == "")
    }

    /// A record root gives devices from is refused when another user could have written it.
    @Test func anUntrustedRecordIsNotUsed() throws {
        let root = try host()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try xvf(["--root", root, "save", "web1", "/var/lib/xen/save/web1"]).status == 0)
        chmod(root + "/var/lib/xen/save/web1.xvf", 0o666)
        let before = snapshot(root)
        let restore = try xvf(["--root", root, "restore", "/var/lib/xen/save/web1"])
        #expect(restore.status == 1)
        #expect(restore.stderr == "xvf: the record \(root)/var/lib/xen/save/web1.xvf is not used: "
                + "\(root)/var/lib/xen/save/web1.xvf is writable by every user\n")
        #expect(snapshot(root) == before)
    }
}
