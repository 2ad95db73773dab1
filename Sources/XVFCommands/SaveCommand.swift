import ArgumentParser
import XVFKit

/// `xvf save DOM FILE`: `xl save` for a guest that holds devices.
struct SaveCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "save",
        abstract: "Save a guest that holds devices: record them beside the image, detach them, then xl save.",
        discussion: """
            Xen cannot save a guest with an assigned device: `xl save` reports success, and the restored guest \
            crashed in 5 of 7 tries in the lab. xvf records each device (its options; for a VF its PF and its \
            link: MAC, VLAN, trust, …) in FILE.xvf, detaches them (the guest lets them go), and has xl save \
            the guest into a temporary that becomes FILE once whole. A failure gives the guest its devices \
            back. `xvf restore FILE` restores the guest and gives them back.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The domain, by name or id.") var domain: String
    @Argument(help: "The image file to write (it must not exist), in a directory only root can write.") var file: String
    @OptionGroup var change: ChangeOptions

    func run(on host: Host) throws(XVFError) {
        let report = try GuestSave.run(domain: domain, to: file, on: host, dryRun: dryRun)
        say(report)
    }
}
