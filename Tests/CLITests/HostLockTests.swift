import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#endif

/// Commands that destroy or create VFs (`xvf vfs`, `xvf driver`, `xvf boot`) wait for the host lock and
/// plan on the host as it is once they hold it, so that they never destroy a VF a concurrent `xvf assign`
/// is attaching. The test holds the lock the way another xvf would and changes the host meanwhile
/// (the demo DL360: eno51 = 0000:04:00.2 with 4 VFs, eno52 = 0000:04:00.3 with none).
@Suite struct HostLockTests {
    /// xvf's lock (flock on the tree's run/xvf/lock), held by this process until `release`.
    final class HeldLock {
        let descriptor: Int32
        init(_ root: String) {
            descriptor = open(root + "/run/xvf/lock", O_RDONLY | O_CLOEXEC)
            precondition(descriptor >= 0 && flock(descriptor, LOCK_EX) == 0)
        }
        func release() {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    final class Running {
        let process: Process
        let output: Pipe
        let errors: Pipe
        /// What standard error said before `finish`.
        var early = Data()

        init(_ arguments: [String], environment: [String: String] = [:]) throws {
            process = Process()
            process.executableURL = Binaries.directory.appendingPathComponent("xvf-sim")
            process.arguments = ["xvf"] + arguments
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
            output = Pipe()
            errors = Pipe()
            process.standardOutput = output
            process.standardError = errors
            try process.run()
        }

        /// Whether the process says it waits for the host lock (its first line on standard error); false
        /// once it has exited without saying so.
        func isWaitingForTheLock() -> Bool {
            while true {
                let chunk = errors.fileHandleForReading.availableData
                if chunk.isEmpty { return false }
                early.append(chunk)
                if String(decoding: early, as: UTF8.self).contains("xvf: waiting for the xvf lock held by pid ") { return true }
            }
        }

        func finish() -> CommandResult {
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = early + errors.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            return CommandResult(stdout: String(decoding: out, as: UTF8.self), stderr: String(decoding: err, as: UTF8.self),
                                 status: process.terminationStatus)
        }
    }

    /// Sets a PF's VF count the way the kernel would, behind xvf's back.
    func setCount(_ root: String, _ pf: String, _ count: Int) throws {
        let host = SimulatedHost.hostRoot(root)
        let path = "sys/bus/pci/devices/\(pf)/sriov_numvfs"
        if host.readInteger(path) != 0 { try host.writeAttribute(path, "0") }
        try host.writeAttribute(path, "\(count)")
    }

    /// Runs xvf while this process holds the lock, expects it to wait, runs `meanwhile` (still holding
    /// the lock) and lets xvf go on.
    func runBehindTheLock(_ root: String, _ arguments: [String], environment: [String: String] = [:],
                          meanwhile: () throws -> Void = {}, sourceLocation: SourceLocation = #_sourceLocation)
        throws -> CommandResult
    {
        let lock = HeldLock(root)
        let running = try Running(["--root", root] + arguments, environment: environment)
        let waiting = running.isWaitingForTheLock()
        #expect(waiting, "xvf \(arguments[0]) did not wait for the host lock", sourceLocation: sourceLocation)
        try meanwhile()
        lock.release()
        return running.finish()
    }

    @Test func vfsPlansUnderTheLock() throws {
        let root = simulatedHost()
        let result = try runBehindTheLock(root, ["vfs", "eno51", "2"]) { try setCount(root, "0000:04:00.2", 2) }
        #expect(result.status == 0, "\(result.stderr)")
        // Planned before the lock it would have written 0 then 2 again, destroying the VFs made meanwhile.
        #expect(result.stdout == "eno51 (0000:04:00.2) already has 2 VFs; nothing to do\n")
    }

    /// A command that cannot get the lock says whom it waits for, gives up after --wait seconds with exit
    /// code 75, and changes nothing.
    @Test func aCommandWaitsABoundedTimeAndSaysForWhom() throws {
        let root = simulatedHost()
        let lock = HeldLock(root)
        defer { lock.release() }
        let before = snapshot(root)
        let result = try Running(["--root", root, "--wait", "1", "vfs", "eno51", "2"]).finish()
        let me = "pid \(getpid()) (\(ProcessInfo.processInfo.processName.prefix(15)))"
        #expect(result.status == 75)
        #expect(result.stdout == "")
        #expect(result.stderr == """
            xvf: waiting for the xvf lock held by \(me) (at most 1 s; --wait SECONDS changes that)
            xvf: the xvf lock (\(root)/run/xvf/lock) is still held by \(me) after 1 s; nothing was changed; \
            try again when it is done, or wait longer with --wait SECONDS

            """)
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    /// The lock lives where only root can write: a run/xvf that another user can write (who could swap
    /// the lock file for one they hold open) is refused, with the tree unchanged.
    @Test func aLockDirectoryOthersCanWriteIsRefused() throws {
        let root = simulatedHost()
        chmod(root + "/run/xvf", 0o777)
        let before = snapshot(root)
        let result = try xvf(["--root", root, "vfs", "eno51", "2"])
        #expect(result.status == 1)
        #expect(result.stderr == "xvf: refusing to lock through \(root)/run/xvf/lock: \(root)/run/xvf is writable by "
                + "every user; make it writable by root only\n")
        #expect(changes(from: before, to: snapshot(root)) == [])
    }

    @Test func aDryRunDoesNotWaitForTheLock() throws {
        let root = simulatedHost()
        let lock = HeldLock(root)
        defer { lock.release() }
        let result = try Running(["--root", root, "vfs", "eno51", "2", "--dry-run"]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == """
            echo 0 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            echo 2 > /sys/bus/pci/devices/0000:04:00.2/sriov_numvfs
            dry run: nothing was changed

            """)
        #expect(result.stderr == "")
    }

    @Test func driverWaitsForTheLock() throws {
        let root = simulatedHost()
        let bin = temporaryDirectory("fake-modprobe")
        #expect(FileManager.default.createFile(atPath: bin + "/modprobe", contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                               attributes: [.posixPermissions: 0o755]))
        let result = try runBehindTheLock(root, ["driver", "ixgbe", "--max-vfs", "8"],
                                          environment: fakeProgramEnvironment(bin))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "modprobe -r ixgbe\nmodprobe ixgbe max_vfs=8\nixgbe reloaded with max_vfs=8\n")
    }

    @Test func bootPlansUnderTheLock() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "sriov = [ 'eno52,vfs=3' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let result = try runBehindTheLock(root, ["boot"]) { try setCount(root, "0000:04:00.3", 3) }
        // Planned before the lock it would write 3 over 3 (EBUSY) and fail.
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "nothing to change: the host matches \(root)/etc/xen/xvf.cfg\n", "\(result.stdout)")
    }
}
