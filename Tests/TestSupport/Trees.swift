import Foundation
import SimHost
import SRIOV

/// The directory every temporary file of this test process goes in: `xvf-tests-<pid>`, removed when the
/// process exits. Directories of earlier runs whose process is gone (killed, crashed) go at first use.
public let testScratch: String = {
    let base = NSTemporaryDirectory().hasSuffix("/") ? NSTemporaryDirectory() : NSTemporaryDirectory() + "/"
    let fm = FileManager.default
    for name in (try? fm.contentsOfDirectory(atPath: base)) ?? [] where name.hasPrefix("xvf-tests-") {
        if let pid = Int32(name.dropFirst("xvf-tests-".count)), kill(pid, 0) != 0, errno == ESRCH {
            try? fm.removeItem(atPath: base + name)
        }
    }
    let path = base + "xvf-tests-\(getpid())"
    try! fm.createDirectory(atPath: path, withIntermediateDirectories: true)
    atexit { try? FileManager.default.removeItem(atPath: testScratch) }
    return path
}()

/// A fresh temporary directory inside `testScratch`.
public func temporaryDirectory(_ label: String = "xvf") -> String {
    let path = testScratch + "/\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A simulated host written by the library, in a temporary directory.
public func simulatedHost(_ layout: SimLayout = .dl360()) -> String {
    let path = temporaryDirectory("host")
    SimulatedHost.build(layout, at: path + "/root")
    return path + "/root"
}

/// Adds a line to a simulated host's marker file: how a test gives the simulator a fault or a trait the
/// lab met (`xen-fail attach BDF`, `xen-no-shadow`, …).
public func addMarker(_ root: String, _ line: String) throws {
    let marker = root + "/" + SimulatedHost.markerFile
    try (String(contentsOfFile: marker, encoding: .utf8) + line + "\n").write(toFile: marker, atomically: true, encoding: .utf8)
}

/// Takes the marker lines that start with `prefix` away again: the fault is mended.
public func removeMarker(_ root: String, _ prefix: String) throws {
    let marker = root + "/" + SimulatedHost.markerFile
    let kept = try String(contentsOfFile: marker, encoding: .utf8).split(separator: "\n").filter { !$0.hasPrefix(prefix) }
    try (kept.joined(separator: "\n") + "\n").write(toFile: marker, atomically: true, encoding: .utf8)
}

/// The driver a device of a host tree is bound to (the name its `driver` link ends in), nil for none.
public func driver(_ root: String, _ bdf: String) -> String? {
    HostRoot(root).linkTarget("sys/bus/pci/devices/\(bdf)/driver")
}

/// Makes every later attach with `permissive=1` fail inside libxl, after xvf made the device assignable:
/// pciback without its `permissive` file (libxl: "Setting permissive for device failed").
public func breakPcibackPermissive(_ root: String) throws {
    try FileManager.default.removeItem(atPath: root + "/sys/bus/pci/drivers/pciback/permissive")
}

/// Every file under a tree with its bytes (links as their targets), to prove a command changed nothing.
public func snapshot(_ root: String) -> [String: String] {
    var result: [String: String] = [:]
    let fm = FileManager.default
    guard let walker = fm.enumerator(atPath: root) else { return result }
    while let relative = walker.nextObject() as? String {
        // The kernel's log is the kernel's: a refused write may add a line to it, as on a real host.
        if relative == SimulatedKernel.kernelLog { continue }
        let path = root + "/" + relative
        var status = stat()
        if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
            result[relative] = "-> " + target
        } else if lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFIFO {
            // Never read: opening a FIFO waits for a writer (Swift 6.0's Foundation opens it so), forever.
            result[relative] = "fifo"
        } else if let data = fm.contents(atPath: path) {
            result[relative] = data.base64EncodedString()
        } else {
            result[relative] = "dir"
        }
    }
    return result
}

/// The paths that differ between two snapshots (added, removed or changed), for short failure messages.
public func changes(from before: [String: String], to after: [String: String]) -> [String] {
    Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
}
