import ArgumentParser
import XVFKit

struct ShowCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show one device in depth: driver, holder, SR-IOV state and capability, ACS up the path.")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "An address (05:10.0), an interface (eno49) or a VF (eno49/3).") var device: String
    @Flag(help: "Print JSON.") var json = false

    func run(on host: Host) throws(XVFError) {
        let found = try host.device(device)
        let report = DeviceReport(found, inventory: try host.inventory(), library: host.library,
                                  holders: (try? host.holders()) ?? [:])
        output(json ? report.json.serialized() + "\n" : report.text())
    }
}
