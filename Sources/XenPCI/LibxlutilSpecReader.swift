import CXenLight
import SRIOV

/// libxlutil's own reading of a spec string (`xlu_pci_parse_spec_string`, what `xl pci-attach` uses),
/// only ever given the canonical form of a spec `PCISpec` has already checked.
enum LibxlutilSpecReader {
    /// Parses `spec.canonical` into a `libxl_device_pci` and lends it to `body`; the device is disposed after.
    /// Returns libxlutil's message when it refuses the string.
    static func withDevice<R>(_ spec: PCISpec, _ xl: xvf_xen, _ body: (inout libxl_device_pci) -> R)
        -> Result<R, InputError>
    {
        withParsed(spec.canonical, xl) { rc, device, said in
            guard rc == 0 else {
                return .failure(InputError(.pciSpec, spec.canonical, "is refused by libxlutil (error \(rc))"
                                             + (said.isEmpty ? "" : ": " + said.trimmingTrailingNewlines)))
            }
            return .success(body(&device))
        }
    }

    /// libxlutil's `xlu_pci_parse_spec_string` on `text`: `body` gets its return code, the device it read
    /// (disposed after) and what it reported. The one place that keeps libxlutil's report stream alive.
    private static func withParsed<R>(_ text: String, _ xl: xvf_xen,
                                      _ body: (Int32, inout libxl_device_pci, String) -> Result<R, InputError>)
        -> Result<R, InputError>
    {
        guard let report = MemoryStream(), let config = xl.xlu_cfg_init(report.file, "spec") else {
            return .failure(InputError(.pciSpec, text, "could not be read: libxlutil could not start (out of memory)"))
        }
        // libxlutil keeps report.file and writes to it until xlu_cfg_destroy; Swift may release the stream
        // (fclose) right after its last use in Swift code. This defer runs after the destroy below.
        defer { withExtendedLifetime(report) {} }
        defer { xl.xlu_cfg_destroy(config) }
        var device = libxl_device_pci()
        xl.libxl_device_pci_init(&device)
        defer { xl.libxl_device_pci_dispose(&device) }
        let rc = xl.xlu_pci_parse_spec_string(config, &device, text)
        return body(rc, &device, rc == 0 ? "" : report.takeText())
    }

    /// Checks that libxlutil reads the canonical form of `spec` to exactly the values xvf parsed from
    /// `input`; a difference is a bug in one of the two parsers and is reported rather than acted on.
    /// Without Xen's libraries the strict parser stands alone (`xvf cfg line` needs no Xen).
    static func confirm(_ spec: PCISpec, input: String) throws(InputError) {
        guard let xl = try? XenLibraries.load().functions else { return }
        let differences = try withDevice(spec, xl) { device in differencesFrom(spec, device) }.get()
        guard differences.isEmpty else {
            throw InputError(.pciSpec, input, "is read differently by libxlutil (\(differences.joined(separator: ", "))) "
                               + "from its canonical form \(spec.canonical); please report this")
        }
    }

    /// What libxlutil reads differently in `raw` from the strictly parsed `spec` (empty: the same). Only
    /// text that passed the strict parser comes here: libxlutil crashes on some malformed strings.
    static func differences(readingRaw raw: String, as spec: PCISpec) throws(XenLibraryError) -> [String] {
        let xl = try XenLibraries.load().functions
        let read: Result<[String], InputError> = withParsed(raw, xl) { rc, device, _ in
            .success(rc == 0 ? differencesFrom(spec, device) : ["refused by libxlutil"])
        }
        return (try? read.get()) ?? ["unreadable"]
    }

    static func differencesFrom(_ spec: PCISpec, _ device: libxl_device_pci) -> [String] {
        var found: [String] = []
        if let address = spec.address {
            let read = (Int(device.domain), device.bus, device.dev, device.func)
            if read != (Int(address.domain), address.bus, address.device, spec.allFunctions ? read.3 : address.function) {
                found.append("address")
            }
            let mask = spec.allFunctions ? UInt32(LIBXL_PCI_FUNC_ALL) : 1
            if device.vfunc_mask != mask { found.append("functions") }
        }
        if device.vdevfn != UInt32(spec.vslot ?? 0) << 3 { found.append("vslot") }
        let flags: [(String, Bool?, Bool)] = [
            ("permissive", spec.permissive, device.permissive), ("msitranslate", spec.msitranslate, device.msitranslate),
            ("seize", spec.seize, device.seize), ("power_mgmt", spec.powerManagement, device.power_mgmt),
        ]
        for (key, wanted, read) in flags where wanted != nil && wanted != read { found.append(key) }
        let policy: Int32 = switch spec.rdmPolicy {
        case nil: LIBXL_RDM_RESERVE_POLICY_INVALID.rawValue
        case .strict?: LIBXL_RDM_RESERVE_POLICY_STRICT.rawValue
        case .relaxed?: LIBXL_RDM_RESERVE_POLICY_RELAXED.rawValue
        }
        if device.rdm_policy.rawValue != policy { found.append("rdm_policy") }
        if spec.name != device.name.map({ String(cString: $0) }) { found.append("name") }
        return found
    }
}

extension String {
    var trimmingTrailingNewlines: String {
        var text = Substring(self)
        while text.last == "\n" || text.last == "\r" { text.removeLast() }
        return String(text)
    }
}
