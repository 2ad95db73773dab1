import Foundation
import SRIOV
import SimHost
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Commands that destroy or create VFs (`xvf vfs`, `xvf driver`, `xvf boot`) wait for the host lock and
/// plan on the host as it is once they hold it, so that they never destroy a VF a concurrent `xvf assign`
/// is attaching. The test holds the lock the way another xvf would and changes the host meanwhile
/// (the demo DL360: eno51 = 0000:04:00.2 with 4 VFs, eno52 = 0000:04:00.3 with none).
@Suite struct HostLockTests {
    /// xvf's lock (flock on the root directory), held by this process until `release`.
    final class HeldLock {
        let descriptor: Int32
        init(_ root: String) {
            descriptor = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
            precondition(descriptor >= 0 && flock(descriptor, LOCK_EX) == 0)
        }
        func release() {
            flock(descriptor, LOCK_UN)
            close(descriptor)
        }
    }

    struct Running {
        let process: Process
        let output: Pipe
        let errors: Pipe

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

        /// Whether the process is waiting for a flock (a blocked `->` entry of /proc/locks with its pid);
        /// false once it has exited, or after 20 seconds.
        func isBlockedOnALock() -> Bool {
            let pid = Substring(String(process.processIdentifier))
            for _ in 0..<400 {
                guard process.isRunning else { return false }
                let locks = (try? String(contentsOfFile: "/proc/locks", encoding: .utf8)) ?? ""
                if locks.split(separator: "\n").contains(where: { line in
                    let words = line.split(separator: " ")
                    return words.contains("->") && words.contains("FLOCK") && words.contains(pid)
                }) {
                    return true
                }
                usleep(50_000)
            }
            return false
        }

        func finish() -> CommandResult {
            let out = output.fileHandleForReading.readDataToEndOfFile()
            let err = errors.fileHandleForReading.readDataToEndOfFile()
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
        let blocked = running.isBlockedOnALock()
        #expect(blocked, "xvf \(arguments[0]) did not wait for the host lock", sourceLocation: sourceLocation)
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

    @Test func aDryRunDoesNotWaitForTheLock() throws {
        let root = simulatedHost()
        let lock = HeldLock(root)
        defer { lock.release() }
        let result = try Running(["--root", root, "vfs", "eno51", "2", "--dry-run"]).finish()
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("dry run: nothing was changed\n"))
    }

    @Test func driverWaitsForTheLock() throws {
        let root = simulatedHost()
        let bin = temporaryDirectory("fake-modprobe")
        #expect(FileManager.default.createFile(atPath: bin + "/modprobe", contents: Data("#!/bin/sh\nexit 0\n".utf8),
                                               attributes: [.posixPermissions: 0o755]))
        let result = try runBehindTheLock(root, ["driver", "ixgbe", "--max-vfs", "8"],
                                          environment: fakeProgramEnvironment(bin))
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasSuffix("ixgbe reloaded with max_vfs=8\n"))
    }

    @Test func bootPlansUnderTheLock() throws {
        let root = simulatedHost()
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try "sriov = [ 'eno52,vfs=3' ]\n".write(toFile: root + "/etc/xen/xvf.cfg", atomically: true, encoding: .utf8)
        let result = try runBehindTheLock(root, ["boot"]) { try setCount(root, "0000:04:00.3", 3) }
        // Planned before the lock it would write 3 over 3 (EBUSY) and fail.
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.hasPrefix("nothing to change"), "\(result.stdout)")
    }
}
