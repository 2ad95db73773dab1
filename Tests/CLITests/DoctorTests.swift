import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf doctor` on simulated hosts built to pass and to fail each check.
@Suite struct DoctorTests {
    struct Check: Equatable {
        var status: String
        var message: String
        var fix: String?
    }

    /// Runs `xvf doctor --json` and returns its checks by id, and the exit status.
    func doctor(_ root: String, _ extra: [String] = []) throws -> (checks: [String: Check], status: Int32) {
        let result = try xvf(["--root", root, "doctor", "--json"] + extra)
        let object = try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any]
        let list = try #require(object?["checks"] as? [[String: Any]], "\(result.stdout)\(result.stderr)")
        var checks: [String: Check] = [:]
        for item in list {
            #expect(Set(item.keys) == ["id", "status", "message", "fix"])
            let id = try #require(item["id"] as? String)
            checks[id] = Check(status: item["status"] as! String, message: item["message"] as! String, fix: item["fix"] as? String)
        }
        return (checks, result.status)
    }

    func writeConfig(_ root: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try text.write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
    }

    @Test func aWellSetUpHostPassesEveryCheck() throws {
        // Every PF has VFs, the config matches the host, pciback holds the guests' VFs.
        var layout = SimLayout.dl360()
        for index in layout.functions.indices where layout.functions[index].sriov?.numVFs == 0 {
            layout.functions[index].sriov!.numVFs = 2
        }
        let root = simulatedHost(layout)
        try writeConfig(root, "sriov = [ 'eno49,vfs=7' ]\nassignable = [ 'eno49/0-1' ]\n")
        try FileManager.default.createDirectory(atPath: root + "/usr/libexec", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/usr/libexec/xen-qemu-system-i386", contents: Data()))
        let before = snapshot(root)
        let (checks, status) = try doctor(root)
        #expect(status == 0)
        for (id, check) in checks { #expect(check.status == "pass", "\(id): \(check.message)") }
        #expect(checks.count == 9 + 6 * 5)
        #expect(checks["iommu"]?.message == "Xen reports PCI passthrough support (virt_caps hvm_directio/pv_directio)")
        #expect(checks["vfs-enabled:0000:04:00.0"]?.message == "eno49 (0000:04:00.0): 7 of 7 VFs enabled")
        #expect(checks["acs:0000:04:00.0"]?.fix == nil)
        #expect(changes(from: before, to: snapshot(root)) == [])

        let text = try xvf(["--root", root, "doctor"])
        #expect(text.status == 0)
        try Golden.check("Doctor/all-pass", text, root: root)
    }

    @Test func whatAnInterruptedXVFLeftIsNamedWithTheCommandThatClearsIt() throws {
        let root = simulatedHost()
        try writeConfig(root, "sriov = [ 'eno49,vfs=7' ]\nassignable = [ 'eno49/0-1' ]\n")
        let host = HostRoot(root)
        // A hand-over killed before it cleared the override, autoprobe left off, a replacement killed before
        // its rename, and a VF whose guest let it go without `xvf release`.
        try host.replaceFile("sys/bus/pci/devices/0000:04:10.0/driver_override", with: "pciback\n")
        try host.replaceFile("sys/bus/pci/devices/0000:04:00.0/sriov_drivers_autoprobe", with: "0\n")
        try host.replaceFile("etc/xen/.web1.cfg.xvf-999999", with: "pci = [")
        try host.replaceFile("run/xvf/vf/0000:04:11.0", with: "mac=00:00:00:00:00:00\n")
        let (checks, _) = try doctor(root)
        let leftovers = try #require(checks["leftovers"])
        #expect(leftovers.status == "warn")
        for words in ["driver_override stays pciback on 0000:04:10.0", "sriov_drivers_autoprobe is 0 on eno49 (0000:04:00.0)",
                      "/etc/xen/.web1.cfg.xvf-999999", "link settings of 0000:04:11.0 were not put back"] {
            #expect(leftovers.message.contains(words), "\(leftovers.message)")
        }
        for words in ["`xvf boot`", "`rm /etc/xen/.web1.cfg.xvf-999999`", "`xvf release 0000:04:11.0`"] {
            #expect(leftovers.fix?.contains(words) == true, "\(leftovers.fix ?? "")")
        }
    }

    @Test func notADom0() throws {
        let (checks, status) = try doctor(simulatedHost(.dl360(xenDom0: false)))
        #expect(status == 1)
        #expect(checks["xen-dom0"]?.status == "fail")
        #expect(checks["xen-dom0"]?.fix?.contains("Xen entry in GRUB") == true)
        #expect(checks["iommu"]?.status == "warn")
    }

    @Test func noIOMMU() throws {
        var layout = SimLayout.dl360()
        layout.xenIOMMU = false
        let (checks, status) = try doctor(simulatedHost(layout))
        #expect(status == 1)
        #expect(checks["iommu"] == Check(
            status: "fail", message: "Xen reports no IOMMU (no hvm_directio in `xl info` virt_caps): devices cannot be given to guests",
            fix: "enable VT-d (Intel) or AMD-Vi/IOMMU in the firmware setup, and do not boot Xen with iommu=0"))
    }

    @Test func pcibackNotLoaded() throws {
        var layout = SimLayout.dl360()
        layout.drivers.removeAll { $0.name == "pciback" }
        let root = simulatedHost(layout)
        var (checks, status) = try doctor(root)
        #expect(checks["pciback"]?.status == "fail")
        #expect(status == 1)
        // The module is there to load: a warning with the command.
        try FileManager.default.createDirectory(atPath: root + "/proc/sys/kernel", withIntermediateDirectories: true)
        try "6.1.0-28-amd64\n".write(toFile: root + "/proc/sys/kernel/osrelease", atomically: true, encoding: .utf8)
        try FileManager.default.createDirectory(atPath: root + "/lib/modules/6.1.0-28-amd64", withIntermediateDirectories: true)
        try "kernel/drivers/xen/xen-pciback/xen-pciback.ko: \n".write(
            toFile: root + "/lib/modules/6.1.0-28-amd64/modules.dep", atomically: true, encoding: .utf8)
        (checks, status) = try doctor(root)
        #expect(checks["pciback"] == Check(status: "warn", message: "xen-pciback is not loaded, but the kernel has it",
                                           fix: "modprobe xen-pciback (xvf boot loads it when the host config hands VFs to guests)"))
        #expect(status == 0)
    }

    @Test func theHostConfig() throws {
        let root = simulatedHost()
        var (checks, _) = try doctor(root)
        #expect(checks["host-config"]?.status == "warn")
        #expect(checks["host-config"]?.message == "no host config at \(root)/etc/xen/xvf.cfg: VF counts and pciback do not survive a reboot")
        try writeConfig(root, "sriov = [ 'eno49,vfs=7' ]\nvf = [\n  'eno49/0,mac=ff:ff:ff:ff:ff:ff' ]\n")
        var status: Int32
        (checks, status) = try doctor(root)
        #expect(status == 1)
        #expect(checks["host-config"]?.status == "fail")
        #expect(checks["host-config"]?.message.hasPrefix("\(root)/etc/xen/xvf.cfg:3: vf 'eno49/0,mac=ff:ff:ff:ff:ff:ff'") == true)
        // A config that wants more VFs than the PF has: a warning to run xvf boot.
        try writeConfig(root, "sriov = [ 'eno51,vfs=6' ]\n")
        (checks, status) = try doctor(root)
        #expect(status == 0)
        #expect(checks["host-config"]?.status == "pass")
        #expect(checks["vfs-enabled:0000:04:00.2"] == Check(
            status: "warn", message: "eno51 (0000:04:00.2) has 4 VFs; the host config says 6", fix: "run `xvf boot`"))
    }

    @Test func noVFsEnabled() throws {
        let (checks, _) = try doctor(simulatedHost())
        #expect(checks["vfs-enabled:0000:04:00.3"]?.status == "warn")
        #expect(checks["vfs-enabled:0000:04:00.3"]?.fix?.hasPrefix("`xvf vfs eno52 N` now") == true)
        #expect(checks["vfs-enabled:0000:04:00.0"]?.status == "pass")
    }

    @Test func mmioShortageInTheKernelLog() throws {
        var layout = SimLayout.dl360()
        let eno52 = layout.functions.firstIndex { $0.interface == "eno52" }!
        layout.functions[eno52].sriov!.mmioShortage = true
        let root = simulatedHost(layout)
        // The kernel said at boot that it could not place eno52's VF BARs: found before VFs are even tried.
        let (checks, status) = try doctor(root)
        #expect(status == 1)
        #expect(checks["mmio:0000:04:00.3"]?.status == "fail")
        #expect(checks["mmio:0000:04:00.3"]?.message == "eno52 (0000:04:00.3): the firmware left no MMIO room for its VFs; "
                + "the kernel says: pci 0000:04:00.3: BAR 7: no space for [mem size 0x00100000 64bit pref]")
        #expect(checks["mmio:0000:04:00.3"]?.fix?.contains("pci=realloc") == true)
        #expect(checks["mmio:0000:04:00.0"]?.status == "pass")
        // What the kernel says when VFs are enabled anyway (sriov_enable) is recognised too, as is a line
        // about another device's or a non-VF BAR, which is not.
        let other = simulatedHost()
        let log = other + "/dev/kmsg"
        try (String(contentsOfFile: log, encoding: .utf8) + "6,1,9000,-;pci 0000:04:00.2: BAR 0: no space for [mem size 0x00100000]\n"
             + "3,2,9100,-;igb 0000:04:00.1: not enough MMIO resources for SR-IOV\n").write(toFile: log, atomically: true, encoding: .utf8)
        let found = try doctor(other).checks
        #expect(found["mmio:0000:04:00.1"]?.status == "fail")
        #expect(found["mmio:0000:04:00.2"]?.status == "pass")
        // Without a readable log the check cannot tell.
        try FileManager.default.removeItem(atPath: root + "/dev/kmsg")
        #expect(try doctor(root).checks["mmio:0000:04:00.3"]?.status == "warn")
    }

    @Test func vfDriversHoldingVFsMeantForGuests() throws {
        let root = simulatedHost()
        var (checks, _) = try doctor(root)
        // No config: VFs on igbvf with autoprobe on are worth a warning.
        #expect(checks["vf-drivers:0000:04:00.0"]?.status == "warn")
        #expect(checks["vf-drivers:0000:04:00.0"]?.message == "eno49 (0000:04:00.0): 5 VFs are on igbvf in dom0, and new VFs go there too (autoprobe on)")
        try writeConfig(root, "assignable = [ 'eno49/0-3' ]\n")
        (checks, _) = try doctor(root)
        #expect(checks["vf-drivers:0000:04:00.0"] == Check(
            status: "warn", message: "eno49 (0000:04:00.0): VF 2, 3, meant for guests (host config), are on igbvf in dom0",
            fix: "run `xvf boot`: it creates VFs with sriov_drivers_autoprobe=0 and hands them to pciback"))
        // VFs dom0 keeps are fine.
        #expect(checks["vf-drivers:0000:04:00.2"]?.status == "pass")
    }

    @Test func bridgesWithoutACS() throws {
        var layout = SimLayout.dl360()
        layout.portsWithACS = []
        let (checks, status) = try doctor(simulatedHost(layout))
        #expect(status == 0)
        #expect(checks["acs:0000:04:00.0"]?.status == "warn")
        #expect(checks["acs:0000:04:00.0"]?.message.contains("bridge 0000:00:03.0 (no ACS)") == true)
    }

    @Test func theHideList() throws {
        let root = simulatedHost()
        #expect(try doctor(root).checks["bootline"]?.status == "pass")
        // A malformed entry would keep xen-pciback from loading at all.
        try "options xen-pciback hide=(0000:04:10.0)(04:10)\n".write(
            toFile: root + "/etc/modprobe.d/xvf-pciback.conf", atomically: true, encoding: .utf8)
        var (checks, status) = try doctor(root)
        #expect(status == 1)
        #expect(checks["bootline"]?.status == "fail")
        #expect(checks["bootline"]?.message.hasPrefix("/etc/modprobe.d/xvf-pciback.conf: hide entry '(04:10)'") == true)
        // A valid one that hides a VF the host config leaves with dom0.
        try "options xen-pciback hide=(0000:04:10.0)(0000:04:12.0)\n".write(
            toFile: root + "/etc/modprobe.d/xvf-pciback.conf", atomically: true, encoding: .utf8)
        try writeConfig(root, "sriov = [ 'eno49,vfs=7' ]\nassignable = [ 'eno49/0-1' ]\n")
        (checks, status) = try doctor(root)
        #expect(checks["bootline"]?.status == "warn")
        #expect(checks["bootline"]?.message == "/etc/modprobe.d/xvf-pciback.conf hides 0000:04:12.0, which the host config "
                + "does not list as assignable: pciback takes it at boot anyway")
        try writeConfig(root, "sriov = [ 'eno49,vfs=7' ]\nassignable = [ 'eno49/0-1', 'eno49/4' ]\n")
        (checks, status) = try doctor(root)
        #expect(checks["bootline"]?.status == "pass")
    }

    /// HVM passthrough needs HAP or shadow paging from Xen and a device model in dom0 (lab: Debian's Xen 4.20
    /// has no shadow paging, so a CPU without HAP runs no HVM guest at all).
    @Test func hvmSaysWhatItNeeds() throws {
        let root = simulatedHost()
        let noModel = try xvf(["--root", root, "doctor", "--json"])
        try Golden.check("Doctor/hvm-without-device-model", noModel, root: root)
        try FileManager.default.createDirectory(atPath: root + "/usr/libexec", withIntermediateDirectories: true)
        #expect(FileManager.default.createFile(atPath: root + "/usr/libexec/xen-qemu-system-i386", contents: Data()))
        let ready = try xvf(["--root", root, "doctor", "--json"])
        try Golden.check("Doctor/hvm-ready", ready, root: root)
        var layout = SimLayout.dl360()
        layout.xenHAP = false
        layout.xenShadow = false
        let withoutPaging = simulatedHost(layout)
        try Golden.check("Doctor/hvm-without-paging", try xvf(["--root", withoutPaging, "doctor", "--json"]), root: withoutPaging)
    }

    /// A Xen without shadow paging (Debian 13's 4.20) live-migrates HVM guests only; doctor says so, and
    /// warns when PV guests hold VFs, since `xvf migrate` refuses them there.
    @Test func liveMigrationWithoutShadowPaging() throws {
        var layout = SimLayout.dl360()
        layout.xenShadow = false
        let root = simulatedHost(layout)
        let quiet = try doctor(root).checks["migration"]
        #expect(quiet == Check(status: "pass", message: "this Xen live-migrates no PV guest: it has no shadow paging, which "
                               + "their log-dirty mode needs; no PV guest holds a VF", fix: nil))
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try xvf(["--root", root, "assign", "eno49/3", "--dom", "db1"]).status == 0)
        let before = snapshot(root)
        let (checks, status) = try doctor(root)
        #expect(checks["migration"] == Check(status: "warn", message: "this Xen live-migrates no PV guest (it has no shadow "
                                             + "paging, which their log-dirty mode needs), and PV guests hold VFs: domain 1 (web1)",
                                             fix: "move them stopped (`xvf save`, then `xvf restore` on the other host), or "
                                                + "run them as HVM guests"))
        #expect(status == 0)
        #expect(changes(from: before, to: snapshot(root)) == [])
        // With shadow paging there is nothing to say.
        let shadowed = simulatedHost()
        #expect(try xvf(["--root", shadowed, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        #expect(try doctor(shadowed).checks["migration"] == nil)
    }
}
