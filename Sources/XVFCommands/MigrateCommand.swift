import ArgumentParser
import XVFKit

/// `xvf migrate DOM HOST` and `xvf migrate --all HOST`: `xl migrate` for guests that hold devices.
struct MigrateCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Live-migrate a guest that holds devices (or every such guest): its VFs go, xl migrates it, VFs come back there.",
        discussion: """
            Xen refuses to migrate a guest with an assigned device ("Failed to enable logdirty"). xvf first \
            checks that xvf on HOST answers (`SSH HOST xvf --version`) and has a device for each of the guest's \
            (a free VF of the PF of the same model under the same interface name), then records the devices in \
            /var/lib/xvf/guests, detaches them as `xvf release` does, runs `xl migrate` (with -s SSH when --ssh \
            is given), and has xvf on HOST give the guest those VFs with the link it had (`SSH HOST xvf guests \
            attach --record -`). If xl fails before the guest leaves, the guest gets its devices back here. After \
            that point the guest runs on HOST, and a device that could not be given is named with the command \
            that gives it (exit status 1). With --ssh '' HOST is xl's receiving command itself, as for xl: \
            `xvf migrate DOM 'xl migrate-receive' --ssh ''` moves the guest to this host under a new id. A \
            guest whose VF is bonded with a netfront (active-backup) keeps its network through the move.
            """)

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Migrate every running guest that holds devices (before host maintenance).") var all = false
    @Argument(help: "The domain, by name or id (none with --all), then the target host.") var arguments: [String] = []
    @Option(help: ArgumentHelp("xl's -s: the command that reaches the target (default ssh); '' for this host.",
                               valueName: "SSH")) var ssh: String?
    @OptionGroup var change: ChangeOptions

    func validate() throws {
        if all && arguments.count != 1 { throw ValidationError("with --all, name the target host only") }
        if !all && arguments.count != 2 { throw ValidationError("name the domain and the target host (or --all HOST)") }
    }

    func run(on host: Host) throws(XVFError) {
        try report(GuestMigration.run(domain: all ? nil : arguments[0], to: arguments[arguments.count - 1], sshCommand: ssh,
                                      on: host, dryRun: dryRun))
    }
}
