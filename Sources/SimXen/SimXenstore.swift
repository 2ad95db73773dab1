import SRIOV
import SimHost

/// The slice of xenstore (and of the hypervisor's device ownership) that libxl's PCI code uses, kept in
/// a file at the top of a simulated host so that separate `xvf` processes share it the way they share
/// the real xenstore. Paths are libxl's: `/libxl/pci/0000-04-10-0/driver_path`, `…/name`, `…/domid`,
/// and the PCI backend `/local/domain/0/backend/pci/<domid>/0/dev-N`, `vdevfn-N`, `opts-N`.
struct SimXenstore {
    static let file = SimulatedKernel.xenstoreFile

    var entries: [String: String]

    /// The store as the file has it now (empty when the file does not exist yet).
    static func load(_ root: HostRoot) -> SimXenstore {
        var entries: [String: String] = [:]
        for line in (root.readText(file) ?? "").split(separator: "\n") {
            guard let separator = line.range(of: " = ") else { continue }
            entries[String(line[..<separator.lowerBound])] = String(line[separator.upperBound...])
        }
        return SimXenstore(entries: entries)
    }

    /// Writes the store back atomically, so a reader never sees half of it.
    func save(_ root: HostRoot) throws(FileError) {
        try root.replaceFile(Self.file, with: entries.sorted { $0.key < $1.key }.map { "\($0.key) = \($0.value)\n" }.joined())
    }

    subscript(path: String) -> String? {
        get { entries[path] }
        set { entries[path] = newValue }
    }

    func children(of directory: String) -> [String] {
        let prefix = directory + "/"
        return Set(entries.keys.filter { $0.hasPrefix(prefix) }.map { key in
            String(key.dropFirst(prefix.count).prefix { $0 != "/" })
        }).sorted()
    }

    // MARK: libxl's paths

    /// `/libxl/pci/DDDD-BB-DD-F`, libxl's PCI_BDF_XSPATH.
    static func info(_ address: PCIAddress) -> String {
        "/libxl/pci/" + address.description.replacingColonsAndDot
    }

    static func backend(_ domain: UInt32) -> String { "/local/domain/0/backend/pci/\(domain)/0" }

    /// Xen's own record of which devices sit in the quarantine domain (DOMID_IO), not a xenstore path.
    static func quarantine(_ address: PCIAddress) -> String { "/xvf-sim/quarantine/\(address)" }
}

extension String {
    var replacingColonsAndDot: String {
        String(map { $0 == ":" || $0 == "." ? "-" : $0 })
    }

    func range(of needle: String) -> Range<Index>? {
        self[...].range(of: needle)
    }
}

extension Substring {
    func range(of needle: String) -> Range<Index>? {
        var start = startIndex
        while start < endIndex {
            if self[start...].hasPrefix(needle) { return start..<index(start, offsetBy: needle.count) }
            start = index(after: start)
        }
        return nil
    }
}
