import ArgumentParser
import XVFKit

struct VFCountCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "vfs",
        abstract: "Set a PF's VF count (0 first when the kernel needs it; 0 to sriov_totalvfs).",
        discussion: """
            Changing a non-zero count writes 0 first, which destroys every existing VF: VFs on pciback leave \
            it first, and VFs attached to a running domain stop the change unless --force.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The PF: an interface (eno49) or an address (04:00.0).") var device: String
    @Argument(help: "How many VFs it should have (0 removes them all).") var count: String
    @Flag(help: "Change the count even when VFs are attached to domains or carry the host's network.")
    var force = false
    @OptionGroup var change: ChangeOptions

    func run(on host: Host) throws(XVFError) {
        let report = try VFCountChange.run(pf: device, count: count, force: force, on: host, dryRun: dryRun, log: { say($0) })
        say(report)
    }
}
