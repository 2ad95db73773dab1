import ArgumentParser
import XVFKit

struct ReleaseCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Detach a device from its domain (it stays on pciback); --to-dom0 gives it back to its driver.",
        discussion: """
            A VF's link settings (MAC, VLAN, trust, …) go back to what they were before `xvf assign` gave it to \
            its first guest, with what the host config's vf entries say over them. A lease's VF gets the lease's \
            settings back and stays on pciback under the lease's name, ready for the next guest that names it.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The device: an address (05:10.0), a VF (eno49/3) or a lease (web1-nic).") var device: String
    @Option(help: "The domain it must be attached to (by name or id).") var dom: String?
    @Flag(help: "Detach even if the guest does not cooperate (xl pci-detach -f).") var force = false
    @Flag(help: "Also take it off pciback and rebind the driver it had.") var toDom0 = false
    @OptionGroup var change: ChangeOptions

    func run(on host: Host) throws(XVFError) {
        let report = try DeviceRelease.run(device, domain: dom, force: force, toDom0: toDom0, on: host, dryRun: dryRun)
        say(report)
    }
}
