import SRIOV
import XenPCI

/// The host's toolstack with each change it carries out written into the command's `StepJournal`,
/// as the host root does for kernel writes and files: libxl's own sysfs work inside one call is one step.
final class RecordedToolstack: Toolstack {
    let inner: any Toolstack
    let journal: StepJournal

    init(_ inner: any Toolstack, journal: StepJournal) {
        self.inner = inner
        self.journal = journal
    }

    var messages: [String] { inner.messages }
    var libxlRelease: String { inner.libxlRelease }
    var libxlVersion: LibxlVersion? { inner.libxlVersion }

    func domains() throws(ToolstackError) -> [XenDomain] { try inner.domains() }
    func assignableList() throws(ToolstackError) -> [AssignableDevice] { try inner.assignableList() }
    func devices(of domain: UInt32) throws(ToolstackError) -> [AttachedDevice] { try inner.devices(of: domain) }
    func capabilities() throws(ToolstackError) -> XenCapabilities { try inner.capabilities() }
    func passthroughEnabled(in domain: UInt32, for device: PCIAddress) throws(ToolstackError) -> Bool? {
        try inner.passthroughEnabled(in: domain, for: device)
    }

    func assignableAdd(_ address: PCIAddress, name: String?, rebind: Bool) throws(ToolstackError) {
        try recorded("assignable_add", address.description, Self.assignableAddDetail(address, name: name, rebind: rebind)) {
            () throws(ToolstackError) in try inner.assignableAdd(address, name: name, rebind: rebind)
        }
    }

    func assignableRemove(_ device: AssignableReference, rebind: Bool) throws(ToolstackError) {
        var target = device.description
        if case .name(let name) = device,
           let found = (try? inner.assignableList())?.first(where: { $0.name == name }) {
            target = found.address.description
        }
        try recorded("assignable_remove", target, Self.assignableRemoveDetail(device, rebind: rebind)) {
            () throws(ToolstackError) in try inner.assignableRemove(device, rebind: rebind)
        }
    }

    func attach(_ spec: PCISpec, to domain: UInt32) throws(ToolstackError) {
        try recorded("attach", spec.address?.description ?? spec.deviceDescription, Self.attachDetail(spec, domain: "\(domain)")) {
            () throws(ToolstackError) in try inner.attach(spec, to: domain)
        }
    }

    func detach(_ spec: PCISpec, from domain: UInt32, force: Bool) throws(ToolstackError) {
        try recorded("detach", spec.address?.description ?? spec.deviceDescription,
                     Self.detachDetail(spec.deviceDescription, domain: "\(domain)", force: force)) {
            () throws(ToolstackError) in try inner.detach(spec, from: domain, force: force)
        }
    }

    func save(_ domain: UInt32, to path: String) throws(ToolstackError) {
        try recorded("save", "\(domain)", Self.saveDetail(domain: "\(domain)", path: path)) {
            () throws(ToolstackError) in try inner.save(domain, to: path)
        }
    }

    func restore(from path: String) throws(ToolstackError) {
        try recorded("restore", path, Self.restoreDetail(path)) { () throws(ToolstackError) in try inner.restore(from: path) }
    }

    func migrate(_ domain: UInt32, to host: String, sshCommand: String?) throws(ToolstackError) {
        try recorded("migrate", "\(domain)", Self.migrateDetail(domain: "\(domain)", host: host, sshCommand: sshCommand)) {
            () throws(ToolstackError) in try inner.migrate(domain, to: host, sshCommand: sshCommand)
        }
    }

    private func recorded(_ what: String, _ target: String, _ detail: String,
                          _ body: () throws(ToolstackError) -> Void) throws(ToolstackError) {
        do {
            try body()
        } catch {
            journal.record(RecordedStep(what: what, target: target, status: .failed, detail: detail, failure: "\(error)"))
            throw error
        }
        journal.record(RecordedStep(what: what, target: target, status: .done, detail: detail))
    }

    // The details as the dry-run plans print the same calls.
    static func assignableAddDetail(_ address: PCIAddress, name: String?, rebind: Bool) -> String {
        "libxl_device_pci_assignable_add \(address) rebind=\(rebind ? 1 : 0)" + (name.map { " name=\($0)" } ?? "")
    }

    static func assignableRemoveDetail(_ device: AssignableReference, rebind: Bool) -> String {
        "libxl_device_pci_assignable_remove \(device) rebind=\(rebind ? 1 : 0)"
    }

    static func attachDetail(_ spec: PCISpec, domain: String) -> String {
        "libxl_device_pci_add \(spec.canonical) to domain \(domain)"
    }

    static func saveDetail(domain: String, path: String) -> String { "xl save \(domain) \(path)" }

    static func restoreDetail(_ path: String) -> String { "xl restore \(path)" }

    /// xl's command line, each word quoted as a shell would need it.
    static func migrateDetail(domain: String, host: String, sshCommand: String?) -> String {
        (["xl", "migrate"] + (sshCommand.map { ["-s", ShellWords.quote($0)] } ?? []) + [domain, ShellWords.quote(host)])
            .joined(separator: " ")
    }

    static func detachDetail(_ device: String, domain: String, force: Bool) -> String {
        "\(force ? "libxl_device_pci_destroy" : "libxl_device_pci_remove") \(device) from domain \(domain)"
    }
}
