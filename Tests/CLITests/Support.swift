import Foundation
import SimHost
import Testing

/// Runs the built `xvf` (or `xvf-sim`) with arguments and returns what it printed and its exit code.
/// The binaries are found next to the test bundle in the build directory.
struct CommandResult {
    var stdout: String
    var stderr: String
    var status: Int32
}

enum Binaries {
    static var directory: URL {
        // .build/<triple>/debug/xvfPackageTests.xctest → .build/<triple>/debug
        var url = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("xvf").path),
              url.path != "/" {
            url = url.deletingLastPathComponent()
        }
        return url
    }
}

@discardableResult
func run(_ program: String, _ arguments: [String], environment: [String: String] = [:],
         stdin: String? = nil) throws -> CommandResult {
    let process = Process()
    process.executableURL = Binaries.directory.appendingPathComponent(program)
    process.arguments = arguments
    var env = ProcessInfo.processInfo.environment
    for (key, value) in environment { env[key] = value }
    process.environment = env
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    let input = stdin.map { _ in Pipe() }
    if let input { process.standardInput = input }
    try process.run()
    // Our copy of the read end goes, so a child that exits without reading makes the write fail (EPIPE,
    // with SIGPIPE ignored) instead of blocking on a full pipe forever.
    try? input?.fileHandleForReading.close()
    ignoreSIGPIPE
    // Everything is pumped at once, each on its own thread: read one after the other (or stdin written
    // before the start), a child that fills the other pipe (64 KiB) waits forever for a reader.
    let group = DispatchGroup()
    let errData = Collected()
    DispatchQueue.global().async(group: group) { errData.data = err.fileHandleForReading.readDataToEndOfFile() }
    if let input, let stdin {
        DispatchQueue.global().async(group: group) {
            try? input.fileHandleForWriting.write(contentsOf: Data(stdin.utf8))
            try? input.fileHandleForWriting.close()
        }
    }
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return CommandResult(stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData.data, as: UTF8.self), status: process.terminationStatus)
}

/// A write to a child that stopped reading must fail, not kill the test process.
private let ignoreSIGPIPE: Void = { signal(SIGPIPE, SIG_IGN) }()

/// What a reader thread collected, handed over after `DispatchGroup.wait`.
private final class Collected: @unchecked Sendable {
    var data = Data()
}

/// Runs xvf on a simulated host: the simulator's executable with its simulated kernel and toolstack
/// (`xvf-sim xvf …`), the same command line the shipped binary has.
@discardableResult
func xvf(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
    try run("xvf-sim", ["xvf"] + arguments, environment: environment, stdin: stdin)
}

/// Runs the shipped `xvf` itself (real backends: sysfs writes, libxl).
@discardableResult
func shippedXVF(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
    try run("xvf", arguments, environment: environment, stdin: stdin)
}

/// The directory every temporary file of this test process goes in: `xvf-tests-<pid>`, removed when the
/// process exits. Directories of earlier runs whose process is gone (killed, crashed) go at first use.
let testScratch: String = {
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
func temporaryDirectory(_ label: String = "xvf") -> String {
    let path = testScratch + "/\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A simulated host written by the library, in a temporary directory.
func simulatedHost(_ layout: SimLayout = .dl360()) -> String {
    let path = temporaryDirectory("host")
    SimulatedHost.build(layout, at: path + "/root")
    return path + "/root"
}

/// Makes every later attach with `permissive=1` fail inside libxl, after xvf made the device assignable:
/// pciback without its `permissive` file (libxl: "Setting permissive for device failed").
func breakPcibackPermissive(_ root: String) throws {
    try FileManager.default.removeItem(atPath: root + "/sys/bus/pci/drivers/pciback/permissive")
}

/// The environment that puts stand-in programs in `directory` first on `PATH` and declares them as
/// stand-ins (`XVF_FAKE_BIN`), which xvf requires before it runs a program for a host tree.
func fakeProgramEnvironment(_ directory: String) -> [String: String] {
    ["PATH": directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
     "XVF_FAKE_BIN": directory]
}

/// Every file under a tree with its bytes (links as their targets), to prove a command changed nothing.
func snapshot(_ root: String) -> [String: String] {
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

/// Runs xvf on a fresh demo host and checks what every refusal must do: the exit code, one line on
/// standard error that contains `message`, and a host tree left byte-identical.
func expectRefusal(_ arguments: [String], status: Int32, message: String,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let root = simulatedHost()
    let before = snapshot(root)
    let result = try xvf(["--root", root] + arguments)
    #expect(result.status == status, sourceLocation: sourceLocation)
    #expect(result.stderr.contains(message), "\(result.stderr)", sourceLocation: sourceLocation)
    #expect(result.stderr.split(separator: "\n").count == 1, sourceLocation: sourceLocation)
    #expect(changes(from: before, to: snapshot(root)) == [], sourceLocation: sourceLocation)
}

/// The paths that differ between two snapshots (added, removed or changed), for short failure messages.
func changes(from before: [String: String], to after: [String: String]) -> [String] {
    Set(before.keys).union(after.keys).filter { before[$0] != after[$0] }.sorted()
}
