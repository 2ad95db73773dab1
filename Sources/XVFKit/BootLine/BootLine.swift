import SRIOV

/// `xvf bootline DEVICE…`: what makes xen-pciback take devices at boot, before dom0's drivers do.
///
/// `xen-pciback.hide` is a dom0 Linux parameter (Xen ignores it on its own line); on Debian it goes in
/// `GRUB_CMDLINE_LINUX_XEN_REPLACE`, which replaces the dom0 line and so must start with the usual one.
/// xen-pciback is a module there, so modprobe.d carries the same list, and a softdep loads it before
/// the devices' drivers. That is not enough for VFs: measured on a Debian 12 dom0, igbvf loads from the
/// initramfs seconds before xen-pciback and takes the VFs anyway; `modprobe.blacklist=igbvf` on the dom0
/// line made the hide list work. So a VF driver is blacklisted when every VF it would drive is hidden;
/// otherwise xvf says plainly that `xvf boot` (autoprobe off, then pciback) is the path for those VFs.
public struct BootLine {
    /// One device to hide, and the dom0 driver that would take it otherwise.
    public struct Device: Equatable, Sendable {
        public var address: PCIAddress
        public var exists: Bool
        /// For a VF: its PF.
        public var pf: PCIAddress?
        public var driver: String?
    }

    public static let grubFile = "etc/default/grub.d/xvf-pciback.cfg"
    public static let modprobeFile = "etc/modprobe.d/xvf-pciback.conf"
    static let blockName = "xvf bootline"

    public let devices: [Device]
    /// VF drivers kept off at boot: every VF they would drive is hidden.
    public let blacklisted: [String]
    /// VF drivers that also drive what dom0 keeps (or may: `unknown`), with what: the hide list races them.
    let racing: [(driver: String, reach: ModuleReach)]
    /// Drivers xen-pciback must load before.
    public let softdeps: [String]
    /// The driver bound to each PF named by a device here (what creates its VFs at boot).
    let pfDriver: [PCIAddress: String]
    let root: HostRoot

    public init(_ names: [String], inventory: HostInventory, safety: HostSafety, force: Bool) throws(XVFError) {
        root = inventory.root
        var found: [PCIAddress: Device] = [:]
        let drivers = VFDrivers(inventory)
        for text in names {
            for resolved in try Self.resolve(text, inventory: inventory) where found[resolved.address] == nil {
                let driver = resolved.pf != nil ? drivers.vfDriver(of: resolved.pf!)
                    : drivers.driver(of: resolved.device!)
                found[resolved.address] = Device(address: resolved.address, exists: resolved.device != nil,
                                                 pf: resolved.pf, driver: driver)
            }
        }
        devices = found.values.sorted { $0.address < $1.address }
        // Driver names come from the host (sysfs links, modules.alias) and go into modprobe.d and the GRUB
        // defaults file, which update-grub sources as shell.
        if let odd = devices.first(where: { !($0.driver?.isKernelModuleName ?? true) }) {
            throw XVFError(.driverNameUnwritable(odd.address, driver: odd.driver!))
        }
        try safety.check(devices.map(\.address), action: "hide", force: force)

        // A VF driver can be blacklisted only when everything it would drive at the next boot is hidden:
        // a PF it also drives (mlx5_core, bnxt_en), bound or not, or a VF left to dom0 keeps it loaded.
        let hidden = Set(devices.map(\.address))
        var blacklisted: [String] = []
        var racing: [(String, ModuleReach)] = []
        for driver in Set(devices.filter { $0.pf != nil }.compactMap(\.driver)).sorted() {
            let reach = drivers.reach(of: driver, beyond: hidden)
            if reach == .hiddenOnly { blacklisted.append(driver) } else { racing.append((driver, reach)) }
        }
        self.blacklisted = blacklisted
        self.racing = racing
        softdeps = Set(devices.compactMap(\.driver)).sorted()
        pfDriver = Dictionary(devices.compactMap(\.pf).compactMap { pf in inventory[pf]?.driver.map { (pf, $0) } },
                              uniquingKeysWith: { first, _ in first })

        // x86 Linux keeps 2048 bytes of command line and drops the rest: a hide list cut short is malformed.
        let rest = (root.readText("proc/cmdline") ?? "").split(separator: " ")
            .filter { !$0.hasPrefix("xen-pciback.hide=") && !$0.hasPrefix("modprobe.blacklist=") }
            .joined(separator: " ")
        let room = Self.commandLineSize - rest.utf8.count - 1
        if parameters.utf8.count > room {
            throw XVFError(.hideListTooLong(needs: parameters.utf8.count, room: room))
        }
    }

    static let commandLineSize = 2048

    /// The devices a name stands for, VFs not created yet included (a BDF may name one too).
    static func resolve(_ text: String, inventory: HostInventory) throws(XVFError)
        -> [(address: PCIAddress, device: PCIDevice?, pf: PCIAddress?)]
    {
        let name: DeviceName
        do { name = try DeviceName(parsing: text) } catch { throw XVFError(error) }
        if case .address(let address) = name, inventory[address] == nil, let owner = inventory.virtualFunction(at: address) {
            return [(address, nil, owner.pf.address)]
        }
        do {
            return try inventory.resolve(name, future: true).map { ($0.address, $0.device, $0.pf) }
        } catch {
            throw XVFError(error)
        }
    }

    // MARK: the text

    public var hideValue: String { PcibackHideList.format(devices.map(\.address)) }

    /// The dom0 Linux command line, as `etc/default/grub.d/xvf-pciback.cfg` sets it.
    public var kernelLine: String {
        "GRUB_CMDLINE_LINUX_XEN_REPLACE=\"$GRUB_CMDLINE_LINUX \(parameters)\""
    }

    /// What xvf adds to the dom0 line.
    var parameters: String {
        var parameters = "xen-pciback.hide=" + hideValue
        if !blacklisted.isEmpty { parameters += " modprobe.blacklist=" + blacklisted.joined(separator: ",") }
        return parameters
    }

    /// The modprobe.d lines for xen-pciback as a module.
    public var modprobeLines: [String] {
        ["options xen-pciback hide=" + hideValue]
            + softdeps.map { "softdep \($0) pre: xen-pciback" }
            + blacklisted.map { "blacklist \($0)" }
    }

    /// Up to four addresses, then an ellipsis.
    static func list(_ addresses: [PCIAddress]) -> String {
        addresses.prefix(4).map(\.description).joined(separator: " ") + (addresses.count > 4 ? " …" : "")
    }

    /// What the user should know about these lines: why a driver is blacklisted, which VFs the hide list
    /// cannot take at boot, which devices do not exist yet, other files that set the same variable.
    public var notes: [String] {
        var notes: [String] = []
        for driver in blacklisted {
            notes.append("\(driver) is blacklisted in dom0: every VF it would drive is hidden, and without the "
                         + "blacklist \(driver) (loaded from the initramfs) takes the VFs before xen-pciback loads")
        }
        for (driver, reach) in racing {
            let why: String
            switch reach {
            case .hiddenOnly: continue
            case .devices(let others, _):
                why = "\(driver) also drives \(Self.list(others)), which dom0 keeps (bound now, or by modules.alias at boot)"
            case .virtualFunctions(let kept):
                why = "\(kept.count) VF\(kept.count == 1 ? "" : "s") of \(driver) stay with dom0 (\(Self.list(kept)))"
            case .unknown(let unbound):
                why = "which devices \(driver) would bind at boot is unknown (\(Self.list(unbound)) \(unbound.count == 1 ? "has" : "have") "
                    + "no driver, and the running kernel's modules.alias could not be read)"
            }
            notes.append("\(why), so \(driver) cannot be blacklisted, and the hide list alone does not take its VFs "
                         + "at boot (\(driver) loads first); `xvf boot` (sriov_drivers_autoprobe=0, then pciback) is "
                         + "the reliable path for them")
        }
        let future = devices.filter { !$0.exists }.map(\.address)
        if !future.isEmpty {
            // Only igb and ixgbe create VFs from a module option; ice, i40e, mlx5_core and bnxt_en need sriov_numvfs.
            let pfDrivers = Set(devices.filter { !$0.exists }.compactMap { $0.pf.flatMap { pfDriver[$0] } })
            let how = !pfDrivers.isEmpty && pfDrivers.isSubset(of: DriverReload.maxVFsDrivers)
                ? "`xvf driver DRIVER --max-vfs N --persist`, or `xvf boot`"
                : "`xvf boot`, with sriov = [ 'PF,vfs=N' ] in the host config"
            notes.append("\(future.count) of these VFs do not exist yet (\(Self.list(future))): they are hidden once created "
                         + "at boot (\(how))")
        }
        for file in otherGrubFilesSettingReplace() {
            notes.append("/\(file) also sets GRUB_CMDLINE_LINUX_XEN_REPLACE; /\(Self.grubFile) is read after it and "
                         + "replaces it: move its options into GRUB_CMDLINE_LINUX")
        }
        return notes
    }

    /// GRUB's defaults files, other than xvf's, that set the variable xvf's file sets.
    func otherGrubFilesSettingReplace() -> [String] {
        let files = ["etc/default/grub"] + root.list("etc/default/grub.d").filter { $0.hasSuffix(".cfg") }.sorted()
            .map { "etc/default/grub.d/" + $0 }
        return files.filter { $0 != Self.grubFile }.filter { file in
            (root.readText(file) ?? "").split(separator: "\n").contains {
                $0.drop { $0 == " " || $0 == "\t" }.hasPrefix("GRUB_CMDLINE_LINUX_XEN_REPLACE=")
            }
        }
    }

    // MARK: the files

    /// The new contents of the two files, checked: the hide values in them parse as xen-pciback parses
    /// them. Only files whose content changes are returned.
    public func fileSteps() throws(XVFError) -> [HostStep] {
        let oldGrub = try root.existingText(Self.grubFile), oldModprobe = try root.existingText(Self.modprobeFile)
        let grub = try ManagedBlock.replacing(
            Self.blockName, in: oldGrub, of: Self.grubFile, with: [kernelLine],
            header: ["# The dom0 Linux command line under Xen, from `xvf bootline`. GRUB_CMDLINE_LINUX_XEN_REPLACE",
                     "# replaces the dom0 line, so it starts with the usual one. Run update-grub after a change."])
        let modprobe = try ManagedBlock.replacing(
            Self.blockName, in: oldModprobe, of: Self.modprobeFile, with: modprobeLines,
            header: ["# xen-pciback is a module: take these devices when it loads, and load it before their drivers",
                     "# (from `xvf bootline`)."])
        for value in PcibackHideList.values(in: grub, after: "xen-pciback.hide=")
            + PcibackHideList.values(in: modprobe, after: "options xen-pciback hide=") {
            _ = try PcibackHideList.parse(value)
        }
        var steps: [HostStep] = []
        if grub != oldGrub { steps.append(.replaceFile(path: Self.grubFile, content: grub)) }
        if modprobe != oldModprobe { steps.append(.replaceFile(path: Self.modprobeFile, content: modprobe)) }
        return steps
    }

    /// What `xvf bootline` came to: the line, and the file steps that make the files say it (written
    /// with `write`, planned otherwise).
    public struct Outcome {
        public let line: BootLine
        public let steps: [HostStep]
    }

    /// Plans the line and its two files; with `write` (and not `dryRun`) writes what differs, planned
    /// again under the host lock on a fresh reading of the host and the files, so that two writers at
    /// once do not lose an edit. A dry run records its steps as planned.
    public static func run(_ names: [String], host: Host, force: Bool, write: Bool,
                           dryRun: Bool) throws(XVFError) -> Outcome {
        func plan() throws(XVFError) -> Outcome {
            let inventory = try host.inventory()
            let line = try BootLine(names, inventory: inventory, safety: try host.safety(), force: force)
            return Outcome(line: line, steps: try line.fileSteps())
        }
        // Printing the line alone changes nothing, and takes no lock.
        guard write || dryRun else { return try plan() }
        return try host.change(dryRun: dryRun, plan: plan, unchanged: { $0.steps.isEmpty ? $0 : nil },
                               planned: { planned in
            for step in planned.steps { host.journal.plan(step) }
            return planned
        }, apply: { (planned) throws(XVFError) in
            try planned.line.write(planned.steps)
            return planned
        })
    }

    /// Writes the changed files; if the second write fails, the first goes back to what it was.
    func write(_ steps: [HostStep]) throws(XVFError) {
        var written: [(path: String, old: String?)] = []
        for step in steps {
            guard case .replaceFile(let path, _) = step else { continue }
            let old = try root.existingText(path)
            do {
                try step.perform(on: root)
                written.append((path, old))
            } catch {
                let undo = root.undoing {
                    written.reversed().map { (path, old) in
                        do {
                            if let old { try root.replaceFile(path, with: old) } else { try root.removeFile(path) }
                            return "put /\(path) back"
                        } catch {
                            return "could not put /\(path) back (\(error))"
                        }
                    }
                }
                throw XVFError(.changeFailed, underlying: error)
                    .followed(by: undo.isEmpty ? .nothingChanged : .report(undo.joined(separator: "; ")))
            }
        }
    }

    /// What to run after the files changed: update-grub, and update-initramfs when a driver involved
    /// loads from the initramfs (where modprobe.d is read from its own copy).
    public func followUp(after steps: [HostStep]) -> [String] {
        var lines: [String] = []
        if steps.contains(where: { $0.path == Self.grubFile }) { lines.append("run `update-grub`, then reboot") }
        if steps.contains(where: { $0.path == Self.modprobeFile }),
           let driver = softdeps.first(where: { Initramfs.mayContain($0, root: root) }) {
            lines.append("\(driver) may load from the initramfs: run `update-initramfs -u` so it reads /\(Self.modprobeFile)")
        }
        return lines
    }
}

extension HostStep {
    /// The file a step replaces, if it replaces one.
    var path: String? {
        if case .replaceFile(let path, _) = self { return path }
        return nil
    }
}
