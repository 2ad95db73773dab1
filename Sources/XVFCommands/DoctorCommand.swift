import ArgumentParser
import XVFKit

/// `xvf doctor`: preflight checks with a fix for each problem; exit 1 when one fails.
struct DoctorCommand: HostCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctor",
        abstract: "Check that this host can pass VFs to guests: Xen dom0, IOMMU, pciback, SR-IOV, MMIO, VF drivers, ACS, boot files.",
        discussion: "Each check passes, warns or fails, with a fix. Exit status 0 when nothing fails, 1 otherwise.")

    @OptionGroup var global: GlobalOptions
    @Option(help: ArgumentHelp("The host config to check (default: etc/xen/xvf.cfg under the root).", valueName: "file"))
    var config: String?
    @Flag(help: "Print JSON: {\"checks\":[{\"id\",\"status\",\"message\",\"fix\"}]}.") var json = false

    func run(on host: Host) throws(XVFError) {
        let doctor = try Doctor(host: host, configPath: config)
        output(json ? doctor.json() : doctor.text())
        if doctor.failed { throw .reported(.failed) }
    }
}
