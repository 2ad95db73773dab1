import ArgumentParser
import XVFKit

struct DriverCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "driver",
        abstract: "Reload a PF driver (igb, ixgbe) with max_vfs, so that it creates the VFs itself.",
        discussion: """
            Runs `modprobe -r DRIVER` and `modprobe DRIVER max_vfs=N` (no shell). Every port of the driver \
            goes down meanwhile: the host's own network and disk, and VFs attached to domains, are refused \
            unless --force. For drivers without max_vfs, set each PF's count with `xvf vfs`.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The PF driver (kernel module): igb, ixgbe.") var driver: String
    @Option(help: ArgumentHelp("VFs per port: one count for all ports, or one per port (out-of-tree drivers).",
                               valueName: "N[,N…]"))
    var maxVfs: String
    @Flag(help: "Also write etc/modprobe.d/xvf-DRIVER.conf so the driver loads with these VFs at boot.")
    var persist = false
    @Flag(help: "Reload even when the driver carries the host's network or disk, or VFs attached to domains.")
    var force = false
    @OptionGroup var change: ChangeOptions

    func run(on host: Host) throws(XVFError) {
        let report = try DriverReload.run(driver: driver, maxVFs: maxVfs, persist: persist, force: force, on: host,
                                          dryRun: dryRun) { step in
            say(step)
            if dryRun, case .replaceFile(_, let content) = step { say(content.indented) }
        }
        say(report)
    }
}

extension String {
    /// The text with every line indented, for file contents shown under a step.
    var indented: String {
        split(separator: "\n", omittingEmptySubsequences: false).dropLast(hasSuffix("\n") ? 1 : 0)
            .map { "    " + $0 }.joined(separator: "\n")
    }
}
