import ArgumentParser
import XVFKit

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

extension HostCommand {
    func run() throws {
        if let changing = self as? any ChangingCommand, changing.json {
            try runWithJSONResult(changing.change)
            return
        }
        // Warnings go before the error line, so a failure still ends with the one line that says why.
        var host: Host?
        do {
            try openAndRun(&host)
            if let host { printLog(of: host) }
            for warning in Warnings.take() { printError("xvf: warning: " + warning) }
        } catch {
            // A partial failure said its failures already, after the plan it printed.
            if error.isReported { sayDryRunEnd() }
            if let host { printLog(of: host) }
            for warning in Warnings.take() { printError("xvf: warning: " + warning) }
            if !error.isReported { printError("xvf: " + error.message) }
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
            try openAndRun(&host)
        } catch {
            failure = error
        }
        if let host { printLog(of: host) }
        let result = OperationResult(dryRun: options.dryRun, steps: host?.journal.steps ?? [], warnings: Warnings.take(),
                                     messages: Output.captured, error: failure)
        output(result.json(withContent: options.showContent).serialized() + "\n")
        if let failure { throw ExitCode(failure.exitCode) }
    }

    /// Opens the host (kept in `host` for the log, even when the run fails), refuses what another
    /// toolstack must do, runs the command and ends a dry run's text.
    func openAndRun(_ host: inout Host?) throws(XVFError) {
        let opened = try global.host()
        host = opened
        try refuseForeignToolstack(opened)
        try run(on: opened)
        sayDryRunEnd()
    }

    /// Ends a dry run's text with the one line every dry run ends with.
    func sayDryRunEnd() {
        if let changing = self as? any ChangingCommand, changing.dryRun { say(ChangeOptions.dryRunEnd) }
    }

    /// With -v, libxl's messages of the run (its log is otherwise only quoted in errors).
    func printLog(of host: Host) {
        guard global.verbose else { return }
        // libxl's lines name themselves ("libxl: warning: libxl_pci.c:802: …").
        for line in host.toolstackMessages { printError(line) }
    }
}
