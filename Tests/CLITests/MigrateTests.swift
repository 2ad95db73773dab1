import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// `xvf migrate` on simulated DL360s (web1 = domain 1, PV; db1 = domain 2, HVM; legacy = domain 3, created
/// without passthrough). The simulated `xl migrate` does what the lab saw: a guest holding a device fails
/// at once ("Failed to enable logdirty"); with `--ssh ''` the guest moves to a new id on the same host;
/// otherwise the host name is another simulated tree named by a `xen-migrate-host NAME PATH` marker line
/// (the network and the receiving xl), and xvf's own commands there go through a stand-in `ssh` on PATH
/// that runs `xvf-sim xvf --root PATH …` for the trees it knows and fails as ssh does for the others.
@Suite struct MigrateTests {
    typealias FakeIP = BootTests.FakeIP

    /// The receiving side of a same-host migration, as xl runs it with an empty ssh command.
    static let receiver = "xl migrate-receive"

    /// A stand-in ssh that reaches the simulated trees it is given by host name ("" for a host without xvf).
    struct FakeSSH {
        let directory: String
        var log: String { directory + "/ssh.log" }

        init(_ hosts: [String: String], in directory: String = temporaryDirectory("fake-ssh")) throws {
            self.directory = directory
            let cases = hosts.map { "  \($0.key)) root='\($0.value)' ;;" }.joined(separator: "\n")
            let script = """
                #!/bin/sh
                echo "ARGV $*" >> '\(directory)/ssh.log'
                while case "$1" in -[bcDEeFIiJLlmOopQRSWw]) true;; *) false;; esac; do shift 2; done
                while case "$1" in -*) true;; *) false;; esac; do shift; done
                host=$1; shift
                case "$host" in
                \(cases)
                  *) echo "ssh: Could not resolve hostname $host: Name or service not known" >&2; exit 255 ;;
                esac
                [ "$1" = xvf ] && [ -n "$root" ] || { echo "bash: line 1: $1: command not found" >&2; exit 127; }
                shift
                exec '\(Binaries.directory.appendingPathComponent("xvf-sim").path)' xvf --root "$root" "$@"

                """
            try script.write(toFile: directory + "/ssh", atomically: true, encoding: .utf8)
            chmod(directory + "/ssh", 0o755)
        }

        /// The stand-in's argument vectors, one line each.
        func runs() -> [String] {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
        }
    }

    /// Two hosts: A (the demo DL360 with its guests) and B (the same hardware, one guest of its own), A
    /// reaching B as dom0-b.
    func hosts() throws -> (a: String, b: String) {
        let a = simulatedHost()
        var layout = SimLayout.dl360()
        layout.domains = [SimDomain(id: 1, name: "other")]
        let b = simulatedHost(layout)
        try addMarker(a, "xen-migrate-host dom0-b \(b)")
        return (a, b)
    }

    func domains(_ root: String) -> [String] {
        (HostRoot(root).readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").filter { $0.hasPrefix("domain ") }.map(String.init)
    }

    func records(_ root: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: root + "/var/lib/xvf/guests")) ?? []).sorted()
    }

    /// The lab's same-host form: the guest leaves its VF (its link put back), xl moves it to a new id, and it
    /// gets the same VF back. The stand-in ip reports the guest's link throughout, so the link is not set
    /// again here; another host sets it (below).
    @Test func aSameHostMigrationGivesTheGuestItsVFBackWithItsLink() throws {
        let root = simulatedHost()
        let ip = try FakeIP()
        try ip.report(["eno49": [(2, "00:00:00:00:00:00", 0, true, false)]])
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive", "--mac", "52:54:00:aa:00:02",
                         "--trust", "on"], environment: ip.environment).status == 0)
        try ip.report(["eno49": [(2, "52:54:00:aa:00:02", 0, true, true)]])

        let migrate = try xvf(["--root", root, "migrate", "web1", Self.receiver, "--ssh", ""], environment: ip.environment)
        #expect(migrate.status == 0 && migrate.stderr == "", "\(migrate.stderr)")
        #expect(migrate.stdout == """
            eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback
            eno49/2: link put back (as before the assign): ip link set dev eno49 vf 2 mac 00:00:00:00:00:00 trust off
            migrated domain 1 (web1) to this host: xl migrate -s '' 1 'xl migrate-receive'
            eno49/2 (0000:04:11.0): attached to domain 4 (web1) as 0000:04:11.0,permissive=1
            verified: domain 4 (web1) lists 0000:04:11.0 at guest slot 00.0; pciback shows it permissive

            """)
        #expect(domains(root) == ["domain 2 db1 hvm passthrough", "domain 3 legacy pv -", "domain 4 web1 pv passthrough"])
        #expect(try holders(root) == ["0000:04:11.0 domain:4 (web1)"])
        #expect(records(root) == [])
    }

    /// Debian 13's Xen (HAP, no shadow paging) migrates HVM guests only: db1 moves, its VF back at its
    /// guest slot, while web1 (PV) would be refused (above, in the refusals).
    @Test func anHVMGuestMovesOnAXenWithoutShadowPaging() throws {
        let root = simulatedHost()
        try addMarker(root, "xen-no-shadow")
        #expect(try xvf(["--root", root, "assign", "eno49/3", "--dom", "db1"]).status == 0)

        let migrate = try xvf(["--root", root, "migrate", "db1", Self.receiver, "--ssh", ""])
        #expect(migrate.status == 0 && migrate.stderr == "", "\(migrate.stderr)")
        #expect(migrate.stdout == """
            eno49/3 (0000:04:11.4): detached from domain 2 (db1); it stays on pciback
            migrated domain 2 (db1) to this host: xl migrate -s '' 2 'xl migrate-receive'
            eno49/3 (0000:04:11.4): attached to domain 4 (db1) as 0000:04:11.4@04
            verified: domain 4 (db1) lists 0000:04:11.4 at guest slot 04.0

            """, "\(migrate.stdout)")
        #expect(domains(root) == ["domain 1 web1 pv passthrough", "domain 3 legacy pv -", "domain 4 db1 hvm passthrough"])
        #expect(try holders(root) == ["0000:04:11.4 domain:4 (db1)"])
        #expect(records(root) == [])
    }

    /// Through ssh to another host: checked there first (xvf answers, a VF of the same PF is free), then
    /// moved, and xvf there gives the guests their VFs; the other host's guest keeps its own.
    @Test func migrateAllMovesEveryGuestHoldingDevicesToTheOtherHost() throws {
        let (a, b) = try hosts()
        let ip = try FakeIP()
        let ssh = try FakeSSH(["dom0-b": b], in: ip.directory)
        let environment = ip.environment
        try ip.report(["eno49": [(2, "00:00:00:00:00:00", 0, true, false)]])
        #expect(try xvf(["--root", a, "assign", "eno49/2", "--dom", "web1", "--mac", "52:54:00:aa:00:02", "--trust", "on"],
                        environment: environment).status == 0)
        // The stand-in ip answers for both hosts: VF 2 as web1 has it, VF 0 as a VF no guest has had.
        try ip.report(["eno49": [(0, "00:00:00:00:00:00", 0, true, false), (2, "52:54:00:aa:00:02", 0, true, true)]])
        #expect(try xvf(["--root", a, "assign", "eno49/3", "--dom", "db1"], environment: environment).status == 0)
        // On B, VF 2 is its own guest's: web1 gets the lowest free VF of eno49 there.
        #expect(try xvf(["--root", b, "assign", "eno49/2", "--dom", "other"], environment: environment).status == 0)

        let migrate = try xvf(["--root", a, "migrate", "--all", "dom0-b"], environment: environment)
        // Asked before the #expect: Swift 6.0's macro does not take a `try` inside an interpolation.
        let version = try xvf(["--version"]).stdout.dropLast()
        #expect(migrate.status == 0 && migrate.stderr == "", "\(migrate.stderr)")
        #expect(migrate.stdout == """
            checked on dom0-b (\(version)):
              would give domain web1 (not running here yet) 0000:04:11.0 (VF 2 of eno49, mac 52:54:00:aa:00:02, trust on) \
            on 0000:04:10.0
              would give domain db1 (not running here yet) 0000:04:11.4@04 (VF 3 of eno49) on 0000:04:11.4
              dry run: nothing was changed
            eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback
            eno49/2: link put back (as before the assign): ip link set dev eno49 vf 2 mac 00:00:00:00:00:00 trust off
            migrated domain 1 (web1) to dom0-b: xl migrate 1 dom0-b
            dom0-b: eno49/0 (0000:04:10.0): link set for the guest: ip link set dev eno49 vf 0 mac 52:54:00:aa:00:02 trust on
            dom0-b: eno49/0 (0000:04:10.0): attached to domain 2 (web1) as 0000:04:10.0
            dom0-b: verified: domain 2 (web1) lists 0000:04:10.0 at guest slot 00.0
            eno49/3 (0000:04:11.4): detached from domain 2 (db1); it stays on pciback
            migrated domain 2 (db1) to dom0-b: xl migrate 2 dom0-b
            dom0-b: eno49/3 (0000:04:11.4): made assignable (was on igbvf, now on pciback)
            dom0-b: eno49/3 (0000:04:11.4): attached to domain 3 (db1) as 0000:04:11.4@04
            dom0-b: verified: domain 3 (db1) lists 0000:04:11.4 at guest slot 04.0

            """, "\(migrate.stdout)")
        #expect(domains(a) == ["domain 3 legacy pv -"])
        #expect(domains(b) == ["domain 1 other pv passthrough", "domain 2 web1 pv passthrough", "domain 3 db1 hvm passthrough"])
        #expect(try holders(b, environment) == ["0000:04:10.0 domain:2 (web1)", "0000:04:11.0 domain:1 (other)", "0000:04:11.4 domain:3 (db1)"])
        #expect(try holders(a, environment) == [])
        #expect(records(a) == [] && records(b) == [])
        #expect(ssh.runs() == ["ARGV dom0-b xvf --version", "ARGV dom0-b xvf guests attach --record - --dry-run",
                               "ARGV dom0-b xvf guests attach --record -", "ARGV dom0-b xvf guests attach --record -"])
    }

    /// ssh to this very host (the lab's other form): xvf here releases its lock before xvf "there" takes it.
    @Test func sshToLocalhostReachesThisHostsXVFAfterItsLock() throws {
        let root = simulatedHost()
        try addMarker(root, "xen-migrate-host localhost \(root)")
        let ssh = try FakeSSH(["localhost": root])
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        let migrate = try xvf(["--root", root, "migrate", "web1", "localhost", "--wait", "5"], environment: fakeProgramEnvironment(ssh.directory))
        #expect(migrate.status == 0 && migrate.stderr == "", "\(migrate.stderr)")
        try Golden.check("Migrate/ssh-to-localhost", migrate, root: root)
        #expect(try holders(root) == ["0000:04:11.0 domain:4 (web1)"])
        #expect(records(root) == [])
    }

    /// xvf killed after the detach, just before xl migrate: the guest runs on here without its VF, and the
    /// record written first lets `xvf guests attach` (xvf-guests.service at the next boot, or by hand) give
    /// it back.
    @Test func aRunKilledBeforeXLMigrateIsFinishedByGuestsAttach() throws {
        func prepared() throws -> String {
            let root = simulatedHost()
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
            return root
        }
        let command = ["migrate", "web1", Self.receiver, "--ssh", ""]
        let operations = temporaryDirectory("operations") + "/log"
        #expect(try xvf(["--root", try prepared()] + command, environment: ["XVF_SIM_OPERATIONS": operations]).status == 0)
        let points = try String(contentsOfFile: operations, encoding: .utf8).split(separator: "\n")
        let migrateAt = try #require(points.firstIndex { $0.hasSuffix(" migrate") }) + 1

        let root = try prepared()
        let killed = try xvf(["--root", root] + command, environment: ["XVF_SIM_KILL_AT": "\(migrateAt)"])
        #expect(killed.status == SIGKILL)
        #expect(try holders(root) == [])
        #expect(records(root) == ["web1"])
        let attach = try xvf(["--root", root, "guests", "attach"])
        #expect(attach.status == 0, "\(attach.stderr)")
        #expect(try holders(root) == ["0000:04:11.0 domain:1 (web1)"])
        #expect(records(root) == [])
    }

    /// Refusals change nothing on either host, byte for byte, and say what to do in one line.
    @Test("refusals change nothing", arguments: ["no route", "no xvf there", "an older xvf there", "no free VF there", "no device", "unknown domain",
                                                  "host with options", "ssh needing a shell", "no host",
                                                  "a Xen without shadow paging"])
    func refusalsChangeNothing(_ refusal: String) throws {
        let (a, b) = try hosts()
        let ssh = try FakeSSH(["dom0-b": b, "dom0-plain": ""])
        #expect(try xvf(["--root", a, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        var arguments = ["migrate", "web1", "dom0-b"]
        var expected = ""
        var status: Int32 = 1
        switch refusal {
        case "no route":
            arguments = ["migrate", "web1", "dom0-c"]
            expected = "xvf: cannot reach xvf on dom0-c: `ssh dom0-c xvf --version` exited 255 (ssh: Could not resolve hostname "
                + "dom0-c: Name or service not known); nothing was changed\n"
        case "no xvf there":
            arguments = ["migrate", "web1", "dom0-plain"]
            expected = "xvf: cannot reach xvf on dom0-plain: `ssh dom0-plain xvf --version` exited 127 (bash: line 1: xvf: "
                + "command not found); nothing was changed\n"
        case "an older xvf there":
            // An xvf without `guests attach --record`: argument-parser refuses the option (exit 64).
            try "#!/bin/sh\nif [ \"$3\" = --version ]; then echo 0.0.9; exit 0; fi\necho 'Error: Unknown option' >&2; exit 64\n"
                .write(toFile: ssh.directory + "/old-xvf", atomically: true, encoding: .utf8)
            chmod(ssh.directory + "/old-xvf", 0o755)
            arguments = ["migrate", "web1", "dom0-old", "--ssh", ssh.directory + "/old-xvf"]
            expected = "xvf: xvf on dom0-old (0.0.9) cannot take guests: it has no `xvf guests attach --record`; install this "
                + "xvf there; nothing was changed\n"
        case "no free VF there":
            // B's guest holds every VF of eno49 a guest may have.
            while try xvf(["--root", b, "assign", "eno49", "--dom", "other"]).status == 0 {}
            expected = "xvf: dom0-b cannot take the guest's devices: no free VF on eno49: 0: domain 1, 1: domain 1, 2: domain 1, "
                + "3: domain 1, 4: domain 1, 5: domain 1, 6: domain 1; release one (`xvf release`) or create more "
                + "(`xvf vfs eno49 N`); nothing was changed\n"
        case "no device":
            arguments = ["migrate", "legacy", "dom0-b"]
            expected = "xvf: domain 3 (legacy) holds no PCI device: `xl migrate 3 dom0-b` moves it as it is\n"
        case "unknown domain":
            arguments = ["migrate", "web9", "dom0-b"]
            expected = "xvf: domain 'web9' is not running; `xl list` shows the domains by name and id\n"
            status = 2
        case "host with options":
            arguments = ["migrate", "web1", "dom0-b -p 2222"]
            expected = "xvf: 'dom0-b -p 2222' is no host name (one word, such as dom0-b or root@dom0-b); ssh's options go in --ssh\n"
            status = 2
        case "ssh needing a shell":
            arguments = ["migrate", "web1", "dom0-b", "--ssh", "ssh -i $HOME/.ssh/key"]
            expected = "xvf: --ssh 'ssh -i $HOME/.ssh/key' cannot be split into words without a shell ('$' needs the shell); "
                + "give a command and its options, or name a script that does the rest\n"
            status = 2
        case "a Xen without shadow paging":
            // Debian 13's 4.20: no PV guest migrates, so web1 (PV) is refused before its VF leaves it.
            try addMarker(a, "xen-no-shadow")
            expected = "xvf: domain 1 (web1): this Xen has no shadow paging, which a PV guest's live migration needs "
                + "(`xl migrate` fails: 'Failed to enable logdirty'); nothing was changed; move it stopped with `xvf save` "
                + "and `xvf restore`\n"
            status = 3
        default:
            arguments = ["migrate", "--all"]
            expected = """
                Error: with --all, name the target host only
                Usage: xvf migrate [--root <path>] [--verbose] [--wait <seconds>] [--all] [<arguments> ...] [--ssh <SSH>] [--dry-run] [--json] [--show-content]
                  See 'xvf migrate --help' for more information.

                """
            status = 64
        }
        let before = (snapshot(a), snapshot(b))
        let result = try xvf(["--root", a] + arguments, environment: fakeProgramEnvironment(ssh.directory))
        #expect(result.status == status)
        #expect(result.stdout == "")
        #expect(result.stderr == expected)
        #expect(changes(from: before.0, to: snapshot(a)) == [])
        #expect(changes(from: before.1, to: snapshot(b)) == [])
    }

    /// xl fails before its point of no return: the guest runs on here and gets its VF back; no record stays.
    @Test func aMigrationThatFailsBeforeThePointOfNoReturnGivesTheDevicesBackHere() throws {
        let (a, b) = try hosts()
        let ssh = try FakeSSH(["dom0-b": b])
        #expect(try xvf(["--root", a, "assign", "eno49/2", "--dom", "web1", "--permissive"]).status == 0)
        try addMarker(a, "xen-fail migrate")
        let before = snapshot(b)
        let migrate = try xvf(["--root", a, "migrate", "web1", "dom0-b"], environment: fakeProgramEnvironment(ssh.directory))
        #expect(migrate.status == 1)
        try Golden.check("Migrate/failed-before-the-point-of-no-return", migrate, root: a)
        #expect(migrate.stderr == "xvf: `xl migrate 1 dom0-b` failed before the guest left (libxl: error: libxl_dom_suspend.c:0:"
                + "suspend_common_wait_guest_timeout: Domain 1:guest did not suspend, timed out): domain 1 (web1) runs here; it "
                + "has its devices back\n")
        #expect(try holders(a) == ["0000:04:11.0 domain:1 (web1)"])
        #expect(domains(a).first == "domain 1 web1 pv passthrough")
        #expect(records(a) == [])
        #expect(changes(from: before, to: snapshot(b)) == [])
    }

    /// The target's xvf cannot attach once the guest runs there: the guest stays on the target, the
    /// target keeps the record, and xvf names the command that finishes it (exit 1).
    @Test func aDeviceTheTargetCannotGiveIsNamedWithTheCommandThatFinishesIt() throws {
        let (a, b) = try hosts()
        let ssh = try FakeSSH(["dom0-b": b])
        #expect(try xvf(["--root", a, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        try addMarker(b, "xen-fail attach 0000:04:11.0")
        let migrate = try xvf(["--root", a, "migrate", "web1", "dom0-b"], environment: fakeProgramEnvironment(ssh.directory))
        #expect(migrate.status == 1)
        try Golden.check("Migrate/target-cannot-attach", migrate, root: a)
        #expect(migrate.stderr == "xvf: web1 runs on dom0-b without what its lines above name; `ssh dom0-b xvf guests attach` "
                + "gives it once that is fixed\n")
        #expect(domains(b).last == "domain 2 web1 pv passthrough")
        #expect(records(a) == [] && records(b) == ["web1"])
        // Once the cause is gone, the command it named finishes the move.
        try String(contentsOfFile: b + "/" + SimulatedHost.markerFile, encoding: .utf8)
            .replacingOccurrences(of: "xen-fail attach 0000:04:11.0\n", with: "")
            .write(toFile: b + "/" + SimulatedHost.markerFile, atomically: true, encoding: .utf8)
        let finish = try xvf(["--root", b, "guests", "attach"])
        #expect(finish.status == 0, "\(finish.stderr)")
        #expect(try holders(b) == ["0000:04:11.0 domain:2 (web1)"])
        #expect(records(b) == [])
    }

    /// xl's last handshake breaks after its point of no return: the guest is paused here under xl's
    /// --migratedaway name, and xvf gives nothing back on either side: it says what to check and how to
    /// give the devices wherever the guest is kept.
    @Test func aMigrationBrokenAfterThePointOfNoReturnTouchesNothingMore() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        try addMarker(root, "xen-fail migrate-handshake")
        let migrate = try xvf(["--root", root, "migrate", "web1", Self.receiver, "--ssh", ""])
        #expect(migrate.status == 1)
        #expect(migrate.stdout == "eno49/2 (0000:04:11.0): detached from domain 1 (web1); it stays on pciback\n")
        #expect(migrate.stderr == "xvf: `xl migrate -s '' 1 'xl migrate-receive'` failed after its point of no return (Domain "
                + "state is now undefined !): domain 1 (web1) is paused "
                + "here as web1--migratedaway and may run on this host; check both hosts and keep one (xl: two running copies "
                + "lose data). Its devices are recorded in \(root)/var/lib/xvf/guests/web1: here `xvf guests attach` gives them "
                + "once it runs as web1 again (xl rename, xl unpause); on this host `xvf guests attach --record - < "
                + "\(root)/var/lib/xvf/guests/web1` gives them\n")
        #expect(domains(root).first == "domain 1 web1--migratedaway pv passthrough")
        #expect(records(root) == ["web1"])
    }

    /// The dry run asks the target (read-only) and prints the plan; --json gives the steps.
    @Test func aDryRunChecksTheTargetAndChangesNothing() throws {
        let (a, b) = try hosts()
        let ssh = try FakeSSH(["dom0-b": b])
        let environment = fakeProgramEnvironment(ssh.directory)
        #expect(try xvf(["--root", a, "assign", "eno49/2", "--dom", "web1", "--permissive"]).status == 0)
        let before = (snapshot(a), snapshot(b))
        let plan = try xvf(["--root", a, "migrate", "web1", "dom0-b", "--ssh", "ssh -p 2222", "--dry-run"], environment: environment)
        let version = try xvf(["--version"]).stdout.dropLast()
        #expect(plan.status == 0 && plan.stderr == "", "\(plan.stderr)")
        #expect(plan.stdout == """
            would migrate domain 1 (web1) to dom0-b
              checked on dom0-b (\(version)):
                would give domain web1 (not running here yet) 0000:04:11.0,permissive=1 (VF 2 of eno49) on 0000:04:11.0
                dry run: nothing was changed
              1. record the devices of domain 1 (web1) in /var/lib/xvf/guests/web1: 0000:04:11.0,permissive=1 (VF 2 of eno49)
              2. detach 0000:04:11.0: libxl_device_pci_remove (the guest lets it go; it stays on pciback, its link goes back as \
            `xvf release` puts it)
              3. migrate: xl migrate -s 'ssh -p 2222' 1 dom0-b; a failure before the guest leaves gives it its devices back here
              4. on dom0-b: ssh -p 2222 dom0-b xvf guests attach --record - with the record on its input, which gives them as \
            `xvf assign` does
            dry run: nothing was changed

            """)
        #expect(ssh.runs() == ["ARGV -p 2222 dom0-b xvf --version", "ARGV -p 2222 dom0-b xvf guests attach --record - --dry-run"])

        let json = try xvf(["--root", a, "migrate", "web1", Self.receiver, "--ssh", "", "--dry-run", "--json"])
        #expect(json.status == 0)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["dry_run"] as? Bool == true && object["changed"] as? Bool == true)
        let steps = try #require(object["steps"] as? [[String: Any]]).map { "\($0["what"]!) \($0["target"]!) \($0["status"]!)" }
        #expect(steps == ["detach 0000:04:11.0 planned", "migrate 1 planned"])
        #expect(changes(from: before.0, to: snapshot(a)) == [])
        #expect(changes(from: before.1, to: snapshot(b)) == [])
    }

    /// Whole outputs of a same-host migration, as text and as `--json`: the plan, a run that fails before
    /// the guest leaves (it gets its VF back here, exit 1), a run, and `--all` with no guest to move.
    @Test func aSameHostMigrationsWholeOutputs() throws {
        let root = simulatedHost()
        let run = Golden.Transcript(root: root)
        try run.xvf(["assign", "eno49/2", "--dom", "web1", "--permissive"])
        try run.xvf(["migrate", "web1", Self.receiver, "--ssh", "", "--dry-run"])
        try run.xvf(["migrate", "web1", Self.receiver, "--ssh", "", "--dry-run", "--json"])
        try addMarker(root, "xen-fail migrate")
        run.note("xen-fail migrate")
        try run.xvf(["migrate", "web1", Self.receiver, "--ssh", "", "--json"])
        try String(contentsOfFile: root + "/" + SimulatedHost.markerFile, encoding: .utf8)
            .replacingOccurrences(of: "xen-fail migrate\n", with: "")
            .write(toFile: root + "/" + SimulatedHost.markerFile, atomically: true, encoding: .utf8)
        run.note("xen-fail migrate removed")
        try run.xvf(["migrate", "web1", Self.receiver, "--ssh", "", "--json"])
        try run.xvf(["release", "eno49/2"])
        try run.xvf(["migrate", "--all", Self.receiver, "--ssh", ""])
        try run.xvf(["migrate", "--all", Self.receiver, "--ssh", "", "--json"])
        try run.check("Guests/migrate-same-host")
    }

    /// --json on a real run: the steps the host went through, the remote one included.
    @Test func jsonListsTheStepsOfAMigration() throws {
        let (a, b) = try hosts()
        let ssh = try FakeSSH(["dom0-b": b])
        #expect(try xvf(["--root", a, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        let json = try xvf(["--root", a, "migrate", "web1", "dom0-b", "--json"], environment: fakeProgramEnvironment(ssh.directory))
        #expect(json.status == 0, "\(json.stdout)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["changed"] as? Bool == true && object["error"] is NSNull)
        let steps = try #require(object["steps"] as? [[String: Any]]).map { "\($0["what"]!) \($0["target"]!) \($0["status"]!)" }
        #expect(steps == ["file_write /var/lib/xvf/guests/web1 done", "detach 0000:04:11.0 done", "migrate 1 done",
                          "file_remove /var/lib/xvf/guests/web1 done", "remote dom0-b done"])
    }
}
