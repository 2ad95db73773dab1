import SRIOV
import SimHost
import XenPCI

/// A toolstack for simulated hosts that follows libxl 4.17's PCI rules (libxl_pci.c), so everything
/// above the `Toolstack` protocol is tested in CI:
/// - assignable add is idempotent (a device on pciback only gets its name set and is re-quarantined);
///   the original driver is remembered (`driver_path`) only with rebind, and forgotten without it;
///   quarantine fails without an IOMMU, leaving the device on pciback as libxl does;
/// - assignable remove de-quarantines (fails for a device that is not in quarantine), takes it off
///   pciback, and rebinds only when asked and a driver was remembered (a refused bind returns -1);
///   a name that no device has is ERROR_NOTFOUND;
/// - attach needs a running domain and an assignable device (on pciback, held by no domain), a vslot
///   for `BB:DD.*`, seizes first with `seize=1`, applies permissive through pciback, and fails for a
///   domain created without passthrough as libxl does: Xen's "Operation not supported" for PV, the
///   failed test of the assignment ("cannot be assigned - no IOMMU?") for HVM;
/// - detach needs the device to be attached to that domain and leaves it on pciback, in quarantine.
/// Its messages are libxl's, so xvf's translation of them is tested too. Domains come from the host's
/// marker file; xenstore-like state lives in `SimXenstore`.
public final class SimulatedToolstack: Toolstack {
    let root: HostRoot
    private var log: [String] = []

    public init(root: HostRoot) {
        self.root = root
    }

    static let pciback = "sys/bus/pci/drivers/pciback"

    // MARK: domains

    var simulatedDomains: [SimDomain] {
        (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").compactMap { SimDomain(markerLine: $0) }
    }

    /// A failure the test asked for with a marker line `xen-fail OPERATION [ADDRESS]` (save, attach,
    /// detach), for the paths that undo what a command did before it.
    func failureInjected(_ operation: String, _ address: PCIAddress? = nil) -> Bool {
        let wanted = "xen-fail " + operation + (address.map { " \($0)" } ?? "")
        return (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").contains { $0 == wanted }
    }

    var hasIOMMU: Bool {
        !(root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").contains("xen-no-iommu")
    }

    /// The simulated host's libxl is the one its dpkg status says is installed (`SimLayout.libxl`), read
    /// the way the real toolstack reads the running system's.
    var installedLibxl: LibxlVersion? {
        let status = root.readText("var/lib/dpkg/status") ?? ""
        return XenLibraries.supportedReleases.lazy.compactMap { LibxlVersion.dpkg(release: $0, status: status) }.first
    }

    public var libxlRelease: String { installedLibxl?.release ?? "4.17" }
    public var libxlVersion: LibxlVersion? { installedLibxl }

    public func domains() throws(ToolstackError) -> [XenDomain] {
        // libxl reports a PVH dom0 as HVM: Xen flags it as an HVM container.
        [XenDomain(id: 0, name: "Domain-0", kind: XenHost.isPVHDom0(root) ? .hvm : .pv)] + simulatedDomains.map {
            XenDomain(id: $0.id, name: $0.name, kind: $0.kind == .hvm ? .hvm : .pv)
        }
    }

    // MARK: assignable

    public func assignableAdd(_ address: PCIAddress, name: String?, rebind: Bool) throws(ToolstackError) {
        SimInterruption.operation("assignableAdd")
        log = []
        var store = SimXenstore.load(root)
        try assignableAdd(address, name: name, rebind: rebind, store: &store, operation: "libxl_device_pci_assignable_add")
        try save(store, "libxl_device_pci_assignable_add")
    }

    private func assignableAdd(_ address: PCIAddress, name: String?, rebind: Bool, store: inout SimXenstore,
                               operation: String) throws(ToolstackError) {
        let function = "libxl__device_pci_assignable_add"
        if let name, name.isEmpty || name.utf8.count > 64 || !name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f }) {
            throw failure(operation, "error", 764, function, "Name '\(name)' is not valid")
        }
        let device = "sys/bus/pci/devices/\(address)"
        guard root.exists(device) else {
            throw failure(operation, "error", 774, function, "Couldn't lstat /\(device)")
        }
        guard root.isDirectory(Self.pciback) else {
            throw failure(operation, "error", 564, "pciback_dev_is_assigned", "Looks like pciback driver is not loaded")
        }
        let info = SimXenstore.info(address)
        if root.driver(of: address) == PCIDevice.pcibackDriver {
            note("warning", 802, function, "\(address) already assigned to pciback")
        } else {
            if let driver = root.driver(of: address) {
                try write("sys/bus/pci/drivers/\(driver)/unbind", address, operation)
                if rebind {
                    // libxl writes the driver to xenstore at once, before pciback takes the device: an
                    // interrupted add still remembers it.
                    store[info + "/driver_path"] = "/sys/bus/pci/drivers/" + driver
                    try save(store, operation)
                }
            } else if rebind, let kept = store[info + "/driver_path"] {
                note("info", 822, function, "\(address) not bound to a driver, will be rebound to \(kept)")
            } else if rebind {
                note("warning", 825, function, "\(address) not bound to a driver, will not be rebound.")
            }
            if !rebind { store[info + "/driver_path"] = nil }
            let slots = (root.readText(Self.pciback + "/slots") ?? "").split(separator: "\n").map(String.init)
            if !slots.contains(address.description) { try write(Self.pciback + "/new_slot", address, operation) }
            try write(Self.pciback + "/bind", address, operation)
        }
        store[info + "/name"] = name
        guard hasIOMMU else {
            try? save(store, operation)
            throw failure(operation, "error", 862, function, "failed to quarantine \(address)")
        }
        store[SimXenstore.quarantine(address)] = "1"
    }

    public func assignableList() throws(ToolstackError) -> [AssignableDevice] {
        log = []
        let store = SimXenstore.load(root)
        guard root.isDirectory(Self.pciback) else { return [] }
        return root.list(Self.pciback).compactMap { try? PCIAddress(parsing: $0) }.sorted().compactMap { address in
            let info = SimXenstore.info(address)
            guard store[info + "/domid"] == nil else { return nil }
            return AssignableDevice(address: address, name: store[info + "/name"])
        }
    }

    public func assignableRemove(_ reference: AssignableReference, rebind: Bool) throws(ToolstackError) {
        SimInterruption.operation("assignableRemove")
        log = []
        let operation = "libxl_device_pci_assignable_remove"
        let function = "libxl__device_pci_assignable_remove"
        var store = SimXenstore.load(root)
        let address: PCIAddress
        switch reference {
        case .address(let given): address = given
        case .name(let name):
            guard let found = named(name, store) else {
                throw failure(operation, "error", 722, "name2bdf", "no device named \(name)", code: ToolstackError.notFound)
            }
            address = found
        }
        guard store[SimXenstore.quarantine(address)] != nil else {
            throw failure(operation, "error", 891, function, "failed to de-quarantine \(address)")
        }
        // De-quarantining is a hypercall in libxl: it has taken effect whatever happens next.
        store[SimXenstore.quarantine(address)] = nil
        try save(store, operation)
        if root.driver(of: address) == PCIDevice.pcibackDriver {
            try write(Self.pciback + "/unbind", address, operation)
            // Only a device pciback has a slot for (new_slot, the hide list) needs remove_slot.
            let slots = (root.readText(Self.pciback + "/slots") ?? "").split(separator: "\n").map(String.init)
            if slots.contains(address.description) { try write(Self.pciback + "/remove_slot", address, operation) }
        } else {
            note("warning", 906, function, "Not bound to pciback")
        }
        let info = SimXenstore.info(address)
        store[info + "/name"] = nil
        if rebind {
            if let driverPath = store[info + "/driver_path"] {
                note("info", 917, function, "Rebinding to driver at \(driverPath)")
                do {
                    try root.writeAttribute(String(driverPath.dropFirst()) + "/bind", address.description)
                } catch {
                    note("error", 920, function, "Couldn't bind device to \(driverPath)")
                    try save(store, operation)
                    throw ToolstackError(operation: operation, code: -1, log: log)
                }
                store[info + "/driver_path"] = nil
            } else {
                note("warning", 928, function, "Couldn't find path for original driver; not rebinding")
            }
        }
        try save(store, operation)
    }

    func named(_ name: String, _ store: SimXenstore) -> PCIAddress? {
        for key in store.children(of: "/libxl/pci") where store["/libxl/pci/\(key)/name"] == name {
            let parts = key.split(separator: "-")
            guard parts.count == 4 else { continue }
            if let address = try? PCIAddress(parsing: "\(parts[0]):\(parts[1]):\(parts[2]).\(parts[3])") { return address }
        }
        return nil
    }

    // MARK: attach and detach

    public func attach(_ spec: PCISpec, to domainID: UInt32) throws(ToolstackError) {
        SimInterruption.operation("attach")
        log = []
        do { try add(spec, to: domainID) } catch { throw error.passedUp("add") }
    }

    private func add(_ spec: PCISpec, to domainID: UInt32) throws(ToolstackError) {
        let operation = "libxl_device_pci_add"
        var store = SimXenstore.load(root)
        guard let domain = simulatedDomains.first(where: { $0.id == domainID }) else {
            throw failure(operation, "error", 1633, "libxl__device_pci_add", "Domain \(domainID) does not exist",
                          code: ToolstackError.domainNotFound)
        }
        var address: PCIAddress
        if let given = spec.address {
            address = given
        } else {
            guard let name = spec.name, let found = named(name, store) else {
                throw failure(operation, "error", 1640, "libxl__device_pci_add",
                              "Domain \(domainID):PCI device name \(spec.name ?? "") not found", code: ToolstackError.notFound)
            }
            address = found
        }
        if failureInjected("attach", address) {
            throw failure(operation, "error", 1529, "pci_add_dm_done", "Domain \(domainID):xc_assign_device failed: Device or resource busy")
        }
        let holder = store[SimXenstore.info(address) + "/domid"]
        if domain.kind == .hvm, let holder, holder != String(domainID) {
            throw failure(operation, "error", 1652, "libxl__device_pci_add",
                          "Domain \(domainID):PCI device \(address) already assigned to a different guest?")
        }
        // Xen's test of the assignment (xc_test_assign_device), which libxl makes for HVM guests only:
        // a domain without an IOMMU context fails it before the device is looked at.
        if domain.kind == .hvm && !(hasIOMMU && domain.passthrough) {
            throw failure(operation, "error", 1650, "libxl__device_pci_add",
                          "Domain \(domainID):PCI device \(address) cannot be assigned - no IOMMU?")
        }
        if spec.allFunctions && spec.vslot == nil {
            throw failure(operation, "error", 1540, "libxl__device_pci_add",
                          "Domain \(domainID):Must specify a v-slot for multi-function devices", code: ToolstackError.invalid)
        }
        if spec.seize == true && root.driver(of: address) != PCIDevice.pcibackDriver
            && root.isDirectory(Self.pciback) {
            try assignableAdd(address, name: nil, rebind: true, store: &store, operation: operation)
        }
        let functions: [PCIAddress] = spec.allFunctions
            ? (0...7).map { PCIAddress(domain: address.domain, bus: address.bus, device: address.device, function: $0) }
                .filter { root.exists("sys/bus/pci/devices/\($0)") }
            : [address]
        let assignable = Set(try assignableList().map(\.address))
        for function in functions where !assignable.contains(function) || store[SimXenstore.info(function) + "/domid"] != nil {
            let short = "\(function.domain):\(String(function.bus, radix: 16)):\(String(function.device, radix: 16)).\(function.function)"
            throw failure(operation, "error", 1676, "libxl__device_pci_add",
                          "Domain \(domainID):PCI device \(short) is not assignable")
        }
        for function in functions {
            store[SimXenstore.info(function) + "/domid"] = String(domainID)
            try? root.writeAttribute("sys/bus/pci/devices/\(function)/reset", "1")
            if spec.permissive == true {
                do {
                    try root.writeAttribute(Self.pciback + "/permissive", function.description)
                } catch {
                    store[SimXenstore.info(function) + "/domid"] = nil
                    throw failure(operation, "error", 1512, "pci_add_dm_done",
                                  "Domain \(domainID):Setting permissive for device \(function) failed")
                }
            }
        }
        if domain.kind == .pv && !domain.passthrough {
            // Xen refuses a PV guest that was not created with passthrough; libxl gives up on the device.
            for function in functions { store[SimXenstore.info(function) + "/domid"] = nil }
            try save(store, operation)
            throw failure(operation, "error", 1529, "pci_add_dm_done",
                          "Domain \(domainID):xc_assign_device failed: Operation not supported")
        }
        let backend = SimXenstore.backend(domainID)
        let used = Set(store.children(of: backend).filter { $0.hasPrefix("vdevfn-") }.compactMap { store[backend + "/" + $0] })
        // PV guests number their devices from slot 0 (pcifront's own bus). An HVM guest's device model puts
        // a device in the first free slot of the emulated bus, after its own: host bridge, PIIX3, VGA and the
        // Xen platform device take 00-03, so the lab's HVM guests got 04.0, then 05.0 for a hot-plugged one.
        let first: UInt32 = domain.kind == .hvm ? 4 : 0
        let slot: UInt32 = spec.vslot.map(UInt32.init) ?? (first...0x1f).first { !used.contains(String($0 << 3)) } ?? 0x1f
        var next = (store.children(of: backend).filter { $0.hasPrefix("dev-") }.compactMap { Int($0.dropFirst(4)) }.max() ?? -1) + 1
        for function in functions {
            let opts = "msitranslate=\(spec.msitranslate == true ? 1 : 0),power_mgmt=\(spec.powerManagement == true ? 1 : 0),"
                + "permissive=\(spec.permissive == true ? 1 : 0),rdm_policy=\(spec.rdmPolicy?.rawValue ?? "strict")"
            store[backend + "/dev-\(next)"] = function.description
            store[backend + "/vdevfn-\(next)"] = String(slot << 3 | (spec.allFunctions ? UInt32(function.function) : 0))
            store[backend + "/opts-\(next)"] = opts
            store[SimXenstore.quarantine(function)] = nil
            next += 1
        }
        try save(store, operation)
    }

    public func detach(_ spec: PCISpec, from domainID: UInt32, force: Bool) throws(ToolstackError) {
        SimInterruption.operation("detach")
        log = []
        do { try remove(spec, from: domainID, force: force) } catch { throw error.passedUp("remove") }
    }

    private func remove(_ spec: PCISpec, from domainID: UInt32, force: Bool) throws(ToolstackError) {
        let operation = force ? "libxl_device_pci_destroy" : "libxl_device_pci_remove"
        var store = SimXenstore.load(root)
        guard simulatedDomains.contains(where: { $0.id == domainID }) else {
            throw failure(operation, "error", 1950, "libxl__device_pci_remove_common", "Domain \(domainID) does not exist",
                          code: ToolstackError.domainNotFound)
        }
        guard let address = spec.address ?? spec.name.flatMap({ named($0, store) }) else {
            throw failure(operation, "error", 1955, "libxl__device_pci_remove_common",
                          "Domain \(domainID):PCI device name \(spec.name ?? "") not found", code: ToolstackError.notFound)
        }
        if failureInjected("detach", address) {
            throw failure(operation, "error", 2218, "pci_remove_timeout", "Domain \(domainID):timed out waiting for the guest to release \(address)")
        }
        // A PV guest whose pcifront has not connected yet (still starting, seen in the lab right after an
        // attach): libxl waits for the backend, gives up, and returns success with the device still listed.
        if failureInjected("pcifront-silent"), simulatedDomains.first(where: { $0.id == domainID })?.kind == .pv {
            log.append("libxl: error: libxl_device.c:1470:libxl__wait_for_backend: Backend "
                       + "/local/domain/0/backend/pci/\(domainID)/0 not ready")
            return
        }
        let backend = SimXenstore.backend(domainID)
        let keys = store.children(of: backend).filter { $0.hasPrefix("dev-") && store[backend + "/" + $0] == address.description }
        guard let key = keys.first else {
            throw failure(operation, "error", 1968, "do_pci_remove",
                          "Domain \(domainID):PCI device not attached to this domain", code: ToolstackError.invalid)
        }
        let index = key.dropFirst(4)
        for field in ["dev-", "vdevfn-", "opts-"] { store[backend + "/\(field)\(index)"] = nil }
        try? root.writeAttribute("sys/bus/pci/devices/\(address)/reset", "1")
        store[SimXenstore.info(address) + "/domid"] = nil
        if hasIOMMU { store[SimXenstore.quarantine(address)] = "1" }
        try save(store, operation)
    }

    public func devices(of domainID: UInt32) throws(ToolstackError) -> [AttachedDevice] {
        let store = SimXenstore.load(root)
        let backend = SimXenstore.backend(domainID)
        return store.children(of: backend).filter { $0.hasPrefix("dev-") }
            .sorted { Int($0.dropFirst(4)) ?? 0 < Int($1.dropFirst(4)) ?? 0 }
            .compactMap { key in
                guard let address = store[backend + "/" + key].flatMap({ try? PCIAddress(parsing: $0) }) else { return nil }
                let vdevfn = store[backend + "/vdevfn-" + key.dropFirst(4)].flatMap { UInt32($0) } ?? 0
                // libxl reads the options back from opts-N ("msitranslate=0,power_mgmt=0,permissive=1,…").
                let options = Dictionary((store[backend + "/opts-" + key.dropFirst(4)] ?? "").split(separator: ",").map {
                    (String($0.prefix { $0 != "=" }), String($0.drop { $0 != "=" }.dropFirst()))
                }, uniquingKeysWith: { $1 })
                return AttachedDevice(address: address, virtualDevFn: vdevfn, permissive: options["permissive"] == "1",
                                      msitranslate: options["msitranslate"] == "1",
                                      powerManagement: options["power_mgmt"] == "1",
                                      relaxedRDM: options["rdm_policy"] == "relaxed")
            }
    }

    // MARK: save and restore (xl's)

    /// The first line of a simulated image, so that restore refuses any other file as xl does.
    static let imageHeader = "xvf-sim saved domain"

    /// As `xl save` does: the domain's configuration (here its marker line, and each PCI device it still
    /// held) goes into the file and the domain is destroyed, its devices left on pciback in quarantine.
    /// Saving a domain that still holds a device "succeeds" with libxl's complaint about the PCI backend,
    /// and its restore brings back a guest that crashes at once (what the lab saw in 5 of 7 tries).
    public func save(_ domainID: UInt32, to path: String) throws(ToolstackError) {
        SimInterruption.operation("save")
        log = []
        guard let domain = simulatedDomains.first(where: { $0.id == domainID }) else {
            log.append("libxl: error: libxl_domain.c:0:libxl_domain_suspend: Domain \(domainID) does not exist")
            throw ToolstackError(operation: "xl save", code: ToolstackError.domainNotFound, log: log)
        }
        if failureInjected("save") {
            log.append("libxl: error: libxl_dom_suspend.c:0:suspend_common_wait_guest_timeout: Domain \(domainID):guest did "
                       + "not suspend, timed out")
            throw ToolstackError(operation: "xl save", code: ToolstackError.fail, log: log)
        }
        let held = try devices(of: domainID)
        if !held.isEmpty {
            log.append("libxl: error: libxl_device.c:1470:libxl__wait_for_backend: Backend "
                       + "/local/domain/0/backend/pci/\(domainID)/0 not ready")
        }
        let image = ([Self.imageHeader, domain.markerLine] + held.map { "pci \($0.address)" }).joined(separator: "\n") + "\n"
        do { try root.replaceFile(String(path.drop { $0 == "/" }), with: image, mode: 0o600) } catch {
            log.append("xl: cannot write \(path): \(error)")
            throw ToolstackError(operation: "xl save", code: ToolstackError.fail, log: log)
        }
        try destroy(domainID)
    }

    /// As `xl restore` does: the saved domain runs again under the next free id.
    public func restore(from path: String) throws(ToolstackError) {
        SimInterruption.operation("restore")
        log = []
        let lines = (root.readText(String(path.drop { $0 == "/" })) ?? "").split(separator: "\n")
        guard lines.first == Substring(Self.imageHeader), lines.count >= 2, var domain = SimDomain(markerLine: lines[1]) else {
            log.append("xl: error: \(path) is not a saved domain image")
            throw ToolstackError(operation: "xl restore", code: ToolstackError.fail, log: log)
        }
        let running = simulatedDomains
        if running.contains(where: { $0.name == domain.name }) {
            log.append("libxl: error: libxl_create.c:0:libxl__domain_config_setdefault: Domain \(domain.name) already exists")
            throw ToolstackError(operation: "xl restore", code: ToolstackError.fail, log: log)
        }
        domain.id = (running.map(\.id).max() ?? 0) + 1
        if lines.dropFirst(2).contains(where: { $0.hasPrefix("pci ") }) {
            // Restored with its devices still in its saved state, the guest dies at once.
            log.append("(XEN) Domain \(domain.id) (vcpu#0) crashed on cpu#0: Fault while accessing guest memory")
            return
        }
        try writeDomains(running + [domain])
    }

    // MARK: migration (xl's)

    /// The marker line that lets a simulated host reach another simulated tree by a host name, as ssh
    /// reaches another dom0: `xen-migrate-host NAME /path/of/its/root`. It stands for the network and the
    /// receiving xl; xvf's own commands on that host go through the ssh stand-in tests put on PATH.
    public static let migrationHostLine = "xen-migrate-host"

    /// As `xl migrate` does (tools/xl/xl_migrate.c):
    /// - a domain that holds a device fails at once, as Xen refuses log-dirty mode for it (the lab's
    ///   "Failed to enable logdirty"), and runs on; so does a PV domain on a Xen without shadow paging
    ///   (`xen-no-shadow`), with or without a device, as Debian 13's 4.20 does in the lab;
    /// - with an empty ssh command, xl runs HOST itself as the receiver, which the simulator takes to be
    ///   `xl migrate-receive` on this host: the domain moves to the next free id here, under its name;
    /// - otherwise HOST is another simulated tree named by a `xen-migrate-host` line, and the domain moves
    ///   there (next free id there; a route to this tree itself is this host); an unknown HOST fails as ssh
    ///   does, before anything moved;
    /// - a domain of that name on the receiver makes the receiver fail its start, and xl resumes the domain
    ///   here ("Migration failed due to problems at target");
    /// - `xen-fail migrate` fails the suspend before the point of no return (the domain runs on here);
    ///   `xen-fail migrate-handshake` fails after it: the domain stays here paused as NAME--migratedaway
    ///   and the receiver has nothing, the "undefined" state xl asks the user to check at both ends.
    public func migrate(_ domainID: UInt32, to host: String, sshCommand: String?) throws(ToolstackError) {
        SimInterruption.operation("migrate")
        log = []
        func failed(_ lines: [String]) -> ToolstackError {
            log += lines
            return ToolstackError(operation: "xl migrate", code: ToolstackError.fail, log: log)
        }
        let running = simulatedDomains
        guard let domain = running.first(where: { $0.id == domainID }) else {
            throw failed(["libxl: error: libxl_utils.c:0:libxl_domid_to_name: Domain \(domainID) does not exist"])
        }
        var receiver: SimulatedToolstack?
        if sshCommand != "" {
            let marker = (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n")
            let route = marker.lazy.map { $0.split(separator: " ").map(String.init) }
                .first { $0.count == 3 && $0[0] == Self.migrationHostLine && $0[1] == host }
            guard let route else {
                throw failed(["ssh: Could not resolve hostname \(host): Name or service not known",
                              "migration receiver stream: failed to read banner",
                              "(command run was: exec \(sshCommand ?? "ssh") \(host) xl migrate-receive )"])
            }
            receiver = SimulatedToolstack(root: HostRoot(route[2]))
        }
        if try !devices(of: domainID).isEmpty {
            throw failed(["xc: error: Failed to enable logdirty: 22,0,22 (22 = Invalid argument): Internal error",
                          "libxl: error: libxl_stream_write.c:0:libxl__xc_domain_save_done: Domain \(domainID):saving domain: "
                          + "domain responded to suspend request: Invalid argument",
                          "migration sender: libxl_domain_suspend failed (rc=-8)",
                          "Migration failed, resuming at sender."])
        }
        let shadow = try capabilities().shadow
        if domain.kind == .pv && !shadow {
            throw failed(["xc: error: Failed to enable logdirty: 95,22,0 (22 = Invalid argument): Internal error",
                          "xc: error: Save failed (22 = Invalid argument): Internal error",
                          "libxl: error: libxl_stream_write.c:0:libxl__xc_domain_save_done: Domain \(domainID):saving domain: "
                          + "domain did not respond to suspend request: Invalid argument",
                          "migration sender: libxl_domain_suspend failed (rc=-8)",
                          "Migration failed, resuming at sender."])
        }
        if failureInjected("migrate") {
            throw failed(["libxl: error: libxl_dom_suspend.c:0:suspend_common_wait_guest_timeout: Domain \(domainID):guest did "
                          + "not suspend, timed out",
                          "migration sender: libxl_domain_suspend failed (rc=-3)",
                          "Migration failed, resuming at sender."])
        }
        // A route to this very tree is a migration to this host through ssh (to localhost).
        if let other = receiver, other.root.path("") == root.path("") { receiver = nil }
        let others = (receiver ?? self).simulatedDomains.filter { $0.id != domainID || receiver != nil }
        if others.contains(where: { $0.name == domain.name }) {
            throw failed(["migration target: Domain creation failed (code -3).",
                          "libxl: error: libxl_create.c:0:libxl__domain_config_setdefault: Domain \(domain.name) already exists",
                          "migration sender: Target reports startup failure (status code 1).",
                          "migration sender: Trying to resume at our end.", "migration sender: Resumed OK.",
                          "Migration failed due to problems at target."])
        }
        log.append("migration sender: Target has acknowledged transfer.")
        if failureInjected("migrate-handshake") {
            var away = domain
            away.name += "--migratedaway"
            try writeDomains(running.filter { $0.id != domainID } + [away])
            throw failed(["migration sender: Giving target permission to start.",
                          "migration receiver stream: unexpected end of file reading success/failure report message",
                          "** Migration failed during final handshake **", "Domain state is now undefined !"])
        }
        log += ["migration sender: Giving target permission to start.", "migration sender: Target reports successful startup.",
                "Migration successful."]
        var moved = domain
        if let receiver {
            moved.id = (receiver.simulatedDomains.map(\.id).max() ?? 0) + 1
            try receiver.writeDomains(receiver.simulatedDomains + [moved])
            try destroy(domainID)
        } else {
            moved.id = (running.map(\.id).max() ?? 0) + 1
            try writeDomains(running.filter { $0.id != domainID } + [moved])
        }
    }

    /// Destroys a domain as libxl does: its devices stay on pciback, back in quarantine.
    private func destroy(_ domainID: UInt32) throws(ToolstackError) {
        var store = SimXenstore.load(root)
        let backend = SimXenstore.backend(domainID)
        for key in store.children(of: backend) where key.hasPrefix("dev-") {
            if let address = store[backend + "/" + key].flatMap({ try? PCIAddress(parsing: $0) }) {
                store[SimXenstore.info(address) + "/domid"] = nil
                if hasIOMMU { store[SimXenstore.quarantine(address)] = "1" }
            }
        }
        for key in store.entries.keys where key.hasPrefix(backend + "/") { store[key] = nil }
        try save(store, "xl save")
        try writeDomains(simulatedDomains.filter { $0.id != domainID })
    }

    /// The marker file with `domains` as its domain lines, every other line kept.
    private func writeDomains(_ domains: [SimDomain]) throws(ToolstackError) {
        let others = (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n").filter { SimDomain(markerLine: $0) == nil }
        let text = (others.map(String.init) + domains.sorted { $0.id < $1.id }.map(\.markerLine)).joined(separator: "\n") + "\n"
        do { try root.replaceFile(SimulatedHost.markerFile, with: text) } catch {
            throw ToolstackError(operation: "xl", code: ToolstackError.fail, log: log + ["\(error)"])
        }
    }

    // MARK: the machine

    /// Passthrough follows the host's IOMMU (`SimLayout.xenIOMMU`).
    public func capabilities() throws(ToolstackError) -> XenCapabilities {
        let marker = (root.readText(SimulatedHost.markerFile) ?? "").split(separator: "\n")
        return XenCapabilities(pv: true, hvm: true, passthrough: hasIOMMU, hap: !marker.contains("xen-no-hap"),
                               shadow: !marker.contains("xen-no-shadow"))
    }

    /// Xen's answer for the domain: an IOMMU context only when the host has an IOMMU and the domain was
    /// created for passthrough; nothing to say for a device another domain holds (Xen's EINVAL).
    public func passthroughEnabled(in domainID: UInt32, for device: PCIAddress) throws(ToolstackError) -> Bool? {
        guard let domain = simulatedDomains.first(where: { $0.id == domainID }) else {
            throw ToolstackError(operation: "xc_test_assign_device", code: ToolstackError.domainNotFound,
                                 log: ["domain \(domainID) does not exist"])
        }
        guard hasIOMMU && domain.passthrough else { return false }
        let holder = SimXenstore.load(root)[SimXenstore.info(device) + "/domid"]
        return holder == nil || holder == String(domainID) ? true : nil
    }

    // MARK: helpers

    private func note(_ level: String, _ line: Int, _ function: String, _ message: String) {
        log.append("libxl: \(level): libxl_pci.c:\(line):\(function): \(message)")
    }

    func failure(_ operation: String, _ level: String, _ line: Int, _ function: String, _ message: String,
                         code: Int32 = ToolstackError.fail) -> ToolstackError {
        note(level, line, function, message)
        return ToolstackError(operation: operation, code: code, log: log)
    }

    private func write(_ attribute: String, _ address: PCIAddress, _ operation: String) throws(ToolstackError) {
        do {
            try root.writeAttribute(attribute, address.description)
        } catch {
            note("error", 0, "sysfs_write_bdf", "Couldn't write \(address) to /\(attribute): \(error)")
            throw ToolstackError(operation: operation, code: ToolstackError.fail, log: log)
        }
    }

    private func save(_ store: SimXenstore, _ operation: String) throws(ToolstackError) {
        do {
            try store.save(root)
        } catch {
            throw ToolstackError(operation: operation, code: ToolstackError.fail, log: log + ["xenstore: \(error)"])
        }
    }
}

private extension ToolstackError {
    /// libxl runs a device's attach and detach as an asynchronous operation whose generic end logs one more
    /// error after the cause (libxl_device.c, device_addrm_aocomplete), so the cause is never the last line.
    func passedUp(_ action: String) -> ToolstackError {
        ToolstackError(operation: operation, code: code,
                       log: log + ["libxl: error: libxl_device.c:1500:device_addrm_aocomplete: unable to \(action) device"])
    }
}
