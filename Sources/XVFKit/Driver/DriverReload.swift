import SRIOV
import XenPCI

/// `xvf driver DRIVER --max-vfs N[,N…] [--persist]`: reloads a PF driver so that it creates VFs itself,
/// `modprobe -r DRIVER` then `modprobe DRIVER max_vfs=…` (argument vectors, never a shell).
///
/// Reloading a NIC driver takes down every port it drives, so the host's own network and disk are
/// refused unless forced, and so are VFs attached to domains (the driver destroys all its VFs).
public struct DriverReload {
    /// Drivers known to take `max_vfs` even when their module hides the parameter from sysfs (ixgbe
    /// declares it with mode 0).
    static let maxVFsDrivers: Set<String> = ["igb", "ixgbe"]

    public let driver: String
    public let maxVFs: [Int]
    public let steps: [HostStep]
    /// The modprobe.d file `--persist` writes, and what it held before (nil: it did not exist).
    public let persistPath: String?
    let previousPersistContent: String?
    /// Whether the driver loads from the initramfs, where modprobe.d changes need `update-initramfs -u`.
    public let inInitramfs: Bool

    public init(driver: String, maxVFs text: String, persist: Bool, inventory: HostInventory,
                holders: Holders, safety: HostSafety, force: Bool) throws(XVFError) {
        let root = inventory.root
        guard driver.isKernelModuleName else {
            throw XVFError(.notModuleName(driver))
        }
        let module = driver.normalizedModuleName
        let loaded = root.isDirectory("sys/module/\(module)")
        guard Self.maxVFsDrivers.contains(module) || root.exists("sys/module/\(module)/parameters/max_vfs") else {
            throw XVFError(.noMaxVFs(driver: driver))
        }
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        let values = parts.map { $0.utf8.allSatisfy({ (0x30...0x39).contains($0) }) ? Int($0) : nil }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else {
            throw XVFError(.badMaxVFs(text))
        }
        let counts = values.map { $0! }
        // In-tree igb and ixgbe declare max_vfs as one number; "7,7" would make the module refuse to load
        // and leave the host without those ports. Intel's out-of-tree drivers (taint O) take one per port.
        let outOfTree = root.readText("sys/module/\(module)/taint")?.contains("O") ?? false
        guard counts.count == 1 || outOfTree else {
            throw XVFError(.inTreeOneValue(driver: driver, max: counts.max()!))
        }
        if counts.contains(where: { $0 > 0 }) {
            try PVHDom0.refuseVFs("\(driver) with max_vfs=\(text)", root: root)
        }
        let pfs = inventory.physicalFunctions.filter { $0.driver == driver }
        // One value applies to every port; a list gives the ports their counts in probe (address) order.
        if let pf = pfs.enumerated().first(where: { index, pf in
            let count = counts.count == 1 ? counts[0] : (index < counts.count ? counts[index] : 0)
            return count > pf.sriov!.totalVFs
        })?.element {
            let label = pf.interfaceName.map { "\($0) (\(pf.address))" } ?? pf.address.description
            throw XVFError(.maxVFsAboveTotal(counts.count == 1 ? counts[0] : counts.max()!, total: pf.sriov!.totalVFs,
                                             label: label))
        }

        // Everything the driver drives goes down with it: its PFs, their VFs, anything else it binds.
        let driven = inventory.devices.values.filter { $0.driver == driver }.sorted { $0.address < $1.address }
        if !force {
            for device in driven {
                if let reason = safety.reason(for: device.address) {
                    throw XVFError(.reloadUnsafe(driver: driver, device.address, reason: reason))
                }
            }
            for pf in pfs {
                for vf in inventory.virtualFunctions(of: pf) {
                    if let domain = holders[vf.address] {
                        throw XVFError(.reloadAttached(driver: driver, vf: vf.address, domain: domain))
                    }
                }
            }
        }

        self.driver = driver
        maxVFs = counts
        inInitramfs = Initramfs.mayContain(driver, root: root)
        var steps: [HostStep] = []
        let option = "max_vfs=" + counts.map(String.init).joined(separator: ",")
        if persist {
            let path = "etc/modprobe.d/xvf-\(driver).conf"
            let old = try root.existingText(path)
            let content = try ManagedBlock.replacing(
                "xvf driver", in: old, of: path, with: ["options \(driver) \(option)"],
                header: ["# VFs that \(driver) creates at load time: `xvf driver \(driver) --max-vfs \(text) --persist`."])
            persistPath = path
            previousPersistContent = old
            if content != old { steps.append(.replaceFile(path: path, content: content)) }
        } else {
            persistPath = nil
            previousPersistContent = nil
        }
        if loaded { steps.append(.run(["modprobe", "-r", driver])) }
        steps.append(.run(["modprobe", driver, option]))
        self.steps = steps
    }

    /// `xvf driver`: plans the reload and performs it (`Host.change`), or with `dryRun` only logs its
    /// steps; returns what to tell the user (nothing for a dry run: its steps say it). The reload destroys the
    /// driver's VFs, and the plan made under the host lock is the one carried out, so a concurrent
    /// `xvf assign` cannot be attaching one of them.
    public static func run(driver: String, maxVFs: String, persist: Bool, force: Bool, on host: Host, dryRun: Bool,
                           log: (HostStep) -> Void) throws(XVFError) -> ChangeReport {
        // On a dom0 the toolstack says which VFs domains hold; dry runs plan without it when it cannot be
        // opened.
        let toolstack = try host.planningToolstack(dryRun: dryRun, needs: false)
        func plan() throws(XVFError) -> DriverReload {
            let inventory = try host.inventory()
            return try DriverReload(driver: driver, maxVFs: maxVFs, persist: persist, inventory: inventory,
                                    holders: try toolstack?.currentHolders() ?? [:], safety: try host.safety(),
                                    force: force)
        }
        return try host.change(dryRun: dryRun, plan: plan, planned: { reload in
            for step in reload.steps {
                log(step)
                host.journal.plan(step)
            }
            return .none
        }, apply: { (reload) throws(XVFError) in
            try reload.apply(to: host.root, log: log)
            host.reload()
            return reload.report
        })
    }

    /// Checks that the steps' programs may run here, then performs the steps; when one fails, puts back
    /// the modprobe.d file and loads the driver again (with its old options) if it was unloaded, so the
    /// host keeps its ports.
    public func apply(to root: HostRoot, log: (HostStep) -> Void) throws(XVFError) {
        try ProgramGuard.check(steps, root: root)
        var done: [HostStep] = []
        for step in steps {
            log(step)
            do {
                try step.perform(on: root)
                done.append(step)
            } catch {
                let undo = root.undoing { putBack(done, root: root) }
                throw XVFError(.changeFailed, underlying: error)
                    .followed(by: undo.isEmpty ? .nothingChanged : .report(undo.joined(separator: "; ")))
            }
        }
    }

    /// Loads the driver again if it was unloaded and puts the modprobe.d file back; says what it did.
    func putBack(_ done: [HostStep], root: HostRoot) -> [String] {
        var undo: [String] = []
        if done.contains(.run(["modprobe", "-r", driver])) {
            let reload = HostStep.run(["modprobe", driver])
            do { try reload.perform(on: root); undo.append("loaded \(driver) again without max_vfs") } catch {
                undo.append("could not load \(driver) again (\(error)); run `modprobe \(driver)`")
            }
        }
        if let persistPath, done.contains(where: { if case .replaceFile = $0 { return true }; return false }) {
            do {
                if let previousPersistContent {
                    try root.replaceFile(persistPath, with: previousPersistContent)
                } else {
                    try root.removeFile(persistPath)
                }
                undo.append("put /\(persistPath) back")
            } catch {
                undo.append("could not put /\(persistPath) back (\(error))")
            }
        }
        return undo
    }

    /// What to tell the user once the reload is done.
    public var report: ChangeReport {
        var lines = ["\(driver) reloaded with max_vfs=\(maxVFs.map(String.init).joined(separator: ","))"]
        if let persistPath {
            lines.append("/\(persistPath) loads \(driver) with these VFs at every boot")
            if inInitramfs {
                lines.append("\(driver) may load from the initramfs: run `update-initramfs -u` so the boot uses it")
            }
        }
        return ChangeReport(lines)
    }
}
