import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// xvf killed (SIGKILL) at every step of a command, then run again, leaves the host as one
/// uninterrupted run does. The kill points are the simulator's: every simulated kernel write and every
/// simulated libxl call is numbered, and `XVF_SIM_KILL_AT=N` kills the process just before number N
/// (`SimInterruption`), so each test walks every point an uninterrupted run has, not a random few.
/// The files xvf replaces itself (domU configs, GRUB and modprobe.d files) are walked with strace's
/// fault injection at every write, fsync and rename of the command, where the machine has strace.
@Suite struct InterruptionTests {
    /// The tree as the comparison sees it. libxl's remembered driver of a device (`driver_path`) is left
    /// out: libxl writes it when a device leaves its driver and removes it only after rebinding it, so
    /// a kill inside libxl between the two leaves it, and libxl writes it again at the next add.
    func state(_ root: String) -> [String: String] {
        var tree = snapshot(root)
        if let store = tree["xvf-simulated-xenstore"], let data = Data(base64Encoded: store) {
            tree["xvf-simulated-xenstore"] = String(decoding: data, as: UTF8.self).split(separator: "\n")
                .filter { !$0.contains("/driver_path = ") }.joined(separator: "\n")
        }
        return tree
    }

    /// The paths whose content or kind differ, a few of them: what a failure shows.
    func differences(_ a: [String: String], _ b: [String: String]) -> [String] {
        Array(Set(a.keys).union(b.keys).filter { a[$0] != b[$0] }.sorted().prefix(6))
    }

    func temporaries(_ root: String) -> [String] {
        (FileManager.default.enumerator(atPath: root)?.allObjects as? [String] ?? []).filter { $0.contains(".xvf-") }
    }

    /// A fresh demo host with `prepare` done to it.
    func host(_ prepare: (String) throws -> Void) throws -> String {
        let root = simulatedHost()
        try prepare(root)
        return root
    }

    /// Walks every kill point of `command` on hosts made by `prepare`; returns how many there were.
    @discardableResult
    func walk(_ command: [String], environment: [String: String] = [:], prepare: (String) throws -> Void = { _ in })
        throws -> Int
    {
        let reference = try host(prepare)
        let operations = temporaryDirectory("operations") + "/log"
        let uninterrupted = try xvf(["--root", reference] + command,
                                    environment: environment.merging(["XVF_SIM_OPERATIONS": operations]) { $1 })
        #expect(uninterrupted.status == 0, "\(command): \(uninterrupted.stderr)")
        let points = ((try? String(contentsOfFile: operations, encoding: .utf8)) ?? "").split(separator: "\n")
        #expect(!points.isEmpty, "\(command) has no simulated operation to interrupt")
        let expected = state(reference)
        for (index, point) in points.enumerated() {
            let root = try host(prepare)
            let killed = try xvf(["--root", root] + command,
                                 environment: environment.merging(["XVF_SIM_KILL_AT": "\(index + 1)"]) { $1 })
            #expect(killed.status == SIGKILL, "\(command) was not killed at \(point)")
            let again = try xvf(["--root", root] + command, environment: environment)
            #expect(again.status == 0, "\(command) killed at \(point), run again: \(again.stderr)")
            #expect(differences(state(root), expected) == [], "\(command) killed at \(point), run again: \(again.stdout)")
            #expect(temporaries(root).isEmpty, "\(command) killed at \(point) left \(temporaries(root))")
        }
        return points.count
    }

    /// A kill in the middle of one simulated kernel write (between two of the many files a VF count or
    /// a bind changes) is undone by the simulator's kernel journal before the next xvf reads the tree:
    /// the tree is the one a kill just before that write leaves, as for a system call that never ran, and
    /// running the command again converges.
    @Test("a kernel write killed half-way never happened", arguments: [["vfs", "eno51", "0"], ["assignable", "add", "eno49/2"]])
    func aKernelWriteKilledHalfWayNeverHappened(command: [String]) throws {
        let reference = simulatedHost()
        #expect(try xvf(["--root", reference] + command).status == 0)
        let expected = state(reference)
        var points = 0
        for change in 1... {
            let root = simulatedHost()
            let operations = temporaryDirectory("operations") + "/log"
            let killed = try xvf(["--root", root] + command,
                                 environment: ["XVF_SIM_KILL_IN_WRITE": "\(change)", "XVF_SIM_OPERATIONS": operations])
            guard killed.status == SIGKILL else { break }
            points += 1
            #expect(HostRoot(root).exists(SimKernelJournal.file), "killed at file change \(change): no journal left to undo")
            // The write in progress is the last operation logged; the same command killed just before it.
            let started = ((try? String(contentsOfFile: operations, encoding: .utf8)) ?? "").split(separator: "\n")
            let beforeIt = simulatedHost()
            #expect(try xvf(["--root", beforeIt] + command, environment: ["XVF_SIM_KILL_AT": "\(started.count)"]).status == SIGKILL)
            #expect(try xvf(["--root", root, "list", "--json"]).status == 0)
            #expect(differences(state(root), state(beforeIt)) == [], "killed at file change \(change), in \(started.last ?? "?")")
            #expect(try xvf(["--root", root] + command).status == 0)
            #expect(differences(state(root), expected) == [], "killed at file change \(change), run again")
        }
        #expect(points >= 5, "\(command) changes only \(points) files")
    }

    @Test func bootConvergesFromEveryPoint() throws {
        let ip = try BootTests.FakeIP()
        try ip.report([:])
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("xlcfg/xvf.cfg").path
        let points = try walk(["boot"], environment: ip.environment) { root in
            try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: example, toPath: root + "/etc/xen/xvf.cfg")
        }
        // Counts, hand-overs with driver_override set and cleared, autoprobe off and on, probes.
        #expect(points >= 20)
    }

    @Test func assignAndReleaseConvergeFromEveryPoint() throws {
        try walk(["assign", "eno49/2", "--dom", "web1", "--permissive"])
        try walk(["release", "eno49/2", "--to-dom0"]) { root throws in
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1"]).status == 0)
        }
        // eno49/0 was put on pciback outside libxl (driver_override): pciback lets it go, then the probe.
        try walk(["release", "eno49/0", "--to-dom0"])
    }

    /// `xvf save` killed anywhere before `xl save` has the domain: the same command again takes up the
    /// record the killed one wrote and ends where an uninterrupted save does (image, record, devices on
    /// pciback, the guest gone).
    @Test func saveConvergesFromEveryPoint() throws {
        let points = try walk(["save", "web1", "/var/lib/xen/save/web1"]) { root throws in
            try FileManager.default.createDirectory(atPath: root + "/var/lib/xen/save", withIntermediateDirectories: true)
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"]).status == 0)
            #expect(try xvf(["--root", root, "assign", "eno49/0", "--dom", "web1"]).status == 0)
        }
        // Two detaches and xl's save.
        #expect(points >= 3)
    }

    /// `xvf restore` killed anywhere: before `xl restore` the same command again restores; after it the
    /// guest runs, a second restore refuses and names `xvf guests attach --record`, which gives the guest
    /// what the killed run had left to give. Either way the host ends as after an uninterrupted restore.
    @Test func restoreConvergesFromEveryPoint() throws {
        let image = "/var/lib/xen/save/web1"
        func saved(_ root: String) throws {
            try FileManager.default.createDirectory(atPath: root + "/var/lib/xen/save", withIntermediateDirectories: true)
            #expect(try xvf(["--root", root, "assign", "eno49/2", "--dom", "web1", "--permissive"]).status == 0)
            #expect(try xvf(["--root", root, "assign", "eno49/0", "--dom", "web1"]).status == 0)
            #expect(try xvf(["--root", root, "save", "web1", image]).status == 0)
        }
        let reference = try host(saved)
        let operations = temporaryDirectory("operations") + "/log"
        #expect(try xvf(["--root", reference, "restore", image], environment: ["XVF_SIM_OPERATIONS": operations]).status == 0)
        let points = ((try? String(contentsOfFile: operations, encoding: .utf8)) ?? "").split(separator: "\n")
        // xl's restore, then two attaches.
        #expect(points.first == "1 restore" && points.count >= 3, "\(points)")
        let expected = state(reference)
        for (index, point) in points.enumerated() {
            let root = try host(saved)
            let killed = try xvf(["--root", root, "restore", image], environment: ["XVF_SIM_KILL_AT": "\(index + 1)"])
            #expect(killed.status == SIGKILL, "restore was not killed at \(point)")
            let again = try xvf(["--root", root, "restore", image])
            if index == 0 {
                #expect(again.status == 0, "restore killed before xl's, run again: \(again.stderr)")
            } else {
                #expect(again.status == 1 && again.stderr.contains("`xvf guests attach --record \(root)\(image).xvf`"),
                        "restore killed at \(point), run again: \(again.stderr)")
                let finish = try xvf(["--root", root, "guests", "attach", "--record", root + image + ".xvf"])
                #expect(finish.status == 0, "restore killed at \(point), then guests attach: \(finish.stderr)")
            }
            #expect(differences(state(root), expected) == [], "restore killed at \(point)")
            #expect(temporaries(root).isEmpty, "restore killed at \(point) left \(temporaries(root))")
        }
    }

    @Test func vfsAndAssignableConvergeFromEveryPoint() throws {
        try walk(["vfs", "eno49", "3"])
        try walk(["assignable", "add", "eno49/2", "eno49/3"])
        try walk(["assignable", "remove", "eno49/2", "eno49/3", "--rebind"]) { root throws in
            #expect(try xvf(["--root", root, "assignable", "add", "eno49/2", "eno49/3"]).status == 0)
        }
    }

    // MARK: files xvf replaces itself, under strace's fault injection

    static let strace: String? = ["/usr/bin/strace", "/bin/strace"].first {
        FileManager.default.isExecutableFile(atPath: $0)
            // ptrace may be forbidden (a container without CAP_SYS_PTRACE): then strace cannot help.
            && (try? runProgram($0, ["-o", "/dev/null", "/bin/true"])) == 0
    }

    /// Runs a program by its path (the suite's `run` runs the package's own binaries).
    static func runProgram(_ path: String, _ arguments: [String], environment: [String: String] = [:]) throws -> Int32 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// How often the command makes each of the syscalls that change files.
    func syscallCounts(_ command: [String], root: String, environment: [String: String]) throws -> [String: Int] {
        let log = temporaryDirectory("strace") + "/log"
        let traced = try Self.runProgram(Self.strace!, ["-o", log, "-e", "trace=write,fsync,rename,renameat,renameat2,unlink,unlinkat",
                                            Binaries.directory.appendingPathComponent("xvf-sim").path, "xvf", "--root", root]
                             + command, environment: environment)
        #expect(traced == 0, "\(command) under strace exited \(traced)")
        var counts: [String: Int] = [:]
        for line in try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n") {
            if let name = line.split(separator: "(").first, !name.hasPrefix("+++") { counts[String(name), default: 0] += 1 }
        }
        return counts
    }

    func walkFiles(_ command: [String], environment: [String: String] = [:], prepare: (String) throws -> Void) throws {
        let reference = try host(prepare)
        let counts = try syscallCounts(command, root: reference, environment: environment)
        #expect(counts["rename", default: 0] + counts["renameat", default: 0] + counts["renameat2", default: 0] > 0)
        let expected = state(reference)
        for (name, count) in counts.sorted(by: { $0.key < $1.key }) {
            for when in 1...count {
                let root = try host(prepare)
                let killed = try Self.runProgram(Self.strace!, ["-o", "/dev/null", "-e", "trace=\(name)", "-e",
                                                    "inject=\(name):signal=KILL:when=\(when)",
                                                    Binaries.directory.appendingPathComponent("xvf-sim").path, "xvf",
                                                    "--root", root] + command, environment: environment)
                #expect(killed != 0, "\(command) was not killed at \(name) #\(when)")
                let again = try xvf(["--root", root] + command, environment: environment)
                #expect(again.status == 0, "\(command) killed at \(name) #\(when), run again: \(again.stderr)")
                #expect(differences(state(root), expected) == [], "\(command) killed at \(name) #\(when)")
                #expect(temporaries(root).isEmpty, "\(command) killed at \(name) #\(when) left \(temporaries(root))")
            }
        }
    }

    @Test(.enabled(if: strace != nil, "needs strace, allowed to trace"))
    func replacedFilesAreOldOrNewAndConverge() throws {
        try walkFiles(["cfg", "add", "/etc/xen/web1.cfg", "eno49/2,permissive=1"]) { root in
            try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
            try "# web1\nname = \"web1\"\nmemory = 512\n".write(toFile: root + "/etc/xen/web1.cfg", atomically: true, encoding: .utf8)
        }
        try walkFiles(["bootline", "eno49/2-3", "--write"]) { _ in }
        try walkFiles(["cfg", "remove", "/etc/xen/web1.cfg", "0000:04:10.0"]) { root in
            try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
            try "# web1\npci = [ '0000:04:10.0', '0000:04:10.4' ]\n".write(toFile: root + "/etc/xen/web1.cfg", atomically: true,
                                                                            encoding: .utf8)
        }
        // modprobe is a stand-in that does nothing: the walk is over the modprobe.d file xvf writes.
        let fake = temporaryDirectory("fake-modprobe")
        try "#!/bin/sh\nexit 0\n".write(toFile: fake + "/modprobe", atomically: true, encoding: .utf8)
        chmod(fake + "/modprobe", 0o755)
        try walkFiles(["driver", "ixgbe", "--max-vfs", "4", "--persist", "--force"], environment: fakeProgramEnvironment(fake)) { _ in }
    }
}
