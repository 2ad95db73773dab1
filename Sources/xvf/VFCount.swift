import ArgumentParser
import XVFKit

struct VFCount: HostCommand {
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
    @Flag(help: "Print each step and change nothing.") var dryRun = false

    func run(on host: Host) throws(XVFError) {
        let inventory = try host.inventory()
        let change = try VFCountChange(pf: device, count: count, inventory: inventory,
                                       assignments: try host.attachedDevices(), safety: HostSafety(inventory),
                                       force: force)
        if dryRun {
            for step in change.steps { print(step) }
            print(change.steps.isEmpty ? change.summary : "dry run: nothing was changed")
            return
        }
        try change.apply(to: host.root) { print($0) }
        print(change.summary)
    }
}
