import ArgumentParser
import XenPCI
import XVFKit

struct DomainConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cfg",
        abstract: "Write the pci = [ … ] line of xl domain configs (or libvirt's XML for them).",
        subcommands: [DomainConfigLine.self, DomainConfigAdd.self, DomainConfigRemove.self, DomainConfigPool.self])
}

struct DomainConfigLine: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "line", abstract: "Print a pci = [ … ] line with the specs in canonical form.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "xl PCI specs (04:10.0,permissive=1), device names (eno49/2,permissive=1) or leases (web1-nic: name=web1-nic).")
    var specs: [String]
    @Flag(help: "Print libvirt <hostdev> elements (for a domain's <devices>, libvirt's libxl driver) instead.")
    var libvirt = false

    func run(on host: Host) throws(XVFError) {
        let parsed = try PCISpecs.parse(specs, host: host)
        print(libvirt ? try LibvirtXML.hostdevs(parsed) : PCISpecs.line(parsed))
    }
}

struct DomainConfigPool: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "pool",
        abstract: "Print a libvirt <network> whose guests each get a free VF of a PF (forward mode='hostdev').")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The PF: an interface (eno49) or an address (04:00.0).") var pf: String
    /// Taken and left out of the help: the XML is libvirt's whether or not it is given, and scripts
    /// written to the `cfg pool --libvirt PF` that earlier releases documented keep working.
    @Flag(help: .hidden) var libvirt = false

    func run(on host: Host) throws(XVFError) {
        let device = try host.physicalFunction(pf)
        print(try LibvirtXML.pool(device, label: try host.inventory().label(device)))
    }
}

struct DomainConfigAdd: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "add",
        abstract: "Add devices to a domain config's pci list (in place; comments and layout kept).",
        discussion: """
            The file is read with libxlutil first (a file xl would reject is refused and left as it is), only \
            the pci list changes (it is created when absent; a device already in it is not added twice), and \
            the result is read again with libxlutil before it atomically replaces the file.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The xl domain config, e.g. /etc/xen/web1.cfg.") var file: String
    @Argument(help: "xl PCI specs (04:10.0,permissive=1), device names (eno49/2) or leases (web1-nic: name=web1-nic).") var specs: [String]
    @OptionGroup var change: ChangeOptions

    /// An xl config is the user's file, not a device: editing it is the same on any host.
    var changesDevices: Bool { false }

    func run(on host: Host) throws(XVFError) {
        DomainConfigAdd.render(try DomainConfigChange.run(.add(specs), file: file, host: host, dryRun: dryRun), dryRun: dryRun)
    }

    static func render(_ change: DomainConfigChange, dryRun: Bool) {
        for note in change.edit.notes { say("note: " + note) }
        guard change.changes else {
            say("\(change.edit.filename) already says this; nothing to do")
            return
        }
        say(XLSecrets.masking(change.edit.diff))
        if dryRun { return }
        say("wrote \(change.edit.filename): pci = [ "
              + change.edit.after.map { "'\($0)'" }.joined(separator: ", ") + " ]")
    }
}

struct DomainConfigRemove: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "remove", abstract: "Remove devices (by BDF) from a domain config's pci list, in place.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The xl domain config, e.g. /etc/xen/web1.cfg.") var file: String
    @Argument(help: "Devices to take out: 04:10.0, 0000:04:10.0, eno49/2.") var devices: [String]
    @OptionGroup var change: ChangeOptions

    /// An xl config is the user's file, not a device: editing it is the same on any host.
    var changesDevices: Bool { false }

    func run(on host: Host) throws(XVFError) {
        DomainConfigAdd.render(try DomainConfigChange.run(.remove(devices), file: file, host: host, dryRun: dryRun), dryRun: dryRun)
    }
}
