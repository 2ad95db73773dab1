import SRIOV

/// `xvf vfs DEVICE COUNT`: sets a PF's VF count the way the kernel accepts it.
///
/// Linux refuses to change a non-zero `sriov_numvfs` (EBUSY), so any change writes 0 first, which
/// destroys every existing VF. VFs on pciback leave it first (as xcp-networkd does before disabling
/// SR-IOV), so pciback drops its slots cleanly; PF drivers refuse to destroy VFs exported to a guest
/// (EPERM). VFs attached to a running domain stop the change unless forced: the guest would lose its
/// device.
public struct VFCountChange {
    public let pf: PCIDevice
    public let current: Int
    public let requested: Int
    /// The existing VFs that pciback holds; they leave it before the count changes.
    public let releasedFromPciback: [PCIAddress]
    /// What the change writes, in order; empty when the count is already right.
    public let steps: [HostStep]
    /// pciback's `slots` before the change, to put a released VF back the way it was.
    let pcibackSlots: Set<PCIAddress>

    /// Plans the change, refusing before anything is written: a name that is not an SR-IOV PF, a count
    /// outside 0…sriov_totalvfs, a VF carrying the host's network, a VF attached to a domain.
    public init(pf name: String, count text: String, inventory: HostInventory, assignments: DomainAssignments,
                safety: HostSafety, force: Bool) throws(XVFError) {
        let pf = try Self.physicalFunction(name, inventory: inventory)
        let sriov = pf.sriov!
        let label = Self.label(pf)
        guard !text.isEmpty, text.utf8.allSatisfy({ (0x30...0x39).contains($0) }), let count = Int(text) else {
            throw XVFError(.badInput, "'\(text)' is not a VF count; write a whole number 0-\(sriov.totalVFs) for \(label)")
        }
        guard count <= sriov.totalVFs else {
            throw XVFError(.badInput,
                           "\(count) is above the \(sriov.totalVFs) VFs \(label) supports (sriov_totalvfs); use 0-\(sriov.totalVFs)")
        }
        self.pf = pf
        current = sriov.numVFs
        requested = count
        let existing = inventory.virtualFunctions(of: pf)
        pcibackSlots = Set(PcibackState.slots(inventory.root))
        guard count != current else {
            releasedFromPciback = []
            steps = []
            return
        }
        // Writing 0 (which every change does) destroys all existing VFs, not only those past the new count.
        for vf in existing {
            let vfLabel = "VF \(vf.vfIndex.map(String.init) ?? "?") (\(vf.address))"
            if let domain = assignments[vf.address], !force {
                let domainName = domain.name.map { "\($0) (\(domain.id))" } ?? "\(domain.id)"
                throw XVFError(.failed, "refusing to change the VF count of \(label): \(vfLabel) is attached to "
                               + "domain \(domainName); detach it (xvf release \(vf.address)) or pass --force")
            }
            if let reason = safety.reason(for: vf.address), !force {
                throw XVFError(.failed, "refusing to change the VF count of \(label): \(vfLabel) \(reason); "
                               + "pass --force to do it anyway")
            }
        }
        var steps: [HostStep] = []
        let released = existing.filter { $0.driver == "pciback" }.map(\.address)
        for vf in released {
            steps.append(.writeAttribute(path: PcibackState.directory + "/unbind", value: vf.description))
            if pcibackSlots.contains(vf) {
                steps.append(.writeAttribute(path: PcibackState.directory + "/remove_slot", value: vf.description))
            }
        }
        let numvfs = Self.numvfsPath(pf)
        if current != 0 { steps.append(.writeAttribute(path: numvfs, value: "0")) }
        if count != 0 { steps.append(.writeAttribute(path: numvfs, value: "\(count)")) }
        releasedFromPciback = released
        self.steps = steps
    }

    /// `xvf vfs`: plans the change and applies it, or with `dryRun` only logs its steps; returns what to
    /// tell the user. The change destroys VFs, so it is planned again under the host lock on a fresh
    /// reading of the host: a concurrent `xvf assign` cannot be attaching a VF it destroys. A refusal
    /// comes from the first plan, before anything is touched (not even the lock file).
    public static func run(pf: String, count: String, force: Bool, on host: Host, dryRun: Bool,
                           log: (HostStep) -> Void) throws(XVFError) -> String {
        func plan() throws(XVFError) -> VFCountChange {
            let inventory = try host.inventory()
            return try VFCountChange(pf: pf, count: count, inventory: inventory, assignments: try host.attachedDevices(),
                                     safety: HostSafety(inventory), force: force)
        }
        let first = try plan()
        if dryRun {
            for step in first.steps { log(step) }
            return first.steps.isEmpty ? first.summary : "dry run: nothing was changed"
        }
        let lock = try HostLock(host.root)
        defer { withExtendedLifetime(lock) {} }
        host.reload()
        let change = try plan()
        try change.apply(to: host.root, log: log)
        host.reload()
        return change.summary
    }

    /// Performs the steps, reporting each before it is taken. When one fails, what was changed is put
    /// back (the old count, the released VFs on pciback) and the error says what to do.
    public func apply(to root: HostRoot, log: (HostStep) -> Void) throws(XVFError) {
        for step in steps {
            log(step)
            do {
                try step.perform(on: root)
            } catch {
                let cause: XVFError
                if case .kernel(let sysfs) = error, sysfs.path == Self.numvfsPath(pf) {
                    cause = SRIOVKernelErrors.explain(sysfs, pf: pf, count: Int(sysfs.value) ?? requested)
                } else {
                    cause = XVFError(.failed, error.description)
                }
                throw XVFError(cause.kind, cause.message + "; " + restore(root))
            }
        }
    }

    /// Puts the VF count and pciback's VFs back as they were; says what it did.
    func restore(_ root: HostRoot) -> String {
        var problems: [String] = []
        var restored: [String] = []
        let numvfs = Self.numvfsPath(pf)
        let now = root.readInteger(numvfs) ?? 0
        if now != current {
            var back: [HostStep] = []
            if now != 0 { back.append(.writeAttribute(path: numvfs, value: "0")) }
            if current != 0 { back.append(.writeAttribute(path: numvfs, value: "\(current)")) }
            do {
                for step in back { try step.perform(on: root) }
                restored.append("\(current) VFs")
            } catch {
                problems.append("the VF count stays \(root.readInteger(numvfs) ?? 0), not \(current) (\(error))")
            }
        }
        for vf in releasedFromPciback {
            let base = "sys/bus/pci/devices/\(vf)"
            guard root.exists(base) else { problems.append("\(vf) is gone"); continue }
            if root.linkTarget(base + "/driver") == "pciback" { continue }
            var back: [HostStep] = []
            if let other = root.linkTarget(base + "/driver") {
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
    public var summary: String {
        let label = Self.label(pf)
        guard requested != current else { return "\(label) already has \(current) VFs; nothing to do" }
        var text = "\(label): \(requested) VFs (was \(current))"
        if !releasedFromPciback.isEmpty {
            text += "\n\(releasedFromPciback.map(\.description).joined(separator: " ")) left pciback with the old VFs; "
                + "hand the new ones to pciback with `xvf assignable add`"
        }
        return text
    }

    static func numvfsPath(_ pf: PCIDevice) -> String { "sys/bus/pci/devices/\(pf.address)/sriov_numvfs" }

    static func label(_ pf: PCIDevice) -> String {
        pf.interfaceName.map { "\($0) (\(pf.address))" } ?? pf.address.description
    }

    /// The SR-IOV PF a user names by interface or address.
    static func physicalFunction(_ text: String, inventory: HostInventory) throws(XVFError) -> PCIDevice {
        let name: DeviceName
        do { name = try DeviceName(parsing: text) } catch { throw XVFError(error) }
        let device: PCIDevice
        switch name {
        case .virtualFunctions:
            throw XVFError(.badInput, "'\(text)' names VFs; name their PF (an interface such as eno49, or its address)")
        case .address, .interface:
            do {
                guard let found = try inventory.resolve(name).first?.device else {
                    throw XVFError(.badInput, "'\(text)' is not a device on this host")
                }
                device = found
            } catch let error as NameError {
                throw XVFError(error)
            } catch let error as XVFError {
                throw error
            } catch {
                throw XVFError(.failed, "\(error)")
            }
        }
        if device.isVirtualFunction {
            throw XVFError(.badInput, "'\(text)' (\(device.address)) is a VF; name its PF (\(device.physicalFunction!))")
        }
        guard device.isPhysicalFunction else {
            throw XVFError(.badInput, "'\(text)' (\(device.address)) is not SR-IOV capable (no sriov_totalvfs)")
        }
        return device
    }
}
