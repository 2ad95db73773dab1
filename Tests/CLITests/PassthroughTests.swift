import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf assign`, `release` and `assignable` on the simulated host and toolstack (the demo DL360: eno49's
/// VFs 0-1 on pciback, 2-6 on igbvf; web1 = domain 1 (PV), db1 = 2 (HVM), legacy = 3 (PV, no passthrough)).
@Suite struct PassthroughTests {
    @Test func assignRunsTheWholeChain() throws {
        let root = simulatedHost()
        let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            eno49/2 (0000:04:11.0): made assignable (was on igbvf, now on pciback)
            eno49/2 (0000:04:11.0): attached to domain 1 (web1) as 0000:04:11.0,permissive=1
            verified: domain 1 (web1) lists 0000:04:11.0 at guest slot 00.0; pciback shows it permissive

            """)
        #expect(driver(root, "0000:04:11.0") == "pciback")
        #expect(HostRoot(root).readText("sys/bus/pci/drivers/pciback/permissive") == "0000:04:11.0")
        let list = try xvf(["--root", root, "list"])
        #expect(list.stdout.contains("0000:04:11.0  -        pciback  -                     17  domain:1 (web1)"))
        let json = try xvf(["--root", root, "list", "--json"])
        #expect(json.stdout.contains(#""bdf":"0000:04:11.0","ifname":null,"driver":"pciback","mac":null,"iommu_group":17,"holder":"domain:1","domain_name":"web1""#))
        // Again: already there, nothing to do.
        let again = try xvf(["--root", root, "assign", "04:11.0", "--dom", "1"])
        #expect(again.status == 0)
        #expect(again.stdout.contains("already attached to domain 1 (web1)"))
    }

    @Test("refusals change nothing", arguments: [
        (["assign", "03:00.0", "--dom", "web1"], Int32(1), "carries the default route"),
        (["assign", "02:00.0", "--dom", "web1"], 1, "holds the disk behind /"),
        (["assign", "04:00.0", "--dom", "web1"], 1, "PF of 7 VFs in use"),
        (["assign", "04:11.0,permissive=2", "--dom", "web1"], 2, "write permissive=1 or permissive=0"),
        (["assign", "05:10", "--dom", "web1"], 2, "has no function number"),
        (["assign", "eno49/2", "--dom", "nosuch"], 2, "domain 'nosuch' is not running"),
        (["assign", "eno49/2", "--dom", "0"], 2, "Domain-0 itself"),
        (["assign", "eno49/0-3", "--dom", "web1"], 2, "names several VFs"),
        (["assign", "04:11.0,permissive=0", "--permissive", "--dom", "web1"], 2, "contradicts permissive=0"),
        (["assign", "eno52", "--dom", "web1"], 1, "eno52 has no VFs"),
        (["assign", "eno49/2", "--dom", "web1", "--vslot", "20"], 2, "above the largest guest slot"),
        (["assignable", "add", "eno1"], 1, "carries the default route"),
        (["release", "eno49/2"], 1, "not attached to any domain"),
    ])
    func refusalsChangeNothing(arguments: [String], status: Int32, message: String) throws {
        try expectRefusal(arguments, status: status, message: message)
    }

    @Test func aDeviceAttachedElsewhereIsRefusedNamingTheDomain() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "assign", "04:11.0", "--dom", "db1"])
        #expect(result.status == 1)
        #expect(result.stderr == "xvf: 0000:04:11.0 is attached to domain 1 (web1); release it first with `xvf release 0000:04:11.0`\n")
        #expect(snapshot(root) == before)
    }

    @Test func aFailedAttachGivesTheDeviceBack() throws {
        let root = simulatedHost()
        try breakPcibackPermissive(root)
        let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("Setting permissive for device 0000:04:11.0 failed"), "\(result.stderr)")
        #expect(result.stderr.hasSuffix("gave 0000:04:11.0 back to igbvf\n"))
        #expect(driver(root, "0000:04:11.0") == "igbvf")
        #expect(try xvf(["--root", root, "assignable", "list"]).stdout.contains("04:11.0") == false)
    }

    /// Xen gives a domain its IOMMU context only at creation; one created without passthrough takes no
    /// device, PV or HVM. xvf asks Xen before it takes the VF from dom0, and says how to fix the guest.
    @Test("a domain created without passthrough is refused before anything changes", arguments: [
        ("legacy", "3", ["--domain", "web1", "--domain", "db1:hvm", "--domain", "legacy:pv,no-passthrough"]),
        ("win1", "1", ["--domain", "win1:hvm,no-passthrough"]),
    ])
    func aDomainWithoutPassthroughIsRefusedUpFront(name: String, id: String, domains: [String]) throws {
        let root = temporaryDirectory("nopt") + "/host"
        #expect(try run("xvf-sim", [root] + domains).status == 0)
        let before = snapshot(root)
        for extra in [[], ["--dry-run"], ["--json"]] {
            let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", name] + extra)
            #expect(result.status == 1)
            let said = "domain \(id) (\(name)) refuses hot-attach: it was created without PCI passthrough (Xen gives a "
                + "guest its IOMMU context only at creation). Add passthrough = \\\"enabled\\\" (or a pci = [ '0000:04:11.0' ] "
                + "line) to its xl config and recreate it (xl shutdown, then xl create); nothing was changed"
            if extra == ["--json"] {
                #expect(result.stdout.contains(#""changed":false,"dry_run":false,"steps":[]"#), "\(result.stdout)")
                #expect(result.stdout.contains(said), "\(result.stdout)")
            } else {
                #expect(result.stderr == "xvf: " + said.replacingOccurrences(of: "\\\"", with: "\"") + "\n")
            }
        }
        #expect(snapshot(root) == before)
    }

    /// libxl hands msitranslate and power_mgmt only to qemu-xen-traditional, and rdm_policy only matters
    /// to an HVM guest: xvf passes them on, and says they do nothing for this guest.
    @Test func optionsThatDoNothingForTheGuestsTypeAreNamed() throws {
        let root = simulatedHost()
        let pv = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--no-msitranslate", "--rdm-policy", "relaxed"])
        #expect(pv.status == 0, "\(pv.stderr)")
        #expect(pv.stdout.contains("as 0000:04:11.0,msitranslate=0,rdm_policy=relaxed"))
        #expect(pv.stderr == "xvf: warning: domain 1 (web1) is PV: msitranslate and rdm_policy have no effect on it "
                + "(msitranslate for an HVM guest's device model, rdm_policy for the reserved memory Xen maps into HVM "
                + "guests); they are passed on as given\n")
        let hvm = try xvf(["--root", root, "assign", "eno49/3", "--dom", "db1", "--rdm-policy", "relaxed", "--power-mgmt"])
        #expect(hvm.status == 0, "\(hvm.stderr)")
        #expect(hvm.stderr == "xvf: warning: domain 2 (db1) is HVM: power_mgmt has no effect on it (only the "
                + "qemu-xen-traditional device model reads it; libxl does not pass it to qemu-xen); it is passed on as given\n")
        let plain = try xvf(["--root", root, "assign", "eno49/4", "--dom", "db1", "--permissive"])
        #expect(plain.status == 0 && plain.stderr.isEmpty, "\(plain.stderr)")
    }

    @Test func withoutAnIOMMUTheHalfDoneAssignableIsUndone() throws {
        var layout = SimLayout.dl360()
        layout.xenIOMMU = false
        let root = simulatedHost(layout)
        // assign asks Xen first: without an IOMMU no domain has an IOMMU context.
        let result = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("there is no IOMMU"))
        #expect(result.stderr.hasSuffix("; nothing was changed\n"))
        #expect(driver(root, "0000:04:11.0") == "igbvf")
        let add = try xvf(["--root", root, "assignable", "add", "eno49/3"])
        #expect(add.status == 1)
        #expect(driver(root, "0000:04:11.4") == "igbvf")
    }

    /// An HVM guest's device model takes the emulated bus's first slots (the lab's HVM guests got 04.0 and
    /// 05.0); a PV guest numbers from 00.0. xvf reports the slot libxl says.
    @Test func anHVMGuestsVFsGoAfterItsEmulatedDevices() throws {
        let root = simulatedHost()
        let first = try xvf(["--root", root, "assign", "eno49/2", "--dom", "db1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.hasSuffix("verified: domain 2 (db1) lists 0000:04:11.0 at guest slot 04.0\n"), "\(first.stdout)")
        let second = try xvf(["--root", root, "assign", "eno49/3", "--dom", "db1"])
        #expect(second.stdout.hasSuffix("verified: domain 2 (db1) lists 0000:04:11.4 at guest slot 05.0\n"), "\(second.stdout)")
        #expect(try xvf(["--root", root, "release", "eno49/2"]).status == 0)
        let third = try xvf(["--root", root, "assign", "eno49/4", "--dom", "db1"])
        #expect(third.stdout.hasSuffix("at guest slot 04.0\n"), "a freed slot is taken again: \(third.stdout)")
        let pv = try xvf(["--root", root, "assign", "eno49/5", "--dom", "web1"])
        #expect(pv.stdout.hasSuffix("at guest slot 00.0\n"), "\(pv.stdout)")
    }

    @Test func thePoolPicksTheLowestFreeVF() throws {
        let root = simulatedHost()
        func assign() throws -> String {
            let result = try xvf(["--root", root, "assign", "eno49", "--dom", "web1"])
            #expect(result.status == 0, "\(result.stderr)")
            return String(result.stdout.split(separator: "(").dropFirst().first?.prefix(12) ?? "")  // eno49/0 (BDF)
        }
        #expect(try assign() == "0000:04:10.0")
        #expect(try assign() == "0000:04:10.4")
        // VF 2's interface is up in dom0: it is skipped.
        try HostRoot(root).replaceFile("sys/class/net/eno49v2/flags", with: "0x1003\n")
        #expect(try assign() == "0000:04:11.4")
        let plan = try xvf(["--root", root, "assign", "--pf", "eno49", "--dom", "web1", "--dry-run"])
        #expect(plan.stdout.hasPrefix("dry run: would assign eno49/4 (0000:04:12.0) to domain 1 (web1)"))
    }

    @Test func twoConcurrentAssignsGetTwoVFs() throws {
        let root = simulatedHost()
        // Standard error apart: the one that waits for the host lock says so there, naming the holder.
        let results = try [0, 1].map { _ -> (Process, Pipe, Pipe) in
            let process = Process()
            process.executableURL = Binaries.directory.appendingPathComponent("xvf-sim")
            process.arguments = ["xvf", "--root", root, "assign", "eno49", "--dom", "web1"]
            let (out, err) = (Pipe(), Pipe())
            process.standardOutput = out
            process.standardError = err
            try process.run()
            return (process, out, err)
        }.map { process, out, err -> String in
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            let errors = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0, "\(text)\(errors)")
            return String(text.split(separator: "(").dropFirst().first?.prefix(12) ?? "")
        }
        #expect(Set(results) == ["0000:04:10.0", "0000:04:10.4"])
    }

    @Test func offADom0EveryXenCommandRefusesButDryRunPlans() throws {
        let root = simulatedHost(.dl360(xenDom0: false))
        let before = snapshot(root)
        for arguments in [["assign", "eno49/2", "--dom", "web1"], ["release", "eno49/0"], ["assignable", "list"],
                          ["assignable", "add", "eno49/2"], ["assignable", "remove", "eno49/0"]] {
            let result = try xvf(["--root", root] + arguments)
            #expect(result.status == 3)
            #expect(result.stderr.hasPrefix("xvf: not a Xen dom0"))
            #expect(result.stderr.split(separator: "\n").count == 1)
        }
        let plan = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive", "--dry-run"])
        #expect(plan.status == 0)
        #expect(plan.stdout.contains("domain web1 (not checked: not a Xen dom0)"))
        #expect(plan.stdout.contains("libxl_device_pci_add 0000:04:11.0,permissive=1"))
        #expect(snapshot(root) == before)
    }

    @Test(.enabled(if: !FileManager.default.fileExists(atPath: "/proc/xen/capabilities"), "this machine is a Xen host"))
    func aRealRootThatIsNotADom0IsRefused() throws {
        let result = try shippedXVF(["assignable", "list"])
        #expect(result.status == 3)
        #expect(result.stderr.hasPrefix("xvf: not a Xen dom0"))
    }

    /// A tree that the simulator wrote is only files to the shipped binary: it has no simulated toolstack
    /// to switch to, so the Xen commands stop with exit 3 and change nothing, and doctor claims nothing.
    @Test func theShippedXVFTakesASimulatedTreeForFilesOnly() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        for arguments in [["assign", "eno49/2", "--dom", "web1"], ["assignable", "add", "eno49/3"], ["release", "eno49/0"]] {
            let result = try shippedXVF(["--root", root] + arguments)
            #expect(result.status == 3, "\(arguments)")
            #expect(result.stderr == "xvf: libxl works on the running host only: --root \(root) is not /; nothing was changed "
                    + "(--dry-run shows the plan)\n", "\(arguments)")
        }
        let doctor = try shippedXVF(["--root", root, "doctor"])
        #expect(!doctor.stdout.contains("PASS iommu"), "\(doctor.stdout)")
        #expect(snapshot(root) == before)
    }

    @Test func dryRunChangesNothing() throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let plan = try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive", "--dry-run"])
        #expect(plan.stdout.contains("make assignable: libxl_device_pci_assignable_add 0000:04:11.0 rebind=1"))
        #expect(try xvf(["--root", root, "assignable", "add", "eno49/2", "--dry-run"]).status == 0)
        #expect(snapshot(root) == before)
    }

    @Test func releaseDetachesAndGivesBackToDom0() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        let wrong = try xvf(["--root", root, "release", "eno49/2", "--dom", "db1"])
        #expect(wrong.status == 1)
        #expect(wrong.stderr.contains("attached to domain 1 (web1), not to domain 2 (db1)"))
        let detach = try xvf(["--root", root, "release", "eno49/2"])
        #expect(detach.stdout == "eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback\n")
        #expect(driver(root, "0000:04:11.0") == "pciback")
        #expect(try xvf(["--root", root, "assignable", "list"]).stdout.contains("0000:04:11.0  eno49/2"))
        let back = try xvf(["--root", root, "release", "eno49/2", "--to-dom0"])
        #expect(back.stdout == "eno49/2 (0000:04:11.0): back with dom0, on igbvf\n", "\(back.stderr)")
        #expect(driver(root, "0000:04:11.0") == "igbvf")
    }

    @Test func assignableAddListRemoveByName() throws {
        let root = simulatedHost()
        let add = try xvf(["--root", root, "assignable", "add", "eno51/0", "--name", "fast"])
        #expect(add.stdout == "eno51/0 (0000:04:10.2): assignable (was on igbvf, remembered for remove --rebind)\n")
        let list = try xvf(["--root", root, "assignable", "list", "--json"])
        #expect(list.stdout.contains(#"{"bdf":"0000:04:10.2","device":"eno51/0","name":"fast"}"#))
        let remove = try xvf(["--root", root, "assignable", "remove", "fast", "--rebind"])
        #expect(remove.stdout == "fast: no longer assignable; on igbvf\n")
        #expect(driver(root, "0000:04:10.2") == "igbvf")
        // Without --rebind the device is left without a driver, as xl does.
        #expect(try xvf(["--root", root, "assignable", "add", "eno51/1"]).status == 0)
        let bare = try xvf(["--root", root, "assignable", "remove", "eno51/1"])
        #expect(bare.stdout.contains("no driver (add --rebind"))
        #expect(driver(root, "0000:04:10.6") == nil)
    }
}
