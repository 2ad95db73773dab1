import Foundation
import SimHost
import Testing
import TestSupport

/// Runs xvf on a fresh demo host and checks what every refusal must do: the exit code, nothing on
/// standard output, the one line `xvf: MESSAGE` on standard error, and a host tree left byte-identical.
func expectRefusal(_ arguments: [String], status: Int32, message: String,
                   sourceLocation: SourceLocation = #_sourceLocation) throws {
    let root = simulatedHost()
    let before = snapshot(root)
    let result = try xvf(["--root", root] + arguments)
    #expect(result.status == status, sourceLocation: sourceLocation)
    #expect(result.stdout == "", sourceLocation: sourceLocation)
    #expect(result.stderr == "xvf: \(message)\n", sourceLocation: sourceLocation)
    #expect(changes(from: before, to: snapshot(root)) == [], sourceLocation: sourceLocation)
}

/// `expectRefusal` with the whole output compared: exit code, standard output and the one line on standard
/// error are Golden/NAME.txt, and the host tree is left byte-identical.
func expectRefusal(_ arguments: [String], golden name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
    let root = simulatedHost()
    let before = snapshot(root)
    let result = try xvf(["--root", root] + arguments)
    try Golden.check(name, result, root: root, sourceLocation: sourceLocation)
    #expect(result.status != 0, sourceLocation: sourceLocation)
    #expect(result.stderr.split(separator: "\n").count == 1, sourceLocation: sourceLocation)
    #expect(changes(from: before, to: snapshot(root)) == [], sourceLocation: sourceLocation)
}
