import SRIOV
import XenPCI

/// What `xvf boot` does to make the host match its config, worked out from the host as it is now, in
/// the order that keeps dom0's VF drivers off the guests' VFs. Per PF:
/// 1. `sriov_drivers_autoprobe=0` when the PF gets new VFs of which some are for guests: Linux then
///    binds no driver to the new VFs (otherwise igbvf takes them before pciback can, as seen on a real
///    dom0, where the hide list alone lost that race);
/// 2. the VF count, through `VFCountChange` (0 first when the kernel needs it);
/// 3. the VF link settings, for all PFs in one `ip -batch` process;
/// 4. the leases bound to VFs (`LeaseBinding`, kept in `Leases.path`), then the `assignable` VFs and the
///    leases' VFs to pciback: libxl's assignable add (with their names) in a dom0, else
///    `drivers_probe`, both with `driver_override=pciback` meanwhile (autoprobe is off), cleared after so
///    that giving the VF back to dom0 later is not refused;
/// 5. autoprobe back on (the kernel's default), and the other VFs probed by their normal driver.
/// Only what differs from the host is planned, so a second run plans nothing.
public struct BootPlan {
    public enum Action {
        case setAutoprobe(pf: PCIAddress, on: Bool)
        case setCount(VFCountChange)
        case linkSettings([LinkLine])
        case loadPciback
        /// `toolstack`: through libxl; otherwise through sysfs, unbinding `currentDriver` first.
        case handToPciback(vf: PCIAddress, pf: PCIAddress, label: String, name: String?, toolstack: Bool,
                           currentDriver: String?)
        case probe(vf: PCIAddress, pf: PCIAddress, label: String)
        /// A VF already on pciback whose `driver_override` still says pciback: a hand-over that was
        /// interrupted before it cleared it (the override would refuse the VF's driver later).
        case clearOverride(vf: PCIAddress, pf: PCIAddress, label: String)
        /// The leases' VFs, as the bindings file is to say: `lines` for the plan, `content` the file's.
        case bindLeases(lines: [String], content: String)
        /// A VF on pciback that libxl knows by a lease's name, which is not (or no longer) the lease's VF:
        /// libxl's assignable add without a name takes the name off (and leaves the VF on pciback), so that
        /// `xl create` of a config naming the lease never finds it.
        case dropName(vf: PCIAddress, pf: PCIAddress?, label: String, name: String)
    }

    /// One line of the `ip -batch` input, for one VF.
    public struct LinkLine: Equatable {
        public var pf: PCIAddress
        public var label: String
        /// `ip`'s arguments after `ip` (`link set dev eno49 vf 2 mac …`).
        public var words: [String]
        public var text: String { words.joined(separator: " ") }

        /// Whether ip's batch reader takes the line word for word. It splits at blanks, reads quotes, and
        /// cuts the line at `#` even inside quotes, so an interface name with any of those (Linux allows
        /// them) could send the rest of the line, or the next, to another device: such a line runs on its
        /// own, with an argument vector.
        var isBatchSafe: Bool {
            words.allSatisfy { word in
                !word.isEmpty && word.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7f && !"#'\"\\".unicodeScalars.contains($0) }
            }
        }
    }

    /// Something the plan cannot do for one PF or VF (a count the kernel or a running guest forbids);
    /// the rest of the plan goes ahead.
    public struct Problem: Equatable {
        /// nil for a config entry whose PF is not on the host.
        public var pf: PCIAddress?
        public var message: String
    }

    public static let ipBatch = ["ip", "-force", "-batch", "-"]
    public static let modprobePciback = ["modprobe", "xen-pciback"]

    public let actions: [Action]
    public let problems: [Problem]

    /// `assignableNames` is libxl's assignable list (address → name) when a toolstack hands VFs over,
    /// nil otherwise; `linkState` is what `ip` reports now (nil: unknown, so every setting is applied);
    /// `leases` the bindings file as it is (`Leases.load`), `leasesText` its text (nil: no file).
    public init(config: HostConfig, inventory: HostInventory, holders: Holders, safety: HostSafety,
                assignableNames: [PCIAddress: String?]?, linkState: [String: [Int: VFLinkSettings]]?,
                leases previous: [Lease] = [], leasesText: String? = nil) {
        var actions: [Action] = []
        // A PF that is not there fails alone; everything else is still planned.
        var problems = config.absent.map { Problem(pf: nil, message: $0.message) }
        var recreated: Set<PCIAddress> = []
        var autoprobeOffDuringCreation: Set<PCIAddress> = []
        var blocked: Set<PCIAddress> = []
        let guestPFs = Set(config.assignable.map(\.pf) + config.leases.map(\.pf))

        // 1-2: counts.
        for count in config.counts {
            guard let pf = inventory[count.pf], let sriov = pf.sriov, sriov.numVFs != count.count else { continue }
            let change: VFCountChange
            do {
                change = try VFCountChange(pf: pf, count: String(count.count), inventory: inventory,
                                           holders: holders, assignable: assignableNames ?? [:], safety: safety,
                                           force: false)
            } catch {
                // `xvf boot` has no --force: it never pulls a VF from under a running guest.
                var message = error.message
                for offer in [" or pass --force", "; pass --force to do it anyway"] where message.hasSuffix(offer) {
                    message.removeLast(offer.count)
                }
                problems.append(Problem(pf: pf.address, message: message))
                blocked.insert(pf.address)
                continue
            }
            recreated.insert(pf.address)
            if count.count > 0 && guestPFs.contains(pf.address) {
                autoprobeOffDuringCreation.insert(pf.address)
                if sriov.driversAutoprobe != false { actions.append(.setAutoprobe(pf: pf.address, on: false)) }
            } else if count.count > 0 && sriov.driversAutoprobe == false {
                autoprobeOffDuringCreation.insert(pf.address)
            }
            actions.append(.setCount(change))
        }

        // The leases' VFs join the config's own: their settings and hand-over are planned as a fixed VF's,
        // except for a VF a guest has now, whose link is the guest's.
        let binding = LeaseBinding(config: config, inventory: inventory, holders: holders, safety: safety,
                                   assignableNames: assignableNames,
                                   previous: previous, recreated: recreated, blocked: blocked)
        problems += binding.problems
        var links = config.links
        var guestVFs = config.assignable
        for lease in binding.bound where !lease.held {
            if let interface = lease.entry.interface, !lease.entry.settings.isEmpty {
                links.append(HostConfig.VFLink(pf: lease.entry.pf, interface: interface, index: lease.index,
                                               settings: lease.entry.settings, line: lease.entry.line))
            }
            guestVFs.append(HostConfig.AssignableVF(address: lease.vf, pf: lease.entry.pf, index: lease.index,
                                                    name: lease.entry.name, line: lease.entry.line))
        }
        let assignable = Dictionary(guestVFs.map { ($0.address, $0) }, uniquingKeysWith: { a, _ in a })

        // 3: link settings, compared with what the NIC has unless its VFs are new.
        var lines: [LinkLine] = []
        for link in links where !blocked.contains(link.pf) {
            let current = recreated.contains(link.pf) ? nil : linkState?[link.interface]?[link.index]
            let change = link.settings.changes(from: current)
            guard !change.isEmpty else { continue }
            lines.append(LinkLine(pf: link.pf, label: "\(link.interface)/\(link.index)",
                                  words: change.words(interface: link.interface, index: link.index)))
        }
        if !lines.isEmpty { actions.append(.linkSettings(lines)) }

        // 4: the leases' binding, then the guests' VFs to pciback.
        let content = Leases.text(binding.leases)
        if content != (leasesText ?? Leases.text([])) {
            let said = binding.bound.map { lease in
                "lease \(lease.entry.name): \(lease.label) (\(lease.vf))" + (lease.kept ? "" : ", newly bound")
            }
            actions.append(.bindLeases(lines: said, content: content))
        }
        if let assignableNames {
            let leaseVFs = Dictionary(binding.bound.map { ($0.entry.name, $0.vf) }, uniquingKeysWith: { a, _ in a })
            let active = Set(config.leases.filter { !blocked.contains($0.pf) }.map(\.name))
            for (address, name) in assignableNames.sorted(by: { $0.key < $1.key }) {
                guard let name, active.contains(name), leaseVFs[name] != address else { continue }
                let owner = inventory.virtualFunction(at: address)
                let label = owner.map { "\($0.pf.interfaceName ?? $0.pf.address.description)/\($0.index)" } ?? address.description
                actions.append(.dropName(vf: address, pf: owner?.pf.address, label: label, name: name))
            }
        }
        var handovers: [Action] = []
        var leftovers: [Action] = []
        for vf in guestVFs where !blocked.contains(vf.pf) {
            let label = "\(inventory[vf.pf]?.interfaceName ?? vf.pf.description)/\(vf.index)"
            let device = recreated.contains(vf.pf) ? nil : inventory[vf.address]
            if let device {
                let done: Bool
                if let assignableNames {
                    done = device.isOnPciback && assignableNames[vf.address].map { vf.name == nil || $0 == vf.name } == true
                } else {
                    done = device.isOnPciback
                }
                if holders[vf.address] != nil || done {
                    if device.isOnPciback, inventory.driverOverride(of: vf.address) == PCIDevice.pcibackDriver {
                        leftovers.append(.clearOverride(vf: vf.address, pf: vf.pf, label: label))
                    }
                    continue
                }
                do {
                    try PassthroughChecks.refuse(device, inventory: inventory, safety: safety, holders: holders,
                                                 action: "hand to pciback")
                } catch {
                    problems.append(Problem(pf: vf.pf, message: "\(label): " + error.message))
                    continue
                }
            }
            if let name = vf.name, assignableNames == nil {
                // Names live in libxl's xenstore entries; pciback in sysfs has nowhere to keep one.
                Warnings.add("\(label): name=\(name) is not given: off a Xen dom0 the VF goes to pciback through sysfs, "
                             + "and only libxl keeps names (run xvf boot in the dom0 to name it)")
            }
            handovers.append(.handToPciback(vf: vf.address, pf: vf.pf, label: label, name: vf.name,
                                            toolstack: assignableNames != nil, currentDriver: device?.driver))
        }
        if !handovers.isEmpty && !PcibackState.isLoaded(inventory.root) { actions.append(.loadPciback) }
        actions += handovers + leftovers

        // 5: autoprobe on again, and the VFs dom0 keeps to their driver.
        for count in config.counts where !blocked.contains(count.pf) {
            guard let pf = inventory[count.pf], let sriov = pf.sriov else { continue }
            let offNow = autoprobeOffDuringCreation.contains(pf.address) || sriov.driversAutoprobe == false
            if offNow { actions.append(.setAutoprobe(pf: pf.address, on: true)) }
            for index in 0..<count.count {
                guard let address = sriov.address(ofVF: index, pf: pf.address), assignable[address] == nil else { continue }
                let label = "\(pf.interfaceName ?? pf.address.description)/\(index)"
                if recreated.contains(pf.address) {
                    if autoprobeOffDuringCreation.contains(pf.address) {
                        actions.append(.probe(vf: address, pf: pf.address, label: label))
                    }
                } else if let vf = inventory[address], vf.driver == nil, holders[address] == nil {
                    actions.append(.probe(vf: address, pf: pf.address, label: label))
                }
            }
        }
        self.actions = actions
        self.problems = problems
    }

    public var isEmpty: Bool { actions.isEmpty && problems.isEmpty }

    /// The programs the plan runs, for `ProgramGuard` before anything starts.
    var programs: [HostStep] {
        actions.compactMap { action in
            switch action {
            case .linkSettings: return .run(Self.ipBatch)
            case .loadPciback: return .run(Self.modprobePciback)
            default: return nil
            }
        }
    }
}

extension BootPlan.Action {
    /// The PF the action belongs to; nil for the shared steps.
    var pf: PCIAddress? {
        switch self {
        case .setAutoprobe(let pf, _): return pf
        case .setCount(let change): return change.pf.address
        case .handToPciback(_, let pf, _, _, _, _), .probe(_, let pf, _), .clearOverride(_, let pf, _): return pf
        case .dropName(_, let pf, _, _): return pf
        case .linkSettings, .loadPciback, .bindLeases: return nil
        }
    }

    /// The action as a user would type it on the host, one line per write or command.
    public var lines: [String] {
        switch self {
        case .setAutoprobe(let pf, let on):
            return [HostStep.writeAttribute(path: BootPlan.autoprobePath(pf), value: on ? "1" : "0").description]
        case .setCount(let change):
            return change.steps.map(\.description)
        case .linkSettings(let lines):
            return [BootPlan.ipBatch.joined(separator: " ") + " <<EOF"] + lines.map(\.text) + ["EOF"]
        case .loadPciback:
            return [BootPlan.modprobePciback.joined(separator: " ")]
        case .handToPciback(let vf, _, _, let name, let toolstack, let driver):
            let override = PcibackState.overridePath(vf)
            var lines = [HostStep.writeAttribute(path: override, value: PCIDevice.pcibackDriver).description]
            if toolstack {
                lines.append("libxl_device_pci_assignable_add \(vf) rebind=1" + (name.map { " name=" + $0 } ?? ""))
            } else {
                if let driver {
                    lines.append(HostStep.writeAttribute(path: "sys/bus/pci/drivers/\(driver)/unbind", value: vf.description).description)
                }
                lines.append(HostStep.writeAttribute(path: BootPlan.probePath, value: vf.description).description)
            }
            lines.append("echo > /\(override)")
            return lines
        case .probe(let vf, _, _):
            return [HostStep.writeAttribute(path: BootPlan.probePath, value: vf.description).description]
        case .clearOverride(let vf, _, _):
            return ["echo > /\(PcibackState.overridePath(vf))"]
        case .bindLeases(let lines, let content):
            return lines + [HostStep.replaceFile(path: Leases.path, content: content).description]
        case .dropName(let vf, _, _, _):
            return [RecordedToolstack.assignableAddDetail(vf, name: nil, rebind: true)]
        }
    }
}

extension BootPlan.Action {
    /// The action's steps in a dry run's record, as `lines` prints them.
    func plan(into journal: StepJournal) {
        switch self {
        case .setAutoprobe(let pf, let on):
            journal.plan(HostStep.writeAttribute(path: BootPlan.autoprobePath(pf), value: on ? "1" : "0"))
        case .setCount(let change):
            for step in change.steps { journal.plan(step) }
        case .linkSettings(let lines):
            for line in lines { journal.plan("vf_settings", target: line.label, detail: "ip " + line.text) }
        case .loadPciback:
            journal.plan(HostStep.run(BootPlan.modprobePciback))
        case .handToPciback(let vf, _, _, let name, let toolstack, let driver):
            journal.plan(HostStep.writeAttribute(path: PcibackState.overridePath(vf), value: PCIDevice.pcibackDriver))
            if toolstack {
                journal.plan("assignable_add", target: vf.description,
                             detail: RecordedToolstack.assignableAddDetail(vf, name: name, rebind: true))
            } else {
                if let driver {
                    journal.plan(HostStep.writeAttribute(path: "sys/bus/pci/drivers/\(driver)/unbind", value: vf.description))
                }
                journal.plan(HostStep.writeAttribute(path: BootPlan.probePath, value: vf.description))
            }
            journal.plan(HostStep.writeAttribute(path: PcibackState.overridePath(vf), value: "\n"))
        case .probe(let vf, _, _):
            journal.plan(HostStep.writeAttribute(path: BootPlan.probePath, value: vf.description))
        case .clearOverride(let vf, _, _):
            journal.plan(HostStep.writeAttribute(path: PcibackState.overridePath(vf), value: "\n"))
        case .bindLeases(_, let content):
            journal.plan(HostStep.replaceFile(path: Leases.path, content: content))
        case .dropName(let vf, _, _, _):
            journal.plan("assignable_add", target: vf.description,
                         detail: RecordedToolstack.assignableAddDetail(vf, name: nil, rebind: true))
        }
    }
}

extension BootPlan {
    static let probePath = "sys/bus/pci/drivers_probe"

    static func autoprobePath(_ pf: PCIAddress) -> String {
        "sys/bus/pci/devices/\(pf)/sriov_drivers_autoprobe"
    }
}
