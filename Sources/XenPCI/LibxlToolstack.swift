#if canImport(Glibc)
import Glibc
#endif
import CXenLight
import SRIOV

/// The toolstack through libxl itself, as `xl` uses it: one libxl context for the whole run, its log
/// captured in memory (so a failure's reason becomes xvf's error text rather than loose lines on
/// stderr), and every asynchronous call made synchronous with `ao_how` NULL.
///
/// libxl works on the real host only (its sysfs and xenstore paths are fixed), so it is opened only
/// for the root `/`. Off a Xen dom0 `libxl_ctx_alloc` refuses (ERROR_FAIL, "cannot open libxc handle").
/// Every call goes through the functions of the loaded libraries (`XenLibraries`).
public final class LibxlToolstack: Toolstack {
    private let xl: xvf_xen
    private let context: OpaquePointer
    private let logger: OpaquePointer
    private let log: MemoryStream
    public let libxlRelease: String
    /// Runs a program (`xl save`, `xl restore`, `xl migrate`) with an argument vector: its exit status and output.
    private let runProgram: ([String]) -> (Int32, String)

    /// Opens libxl; the error carries libxl's own explanation when it refuses.
    public init(_ libraries: XenLibraries.Loaded, runProgram: @escaping ([String]) -> (Int32, String)) throws(ToolstackError) {
        let xl = libraries.functions
        self.xl = xl
        self.runProgram = runProgram
        libxlRelease = libraries.release
        guard let log = MemoryStream(),
              let logger = xl.xtl_createlogger_stdiostream(log.file, XTL_INFO, XTL_STDIOSTREAM_HIDE_PROGRESS) else {
            throw ToolstackError(operation: "xtl_createlogger_stdiostream", code: -5, log: ["out of memory"])
        }
        var context: OpaquePointer?
        let rc = xl.libxl_ctx_alloc(&context, LIBXL_VERSION, 0, UnsafeMutablePointer<xentoollog_logger>(logger))
        guard rc == 0, let context else {
            let lines = Self.lines(log.takeText())
            xl.xtl_logger_destroy(UnsafeMutablePointer<xentoollog_logger>(logger))
            throw ToolstackError(operation: "libxl_ctx_alloc", code: rc, log: lines)
        }
        self.context = context
        self.logger = logger
        self.log = log
    }

    /// Read when first asked (doctor, release), not at every start: dpkg's status runs to megabytes. The
    /// package database and the library are this process's own, read by path like the libraries it loads.
    public private(set) lazy var libxlVersion: LibxlVersion? = {
        if let status = readFile(atPath: "/var/lib/dpkg/status"),
           let version = LibxlVersion.dpkg(release: libxlRelease, status: String(decoding: status, as: UTF8.self)) {
            return version
        }
        var path = [CChar](repeating: 0, count: 4096)
        var functions = xl
        guard xvf_xen_library_path(&functions, &path, path.count) != 0 else { return nil }
        return LibxlVersion.path(String(cString: path), release: libxlRelease)
    }()

    /// Everything libxl logged during the run, for `xvf -v`.
    public private(set) var messages: [String] = []

    /// Takes what libxl logged since the last call, keeps it for `messages`, and returns its lines.
    @discardableResult
    private func drainLog() -> [String] {
        let lines = Self.lines(log.takeText())
        messages += lines
        return lines
    }

    deinit {
        if let control { _ = xl.xc_interface_close(control) }
        _ = xl.libxl_ctx_free(context)
        xl.xtl_logger_destroy(UnsafeMutablePointer<xentoollog_logger>(logger))
    }

    /// Runs one libxl call and turns a non-zero return into an error with what libxl logged meanwhile.
    private func call(_ operation: String, _ body: () -> Int32) throws(ToolstackError) {
        drainLog()
        let rc = body()
        let lines = drainLog()
        if rc != 0 { throw ToolstackError(operation: operation, code: rc, log: lines) }
    }

    static func lines(_ text: String) -> [String] {
        text.split(separator: "\n").map(String.init).filter { !$0.isEmpty }
    }

    // MARK: domains

    public func domains() throws(ToolstackError) -> [XenDomain] {
        drainLog()
        var count: Int32 = 0
        guard let list = xl.libxl_list_domain(context, &count) else {
            throw ToolstackError(operation: "libxl_list_domain", code: ToolstackError.fail, log: drainLog())
        }
        defer { xl.libxl_dominfo_list_free(list, count) }
        return (0..<Int(count)).map { i in
            let info = list[i]
            var name = "(domain \(info.domid))"
            if let raw = xl.libxl_domid_to_name(context, info.domid) {
                name = String(cString: raw)
                free(raw)
            }
            let kind: XenDomain.Kind = switch info.domain_type {
            case LIBXL_DOMAIN_TYPE_PV: .pv
            case LIBXL_DOMAIN_TYPE_HVM: .hvm
            case LIBXL_DOMAIN_TYPE_PVH: .pvh
            default: .unknown
            }
            return XenDomain(id: info.domid, name: name, kind: kind)
        }
    }

    // MARK: assignable devices

    public func assignableAdd(_ address: PCIAddress, name: String?, rebind: Bool) throws(ToolstackError) {
        var named = device(address, name: name)
        defer { xl.libxl_device_pci_dispose(&named) }
        try call("libxl_device_pci_assignable_add") { xl.libxl_device_pci_assignable_add(context, &named, rebind ? 1 : 0) }
    }

    public func assignableList() throws(ToolstackError) -> [AssignableDevice] {
        drainLog()
        var count: Int32 = 0
        // NULL with count 0 is an empty list (or pciback not loaded, which libxl only logs).
        guard let list = xl.libxl_device_pci_assignable_list(context, &count) else { return [] }
        defer { xl.libxl_device_pci_assignable_list_free(list, count) }
        return (0..<Int(count)).map { i in
            AssignableDevice(address: Self.address(list[i]), name: list[i].name.map { String(cString: $0) })
        }
    }

    public func assignableRemove(_ reference: AssignableReference, rebind: Bool) throws(ToolstackError) {
        var named: libxl_device_pci
        switch reference {
        case .address(let address): named = device(address, name: nil)
        case .name(let name): named = device(nil, name: name)
        }
        defer { xl.libxl_device_pci_dispose(&named) }
        try call("libxl_device_pci_assignable_remove") {
            xl.libxl_device_pci_assignable_remove(context, &named, rebind ? 1 : 0)
        }
    }

    // MARK: domains' devices

    public func attach(_ spec: PCISpec, to domain: UInt32) throws(ToolstackError) {
        try withParsed(spec, "libxl_device_pci_add") { device in xl.libxl_device_pci_add(context, domain, &device, nil) }
    }

    public func detach(_ spec: PCISpec, from domain: UInt32, force: Bool) throws(ToolstackError) {
        if force {
            try withParsed(spec, "libxl_device_pci_destroy") { xl.libxl_device_pci_destroy(context, domain, &$0, nil) }
        } else {
            try withParsed(spec, "libxl_device_pci_remove") { xl.libxl_device_pci_remove(context, domain, &$0, nil) }
        }
    }

    public func devices(of domain: UInt32) throws(ToolstackError) -> [AttachedDevice] {
        var count: Int32 = 0
        // NULL with count 0 is "no PCI backend": a domain without devices.
        guard let list = xl.libxl_device_pci_list(context, domain, &count) else { return [] }
        defer { xl.libxl_device_pci_list_free(list, count) }
        return (0..<Int(count)).map {
            let device = list[$0]
            return AttachedDevice(address: Self.address(device), virtualDevFn: device.vdevfn, permissive: device.permissive,
                                  msitranslate: device.msitranslate, powerManagement: device.power_mgmt,
                                  relaxedRDM: device.rdm_policy == LIBXL_RDM_RESERVE_POLICY_RELAXED)
        }
    }

    // MARK: saving and restoring a domain

    public func save(_ domain: UInt32, to path: String) throws(ToolstackError) {
        try runXL(["xl", "save", String(domain), path], operation: "xl save")
    }

    public func restore(from path: String) throws(ToolstackError) {
        try runXL(["xl", "restore", path], operation: "xl restore")
    }

    public func migrate(_ domain: UInt32, to host: String, sshCommand: String?) throws(ToolstackError) {
        try runXL(["xl", "migrate"] + (sshCommand.map { ["-s", $0] } ?? []) + [String(domain), host], operation: "xl migrate")
    }

    /// Runs xl with an argument vector (the program runner comes from the command layer, which knows
    /// where the system's programs are and what environment they get); its output becomes the log.
    private func runXL(_ argv: [String], operation: String) throws(ToolstackError) {
        let (status, output) = runProgram(argv)
        let lines = Self.lines(output)
        messages += lines
        if status != 0 { throw ToolstackError(operation: operation, code: ToolstackError.fail, log: lines) }
    }

    // MARK: the machine

    public func capabilities() throws(ToolstackError) -> XenCapabilities {
        // Not `libxl_physinfo()`: the 4.17 struct is 128 bytes, and libxl 4.18 on clears and fills 136
        // (arch_capabilities at its end). The fields read here sit at the same offsets in every release.
        var buffer = xvf_physinfo()
        let (rc, capabilities) = withUnsafeMutableBytes(of: &buffer) { raw in
            let info = raw.baseAddress!.assumingMemoryBound(to: libxl_physinfo.self)
            xl.libxl_physinfo_init(info)
            defer { xl.libxl_physinfo_dispose(info) }
            drainLog()
            let rc = xl.libxl_get_physinfo(context, info)
            return (rc, XenCapabilities(pv: info.pointee.cap_pv, hvm: info.pointee.cap_hvm,
                                        passthrough: info.pointee.cap_hvm_directio, hap: info.pointee.cap_hap,
                                        shadow: info.pointee.cap_shadow))
        }
        let lines = drainLog()
        if rc != 0 { throw ToolstackError(operation: "libxl_get_physinfo", code: rc, log: lines) }
        return capabilities
    }

    /// One libxenctrl handle, opened by the first question that needs it, logging into libxl's log.
    private var control: OpaquePointer?
    private var controlTried = false

    public func passthroughEnabled(in domain: UInt32, for device: PCIAddress) throws(ToolstackError) -> Bool? {
        drainLog()
        if !controlTried {
            controlTried = true
            control = xl.xc_interface_open(UnsafeMutablePointer<xentoollog_logger>(logger), nil, 0)
        }
        guard let control else {
            drainLog()
            return nil
        }
        // XEN_DOMCTL_test_assign_device, as libxl asks it for HVM guests before an attach: Xen answers
        // EOPNOTSUPP first of all for a domain without an IOMMU context (iommu_do_domctl), before it
        // looks at the device; 0 when the device is dom0's or quarantined and could be assigned.
        let machineSBDF = UInt32(device.domain) << 16 | UInt32(device.bus) << 8 | UInt32(device.device) << 3
            | UInt32(device.function)
        let rc = xl.xc_test_assign_device(control, domain, machineSBDF)
        let error = errno
        drainLog()
        if rc == 0 { return true }
        switch error {
        case EOPNOTSUPP: return false
        case ESRCH:
            throw ToolstackError(operation: "xc_test_assign_device", code: ToolstackError.domainNotFound,
                                 log: ["domain \(domain) does not exist"])
        default: return nil
        }
    }

    // MARK: libxl_device_pci

    /// The spec as xl builds it: libxlutil parses the canonical string (already validated by PCISpec).
    private func withParsed(_ spec: PCISpec, _ operation: String,
                            _ body: (inout libxl_device_pci) -> Int32) throws(ToolstackError) {
        drainLog()
        let result = LibxlutilSpecReader.withDevice(spec, xl, body)
        let lines = drainLog()
        switch result {
        case .failure(let error):
            throw ToolstackError(operation: "xlu_pci_parse_spec_string", code: ToolstackError.invalid,
                                 log: [error.description])
        case .success(let rc):
            if rc != 0 { throw ToolstackError(operation: operation, code: rc, log: lines) }
        }
    }

    private func device(_ address: PCIAddress?, name: String?) -> libxl_device_pci {
        var device = libxl_device_pci()
        xl.libxl_device_pci_init(&device)
        if let address {
            device.domain = Int32(address.domain)
            device.bus = address.bus
            device.dev = address.device
            device.func = address.function
            device.vfunc_mask = 1
        }
        // libxl_device_pci_dispose frees the name: it must come from malloc.
        if let name { device.name = strdup(name) }
        return device
    }

    static func address(_ device: libxl_device_pci) -> PCIAddress {
        PCIAddress(domain: UInt16(truncatingIfNeeded: device.domain), bus: device.bus, device: device.dev & 0x1f,
                   function: device.func & 7)
    }
}
