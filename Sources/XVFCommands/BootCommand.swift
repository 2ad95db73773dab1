import ArgumentParser
import XVFKit

/// `xvf boot`: applies the host config (VF counts, VF link settings, VFs for guests on pciback).
struct BootCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Apply the host config (etc/xen/xvf.cfg): VF counts, VF MACs/VLANs, guests' VFs on pciback.",
        discussion: """
            Run at boot by xvf-boot.service, before xendomains starts the guests. Only what differs from \
            the host is changed, so a second run says "nothing to change". When some steps fail, the others \
            are still applied, each failure is reported, and the exit status is 1; run it again once the cause \
            is fixed.
            """)

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The host config (default: etc/xen/xvf.cfg under the root).", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("Apply only this PF's entries (an interface or an address): what the udev rule runs "
                               + "when the PF's driver binds again.", valueName: "device"))
    var pf: String?
    @Option(help: ArgumentHelp("Make this file the host config instead of applying one: checked as --dry-run "
                               + "--config FILE checks it, then written over etc/xen/xvf.cfg (under the host lock; "
                               + "owner, mode and a link kept). Apply it with `xvf boot`.", valueName: "file"))
    var install: String?
    @OptionGroup var change: ChangeOptions

    func validate() throws {
        if install != nil && (config != nil || pf != nil) {
            throw ValidationError("--install takes no --config or --pf: it installs the whole file it names")
        }
    }

    /// Exits 1 after a partial failure, whose failures were already reported one a line.
    func run(on host: Host) throws(XVFError) {
        if let install {
            let report = try HostConfigInstall.run(install, dryRun: dryRun, on: host)
            say(report)
            return
        }
        let outcome = try HostBoot.run(configPath: config, pf: pf, dryRun: dryRun, on: host) { say($0) }
        for note in outcome.notes { say(note) }
        // Under --json the failures are the result's error, one sentence each.
        if !Output.capturing { for failure in outcome.failures { printError("xvf: " + failure) } }
        switch outcome.end {
        case .unchanged: say("nothing to change: the host matches \(outcome.filename)")
        // A dry run's steps say what it would do.
        case .planned: break
        case .applied(let done):
            say(outcome.succeeded ? "done: the host matches \(outcome.filename)"
                : "\(done) step\(done == 1 ? "" : "s") done, \(outcome.failures.count) failed; fix the causes above and run "
                    + "`xvf boot` again (it applies only what is still missing)")
        }
        if !outcome.succeeded {
            throw Output.capturing ? XVFError(.stepsFailed(outcome.failures)) : .reported(.failed)
        }
    }
}
