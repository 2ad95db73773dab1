import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// Every command's --help, --version, dry-run plans and a doctor report on the demo host, whole (Golden).
@Suite struct GoldenTests {
    /// A fixed width: argument-parser wraps help to the terminal, which a test has not.
    static let environment = ["COLUMNS": "100"]

    func check(_ name: String, _ text: String) throws {
        try Golden.check(name, text)
    }

    static let commands: [[String]] = [
        [], ["list"], ["show"], ["vfs"], ["driver"], ["bootline"], ["cfg"], ["cfg", "line"], ["cfg", "add"], ["cfg", "remove"],
        ["cfg", "pool"], ["assignable"], ["assignable", "add"], ["assignable", "list"], ["assignable", "remove"],
        ["assign"], ["release"], ["save"], ["restore"], ["migrate"], ["guests"], ["guests", "detach"], ["guests", "attach"], ["boot"],
        ["doctor"],
    ]

    @Test("--help", arguments: commands)
    func help(_ command: [String]) throws {
        let result = try shippedXVF(command + ["--help"], environment: Self.environment)
        #expect(result.status == 0)
        try check((["xvf"] + command).joined(separator: "-") + "--help", result.stdout)
    }

    @Test func version() throws {
        let result = try shippedXVF(["--version"])
        #expect(result.status == 0)
        try check("xvf--version", result.stdout)
    }

    @Test("dry-run plans and the doctor report on the demo host", arguments: [
        ("assign-dry-run", ["assign", "eno49/2", "--dom", "web1", "--permissive", "--dry-run"]),
        ("release-dry-run", ["release", "eno49/0", "--to-dom0", "--dry-run"]),
        ("vfs-dry-run", ["vfs", "eno49", "3", "--dry-run"]),
        ("boot-dry-run", ["boot", "--dry-run"]),
        ("doctor", ["doctor"]),
        ("assign-dry-run-json", ["assign", "eno49/2", "--dom", "web1", "--dry-run", "--json"]),
    ])
    func plan(_ name: String, _ arguments: [String]) throws {
        let root = simulatedHost()
        let example = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("xlcfg/xvf.cfg").path
        try FileManager.default.createDirectory(atPath: root + "/etc/xen", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: example, toPath: root + "/etc/xen/xvf.cfg")
        let ip = try BootTests.FakeIP()
        try ip.report([:])
        let result = try xvf(["--root", root] + arguments, environment: ip.environment.merging(Self.environment) { $1 })
        try check(name, whole(result, root: root))
    }

    /// Every field of `list --json`, in order, with each kind of holder: pciback, a domain (eno49/3 assigned
    /// to web1) and dom0's drivers. A field added, dropped or moved shows as a diff.
    @Test func listJSON() throws {
        let root = simulatedHost()
        #expect(try xvf(["--root", root, "assign", "eno49/3", "--dom", "web1"]).status == 0)
        try check("list-json", whole(try xvf(["--root", root, "list", "--json"]), root: root))
    }

    /// A dom0 whose libxl cannot be used: the shipped xvf on a simulated dom0's tree, where libxl (which
    /// works on the running host only) cannot be opened. A dry run still plans, and says in one warning
    /// what it did not ask Xen; nothing changes.
    @Test("dry-run plans on a dom0 whose libxl cannot be used", arguments: [
        ("vfs-dry-run-without-libxl", ["vfs", "eno49", "3", "--dry-run"]),
        ("driver-dry-run-without-libxl", ["driver", "igb", "--max-vfs", "3", "--dry-run"]),
        ("assign-dry-run-without-libxl", ["assign", "eno49/2", "--dom", "web1", "--dry-run"]),
    ])
    func planWithoutLibxl(_ name: String, _ arguments: [String]) throws {
        let root = simulatedHost()
        let before = snapshot(root)
        let result = try shippedXVF(["--root", root] + arguments, environment: Self.environment)
        try check(name, whole(result, root: root))
        #expect(snapshot(root) == before)
    }

    func whole(_ result: CommandResult, root: String) -> String {
        Golden.whole(result, root: root)
    }
}
