import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

/// Whole outputs, compared byte for byte with the files in Golden/ (as swift-argument-parser tests its
/// example CLIs): every command's --help, --version, dry-run plans and a doctor report on the demo host.
/// A change to any of them shows as a diff of the file. `XVF_GOLDEN_UPDATE=1 swift test --filter
/// GoldenTests` writes the files anew and fails for each one it changed; review them with `git diff`.
@Suite struct GoldenTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    /// A fixed width: argument-parser wraps help to the terminal, which a test has not.
    static let environment = ["COLUMNS": "100"]

    /// The output with the host root (a temporary directory) written as ROOT.
    func normalized(_ text: String, root: String?) -> String {
        guard let root else { return text }
        return text.replacingOccurrences(of: root, with: "ROOT")
    }

    func check(_ name: String, _ text: String) throws {
        let file = Self.directory.appendingPathComponent(name + ".txt")
        if ProcessInfo.processInfo.environment["XVF_GOLDEN_UPDATE"] == "1" {
            let old = try? String(contentsOf: file, encoding: .utf8)
            try text.write(to: file, atomically: true, encoding: .utf8)
            // A run that records proves nothing: it fails, as argument-parser's "Recorded new baseline" does.
            if old != text { Issue.record("recorded a new baseline in Golden/\(name).txt; review it with git diff and run again") }
            return
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        if text != expected {
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
            let wanted = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(lines, wanted).enumerated().first { $0.element.0 != $0.element.1 }?.offset
                ?? min(lines.count, wanted.count)
            let got = first < lines.count ? String(lines[first]) : "(end)"
            let want = first < wanted.count ? String(wanted[first]) : "(end)"
            let message = "Golden/\(name).txt differs at line \(first + 1): got '\(got)', expected '\(want)' "
                + "(XVF_GOLDEN_UPDATE=1 rewrites it)"
            Issue.record(Comment(rawValue: message))
        }
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

    /// Exit code, standard output and standard error, as one golden file holds them.
    func whole(_ result: CommandResult, root: String) -> String {
        normalized("exit \(result.status)\n--- stdout\n\(result.stdout)--- stderr\n\(result.stderr)", root: root)
    }
}
