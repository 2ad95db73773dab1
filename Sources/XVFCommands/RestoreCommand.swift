import ArgumentParser
import XVFKit

/// `xvf restore FILE`: `xl restore` of an image `xvf save` wrote, and the guest's devices given back.
struct RestoreCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a guest xvf saved and give it its devices back (the same ones, or VFs of the same PF).",
        discussion: """
            Where each device goes is chosen before anything changes: the same device where it is free, else \
            for a VF the free VF of the same PF (found by its serial number or permanent MAC if it moved) with \
            the lowest index, which gets the link the guest had. When one has nowhere to go, nothing is \
            restored. Once the guest runs, a device that cannot be given back is named with the `xvf assign` \
            that gives it, and the exit status is 1.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The image `xvf save` wrote (its record FILE.xvf beside it).") var file: String
    @OptionGroup var change: ChangeOptions

    func run(on host: Host) throws(XVFError) {
        try report(GuestRestore.run(from: file, on: host, dryRun: dryRun))
    }
}

/// Prints what a guests command did, then each failure on its own line, and exits 1 after any.
func report(_ outcome: GuestOutcome) throws(XVFError) {
    say(outcome.report, terminator: "")
    guard !outcome.failures.isEmpty else { return }
    // Under --json the failures are the result's error, one sentence each.
    if Output.capturing { throw XVFError(.stepsFailed(outcome.failures)) }
    for failure in outcome.failures { printError("xvf: " + failure) }
    throw .reported(.failed)
}
