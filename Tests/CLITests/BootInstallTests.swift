import Foundation
import SimHost
import Testing
import TestSupport

/// `xvf boot --install NEW` on the demo host (no /etc/xen yet): the whole output of an install, a dry
/// run, a config the check refuses and a file the host already has, compared with Golden/; and what the
/// replaced file keeps (a link, its mode).
@Suite struct BootInstallTests {
    static let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("xlcfg/xvf.cfg").path

    /// A demo host under DIR/root, and DIR/new.cfg holding `config`.
    struct Setup {
        let directory: String
        var root: String { directory + "/root" }
        var new: String { directory + "/new.cfg" }
        var installed: String { root + "/etc/xen/xvf.cfg" }

        init(_ config: String) throws {
            directory = String(simulatedHost().dropLast("/root".count))
            try config.write(toFile: new, atomically: true, encoding: .utf8)
        }

        func run(_ arguments: [String]) throws -> CommandResult {
            let ip = try BootTests.FakeIP()
            try ip.report([:])
            return try xvf(["--root", root, "boot"] + arguments,
                           environment: ip.environment.merging(GoldenTests.environment) { $1 })
        }

        /// Exit code and both streams, with the temporary directory written as DIR.
        func transcript(_ result: CommandResult) -> String {
            "exit \(result.status)\n--- stdout\n\(result.stdout)--- stderr\n\(result.stderr)"
                .replacingOccurrences(of: directory, with: "DIR")
        }
    }

    func example() throws -> String { try String(contentsOfFile: Self.example, encoding: .utf8) }

    @Test func installs() throws {
        let setup = try Setup(try example())
        let result = try setup.run(["--install", setup.new])
        try GoldenTests().check("boot-install", setup.transcript(result))
        #expect(try String(contentsOfFile: setup.installed, encoding: .utf8) == (try example()))
        let mode = (try FileManager.default.attributesOfItem(atPath: setup.installed)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o644)
    }

    @Test func dryRunChangesNothing() throws {
        let setup = try Setup(try example())
        let before = snapshot(setup.root)
        let result = try setup.run(["--install", setup.new, "--dry-run"])
        try GoldenTests().check("boot-install-dry-run", setup.transcript(result))
        #expect(changes(from: before, to: snapshot(setup.root)) == [])
    }

    @Test func refusesWhatBootRefuses() throws {
        let setup = try Setup("sriov = [ 'eno52,vfs=4' ]\nbogus = [ 'x' ]\n")
        let before = snapshot(setup.root)
        let result = try setup.run(["--install", setup.new])
        try GoldenTests().check("boot-install-invalid", setup.transcript(result))
        #expect(result.status == 2)
        #expect(result.stderr.split(separator: "\n").count == 1)
        #expect(changes(from: before, to: snapshot(setup.root)) == [])
    }

    @Test func identicalContentIsNoChange() throws {
        let setup = try Setup(try example())
        #expect(try setup.run(["--install", setup.new]).status == 0)
        let before = snapshot(setup.root)
        let text = try setup.run(["--install", setup.new])
        let json = try setup.run(["--install", setup.new, "--json"])
        try GoldenTests().check("boot-install-identical", setup.transcript(text) + setup.transcript(json))
        #expect(changes(from: before, to: snapshot(setup.root)) == [])
    }

    /// A host config kept elsewhere and linked into /etc/xen stays a link; the file it leads to gets the
    /// new text and keeps its mode.
    @Test func writesThroughALinkAndKeepsTheMode() throws {
        let setup = try Setup("sriov = [ 'eno52,vfs=2' ]\n")
        let fm = FileManager.default
        try fm.createDirectory(atPath: setup.root + "/etc/xen", withIntermediateDirectories: true)
        try fm.createDirectory(atPath: setup.root + "/srv/config", withIntermediateDirectories: true)
        try "sriov = [ 'eno52,vfs=4' ]\n".write(toFile: setup.root + "/srv/config/xvf.cfg", atomically: true, encoding: .utf8)
        chmod(setup.root + "/srv/config/xvf.cfg", 0o600)
        try fm.createSymbolicLink(atPath: setup.installed, withDestinationPath: "../../srv/config/xvf.cfg")

        #expect(try setup.run(["--install", setup.new]).status == 0)
        #expect(try fm.destinationOfSymbolicLink(atPath: setup.installed) == "../../srv/config/xvf.cfg")
        #expect(try String(contentsOfFile: setup.root + "/srv/config/xvf.cfg", encoding: .utf8) == "sriov = [ 'eno52,vfs=2' ]\n")
        let mode = (try fm.attributesOfItem(atPath: setup.root + "/srv/config/xvf.cfg")[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o600)
    }

    @Test func installTakesNoOtherConfig() throws {
        let setup = try Setup(try example())
        let result = try setup.run(["--install", setup.new, "--config", setup.new])
        #expect(result.status == 64)
        try GoldenTests().check("boot-install-with-config", setup.transcript(result))
    }
}
