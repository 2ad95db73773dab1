import SRIOV
import XenPCI

/// `xvf vfs DEVICE COUNT`: sets a PF's VF count the way the kernel accepts it.
///
/// Linux refuses to change a non-zero `sriov_numvfs` (EBUSY), so any change writes 0 first, which
/// destroys every existing VF. VFs on pciback leave it first (as xcp-networkd does before disabling
/// SR-IOV), so pciback drops its slots cleanly; PF drivers refuse to destroy VFs exported to a guest
/// (EPERM). VFs attached to a running domain stop the change unless forced: the guest would lose its
/// device.
public struct VFCountChange {
    public let pf: PCIDevice
    /// `eno49 (0000:04:00.0)`, as messages name the PF.
    public let label: String
    public let current: Int
    public let requested: Int
    /// The existing VFs that pciback holds; they leave it before the count changes.
    public let releasedFromPciback: [PCIAddress]
    /// What the change does, in order; empty when the count is already right.
    public let steps: [Step]
    /// pciback's `slots` before the change, to put a released VF back the way it was.
    let pcibackSlots: Set<PCIAddress>
    /// libxl's assignable list before the change (address → name), to hand a VF back to libxl on undo.
    let assignable: [PCIAddress: String?]

    /// One step of the change.
    public enum Step: Sendable, Equatable, CustomStringConvertible {
        /// A sysfs write.
        case host(HostStep)
        /// libxl takes a VF off pciback with rebind=0 (no driver gets a VF about to be destroyed): Xen
        /// de-quarantines it and libxl drops its name from xenstore, which raw sysfs writes would leave
        /// behind for the next VF at that address. libxl keeps `driver_path` by design (rebind=0), which
        /// names the right driver for that address again. A VF Xen never quarantined (put on pciback by
        /// the hide list or driver_override) is taken off pciback in sysfs instead.
        case assignableRemove(PCIAddress)

        public var description: String {
            switch self {
            case .host(let step): return step.description
            case .assignableRemove(let vf): return "libxl_device_pci_assignable_remove \(vf) rebind=0"
            }
        }
    }

    /// Plans the change, refusing before anything is written: a name that is not an SR-IOV PF, a count
    /// outside 0…sriov_totalvfs, a VF carrying the host's network, a VF attached to a domain.
    /// `assignable` is libxl's assignable list (address → name) on a dom0, empty elsewhere: those VFs
    /// leave pciback through libxl.
    public init(pf: PCIDevice, count text: String, inventory: HostInventory, holders: Holders,
                assignable: [PCIAddress: String?] = [:], safety: HostSafety, force: Bool) throws(XVFError) {
        guard let sriov = pf.sriov else {
            throw XVFError(.notSRIOV(label: inventory.label(pf), firmware: FirmwareSRIOV.advice(for: pf)))
        }
        let label = inventory.label(pf)
        self.label = label
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let count = Int(text) else {
            throw XVFError(.badVFCount(text, total: sriov.totalVFs, label: label))
        }
        guard count <= sriov.totalVFs else {
            throw XVFError(.vfCountAboveTotal(count, total: sriov.totalVFs, label: label))
        }
        self.pf = pf
        current = sriov.numVFs
        requested = count
        let existing = inventory.virtualFunctions(of: pf)
        pcibackSlots = Set(PcibackState.slots(inventory.root))
        self.assignable = assignable
        guard count != current else {
            releasedFromPciback = []
            steps = []
            return
        }
        if count > 0 { try PVHDom0.refuseVFs("\(count) VFs on \(label)", root: inventory.root) }
        // Writing 0 (which every change does) destroys all existing VFs, not only those past the new count.
        for vf in existing {
            if let domain = holders[vf.address], !force {
                throw XVFError(.vfCountAttached(label: label, vf: vf.address, index: vf.vfIndex, domain: domain))
            }
            if let reason = safety.reason(for: vf.address), !force {
                throw XVFError(.vfCountUnsafe(label: label, vf: vf.address, index: vf.vfIndex, reason: reason))
            }
        }
        var steps: [Step] = []
        let released = existing.filter { $0.isOnPciback }.map(\.address)
        for vf in released {
            if assignable.keys.contains(vf) {
                steps.append(.assignableRemove(vf))
            } else {
                steps += PcibackState.lettingGo(vf, bound: true, slots: pcibackSlots).map(Step.host)
            }
        }
        let numvfs = Self.numvfsPath(pf)
        if current != 0 { steps.append(.host(.writeAttribute(path: numvfs, value: "0"))) }
        if count != 0 { steps.append(.host(.writeAttribute(path: numvfs, value: "\(count)"))) }
        releasedFromPciback = released
        self.steps = steps
    }

    /// `xvf vfs`: plans the change and applies it (`Host.change`), or with `dryRun` only logs its steps;
    /// returns what to tell the user (nothing for a dry run: its steps say it). The change destroys VFs, and
    /// the plan made under the host lock is the one carried out, so a concurrent `xvf assign` cannot be
    /// attaching a VF it destroys.
    public static func run(pf: String, count: String, force: Bool, on host: Host, dryRun: Bool,
                           log: (Step) -> Void) throws(XVFError) -> ChangeReport {
        // On a dom0 the toolstack says which VFs domains hold and which libxl has made assignable; dry
        // runs plan without it when it cannot be opened.
        let toolstack = try host.planningToolstack(dryRun: dryRun, needs: false)
        func plan() throws(XVFError) -> VFCountChange {
            let inventory = try host.inventory()
            var assignable: [PCIAddress: String?] = [:]
            if let toolstack {
                do {
                    for device in try toolstack.assignableList() { assignable[device.address] = device.name }
                } catch {
                    throw ErrorAdvice.libxl(error, device: nil)
                }
            }
            return try VFCountChange(pf: try host.physicalFunction(pf), count: count, inventory: inventory,
                                     holders: try toolstack?.currentHolders() ?? [:],
                                     assignable: assignable, safety: try host.safety(), force: force)
        }
        return try host.change(dryRun: dryRun, plan: plan,
                               unchanged: { $0.steps.isEmpty ? $0.report : nil },
                               planned: { change in
            for step in change.steps {
                log(step)
                host.journal.plan(step)
            }
            return .none
        }, apply: { (change) throws(XVFError) in
            try change.apply(to: host.root, toolstack: toolstack, log: log)
            host.reload()
            return change.report
        })
    }

    /// Performs the steps, reporting each before it is taken. When one fails, what was changed is put
    /// back (the old count, the released VFs on pciback) and the error says what to do. `toolstack` is
    /// needed when the plan has libxl steps (it was planned with an assignable list).
    public func apply(to root: HostRoot, toolstack: (any Toolstack)?, log: (Step) -> Void) throws(XVFError) {
        var throughLibxl: Set<PCIAddress> = []
        for step in steps {
            log(step)
            do {
                if try perform(step, root: root, toolstack: toolstack, log: log), case .assignableRemove(let vf) = step {
                    throughLibxl.insert(vf)
                }
            } catch {
                let restored = root.undoing { restore(root, toolstack: toolstack, throughLibxl: throughLibxl) }
                throw error.followed(by: .report(restored))
            }
        }
        settleNewVFs(root)
    }

    static let settle = ["udevadm", "settle", "--timeout=10"]

    /// New VFs with autoprobe on get their driver through udev, which may first have to load the module:
    /// the write returns before that. Waiting for udev's queue keeps the next command (an `xvf assign`,
    /// libxl's unbind) from racing the probe ("Couldn't open /sys/bus/pci/drivers/igbvf/unbind" in the
    /// lab). Skipped where udevadm is missing, or is this machine's while the root is another tree.
    func settleNewVFs(_ root: HostRoot) {
        guard requested > current, root.readInteger("sys/bus/pci/devices/\(pf.address)/sriov_drivers_autoprobe") != 0,
              (try? ProgramGuard.check([.run(Self.settle)], root: root)) != nil else { return }
        _ = ExternalProgram.run(Self.settle, for: root)
    }

    /// Carries out one step; true when libxl did it (rather than sysfs). The sysfs writes that stand in
    /// for libxl are logged as they are taken.
    func perform(_ step: Step, root: HostRoot, toolstack: (any Toolstack)?, log: (Step) -> Void) throws(XVFError) -> Bool {
        let hostSteps: [HostStep]
        switch step {
        case .host(let hostStep):
            hostSteps = [hostStep]
        case .assignableRemove(let vf):
            guard let toolstack else {
                throw XVFError(.noToolstackForPciback(vf))
            }
            do {
                try toolstack.assignableRemove(.address(vf), rebind: false)
                return true
            } catch where error.log.contains(where: { $0.contains("failed to de-quarantine") }) {
                // libxl stops before touching the device when Xen never quarantined it.
                hostSteps = PcibackState.lettingGo(vf, bound: true, slots: pcibackSlots)
                for hostStep in hostSteps { log(.host(hostStep)) }
            } catch {
                throw ErrorAdvice.libxl(error, device: vf)
            }
        }
        for hostStep in hostSteps {
            do {
                try hostStep.perform(on: root)
            } catch {
                if case .kernel(let sysfs) = error, sysfs.path == Self.numvfsPath(pf) {
                    throw ErrorAdvice.sriovCount(sysfs, pf: pf, count: Int(sysfs.value) ?? requested)
                }
                throw XVFError(.changeFailed, underlying: error)
            }
            // The kernel answers success when the PF driver enabled fewer VFs than asked ("N VFs requested;
            // only M enabled"): the count is read back, not assumed.
            if case .writeAttribute(let path, let value) = hostStep, path == Self.numvfsPath(pf),
               let wanted = Int(value), wanted > 0, let enabled = root.readInteger(path), enabled < wanted {
                throw ErrorAdvice.fewerVFsEnabled(pf: pf, label: label, requested: wanted, enabled: enabled)
            }
        }
        return false
    }

    /// Puts the VF count and pciback's VFs back as they were; says what it did.
    /// `throughLibxl` are the VFs libxl took off pciback: they go back through libxl.
    func restore(_ root: HostRoot, toolstack: (any Toolstack)?, throughLibxl: Set<PCIAddress>) -> String {
        var problems: [String] = []
        var restored: [String] = []
        let numvfs = Self.numvfsPath(pf)
        // An unreadable count is unknown, not 0: 0 is written first all the same (a PF driver refuses a
        // new count while VFs are enabled).
        let now = root.readInteger(numvfs)
        if now != current {
            var back: [HostStep] = []
            if now != 0 { back.append(.writeAttribute(path: numvfs, value: "0")) }
            if current != 0 { back.append(.writeAttribute(path: numvfs, value: "\(current)")) }
            do {
                for step in back { try step.perform(on: root) }
                restored.append("\(current) VFs")
            } catch {
                let stays = root.readInteger(numvfs).map(String.init) ?? "unknown"
                problems.append("the VF count stays \(stays), not \(current) (\(error))")
            }
        }
        for vf in releasedFromPciback {
            let base = "sys/bus/pci/devices/\(vf)"
            guard root.exists(base) else { problems.append("\(vf) is gone"); continue }
            if root.driver(of: vf) == PCIDevice.pcibackDriver { continue }
            // A VF libxl had goes back through libxl, which quarantines it again and restores its name.
            if let toolstack, throughLibxl.contains(vf), let name = assignable[vf] {
                _ = try? toolstack.assignableAdd(vf, name: name, rebind: true)
                if root.driver(of: vf) == PCIDevice.pcibackDriver {
                    restored.append("\(vf) on pciback")
                    continue
                }
            }
            var back: [HostStep] = []
            if let other = root.driver(of: vf) {
                back.append(.writeAttribute(path: "sys/bus/pci/drivers/\(other)/unbind", value: vf.description))
            }
            back.append(.writeAttribute(path: PcibackState.directory + "/new_slot", value: vf.description))
            back.append(.writeAttribute(path: PcibackState.directory + "/bind", value: vf.description))
            // pciback keeps a device it binds; the slot goes again if it was not there before.
            if !pcibackSlots.contains(vf) {
                back.append(.writeAttribute(path: PcibackState.directory + "/remove_slot", value: vf.description))
            }
            do {
                for step in back { try step.perform(on: root) }
                restored.append("\(vf) on pciback")
            } catch {
                problems.append("\(vf) is not back on pciback (\(error))")
            }
        }
        if !problems.isEmpty { return "could not undo everything: " + problems.joined(separator: "; ") }
        return restored.isEmpty ? "nothing was changed" : "put back: " + restored.joined(separator: ", ")
    }

    /// What to tell the user once the change is made.
    public var report: ChangeReport {
        guard requested != current else { return ChangeReport(["\(label) already has \(current) VFs; nothing to do"]) }
        var lines = ["\(label): \(requested) VFs (was \(current))"]
        if !releasedFromPciback.isEmpty {
            lines.append("\(releasedFromPciback.map(\.description).joined(separator: " ")) left pciback with the old VFs; "
                         + "hand the new ones to pciback with `xvf assignable add`")
        }
        return ChangeReport(lines)
    }

    static func numvfsPath(_ pf: PCIDevice) -> String { "sys/bus/pci/devices/\(pf.address)/sriov_numvfs" }

}

extension StepJournal {
    /// A step of `xvf vfs`'s plan.
    func plan(_ step: VFCountChange.Step) {
        switch step {
        case .host(let hostStep): plan(hostStep)
        case .assignableRemove(let vf):
            plan("assignable_remove", target: vf.description, detail: step.description)
        }
    }
}
