import Foundation
import Testing
import TestSupport

/// Debian's xendomains saves running guests at dom0 shutdown and restores them at boot; in the lab a PV
/// guest saved while it held a VF crashed right after its restore in 5 of 7 tries. `doctor` fails that
/// setting while guests hold VFs and xvf-guests.service is not enabled, and `assign` then warns once when it
/// gives a guest a VF.
@Suite struct XendomainsTests {
    func defaults(_ root: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/etc/default", withIntermediateDirectories: true)
        try text.write(toFile: root + "/etc/default/xendomains", atomically: true, encoding: .utf8)
    }

    /// The doctor's xendomains check, as its JSON has it.
    func check(_ root: String) throws -> String? {
        let result = try xvf(["--root", root, "doctor", "--json"])
        let document = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let checks = document?["checks"] as? [[String: Any]] ?? []
        return checks.first { $0["id"] as? String == "xendomains" }.map {
            "\($0["status"]!): \($0["message"]!) | \(($0["fix"] as? String) ?? "-")"
        }
    }

    @Test func savingGuestsThatHoldVFsFailsTheDoctorAndAssignWarns() throws {
        let root = simulatedHost()
        // Debian 12's and 13's file, as shipped.
        try defaults(root, "# Directory to save running domains to\nXENDOMAINS_SAVE=/var/lib/xen/save\nXENDOMAINS_RESTORE=true\n")
        #expect(try check(root) == "pass: /etc/default/xendomains has xendomains save running guests at shutdown; no running "
                + "guest holds a VF | -")
        let assign = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"])
        #expect(assign.status == 0, "\(assign.stderr)")
        #expect(assign.stderr == "xvf: warning: xendomains saves running guests at shutdown (XENDOMAINS_SAVE=/var/lib/xen/save "
                + "in /etc/default/xendomains); a guest saved while it holds a VF is likely to crash right after its restore: "
                + "enable xvf-guests.service (`systemctl enable --now xvf-guests.service`), which detaches the guests' devices "
                + "before xendomains saves them and gives them back after it restores them; or set XENDOMAINS_SAVE= (empty) in "
                + "/etc/default/xendomains, so that xendomains shuts guests down and starts them again\n")
        #expect(try check(root) == "fail: /etc/default/xendomains has xendomains save running guests "
                + "(XENDOMAINS_SAVE=/var/lib/xen/save) at shutdown and restore them at boot, xvf-guests.service is not enabled, "
                + "and guests holding VFs are likely to crash right after the restore: web1 (domain 1): 0000:04:11.0 | enable "
                + "xvf-guests.service (`systemctl enable --now xvf-guests.service`), which detaches the guests' devices before "
                + "xendomains saves them and gives them back after it restores them; or set XENDOMAINS_SAVE= (empty) in "
                + "/etc/default/xendomains, so that xendomains shuts guests down and starts them again")
    }

    /// With xvf-guests.service enabled (the link `systemctl enable` makes), the guests' VFs are taken away
    /// before the save: the doctor passes and assign says nothing.
    @Test func withTheGuestsUnitEnabledSavingIsSafe() throws {
        let root = simulatedHost()
        try defaults(root, "XENDOMAINS_SAVE=/var/lib/xen/save\n")
        let wants = root + "/etc/systemd/system/multi-user.target.wants"
        try FileManager.default.createDirectory(atPath: wants, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: wants + "/xvf-guests.service",
                                                   withDestinationPath: "/usr/lib/systemd/system/xvf-guests.service")
        let assign = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"])
        #expect(assign.status == 0 && assign.stderr == "", "\(assign.stderr)")
        #expect(try check(root) == "pass: /etc/default/xendomains has xendomains save running guests at shutdown, and "
                + "xvf-guests.service is enabled: it detaches the VFs of web1 (domain 1): 0000:04:11.0 before the save and "
                + "gives them back after the restore | -")
    }

    @Test func anEmptySaveSettingPassesAndMigrationIsAWarning() throws {
        let root = simulatedHost()
        try defaults(root, "XENDOMAINS_SAVE=\"\"\nXENDOMAINS_MIGRATE=\"backup-host\"  # at shutdown\n")
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).stderr == "")
        #expect(try check(root) == "warn: /etc/default/xendomains has xendomains migrate running guests to backup-host at "
                + "shutdown; Xen refuses to migrate a guest holding a VF: web1 (domain 1): 0000:04:11.0 | run `xvf migrate --all "
                + "backup-host` before the host shuts down: it moves the guests holding VFs, their VFs detached here and given "
                + "back there, and xendomains migrates the rest; or shut those guests down")
        try defaults(root, "XENDOMAINS_SAVE=\n")
        #expect(try check(root) == "pass: /etc/default/xendomains: xendomains shuts running guests down at shutdown "
                + "(XENDOMAINS_SAVE is empty) | -")
    }

    @Test func withoutXendomainsThereIsNoCheck() throws {
        #expect(try check(simulatedHost()) == nil)
    }
}
