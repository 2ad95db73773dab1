import ArgumentParser
import XVFKit

struct ListCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the SR-IOV PFs with their VFs: address, interface, driver, MAC, IOMMU group, holder.")

    @OptionGroup var global: GlobalOptions
    @Flag(help: "Print the stable JSON document instead of the table.") var json = false

    func run(on host: Host) throws(XVFError) {
        let report = HostReport(try host.inventory(), library: host.library, holders: (try? host.holders()) ?? [:],
                                identities: json, leases: host.leases())
        output(json ? report.json.serialized() + "\n" : report.table())
    }
}
