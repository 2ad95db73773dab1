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
    if let stdin {
        let input = Pipe()
        process.standardInput = input
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try? input.fileHandleForWriting.close()
    }
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandResult(stdout: String(decoding: outData, as: UTF8.self),
                         stderr: String(decoding: errData, as: UTF8.self), status: process.terminationStatus)
}

/// Runs the built `xvf`.
@discardableResult
func xvf(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
    try run("xvf", arguments, environment: environment, stdin: stdin)
}

/// A fresh temporary directory, removed by the caller with `cleanup`.
func temporaryDirectory(_ label: String = "xvf") -> String {
    let path = NSTemporaryDirectory() + "\(label)-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A simulated host written by the library, in a temporary directory.
func simulatedHost(_ layout: SimLayout = .dl360()) -> String {
    let path = temporaryDirectory("host")
    SimulatedHost.build(layout, at: path + "/root")
    return path + "/root"
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
        if let target = try? fm.destinationOfSymbolicLink(atPath: path) {
            result[relative] = "-> " + target
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
