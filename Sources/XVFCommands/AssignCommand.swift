import ArgumentParser
import XVFKit

struct AssignCommand: ChangingCommand {
    static let configuration = CommandConfiguration(
        commandName: "assign",
        abstract: "Give a device to a running domain in one step: check, make assignable, attach, verify.",
        discussion: """
            DEVICE is an address (05:10.0), a VF (eno49/3), an xl PCI spec (05:10.0@03,permissive=1), or a PF \
            interface (eno49) to pick its free VF with the lowest index. Devices dom0 needs (the disk behind /, \
            the default-route or management interface), PFs whose VFs are in use and devices another domain \
            holds are refused. If attaching fails, the device goes back to the driver it had.

            A VF's link settings for the guest (--mac, --vlan, --qos, --spoofchk, --trust, --state) are set \
            through its PF before the guest gets it. What the VF had before is kept in /run/xvf/vf/BDF, and \
            `xvf release` puts it back (with what the host config's vf entries say over it), so the next \
            guest never inherits this one's MAC, VLAN or trust.
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "A device, a PCI spec, a PF interface (a pool), or a lease of the host config (web1-nic).") var device: String?
    @Option(help: "The domain, by name or id.") var dom: String
    @Option(help: "Pick a free VF of this PF (an interface or an address).") var pf: String?
    @Flag(help: "Let the guest write all of the device's config space (pciback permissive).") var permissive = false
    @Flag(help: "Take the device from its dom0 driver at attach time (libxl seize).") var seize = false
    @Flag(name: .customLong("no-msitranslate"), help: "Do not translate MSI to INTx for the guest.")
    var noMSITranslate = false
    @Flag(help: "Let the guest manage the device's power states.") var powerMgmt = false
    @Option(help: "Reserved device memory policy: strict or relaxed.") var rdmPolicy: String?
    @Option(help: "The guest PCI slot, hexadecimal 0-1f.") var vslot: String?
    @Flag(help: "Assign even a device dom0 depends on (the disk behind /, the default-route interface).")
    var force = false
    @Option(help: ArgumentHelp("The VF's MAC for this guest, set through its PF (released: put back).", valueName: "mac"))
    var mac: String?
    @Option(help: ArgumentHelp("The VF's VLAN id for this guest, 0-4095 (0: untagged).", valueName: "id")) var vlan: String?
    @Option(help: ArgumentHelp("The 802.1p priority 0-7 with --vlan.", valueName: "priority")) var qos: String?
    @Option(help: ArgumentHelp("The NIC's MAC and VLAN spoof check for the VF.", valueName: "on|off")) var spoofchk: String?
    @Option(help: ArgumentHelp("Whether the guest may change its MAC and use promiscuous modes.", valueName: "on|off"))
    var trust: String?
    @Option(help: ArgumentHelp("The VF's link: follows the PF's, always up, or down.", valueName: "auto|enable|disable"))
    var state: String?
    @OptionGroup var change: ChangeOptions

    func run(on host: Host) throws(XVFError) {
        var request = AssignRequest(target: device, pf: pf, domain: dom)
        request.permissive = permissive
        request.seize = seize
        request.noMSITranslate = noMSITranslate
        request.powerManagement = powerMgmt
        request.rdmPolicy = rdmPolicy
        request.vslot = vslot
        request.force = force
        for (key, value) in [("mac", mac), ("vlan", vlan), ("qos", qos), ("spoofchk", spoofchk), ("trust", trust),
                             ("state", state)] {
            guard let value else { continue }
            do { try request.settings.set(key, to: value) } catch {
                throw XVFError(.badOption(option: key, value: value, reason: error.reason), underlying: error)
            }
        }
        let report = try Assignment.run(request, on: host, dryRun: dryRun)
        say(report)
    }
}
