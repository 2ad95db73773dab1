import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `--json` on the commands that change a host: one JSON object on standard output, whether the command
/// succeeded, was a dry run or was refused, with the steps the host actually went through (the simulated
/// DL360: eno49 7 VFs, 0-1 on pciback; web1 = domain 1, legacy = domain 3 without passthrough).
@Suite struct JSONResultTests {
    struct Result {
        var changed: Bool
        var dryRun: Bool
        var steps: [[String: String]]
        var warnings: [String]
        var messages: [String]
        var error: [String: Any]?
        var status: Int32
        var stderr: String

        /// The steps as `what target status`, the way a reader checks them.
        var outline: [String] { steps.map { "\($0["what"]!) \($0["target"]!) \($0["status"]!)" } }
    }

    /// Runs the command with `--json`; the whole of standard output must be one JSON object on one line.
    func run(_ arguments: [String], environment: [String: String] = [:]) throws -> Result {
        let result = try xvf(arguments + ["--json"], environment: environment)
        #expect(result.stdout.hasSuffix("\n") && result.stdout.dropLast().contains("\n") == false, "\(result.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object.keys.sorted() == ["changed", "dry_run", "error", "messages", "steps", "warnings"])
        let steps = try #require(object["steps"] as? [[String: Any]]).map { step in
            step.compactMapValues { $0 as? String }
        }
        return Result(changed: object["changed"] as! Bool, dryRun: object["dry_run"] as! Bool, steps: steps,
                      warnings: object["warnings"] as! [String], messages: object["messages"] as! [String],
                      error: object["error"] as? [String: Any], status: result.status, stderr: result.stderr)
    }

    @Test func assignReportsItsStepsAndASecondRunChangesNothing() throws {
        let root = simulatedHost()
        let first = try run(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"])
        #expect(first.status == 0)
        #expect(first.changed && !first.dryRun && first.error == nil)
        #expect(first.outline == ["assignable_add 0000:04:11.0 done", "attach 0000:04:11.0 done"])
        #expect(first.steps[1]["detail"] == "libxl_device_pci_add 0000:04:11.0,permissive=1 to domain 1")
        #expect(first.messages.last == "verified: domain 1 (web1) lists 0000:04:11.0 at guest slot 00.0; pciback shows it permissive")
        #expect(first.stderr.isEmpty)

        let second = try run(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"])
        #expect(second.status == 0)
        #expect(!second.changed && second.steps.isEmpty)
    }

    @Test func aDryRunIsThePlanAndChangesNothing() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let plan = try run(["--root", root, "assign", "eno49/3", "--dom", "web1", "--dry-run"])
        #expect(plan.status == 0)
        #expect(plan.changed && plan.dryRun)
        #expect(plan.outline == ["assignable_add 0000:04:11.4 planned", "attach 0000:04:11.4 planned"])
        #expect(snapshot(root) == before)
    }

    @Test func aRefusalIsStillOneObjectWithTheExitCode() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let refused = try run(["--root", root, "assign", "eno49/99", "--dom", "web1"])
        #expect(refused.status == 2)
        #expect(!refused.changed && refused.steps.isEmpty)
        #expect(refused.error?["kind"] as? String == "bad_input")
        #expect(refused.error?["exit_code"] as? Int == 2)
        #expect((refused.error?["message"] as? String)?.hasPrefix("'eno49/99' names VF 99, but eno49 has 7 VFs") == true)
        #expect(refused.stderr.isEmpty)
        #expect(snapshot(root) == before)

        let notSimulated = try run(["--root", temporaryDirectory("empty"), "vfs", "eno49", "2"])
        #expect(notSimulated.status == 3)
        #expect(notSimulated.error?["kind"] as? String == "unavailable")
    }

    @Test func aStepUndoneAfterAFailureSaysSoAndNothingChanged() throws {
        let root = simulatedHost()
        try breakPcibackPermissive(root)
        let failed = try run(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"])
        #expect(failed.status == 1)
        #expect(failed.outline == ["assignable_add 0000:04:11.0 undone", "attach 0000:04:11.0 failed"])
        #expect(!failed.changed)
        #expect((failed.error?["message"] as? String)?.hasSuffix("gave 0000:04:11.0 back to igbvf") == true)
        #expect(driver(root, "0000:04:11.0") == "igbvf")
    }

    @Test func vfsReleaseAndAssignableReportTheirSteps() throws {
        let root = simulatedHost()
        let vfs = try run(["--root", root, "vfs", "eno51", "2"])
        #expect(vfs.status == 0)
        #expect(vfs.outline == ["sysfs_write 0000:04:00.2 done", "sysfs_write 0000:04:00.2 done"])
        #expect(vfs.steps.map { $0["detail"]! } == ["echo 0 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs",
                                                    "echo 2 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs"])
        #expect(try !run(["--root", root, "vfs", "eno51", "2"]).changed)

        let add = try run(["--root", root, "assignable", "add", "eno49/4", "--name", "web"])
        #expect(add.outline == ["assignable_add 0000:04:12.0 done"])
        let again = try run(["--root", root, "assignable", "add", "eno49/4", "--name", "web"])
        #expect(again.status == 0 && !again.changed)

        _ = try run(["--root", root, "assign", "eno49/4", "--dom", "web1"])
        let release = try run(["--root", root, "release", "eno49/4", "--to-dom0"])
        #expect(release.status == 0)
        #expect(release.outline == ["detach 0000:04:12.0 done", "assignable_remove 0000:04:12.0 done"])
    }

    @Test func aDomainConfigEditCarriesTheNewFile() throws {
        let root = simulatedHost()
        let file = root + "/etc/xen/web1.cfg"
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "name = \"web1\"\nmemory = 512\n".write(toFile: file, atomically: true, encoding: .utf8)
        let plan = try run(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "eno49/2", "--dry-run", "--show-content"])
        #expect(plan.outline == ["file_write /etc/xen/web1.cfg planned"])
        #expect(plan.steps[0]["content"] == "name = \"web1\"\nmemory = 512\npci = [ '0000:04:11.0' ]\n")
        #expect(try String(contentsOfFile: file, encoding: .utf8) == "name = \"web1\"\nmemory = 512\n")
        let done = try run(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "eno49/2"])
        #expect(done.outline == ["file_write /etc/xen/web1.cfg done"])
        #expect(try !run(["--root", root, "cfg", "add", "/etc/xen/web1.cfg", "eno49/2"]).changed)
    }

    @Test func bootsFailuresAreItsErrorAndItsStepsStillListed() throws {
        // The firmware left eno52 no MMIO space: its count fails, and eno51 still gets its 2 VFs.
        var layout = SimLayout.dl360()
        let eno52 = layout.functions.firstIndex { $0.interface == "eno52" }!
        layout.functions[eno52].sriov!.mmioShortage = true
        let root = simulatedHost(layout)
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "sriov = [ 'eno52,vfs=2', 'eno51,vfs=2' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let boot = try run(["--root", root, "boot"])
        #expect(boot.status == 1)
        #expect(boot.changed)
        #expect(boot.error?["kind"] as? String == "failed")
        #expect((boot.error?["message"] as? String)?.contains("0000:04:00.3") == true, "\(boot.error ?? [:])")
        #expect(boot.outline.contains("sysfs_write 0000:04:00.3 failed"), "\(boot.outline)")
        #expect(boot.outline.contains("sysfs_write 0000:04:00.2 done"), "\(boot.outline)")
        #expect(boot.stderr.isEmpty)
    }

    @Test func everyCommandThatChangesTheHostTakesJSON() throws {
        for command in [["assign"], ["release"], ["assignable", "add"], ["assignable", "remove"], ["vfs"], ["driver"],
                        ["bootline"], ["cfg", "add"], ["cfg", "remove"], ["boot"]] {
            let help = try xvf(command + ["--help"])
            #expect(help.stdout.contains("--json"), "\(command.joined(separator: " ")) has no --json")
        }
    }
}
