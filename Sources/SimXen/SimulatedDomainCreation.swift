import SRIOV
import SimHost
import XenPCI

/// `xl create` of a domain config with `pci = [ … ]`, as libxl does it for its PCI devices: a spec that
/// names its device (`name=web1-nic`) is resolved to the device whose `/libxl/pci/*/name` says that name
/// (libxl's name2bdf, when the domain is created and again when it is restored), before anything is
/// created; then the domain is made (with passthrough, as a `pci` list gives it an IOMMU context) and
/// each device attached. A device that cannot be attached destroys the domain again, as libxl does.
extension SimulatedToolstack {
    /// The spec with its device's address: its own, or the one libxl knows by the spec's name.
    public func resolve(_ spec: PCISpec) throws(ToolstackError) -> PCISpec {
        guard spec.address == nil else { return spec }
        let store = SimXenstore.load(root)
        guard let name = spec.name, let address = named(name, store) else {
            throw failure("libxl_domain_create_new", "error", 1640, "libxl__device_pci_setdefault",
                          "PCI device name \(spec.name ?? "") not found", code: ToolstackError.notFound)
        }
        var resolved = spec
        resolved.address = address
        return resolved
    }

    /// Creates the running domain `name` with the devices of `pci`; returns its id.
    @discardableResult
    public func create(name: String, kind: SimDomain.Kind = .pv, pci: [PCISpec]) throws(ToolstackError) -> UInt32 {
        var specs: [PCISpec] = []
        for spec in pci { specs.append(try resolve(spec)) }
        guard !simulatedDomains.contains(where: { $0.name == name }) else {
            throw failure("libxl_domain_create_new", "error", 0, "libxl__domain_make", "domain with name \(name) already exists",
                          code: ToolstackError.invalid)
        }
        let id = (simulatedDomains.map(\.id).max() ?? 0) + 1
        let domain = SimDomain(id: id, name: name, kind: kind, passthrough: true)
        // readText drops the last newline.
        let marker = (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").map { $0 + "\n" }.joined()
        func write(_ text: String) throws(ToolstackError) {
            do { try root.replaceFile(SimulatedHost.markerFile, with: text) } catch {
                throw ToolstackError(operation: "libxl_domain_create_new", code: ToolstackError.fail, log: ["\(error)"])
            }
        }
        try write(marker + domain.markerLine + "\n")
        for spec in specs {
            do { try attach(spec, to: id) } catch {
                for attached in (try? devices(of: id)) ?? [] {
                    if let spec = try? PCISpec(address: attached.address) { try? detach(spec, from: id, force: true) }
                }
                try write(marker)
                throw error
            }
        }
        return id
    }
}
