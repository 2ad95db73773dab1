#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import SRIOV
import XVFKit

struct XVF: ParsableCommand {
    // Every command names itself (commandName): deriving the name from the type costs a reflection
    // lookup per command at every start-up.
    static let configuration = CommandConfiguration(
        commandName: "xvf",
        abstract: "SR-IOV virtual functions and PCI passthrough on Xen hosts.",
        discussion: """
            Devices are named by address (05:10.0 or 0000:05:10.0), by PF interface (eno49), or by VF \
            (eno49/3 is VF 3 of eno49; eno49/0-6 and eno49/* where a list is taken). Every command reads \
            the host under --root (default /).

            Exit codes: 0 success; 1 an operation failed or was refused; 2 bad input (an address, a \
            device name, a spec, a file); 3 not possible on this host (no sys/bus/pci, not a Xen dom0); \
            64 a command-line usage error; 75 another xvf held the host lock longer than --wait.
            """,
        version: XVFVersion.text,
        subcommands: [ListCommand.self, ShowCommand.self, VFCountCommand.self, DriverCommand.self, BootLineCommand.self, DomainConfigCommand.self,
                      AssignableCommand.self, AssignCommand.self, ReleaseCommand.self, BootCommand.self, DoctorCommand.self])
}

/// Options every command takes. They may also stand before the command (`xvf --root DIR list`).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The host root: / on a real host, a tree for tests and the demo.",
                                            valueName: "path"))
    var root: String = "/"

    @Flag(name: .shortAndLong, help: "Print libxl's own log of the run on standard error.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("How long a change waits for another xvf to finish.",
                                            valueName: "seconds"))
    var wait: Int = Host.defaultLockTimeout
}

/// A command that works on a host and reports failures as one line with xvf's exit codes.
protocol HostCommand: ParsableCommand {
    var global: GlobalOptions { get }
    func run(on host: Host) throws(XVFError)
}

/// A command that changes the host: with `--json` its text goes into one JSON object (`OperationResult`)
/// with the steps the host's journal recorded, instead of to the terminal.
protocol ChangingCommand: HostCommand {
    var change: ChangeOptions { get }
    /// Whether this run would change devices or domains (all but an xl config's edit, and `bootline`
    /// without --write): on an xapi host such a run is refused before it starts.
    var changesDevices: Bool { get }
}

extension ChangingCommand {
    var dryRun: Bool { change.dryRun }
    var json: Bool { change.json }
    var changesDevices: Bool { true }
}

extension HostCommand {
    /// Refuses, before the command runs, what another toolstack must do on this host.
    func refuseForeignToolstack(_ host: Host) throws(XVFError) {
        guard let changing = self as? any ChangingCommand, changing.changesDevices else { return }
        try ForeignToolstack.refuseOnXapi(host.root)
    }
}

/// Where a command's text goes: the terminal, or (under `--json`) the result's `messages`.
enum Output {
    nonisolated(unsafe) static var capturing = false
    nonisolated(unsafe) static var captured: [String] = []
}

/// A step (or any value) as its text, printed or kept.
func say(_ value: some CustomStringConvertible) { say(value.description) }

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

/// The entry point of both executables: the shipped `xvf` passes the real backends, the simulator's
/// executable its simulated ones.
public enum XVFCommandLine {
    /// Set once, before the arguments are parsed; the commands read it when they make their `Host`.
    nonisolated(unsafe) static var backends = HostBackends.real

    /// Parses `arguments` (without the program name), runs the command and exits with xvf's exit code.
    public static func main(_ arguments: [String], backends: HostBackends) -> Never {
        self.backends = backends
        // `xvf --version` alone is answered before argument-parser builds its tree of every command, which
        // is two thirds of the instructions the answer costs (callgrind: 5.6M of 8.6M); the text is the same.
        if arguments == ["--version"] {
            output(XVFVersion.text + "\n")
            exit(0)
        }
        XVF.main(GlobalOptions.hoisted(arguments))
        // ArgumentParser's main returns after a command that succeeded.
        exit(0)
    }
}

extension HostCommand {
    func run() throws {
        if let changing = self as? any ChangingCommand, changing.json {
            try runWithJSONResult(changing.change)
            return
        }
        // Warnings go before the error line, so a failure still ends with the one line that says why.
        var host: Host?
        do {
            let opened = try global.host()
            host = opened
            try refuseForeignToolstack(opened)
            try run(on: opened)
            printLog(of: opened)
            for warning in Warnings.take() { printError("xvf: warning: " + warning) }
        } catch {
            if let host { printLog(of: host) }
            for warning in Warnings.take() { printError("xvf: warning: " + warning) }
            if !error.message.isEmpty { printError("xvf: " + error.message) }
            throw ExitCode(error.exitCode)
        }
    }
}

extension HostCommand {
    /// Runs the command with its text captured, and prints the one JSON object; the exit code is the same
    /// as without `--json`.
    func runWithJSONResult(_ options: ChangeOptions) throws {
        Output.capturing = true
        var host: Host?
        var failure: XVFError?
        do {
            let opened = try global.host()
            host = opened
            try refuseForeignToolstack(opened)
            try run(on: opened)
        } catch {
            failure = error
        }
        if let host { printLog(of: host) }
        let result = OperationResult(dryRun: options.dryRun, steps: host?.journal.steps ?? [], warnings: Warnings.take(),
                                     messages: Output.captured, error: failure)
        output(result.json(withContent: options.showContent).serialized() + "\n")
        if let failure { throw ExitCode(failure.exitCode) }
    }

    /// With -v, libxl's messages of the run (its log is otherwise only quoted in errors).
    func printLog(of host: Host) {
        guard global.verbose else { return }
        // libxl's lines name themselves ("libxl: warning: libxl_pci.c:802: …").
        for line in host.toolstackMessages { printError(line) }
    }
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

extension GlobalOptions {
    /// The host the options name, with the lock's patience and its notice on standard error.
    func host() throws(XVFError) -> Host {
        let host = try Host(rootPath: root, backends: XVFCommandLine.backends)
        host.lockTimeout = max(wait, 0)
        host.onLockWait = { printError("xvf: " + $0) }
        return host
    }

    /// Moves global options written before the subcommand to after it, where the parser looks for them.
    static func hoisted(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--root", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first == "--wait", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--root=") || first.hasPrefix("--wait=") || first == "-v" || first == "--verbose" {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !leading.isEmpty, let command = rest.first, !command.hasPrefix("-") else { return arguments }
        var result = [command]
        rest = rest.dropFirst()
        // A command with subcommands of its own (`assignable add`) takes the options after those.
        while let next = rest.first, !next.hasPrefix("-"), XVF.isCommandPath(result + [next]) {
            result.append(next)
            rest = rest.dropFirst()
        }
        return result + leading + rest
    }
}

extension XVF {
    static func isCommandPath(_ names: [String]) -> Bool {
        var command: ParsableCommand.Type = XVF.self
        for name in names {
            guard let sub = command.configuration.subcommands.first(where: {
                $0._commandName == name || $0.configuration.aliases.contains(name)
            }) else { return false }
            command = sub
        }
        return true
    }
}
