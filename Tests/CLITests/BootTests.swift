import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf boot` on the simulated host, kernel and toolstack (the demo DL360: eno49 7 VFs, 0-1 on pciback;
/// eno50 7 VFs, autoprobe off; eno51 4 VFs; eno52 (0000:04:00.3) no VFs yet; web1 = domain 1).
/// `ip` is a fake on PATH that records every run (its argv, then its stdin) and answers
/// `ip -json link show` from a file the test writes.
@Suite struct BootTests {
    /// A fake `ip` in its own directory: `log` gets `ARGV …` and the stdin lines of every run, `state`
    /// is printed for `-json`, and batch lines containing `failing` (when set) fail the way ip reports it.
    struct FakeIP {
        let directory: String
        var log: String { directory + "/ip.log" }
        var state: String { directory + "/ip-state.json" }

        init(failing: String? = nil) throws {
            directory = temporaryDirectory("fake-ip")
            let script = """
                #!/bin/sh
                echo "ARGV $*" >> '\(directory)/ip.log'
                if [ "$1" = "-json" ]; then cat '\(directory)/ip-state.json' 2>/dev/null || echo '[]'; exit 0; fi
                status=0; n=0
                while IFS= read -r line; do
                  n=$((n+1)); echo "$line" >> '\(directory)/ip.log'
                  \(failing.map { "case \"$line\" in *'\($0)'*) echo 'RTNETLINK answers: Invalid argument' >&2; echo \"Command failed -:$n\" >&2; status=1;; esac" } ?? ":")
                done
                exit $status

                """
            try script.write(toFile: directory + "/ip", atomically: true, encoding: .utf8)
            chmod(directory + "/ip", 0o755)
        }

        var environment: [String: String] { fakeProgramEnvironment(directory) }

        /// The recorded runs: each starts with its `ARGV` line.
        func runs() -> [[String]] {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            var runs: [[String]] = []
            for line in text.split(separator: "\n").map(String.init) {
                if line.hasPrefix("ARGV ") { runs.append([line]) } else if !runs.isEmpty { runs[runs.count - 1].append(line) }
            }
            return runs
        }

        /// What `ip -json link show` prints: each interface with its VFs' settings.
        func report(_ vfs: [String: [(index: Int, mac: String, vlan: Int, spoofchk: Bool, trust: Bool)]]) throws {
            let links = vfs.keys.sorted().map { name in
                let list = vfs[name]!.map {
                    "{\"vf\":\($0.index),\"link_type\":\"ether\",\"address\":\"\($0.mac)\",\"broadcast\":\"ff:ff:ff:ff:ff:ff\","
                        + ($0.vlan == 0 ? "" : "\"vlan_list\":[{\"vlan\":\($0.vlan)}],")
                        + "\"spoofchk\":\($0.spoofchk),\"link_state\":\"auto\",\"trust\":\($0.trust)}"
                }
                return "{\"ifindex\":2,\"ifname\":\"\(name)\",\"flags\":[\"BROADCAST\"],\"vfinfo_list\":[\(list.joined(separator: ","))]}"
            }
            try ("[" + links.joined(separator: ",") + "]").write(toFile: state, atomically: true, encoding: .utf8)
        }
    }

    func writeConfig(_ root: String, _ text: String) throws {
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try text.write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
    }

    static let eno52Config = """
        # eno52 gets 3 VFs: VF 0 for the database guest, the others stay with dom0
        sriov = [ 'eno52,vfs=3' ]
        vf = [ 'eno52/0,mac=52:54:00:00:52:00,vlan=100,spoofchk=off',
               'eno52/1,trust=on' ]
        assignable = [ 'eno52/0,name=db-nic' ]

        """

    @Test func dryRunPrintsThePlanInOrderAndChangesNothing() throws {
        let root = simulatedHost()
        try writeConfig(root, Self.eno52Config)
        let ip = try FakeIP()
        let before = snapshot(root)
        let result = try xvf(["--root", root, "boot", "--dry-run"], environment: ip.environment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            echo 0 > /sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe
            echo 3 > /sys/bus/pci/devices/0000:04:00.3/sriov_numvfs
            ip -force -batch - <<EOF
            link set dev eno52 vf 0 mac 52:54:00:00:52:00 vlan 100 spoofchk off
            link set dev eno52 vf 1 trust on
            EOF
            echo pciback > /sys/bus/pci/devices/0000:04:10.3/driver_override
            libxl_device_pci_assignable_add 0000:04:10.3 rebind=1 name=db-nic
            echo > /sys/bus/pci/devices/0000:04:10.3/driver_override
            echo 1 > /sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe
            echo 0000:04:10.7 > /sys/bus/pci/drivers_probe
            echo 0000:04:11.3 > /sys/bus/pci/drivers_probe
            dry run: nothing was changed

            """)
        #expect(changes(from: before, to: snapshot(root)) == [])
        // The VFs are all new: nothing to compare with, so ip is not even asked.
        #expect(ip.runs().isEmpty)
    }

    @Test func appliesTheConfigThenHasNothingToChange() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try writeConfig(root, Self.eno52Config)
        let ip = try FakeIP()
        try run.xvf(["boot"], environment: ip.environment)
        // VF 0 went to pciback with autoprobe off (no igbvf ever had it), the others to igbvf.
        #expect(driver(root, "0000:04:10.3") == "pciback")
        #expect(driver(root, "0000:04:10.7") == "igbvf")
        #expect(driver(root, "0000:04:11.3") == "igbvf")
        let base = root + "/sys/bus/pci/devices/"
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe") == "1")
        #expect(try String(contentsOfFile: base + "0000:04:10.3/driver_override", encoding: .utf8) == "(null)\n")
        try run.xvf(["assignable", "list"])
        #expect(ip.runs() == [["ARGV -force -batch -", "link set dev eno52 vf 0 mac 52:54:00:00:52:00 vlan 100 spoofchk off",
                               "link set dev eno52 vf 1 trust on"]])

        // The NIC now reports what was set: a second run changes nothing, and says so.
        try ip.report(["eno52": [(0, "52:54:00:00:52:00", 100, false, false), (1, "02:00:04:10:07:01", 0, true, true),
                                 (2, "02:00:04:11:03:02", 0, true, false)]])
        run.note("ip reports the VF settings now")
        let before = snapshot(root)
        try run.xvf(["boot"], environment: ip.environment)
        #expect(changes(from: before, to: snapshot(root)) == [])
        #expect(ip.runs().count == 2)
        #expect(ip.runs().last == ["ARGV -json link show"])
        try run.check("Boot/apply-then-nothing-to-change")
    }

    /// `boot --json`, whole: the plan, the run, a run with nothing to change, and a run whose step fails
    /// (the firmware left eno52 no MMIO space: its failure is the result's error, eno51 still gets its VFs).
    @Test func bootsJSONResultsWhole() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try writeConfig(root, Self.eno52Config)
        let ip = try FakeIP()
        try run.xvf(["boot", "--dry-run", "--json"], environment: ip.environment)
        try run.xvf(["boot", "--json"], environment: ip.environment)
        try ip.report(["eno52": [(0, "52:54:00:00:52:00", 100, false, false), (1, "02:00:04:10:07:01", 0, true, true),
                                 (2, "02:00:04:11:03:02", 0, true, false)]])
        run.note("ip reports the VF settings now")
        try run.xvf(["boot", "--json"], environment: ip.environment)
        try run.check("Boot/json")

        var layout = SimLayout.dl360()
        let eno52 = layout.functions.firstIndex { $0.interface == "eno52" }!
        layout.functions[eno52].sriov!.mmioShortage = true
        let short = simulatedHost(layout)
        try writeConfig(short, "sriov = [ 'eno52,vfs=2', 'eno51,vfs=2' ]\n")
        let failing = Golden.Transcript(root: short)
        try failing.xvf(["boot", "--json"])
        try writeConfig(short, "sriov = [ 'eno52,vfs=3' ]\n")
        failing.note("the config asks eno52 for 3 VFs")
        try failing.xvf(["boot"])
        try failing.check("Boot/json-failed-step")
    }

    @Test func onlySettingsTheNICLacksAreApplied() throws {
        let root = simulatedHost()
        try writeConfig(root, """
            sriov = [ 'eno49,vfs=7' ]
            vf = [ 'eno49/0,mac=52:54:00:00:49:00,vlan=100', 'eno49/1,mac=52:54:00:00:49:01,spoofchk=off',
                   'eno49/2-3,trust=on' ]

            """)
        let ip = try FakeIP()
        try ip.report(["eno49": [(0, "52:54:00:00:49:00", 100, true, false), (1, "52:54:00:00:49:01", 0, true, false),
                                 (2, "00:00:00:00:00:00", 0, true, true), (3, "00:00:00:00:00:00", 0, true, false)]])
        try Golden.check("Boot/only-missing-settings", try xvf(["--root", root, "boot"], environment: ip.environment), root: root)
        #expect(ip.runs() == [["ARGV -json link show"],
                              ["ARGV -force -batch -", "link set dev eno49 vf 1 spoofchk off", "link set dev eno49 vf 3 trust on"]])
    }

    @Test("ip runs at most twice (read, one batch), whatever the number of VFs", arguments: [(2, 4), (8, 32)])
    func processCountDoesNotGrowWithTheVFs(pfs: Int, vfs: Int) throws {
        let root = simulatedHost(.large(pfs: pfs, vfsPerPF: vfs))
        var settings: [String] = []
        var assignable: [String] = []
        for pf in 0..<pfs {
            for vf in 0..<vfs { settings.append("'ens\(pf)f0/\(vf),mac=52:54:00:\(hex(pf, width: 2)):\(hex(vf, width: 2)):01,spoofchk=off'") }
            assignable.append("'ens\(pf)f0/0-\(vfs / 2 - 1)'")
        }
        try writeConfig(root, """
            sriov = [ \((0..<pfs).map { "'ens\($0)f0,vfs=\(vfs)'" }.joined(separator: ", ")) ]
            vf = [ \(settings.joined(separator: ",\n       ")) ]
            assignable = [ \(assignable.joined(separator: ", ")) ]

            """)
        let ip = try FakeIP()
        let result = try xvf(["--root", root, "boot"], environment: ip.environment)
        #expect(result.status == 0, "\(result.stderr)")
        let runs = ip.runs()
        #expect(runs.map { $0[0] } == ["ARGV -json link show", "ARGV -force -batch -"])
        #expect(runs.last!.count - 1 == pfs * vfs)
        #expect(driver(root, "0000:10:00.1") == "pciback")
    }

    @Test func aPFThatCannotChangeIsReportedAndTheRestIsApplied() throws {
        // web1 holds eno49/2: eno49's count cannot change, eno52's can. Releasing the VF fixes the cause.
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try run.xvf(["assign", "eno49/2", "--dom", "web1"])
        try writeConfig(root, """
            sriov = [ 'eno49,vfs=5', 'eno52,vfs=2' ]
            vf = [ 'eno49/0,mac=52:54:00:00:49:00', 'eno52/1,mac=52:54:00:00:52:01' ]
            assignable = [ 'eno49/0-1', 'eno52/0' ]

            """)
        let ip = try FakeIP()
        try run.xvf(["boot"], environment: ip.environment)
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.0/sriov_numvfs") == "7")
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == "2")
        #expect(driver(root, "0000:04:10.3") == "pciback")
        // eno49's settings were skipped with it; eno52's went through.
        #expect(ip.runs().last == ["ARGV -force -batch -", "link set dev eno52 vf 1 mac 52:54:00:00:52:01"])

        try run.xvf(["release", "eno49/2"])
        try ip.report(["eno52": [(0, "00:00:00:00:00:00", 0, true, false), (1, "52:54:00:00:52:01", 0, true, false)]])
        run.note("ip reports eno52's settings now")
        try run.xvf(["boot"], environment: ip.environment)
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.0/sriov_numvfs") == "5")
        #expect(driver(root, "0000:04:10.0") == "pciback")
        #expect(driver(root, "0000:04:10.4") == "pciback")
        #expect(driver(root, "0000:04:11.0") == "igbvf")
        #expect(ip.runs().last == ["ARGV -force -batch -", "link set dev eno49 vf 0 mac 52:54:00:00:49:00"])
        try run.check("Boot/pf-that-cannot-change")
    }

    @Test func aFailedStepIsReportedPerItemAndARerunConverges() throws {
        // The firmware left eno52 no MMIO space: its count fails (and is put back), eno51 still gets its VFs.
        var layout = SimLayout.dl360()
        let eno52 = layout.functions.firstIndex { $0.interface == "eno52" }!
        layout.functions[eno52].sriov!.mmioShortage = true
        let root = simulatedHost(layout)
        let run = Golden.Transcript(root: root)
        try writeConfig(root, """
            sriov = [ 'eno52,vfs=2',
                      'eno51,vfs=2' ]
            vf = [ 'eno51/0,mac=52:54:00:00:51:00', 'eno51/1,mac=52:54:00:00:51:01,vlan=5' ]
            assignable = [ 'eno52/0', 'eno51/1' ]

            """)
        let ip = try FakeIP(failing: "vlan 5")
        run.note("eno52 without MMIO space; ip fails on vlan 5")
        try run.xvf(["boot"], environment: ip.environment)
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == "0")
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.3/sriov_drivers_autoprobe") == "1")
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.2/sriov_numvfs") == "2")
        #expect(driver(root, "0000:04:10.6") == "pciback")
        #expect(driver(root, "0000:04:10.2") == "igbvf")

        // With the cause fixed (firmware: room for eno52's VFs; the NIC takes the VLAN now) a re-run
        // does exactly what is missing.
        try removeMarker(root, "no-mmio")
        let fixed = try FakeIP()
        try fixed.report(["eno51": [(0, "52:54:00:00:51:00", 0, true, false), (1, "52:54:00:00:51:01", 0, true, false)]])
        run.note("the causes fixed")
        try run.xvf(["boot"], environment: fixed.environment)
        #expect(fixed.runs().last == ["ARGV -force -batch -", "link set dev eno51 vf 1 vlan 5"])
        #expect(HostRoot(root).readText("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == "2")
        #expect(driver(root, "0000:04:10.3") == "pciback")
        #expect(driver(root, "0000:04:10.7") == "igbvf")
        try run.check("Boot/failed-step-then-rerun")
    }

    @Test func offADom0TheVFsGoToPcibackThroughDriverOverride() throws {
        let root = simulatedHost(.dl360(xenDom0: false))
        try writeConfig(root, "assignable = [ 'eno51/3' ]\n")
        let dry = try xvf(["--root", root, "boot", "--dry-run"])
        #expect(dry.stdout == """
            echo pciback > /sys/bus/pci/devices/0000:04:11.6/driver_override
            echo 0000:04:11.6 > /sys/bus/pci/drivers/igbvf/unbind
            echo 0000:04:11.6 > /sys/bus/pci/drivers_probe
            echo > /sys/bus/pci/devices/0000:04:11.6/driver_override
            dry run: nothing was changed

            """)
        let result = try xvf(["--root", root, "boot"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(driver(root, "0000:04:11.6") == "pciback")
        let again = try xvf(["--root", root, "boot"])
        #expect(again.stdout == "nothing to change: the host matches \(root)/etc/xen/xvf.cfg\n")
        #expect(again.stderr == "")
    }

    @Test func theSystemIpIsNotRunForAHostTree() throws {
        let root = simulatedHost()
        try writeConfig(root, "vf = [ 'eno49/2,trust=on' ]\n")
        let before = snapshot(root)
        let result = try xvf(["--root", root, "boot"], environment: ["PATH": "/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("refusing to run") && result.stderr.contains("/ip for the host tree"), "\(result.stderr)")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func theExampleConfigIsValidOnTheDemoHost() throws {
        let root = simulatedHost()
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("xlcfg/xvf.cfg").path
        let result = try xvf(["--root", root, "boot", "--config", example, "--dry-run"])
        #expect(result.status == 0, "\(result.stderr)")
        try Golden.check("Boot/example-config-dry-run", result, root: root)
    }

    // MARK: config errors

    /// Config errors name FILE:LINE and the key, in one line, and change nothing (Golden/Boot/config-errors.txt
    /// has each config and what `xvf boot` said of it).
    static let badConfigs = [
        "sriov = [ 'eno49,vfs=7' ]\nfoo = 1\n",
        "sriov = [ 'eno49,vfs=7'\n",
        "sriov = 'eno49,vfs=7'\n",
        "sriov = [ 'eno49,vfs=7',\n          'eno52,vfs=9' ]\n",
        "sriov = [ 'eno1,vfs=2' ]\n",
        "sriov = [ 'eno49' ]\n",
        "sriov = [ 'eno49,vfs=3', 'eno49,vfs=4' ]\n",
        "vf = [ 'eno49/0,mac=52:54:00:00:49:00',\n       'eno49/1,mac=01:54:00:00:49:01' ]\n",
        "vf = [ 'eno49/0,mac=52:54:00:zz:49:00' ]\n",
        "vf = [ 'eno49/0,mac=52:54:00:00:49:00',\n  'eno49/1,mac=52:54:00:00:49:00' ]\n",
        "vf = [ 'eno49/0-1,mac=52:54:00:00:49:00' ]\n",
        "vf = [ 'eno49/0,vlan=4096' ]\n",
        "vf = [ 'eno49/0,qos=3' ]\n",
        "vf = [ 'eno49/0,speed=10' ]\n",
        "vf = [ 'eno49/0,trust=yes' ]\n",
        "vf = [ 'eno49/0,trust=on', 'eno49/0-2,trust=off' ]\n",
        "vf = [ 'eno49,trust=on' ]\n",
        "sriov = [ 'eno52,vfs=2' ]\nassignable = [\n  'eno52/0',\n  'eno52/2' ]\n",
        "vf = [ 'eno51/4,trust=on' ]\n",
        "assignable = [ '0000:04:00.0' ]\n",
        "assignable = [ 'eno49/0-1,name=web' ]\n",
        "assignable = [ 'eno49/0,name=a b' ]\n",
        "assignable = [ 'eno49/0,name=web', 'eno49/1,name=web' ]\n",
        "assignable = [ 'eno49/0', '0000:04:10.0' ]\n",
    ]

    @Test func configErrors() throws {
        var transcript = ""
        for text in Self.badConfigs {
            let root = simulatedHost()
            let run = Golden.Transcript(root: root)
            try writeConfig(root, text)
            let before = snapshot(root)
            let ip = try FakeIP()
            run.note("xvf.cfg:\n" + text)
            let result = try run.xvf(["boot"], environment: ip.environment)
            #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
            #expect(changes(from: before, to: snapshot(root)) == [])
            #expect(ip.runs().isEmpty)
            transcript += run.text
        }
        try Golden.check("Boot/config-errors", transcript)
    }

    @Test func aMissingConfigIsNamed() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try run.xvf(["boot"])
        try run.xvf(["boot", "--config", root + "/nosuch.cfg"])
        try run.check("Boot/missing-config")
    }

    /// Off a dom0 pciback is reached through sysfs, where a VF cannot be named: said, not dropped.
    @Test func aNameThatCannotBeGivenIsSaid() throws {
        let root = simulatedHost(.dl360(xenDom0: false))
        try writeConfig(root, Self.eno52Config)
        let ip = try FakeIP()
        let plan = try xvf(["--root", root, "boot", "--dry-run"], environment: ip.environment)
        #expect(plan.status == 0, "\(plan.stderr)")
        try Golden.check("Boot/name-not-given-off-dom0", plan, root: root)
    }

    @Test func aMissingIpNamesItsPackage() throws {
        let root = simulatedHost()
        try writeConfig(root, Self.eno52Config)
        let empty = temporaryDirectory("no-ip")
        try Golden.check("Boot/missing-ip", try xvf(["--root", root, "boot"], environment: ["PATH": empty, "XVF_FAKE_BIN": empty]),
                         root: root)
    }

    /// After `modprobe -r igb; modprobe igb` a PF comes back with no VFs: `xvf boot --pf` (what the udev rule
    /// runs) puts back that PF's entries and touches no other PF.
    @Test func onePFComesBackWithItsEntriesAlone() throws {
        let root = simulatedHost()
        try writeConfig(root, Self.eno52Config + "sriov += [ 'eno51,vfs=2' ]\n")
        let ip = try FakeIP()
        #expect(try xvf(["--root", root, "boot", "--pf", "eno52"], environment: ip.environment).status == 0)
        let host = HostRoot(root)
        #expect(host.readInteger("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == 3)
        #expect(host.readInteger("sys/bus/pci/devices/0000:04:00.2/sriov_numvfs") == 4, "eno51 is not this PF's")
        #expect(driver(root, "0000:04:10.3") == "pciback")
        // The driver reloads: pciback lets the PF's VFs go as the PF driver unbinds, and the PF comes back
        // with no VFs.
        try SimulatedHost.hostRoot(root).writeAttribute("sys/bus/pci/drivers/pciback/unbind", "0000:04:10.3")
        try HostLockTests().setCount(root, "0000:04:00.3", 0)
        let again = try xvf(["--root", root, "boot", "--pf", "0000:04:00.3"], environment: ip.environment)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(host.readInteger("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == 3)
        #expect(driver(root, "0000:04:10.3") == "pciback")
        let whole = try xvf(["--root", root, "boot", "--dry-run"], environment: ip.environment)
        // The rest is still to do.
        #expect(whole.status == 0)
        #expect(whole.stdout == """
            echo 0 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            echo 2 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            ip -force -batch - <<EOF
            link set dev eno52 vf 0 mac 52:54:00:00:52:00 vlan 100 spoofchk off
            link set dev eno52 vf 1 trust on
            EOF
            dry run: nothing was changed

            """)
        #expect(whole.stderr == "")
        let bad = try xvf(["--root", root, "boot", "--pf", "eno1"])
        #expect(bad.status == 2)
    }

    /// The udev rule asks systemd for the template unit that runs `xvf boot --pf` on the PF it names.
    @Test func theUdevRuleStartsTheUnitThatRunsBootForThatPF() throws {
        let xlcfg = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../xlcfg").path
        let rule = try String(contentsOfFile: xlcfg + "/90-xvf-pf.rules", encoding: .utf8)
        let lines = rule.replacingOccurrences(of: "\\\n", with: "").split(separator: "\n").filter { !$0.hasPrefix("#") }.map(String.init)
        #expect(lines == ["ACTION==\"bind\", SUBSYSTEM==\"pci\", ATTR{sriov_totalvfs}==\"?*\", TEST==\"/etc/xen/xvf.cfg\",     "
                          + "RUN+=\"/bin/systemctl --no-block start xvf-pf@%k.service\""])
        let unit = try String(contentsOfFile: xlcfg + "/xvf-pf@.service", encoding: .utf8)
        #expect(unit.contains("\nExecStart=/usr/local/bin/xvf --wait 90 boot --pf %I\n"))
        #expect(unit.contains("\nAfter=xvf-boot.service "))
    }

    /// A PF entry can pin the hardware (serial number, ids): a swapped card or a renamed interface stops
    /// that PF's entries, one line saying what was expected and found, and the other PFs are applied.
    @Test func aPinnedPFThatIsNotTheSameHardwareIsSkipped() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        let ip = try FakeIP()
        try run.xvf(["list", "--json"])

        // The right card: the pin holds and the entries are applied.
        try writeConfig(root, "sriov = [ 'eno52,vfs=3,serial=a0-36-9f-ff-ff-12-34-53,ids=8086:1521' ]\n")
        run.note("xvf.cfg pins eno52's serial and ids")
        try run.xvf(["boot"], environment: ip.environment)
        #expect(HostRoot(root).readInteger("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == 3)

        // Another card in that slot (or eno52 renamed onto another port): nothing of its entries is done.
        try writeConfig(root, """
            sriov = [ 'eno52,vfs=5,serial=a0-36-9f-ff-ff-99-99-99', 'eno51,vfs=2,ids=8086:1521' ]
            assignable = [ 'eno52/0' ]

            """)
        run.note("xvf.cfg pins another serial on eno52")
        let before = HostRoot(root).readInteger("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs")
        try run.xvf(["boot"], environment: ip.environment)
        #expect(HostRoot(root).readInteger("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == before)
        #expect(HostRoot(root).readInteger("sys/bus/pci/devices/0000:04:00.2/sriov_numvfs") == 2, "eno51's pin holds")
        try run.xvf(["doctor", "--json"])

        // The udev rule's run for that PF alone says it too, rather than finding nothing to do.
        try run.xvf(["boot", "--pf", "eno52"], environment: ip.environment)
        try writeConfig(root, "sriov = [ 'eno52,vfs=3,ids=8086:10fb' ]\n")
        run.note("xvf.cfg pins another model on eno52")
        try run.xvf(["boot", "--dry-run"], environment: ip.environment)
        try run.check("Boot/pinned-pf")
    }

    /// Without a serial number the PF's permanent MAC tells one card of a model from another; sysfs shows
    /// it only while the interface keeps the address it came with (`addr_assign_type` 0).
    @Test func aPFCanBePinnedByItsPermanentMAC() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        let ip = try FakeIP()
        try run.xvf(["list", "--json"])
        try writeConfig(root, "sriov = [ 'eno52,vfs=3,mac=A0:36:9F:12:34:53' ]\n")
        run.note("xvf.cfg pins eno52's permanent MAC")
        try run.xvf(["boot"], environment: ip.environment)
        #expect(HostRoot(root).readInteger("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs") == 3)

        try writeConfig(root, "sriov = [ 'eno52,vfs=2,mac=a0:36:9f:12:34:99' ]\n")
        run.note("xvf.cfg pins another MAC")
        try run.xvf(["boot", "--dry-run"], environment: ip.environment)

        // The MAC was changed (ip link set … address): the permanent one is unknown, and the pin says so.
        try HostRoot(root).replaceFile("sys/class/net/eno52/addr_assign_type", with: "3\n")
        run.note("eno52's MAC changed (addr_assign_type 3)")
        try run.xvf(["boot", "--dry-run"], environment: ip.environment)
        try run.xvf(["list", "--json"])

        try writeConfig(root, "sriov = [ 'eno52,vfs=2,mac=01:00:5e:00:00:01' ]\n")
        run.note("xvf.cfg pins a multicast MAC")
        try run.xvf(["boot", "--dry-run"], environment: ip.environment)
        try run.check("Boot/pinned-pf-by-mac")
    }
}
