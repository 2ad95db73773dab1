import ArgumentParser
import XVFKit

/// `xvf guests detach|attach`: every guest's devices away and back around a dom0 shutdown.
struct GuestsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "guests",
        abstract: "Take every running guest's devices away and record them, or give recorded guests theirs back.",
        discussion: """
            xvf-guests.service runs these around xendomains, which saves running guests at shutdown when \
            XENDOMAINS_SAVE is set (Debian's default) and restores them at boot; a guest saved while it holds \
            a device is likely to crash after its restore. The records are kept in /var/lib/xvf/guests.
            """,
        subcommands: [Detach.self, Attach.self])

    struct Detach: ChangingCommand {
        static let configuration = CommandConfiguration(
            commandName: "detach",
            abstract: "Record and detach the devices of every running guest (xvf-guests.service's stop).")

        @OptionGroup var global: GlobalOptions
        @Flag(help: "Only when xendomains will save the guests (XENDOMAINS_SAVE set); otherwise do nothing.")
        var xendomains = false
        @OptionGroup var change: ChangeOptions

        func run(on host: Host) throws(XVFError) {
            try report(GuestsAroundShutdown.detach(onlyForXendomains: xendomains, on: host, dryRun: dryRun))
        }
    }

    struct Attach: ChangingCommand {
        static let configuration = CommandConfiguration(
            commandName: "attach",
            abstract: "Give every recorded guest that runs its devices back (xvf-guests.service's start).",
            discussion: """
                With --record, the guests named in that record (`-`: standard input) get their devices instead: \
                `xvf migrate` runs it on the target host. Its dry run fails when a device has nowhere to go here.
                """)

        @OptionGroup var global: GlobalOptions
        @Option(help: ArgumentHelp("Give the guests in this record (`-` for standard input) their devices.",
                                   valueName: "FILE")) var record: String?
        @OptionGroup var change: ChangeOptions

        func run(on host: Host) throws(XVFError) {
            guard let record else { return try report(GuestsAroundShutdown.attach(on: host, dryRun: dryRun)) }
            try report(GuestArrival.run(recordFile: record, on: host, dryRun: dryRun))
        }
    }
}

