#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XVFKit

/// Where a command's text goes: the terminal, or (under `--json`) the result's `messages`.
enum Output {
    nonisolated(unsafe) static var capturing = false
    nonisolated(unsafe) static var captured: [String] = []
}

/// A step (or any value) as its text, printed or kept.
func say(_ value: some CustomStringConvertible) { say(value.description) }

/// What a changing command reports once it is over: each line printed, or one of the JSON result's
/// `messages`.
func say(_ report: ChangeReport) {
    for line in report.lines { say(line) }
}

/// What a guests command (restore, migrate, guests) did: its report, then each failure on its own line,
/// and exit status 1 after any.
func report(_ outcome: GuestOutcome) throws(XVFError) {
    say(outcome.report)
    guard !outcome.failures.isEmpty else { return }
    // Under --json the failures are the result's error, one sentence each.
    if Output.capturing { throw XVFError(.stepsFailed(outcome.failures)) }
    for failure in outcome.failures { printError("xvf: " + failure) }
    throw .reported(.failed)
}

/// A command's text for the user: printed, or kept for the JSON result.
func say(_ text: String, terminator: String = "\n") {
    let text = text.escapingControlCharactersButNewlines
    guard Output.capturing else {
        output(text + terminator)
        return
    }
    let whole = text + terminator
    Output.captured += whole.split(separator: "\n", omittingEmptySubsequences: false).dropLast(whole.hasSuffix("\n") ? 1 : 0)
        .map(String.init)
}

/// One line on standard error. Control characters are escaped: a message names things read from the host,
/// and a newline in one must not start a line of its own (`xvf: …`) in the journal.
func printError(_ line: String) {
    writeAll(2, line.escapingControlCharacters + "\n")
}

/// Writes command output in one go: `print` goes character by character, which shows on large JSON.
func output(_ text: String) {
    writeAll(1, text)
}

private func writeAll(_ fd: Int32, _ text: String) {
    var text = text
    text.withUTF8 { bytes in
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if n <= 0 { if n < 0 && errno == EINTR { continue } else { return } }
            offset += n
        }
    }
}
