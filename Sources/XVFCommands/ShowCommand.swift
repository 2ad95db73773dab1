import ArgumentParser
import SRIOV
import XVFKit

struct ShowCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one device in depth: driver, holder, SR-IOV state and capability, ACS up the path.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "An address (05:10.0), an interface (eno49), a VF (eno49/3) or a lease (web1-nic).") var device: String
    @Flag(help: "Print JSON.") var json = false

    func run(on host: Host) throws(XVFError) {
        let found: PCIDevice
        if let leased = try Leases.device(device, host: host) { found = leased } else { found = try host.device(device) }
        let report = DeviceReport(found, inventory: try host.inventory(), library: host.library,
                                  holders: (try? host.holders()) ?? [:], leases: host.leases())
        output(json ? report.json.serialized() + "\n" : report.text())
    }
}
