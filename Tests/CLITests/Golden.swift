import Foundation
import Testing
import TestSupport

/// Whole outputs, compared byte for byte with the files in Golden/ (as swift-argument-parser tests its
/// example CLIs). A file holds the exit code, standard output and standard error of one run, or of each
/// run of a `Transcript`. A change to any of them shows as a diff of the file. `XVF_GOLDEN_UPDATE=1 swift
/// test` writes the files anew and fails for each one it changed; review them with `git diff`.
enum Golden {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")

    /// The output with the host root written as ROOT and any other temporary directory as TMP/LABEL:
    /// both are made fresh (with a UUID) for every test.
    static func normalized(_ text: String, root: String?) -> String {
        var text = text
        if let root { text = text.replacingOccurrences(of: root, with: "ROOT") }
        return text.replacingOccurrences(of: testScratch + #"/([A-Za-z0-9-]+?)-[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}"#,
                                         with: "TMP/$1", options: .regularExpression)
    }

    /// Exit code, standard output and standard error, as one golden file holds them.
    static func whole(_ result: CommandResult, root: String?) -> String {
        normalized("exit \(result.status)\n--- stdout\n\(result.stdout)--- stderr\n\(result.stderr)", root: root)
    }

    /// Compares `text` with Golden/NAME.txt; with `XVF_GOLDEN_UPDATE=1`, writes it there and fails if it changed.
    static func check(_ name: String, _ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = directory.appendingPathComponent(name + ".txt")
        if ProcessInfo.processInfo.environment["XVF_GOLDEN_UPDATE"] == "1" {
            let old = try? String(contentsOf: file, encoding: .utf8)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            try text.write(to: file, atomically: true, encoding: .utf8)
            // A run that records proves nothing: it fails, as argument-parser's "Recorded new baseline" does.
            if old != text {
                Issue.record("recorded a new baseline in Golden/\(name).txt; review it with git diff and run again",
                             sourceLocation: sourceLocation)
            }
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
            Issue.record(Comment(rawValue: message), sourceLocation: sourceLocation)
        }
    }

    /// Checks one run of xvf on a host tree whole: exit code, standard output, standard error.
    static func check(_ name: String, _ result: CommandResult, root: String?,
                      sourceLocation: SourceLocation = #_sourceLocation) throws {
        try check(name, whole(result, root: root), sourceLocation: sourceLocation)
    }

    /// Several runs of xvf on one host tree, each written as its command line and its whole output, and
    /// compared as one golden file at the end: a test's steps read in order, and no output goes unchecked.
    final class Transcript {
        let root: String
        private(set) var text = ""

        init(root: String) { self.root = root }

        /// Runs `xvf --root ROOT arguments…` on the simulator and records it.
        @discardableResult
        func xvf(_ arguments: [String], environment: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
            let result = try TestSupport.xvf(["--root", root] + arguments, environment: environment, stdin: stdin)
            record(["xvf"] + arguments, result)
            return result
        }

        /// Records a run made another way (the shipped binary, another root).
        func record(_ command: [String], _ result: CommandResult) {
            text += Golden.normalized("$ " + command.joined(separator: " ") + "\n", root: root) + Golden.whole(result, root: root)
        }

        /// A line that says what the test did to the host between two runs.
        func note(_ line: String) {
            text += Golden.normalized("# " + line + "\n", root: root)
        }

        func check(_ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
            try Golden.check(name, text, sourceLocation: sourceLocation)
        }
    }
}
