import ArgumentParser
import XVFKit

struct BootLineCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "bootline",
        abstract: "Print (or write) the xen-pciback.hide boot line and its modprobe.d equivalent.",
        discussion: """
            Devices are addresses, interfaces, or VFs such as eno49/0-6, including VFs not created yet. \
            With --write, the lines go to etc/default/grub.d/xvf-pciback.cfg and \
            etc/modprobe.d/xvf-pciback.conf (etc/default/grub is not touched); run update-grub afterwards.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "Devices to hide from dom0: 04:10.0, eno49/0-6, eno49/*.") var devices: [String]
    @Flag(help: "Write the GRUB and modprobe.d files.") var write = false
    @Flag(help: "Hide even the device behind /, or the default-route or management interface.") var force = false
    @OptionGroup var change: ChangeOptions

    /// Printing the lines changes nothing; writing them (or planning to) is xl's way, not xapi's.
    var changesDevices: Bool { write || dryRun }

    func run(on host: Host) throws(XVFError) {
        let outcome = try BootLine.run(devices, host: host, force: force, write: write, dryRun: dryRun)
        let (line, steps) = (outcome.line, outcome.steps)
        var text = "# dom0 Linux command line (/\(BootLine.grubFile)):\n\(line.kernelLine)\n\n"
        text += "# modprobe.d, for xen-pciback as a module (/\(BootLine.modprobeFile)):\n"
        text += line.modprobeLines.joined(separator: "\n") + "\n"
        for note in line.notes { text += "\nnote: " + note }
        if !line.notes.isEmpty { text += "\n" }
        say(text, terminator: "")
        guard write || dryRun else {
            say("\nwrite them with --write")
            return
        }
        say("")
        if steps.isEmpty {
            say("/\(BootLine.grubFile) and /\(BootLine.modprobeFile) already say this; nothing to do")
            return
        }
        for step in steps {
            say(step)
            if dryRun, case .replaceFile(_, let content) = step { say(content.indented) }
        }
        if dryRun { return }
        for line in line.followUp(after: steps) { say(line) }
    }
}
