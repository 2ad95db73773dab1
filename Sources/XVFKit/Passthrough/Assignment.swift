import SRIOV
import XenPCI

/// `xvf assign`: what the user asked for.
public struct AssignRequest: Sendable {
    /// A spec (`05:10.0,permissive=1`), a device (`05:10.0`, `eno49/3`) or a PF interface (`eno49`: a pool).
    public var target: String?
    /// `--pf`: pick a VF of this PF.
    public var pf: String?
    public var domain: String
    public var permissive = false
    public var seize = false
    public var noMSITranslate = false
    public var powerManagement = false
    public var rdmPolicy: String?
    public var vslot: String?
    /// Assign even a device dom0 depends on (the disk behind /, the default-route interface).
    public var force = false
    /// The VF's link settings for this guest (`--mac`, `--vlan`, …), set through its PF before the attach.
    public var settings = VFLinkSettings()

    public init(target: String?, pf: String?, domain: String) {
        self.target = target
        self.pf = pf
        self.domain = domain
    }
}

/// The assign chain: refuse what must not go → make assignable (remembering the driver) → attach →
/// read back and verify → report. A failure after "make assignable" gives the device back to its driver.
/// The choice of device and the changes happen under the host lock, on a fresh reading of the host.
public enum Assignment {
    /// Carries the request out (or, with `dryRun`, only plans it) and returns the report.
    public static func run(_ request: AssignRequest, on host: Host, dryRun: Bool) throws(XVFError) -> ChangeReport {
        try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            let selection = try Selection(request, host: host)
            let inventory = try host.inventory()
            return (try choose(selection, request, inventory: inventory, safety: try host.safety(), toolstack: toolstack),
                    inventory)
        }, planned: { planned in
            described(planned.0, request, inventory: planned.1, host: host)
        }, apply: { (planned, toolstack) throws(XVFError) in
            try perform(planned.0, inventory: planned.1, toolstack: toolstack, root: host.root)
        })
    }

    /// The device (or pool) the request names and the options to attach with.
    struct Selection {
        enum Source {
            case spec(PCISpec)
            case pool(PCIDevice)
        }
        var source: Source
        var flags: AssignRequest
        /// The host's leases: a pool never hands out a VF bound to one.
        var leases: [Lease] = []

        init(_ request: AssignRequest, host: Host) throws(XVFError) {
            flags = request
            leases = host.leases()
            if let pf = request.pf {
                guard request.target == nil else {
                    throw XVFError(.deviceAndPF(pf: pf))
                }
                source = .pool(try host.physicalFunction(pf))
                return
            }
            let inventory = try host.inventory()
            guard let target = request.target else {
                throw XVFError(.nothingToAssign)
            }
            // A lease's name: the VF bound to it, with the link its lease gave it at boot.
            if let leased = try Leases.device(target, host: host) {
                source = .spec(try Self.spec(PCISpec(address: leased.address)))
                return
            }
            let looksLikeSpec = target.contains(",") || target.contains("@") || target.contains("=") || target.hasSuffix(".*")
            if !looksLikeSpec, let name = try? DeviceName(parsing: target) {
                if name.isList {
                    throw XVFError(.severalVFs(target))
                }
                let found: [ResolvedDevice]
                do { found = try inventory.resolve(name) } catch { throw XVFError(error) }
                guard let device = found.first?.device else {
                    throw XVFError(.vfNotCreatedYet(target))
                }
                if case .interface = name, device.isPhysicalFunction {
                    source = .pool(device)
                    return
                }
                source = .spec(try Self.spec(PCISpec(address: device.address)))
                return
            }
            let spec: PCISpec
            do { spec = try PCISpec(parsing: target) } catch { throw XVFError(error) }
            guard let address = spec.address else {
                throw XVFError(.specWithoutAddress(target))
            }
            guard inventory[address] != nil else {
                throw XVFError(.notAPCIDevice(name: target, address))
            }
            source = .spec(spec)
        }

        private static func spec(_ make: @autoclosure () throws(InputError) -> PCISpec) throws(XVFError) -> PCISpec {
            do { return try make() } catch { throw XVFError(error) }
        }

        /// The spec for `address` with the command-line options merged in; a flag that contradicts the
        /// spec string is refused rather than one of them silently winning.
        func spec(for address: PCIAddress) throws(XVFError) -> PCISpec {
            var spec: PCISpec
            switch source {
            case .spec(let given): spec = given
            case .pool: spec = try Self.spec(PCISpec(address: address))
            }
            func set(_ value: inout Bool?, _ wanted: Bool, _ flag: String, _ key: String) throws(XVFError) {
                if value == !wanted { throw XVFError(.contradictsSpec(flag: flag, spec: "\(key)=\(wanted ? 0 : 1)")) }
                value = wanted
            }
            if flags.permissive { try set(&spec.permissive, true, "--permissive", "permissive") }
            if flags.seize { try set(&spec.seize, true, "--seize", "seize") }
            if flags.noMSITranslate { try set(&spec.msitranslate, false, "--no-msitranslate", "msitranslate") }
            if flags.powerManagement { try set(&spec.powerManagement, true, "--power-mgmt", "power_mgmt") }
            if let text = flags.rdmPolicy {
                guard let policy = PCISpec.RDMPolicy(rawValue: text) else {
                    throw XVFError(.badRDMPolicy(text))
                }
                if let given = spec.rdmPolicy, given != policy {
                    throw XVFError(.contradictsSpec(flag: "--rdm-policy \(text)", spec: "rdm_policy=\(given.rawValue)"))
                }
                spec.rdmPolicy = policy
            }
            if let text = flags.vslot {
                let slot: UInt8
                do { slot = try PCISpec.parseVirtualSlot(text, in: "--vslot \(text)") } catch {
                    throw XVFError(error)
                }
                if let given = spec.vslot, given != slot {
                    throw XVFError(.contradictsSpec(flag: "--vslot \(text)", spec: "@\(hex(given, width: 2))"))
                }
                spec.vslot = slot
            }
            return spec
        }
    }

    struct Choice {
        /// Where the device comes from: named, or picked from a PF's pool.
        var source: Selection.Source
        var devices: [PCIDevice]
        var spec: PCISpec
        /// Nil only in a dry run that could not use libxl: the domain is then not checked.
        var domain: XenDomain?
        /// The domain as the report names it.
        var domainText: String
        var holders: Holders
        /// The VF's link settings across guests; nil for a device that is no VF of a PF with an interface.
        var handOver: VFHandOver?
        var settings: VFLinkSettings
    }

    /// Resolves the domain, picks the device, and refuses what must not be assigned. `toolstack` is nil
    /// only in a dry run that cannot use libxl (`planningToolstack`), which then checks neither the
    /// domain nor which domains hold which devices.
    static func choose(_ selection: Selection, _ request: AssignRequest, inventory: HostInventory, safety: HostSafety,
                       toolstack: (any Toolstack)?) throws(XVFError) -> Choice {
        let domain = try toolstack?.resolveDomain(request.domain)
        let holders = try toolstack?.currentHolders() ?? [:]
        let devices = try pickDevices(selection, inventory: inventory, safety: safety, holders: holders)
        for device in devices {
            try PassthroughChecks.refuse(device, inventory: inventory, safety: safety, holders: holders, except: domain,
                                         action: "assign", force: request.force)
            if let domain { try PVHDom0.refuseAssign(device, to: domain, label: inventory.label(device), root: inventory.root) }
        }
        if let toolstack, let domain { try toolstack.requirePassthrough(in: domain, for: devices[0].address) }
        if let domain { ForeignToolstack.warnIfLibvirt(domain, root: inventory.root) }
        let handOver = devices.count == 1 ? VFHandOver(devices[0], inventory: inventory) : nil
        try checkSettings(request, handOver: handOver, label: inventory.label(devices[0]), root: inventory.root)
        // On a dom0 the toolstack is missing only when libxl cannot be used; a warning says why.
        let domainText = domain.map { "domain \($0.id) (\($0.name))" }
            ?? "domain \(request.domain) (not checked: \(XenHost.isControlDomain(inventory.root) ? "libxl cannot be used" : "not a Xen dom0"))"
        return Choice(source: selection.source, devices: devices, spec: try selection.spec(for: devices[0].address),
                      domain: domain, domainText: domainText, holders: holders, handOver: handOver, settings: request.settings)
    }

    /// Spec options that do nothing for this guest's type, as libxl 4.17–4.20 passes them on: for a PV
    /// guest msitranslate and power_mgmt go only into pciback's opts, which it ignores, and rdm_policy is
    /// Xen's rule for mapping reserved memory into a translated (HVM) guest; for an HVM guest only the
    /// qemu-xen-traditional device model reads msitranslate and power_mgmt (libxl gives qemu-xen neither).
    static func ineffectiveOptions(_ spec: PCISpec, domain: XenDomain) -> String? {
        let modelOnly = [("msitranslate", spec.msitranslate), ("power_mgmt", spec.powerManagement)]
            .filter { $0.1 != nil }.map(\.0)
        var names: [String] = []
        var why: [String] = []
        switch domain.kind {
        case .pv:
            if !modelOnly.isEmpty {
                names += modelOnly
                why.append("\(modelOnly.joined(separator: " and ")) for an HVM guest's device model")
            }
            if spec.rdmPolicy != nil {
                names.append("rdm_policy")
                why.append("rdm_policy for the reserved memory Xen maps into HVM guests")
            }
        case .hvm:
            if !modelOnly.isEmpty {
                names += modelOnly
                why.append("only the qemu-xen-traditional device model reads \(modelOnly.count == 1 ? "it" : "them"); "
                           + "libxl does not pass \(modelOnly.count == 1 ? "it" : "them") to qemu-xen")
            }
        case .pvh, .unknown:
            break
        }
        guard !names.isEmpty else { return nil }
        let one = names.count == 1
        return "domain \(domain.id) (\(domain.name)) is \(domain.kind == .pv ? "PV" : "HVM"): "
            + "\(names.joined(separator: " and ")) \(one ? "has" : "have") no effect on it (\(why.joined(separator: ", "))); "
            + "\(one ? "it is" : "they are") passed on as given"
    }

    /// Link settings are for one VF whose PF has an interface, and need `ip`.
    static func checkSettings(_ request: AssignRequest, handOver: VFHandOver?, label: String, root: HostRoot) throws(XVFError) {
        guard !request.settings.isEmpty else { return }
        guard handOver != nil else {
            throw XVFError(.linkSettingsNeedVF(label: label))
        }
        if request.settings.qos != nil && request.settings.vlan == nil {
            throw XVFError(.qosWithoutVLAN)
        }
        try ProgramGuard.check([.run(["ip"])], root: root)
    }

    static func pickDevices(_ selection: Selection, inventory: HostInventory, safety: HostSafety,
                            holders: Holders) throws(XVFError) -> [PCIDevice] {
        switch selection.source {
        case .pool(let pf):
            return [try VFPool.choose(from: pf, inventory: inventory, safety: safety, holders: holders,
                                      leases: selection.leases)]
        case .spec(let spec):
            let address = spec.address!
            guard spec.allFunctions else {
                // The selection was made on this same reading of the host.
                guard let device = inventory[address] else {
                    throw XVFError(.notAPCIDevice(name: nil, address))
                }
                return [device]
            }
            let functions = (0...7).compactMap {
                inventory[PCIAddress(domain: address.domain, bus: address.bus, device: address.device, function: $0)]
            }
            guard !functions.isEmpty else { throw XVFError(.noFunctions(spec.deviceDescription)) }
            return functions
        }
    }

    // MARK: the chain

    static func perform(_ choice: Choice, inventory: HostInventory, toolstack: any Toolstack,
                        root: HostRoot) throws(XVFError) -> ChangeReport {
        // A real run resolved the domain through the toolstack it plans and works with.
        guard let domain = choice.domain else {
            throw XVFError(.domainNotResolved(choice.domainText))
        }
        let domainText = choice.domainText
        let primary = choice.devices[0]
        let label = inventory.label(primary)
        if choice.holders[primary.address]?.id == domain.id {
            // Settings asked for on a VF the guest already has are set on the running VF, after keeping
            // what it had for `xvf release` (unless an earlier assign kept it: the oldest record wins).
            if let handOver = choice.handOver, !choice.settings.isEmpty {
                let before = handOver.current(root: root)
                guard let step = handOver.step(choice.settings, from: before) else {
                    return ChangeReport(["\(label) is already attached to \(domainText) with that link; nothing to do"])
                }
                if let before { _ = try handOver.record(before, domain: domainText, root: root) }
                do { try step.perform(on: root) } catch { throw XVFError(.linkSetting(label: label), underlying: error) }
                return ChangeReport(["\(label) is already attached to \(domainText); its link is set: \(step)"])
            }
            return ChangeReport(["\(label) is already attached to \(domainText); nothing to do"])
        }
        if let note = ineffectiveOptions(choice.spec, domain: domain) { Warnings.add(note) }
        var report: [String] = []
        var madeAssignable: [(PCIAddress, String?)] = []
        var settingsBack: HostStep?
        var recordWritten = false
        func undo() -> String {
            root.undoing {
                var said = madeAssignable.reversed().map {
                    AssignableUndo.giveBack($0.0, to: $0.1, toolstack: toolstack, root: root)
                }
                if let settingsBack, let handOver = choice.handOver {
                    do {
                        try settingsBack.perform(on: root)
                        said.append("put \(handOver.label)'s link settings back")
                    } catch {
                        said.append("could not put \(handOver.label)'s link settings back (\(error)): run `\(settingsBack)`")
                    }
                }
                if recordWritten, let handOver = choice.handOver { try? handOver.forget(root: root) }
                return said.joined(separator: "; ")
            }
        }
        // 0. the VF's link for this guest, after keeping what it had (for `xvf release`). An assign that
        // sets nothing leaves the link as it is, and nothing of it needs putting back: it reads nothing
        // (`ip` is one more process, a tenth of the whole assign on the lab's dom0).
        if let handOver = choice.handOver, !choice.settings.isEmpty {
            let before = handOver.current(root: root)
            if let before { recordWritten = try handOver.record(before, domain: domainText, root: root) }
            if before == nil {
                Warnings.add("\(handOver.label): its link settings before the assign cannot be read (`ip -json link show`), "
                             + "so `xvf release` cannot put them back")
            }
            if let step = handOver.step(choice.settings, from: before) {
                do {
                    try step.perform(on: root)
                } catch {
                    let undone = undo()
                    throw XVFError(.guestLinkSetting(label: label), underlying: error)
                        .followed(by: undone.isEmpty ? .nothingChanged : .report(undone))
                }
                if let before { settingsBack = handOver.undoing(choice.settings.changes(from: before), to: before) }
                report.append("\(label): link set for the guest: \(step)")
            }
        }
        // 1. make assignable, remembering each device's driver
        for device in choice.devices where !device.isOnPciback {
            do {
                if let note = try PcibackState.makeAssignable(
                    device.address, name: nil, rebind: true, override: PcibackState.needsOverride(device, inventory: inventory),
                    toolstack: toolstack, root: root,
                    explain: { ErrorAdvice.libxl($0, device: device.address, domain: domain, holders: choice.holders) }) {
                    Warnings.add(note)
                }
                madeAssignable.append((device.address, device.driver))
                report.append("\(inventory.label(device)): made assignable "
                              + "(\(device.driver.map { "was on \($0)" } ?? "had no driver"), now on pciback)")
            } catch {
                // libxl leaves a device it could not quarantine on pciback: give that one back as well.
                if root.driver(of: device.address) == PCIDevice.pcibackDriver {
                    madeAssignable.append((device.address, device.driver))
                }
                let undone = undo()
                throw error.followed(by: .report(undone))
            }
        }
        // 2. attach
        do {
            try toolstack.attach(choice.spec, to: domain.id)
        } catch {
            let undone = undo()
            throw ErrorAdvice.libxl(error, device: primary.address, domain: domain, holders: choice.holders)
                .followed(by: .report(undone))
        }
        // 3. read back and verify
        let listed = (try? toolstack.devices(of: domain.id)) ?? []
        let problems = verify(choice, in: domain, listed: listed, root: root)
        if !problems.isEmpty {
            root.undoing { try? toolstack.detach(choice.spec, from: domain.id, force: true) }
            let undone = undo()
            throw XVFError(.attachDidNotTake(label: label, domain: domainText, problems: problems)).followed(by: .report(undone))
        }
        if choice.devices.contains(where: { $0.physicalFunction != nil }), let warning = XendomainsSettings.assignWarning(root: root) {
            Warnings.add(warning)
        }
        report.append("\(label): attached to \(domainText) as \(choice.spec.canonical)")
        let slot = listed.first { $0.address == primary.address }?.guestSlot
        report.append("verified: \(domainText) lists \(primary.address)" + (slot.map { " at guest slot \($0)" } ?? "")
                      + (choice.spec.permissive == true ? "; pciback shows it permissive" : ""))
        return ChangeReport(report)
    }

    /// What the host says after the attach (`listed`: the domain's devices as libxl reads them back),
    /// against what was asked.
    static func verify(_ choice: Choice, in domain: XenDomain, listed devices: [AttachedDevice], root: HostRoot) -> [String] {
        var problems: [String] = []
        let listed = Set(devices.map(\.address))
        let permissive = PcibackState.permissiveDevices(root)
        for device in choice.devices {
            if !listed.contains(device.address) {
                problems.append("domain \(domain.id) does not list \(device.address)")
            }
            if choice.spec.permissive == true && !permissive.contains(device.address) {
                problems.append("pciback does not show \(device.address) permissive")
            }
        }
        return problems
    }

    // MARK: dry run

    /// What a dry run says it would do, the journal given the same steps as planned.
    static func described(_ choice: Choice, _ request: AssignRequest, inventory: HostInventory,
                          host: Host) -> ChangeReport {
        let (devices, spec, domain, domainText) = (choice.devices, choice.spec, choice.domain, choice.domainText)
        if let domain, let note = ineffectiveOptions(spec, domain: domain) { Warnings.add(note) }
        let label = inventory.label(devices[0])
        var lines = ["would assign \(label) to \(domainText)"]
        if case .pool(let pf) = choice.source {
            lines.append("  chose VF \(devices[0].vfIndex.map(String.init) ?? "?") of \(pf.interfaceName ?? pf.address.description): "
                         + "the lowest index not attached, not needed by dom0, not on an interface that is up")
        }
        let journal = host.journal
        var step = 1
        lines.append("  \(step). checked: not behind /, not the default-route or management interface, not a busy PF, "
                     + "not attached elsewhere")
        if let handOver = choice.handOver, !choice.settings.isEmpty,
           let set = handOver.step(choice.settings, from: handOver.current(root: host.root)) {
            step += 1
            journal.plan(set)
            lines.append("  \(step). set the VF's link for the guest: \(set) (what it had is kept in "
                         + "/\(handOver.recordPath) for `xvf release`)")
        }
        for device in devices where !device.isOnPciback {
            step += 1
            journal.plan("assignable_add", target: device.address.description,
                         detail: RecordedToolstack.assignableAddDetail(device.address, name: nil, rebind: true))
            lines.append("  \(step). make assignable: libxl_device_pci_assignable_add \(device.address) rebind=1 "
                         + "(unbind from \(device.driver ?? "no driver"), bind to pciback, remember the driver)")
        }
        step += 1
        journal.plan("attach", target: devices[0].address.description,
                     detail: RecordedToolstack.attachDetail(spec, domain: domain.map { "\($0.id)" } ?? request.domain))
        lines.append("  \(step). attach: libxl_device_pci_add \(spec.canonical) to \(domainText)"
                     + (domain?.kind == .hvm ? " (an HVM guest gets it from its device model, QEMU's xen-pci-passthrough, "
                        + "hot-plugged through ACPI)" : ""))
        step += 1
        lines.append("  \(step). verify: the domain lists it" + (spec.permissive == true
            ? "; /sys/bus/pci/drivers/pciback/permissive lists it" : "")
            + (devices[0].isOnPciback ? "; on failure, detach it again"
                : "; on failure, give it back to \(devices[0].driver ?? "no driver")"))
        return ChangeReport(lines)
    }
}
