import Foundation

/// What a run of the built `xvf` (or `xvf-sim`) printed, and its exit code.
public struct CommandResult: Sendable {
    public var stdout: String
    public var stderr: String
    public var status: Int32

    public init(stdout: String, stderr: String, status: Int32) {
        self.stdout = stdout
        self.stderr = stderr
        self.status = status
    }
}

/// The binaries are found next to the test bundle in the build directory.
public enum Binaries {
    public static var directory: URL {
        // .build/<triple>/debug/xvfPackageTests.xctest → .build/<triple>/debug
        var url = Bundle.main.bundleURL
        while !FileManager.default.fileExists(atPath: url.appendingPathComponent("xvf").path),
              url.path != "/" {
            url = url.deletingLastPathComponent()
        }
        return url
    }
}

/// Runs a built program with arguments and returns what it printed and its exit code.
@discardableResult
public func run(_ program: String, _ arguments: [String], environment: [String: String] = [:],
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
public func xvf(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
    try run("xvf-sim", ["xvf"] + arguments, environment: environment, stdin: stdin)
}

/// Runs the shipped `xvf` itself (real backends: sysfs writes, libxl).
@discardableResult
public func shippedXVF(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
    try run("xvf", arguments, environment: environment, stdin: stdin)
}

/// The environment that puts stand-in programs in `directory` first on `PATH` and declares them as
/// stand-ins (`XVF_FAKE_BIN`), which xvf requires before it runs a program for a host tree.
public func fakeProgramEnvironment(_ directory: String) -> [String: String] {
    ["PATH": directory + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
     "XVF_FAKE_BIN": directory]
}

/// Who holds which VF, as `xvf list` shows it: `BDF domain:N (NAME)` for each held VF, found wherever the
/// holder's column is (a LEASE column may follow it).
public func holders(_ root: String, _ environment: [String: String] = [:]) throws -> [String] {
    try xvf(["--root", root, "list"], environment: environment).stdout.split(separator: "\n").filter { $0.contains("domain:") }
        .map { $0.split(separator: " ").filter { !$0.isEmpty } }.compactMap { words in
            guard let at = words.firstIndex(where: { $0.hasPrefix("domain:") }), at + 1 < words.count else { return nil }
            return "\(words[1]) \(words[at]) \(words[at + 1])"
        }
}
