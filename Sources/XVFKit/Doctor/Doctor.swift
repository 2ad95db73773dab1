import LibPCI
import SRIOV
import XenPCI

/// `xvf doctor`: whether this host can give VFs to guests, and what to do where it cannot. Every check
/// reads the host (through the root) and, in a dom0, asks Xen; nothing is changed.
public struct Doctor {
    public enum Status: String, Sendable {
        case pass, warn, fail
    }

    public struct Check: Equatable, Sendable {
        /// Stable, for scripts: `iommu`, `vfs-enabled:0000:04:00.0`, …
        public var id: String
        public var status: Status
        public var message: String
        /// What to do about a warning or failure; nil when the check passed.
        public var fix: String?
    }

    public let checks: [Check]

    public var failed: Bool { checks.contains { $0.status == .fail } }

    public init(host: Host, configPath: String?) throws(XVFError) {
        let inventory = try host.inventory()
        let root = host.root
        var checks: [Check] = []
        func add(_ id: String, _ status: Status, _ message: String, fix: String? = nil) {
            checks.append(Check(id: id, status: status, message: message, fix: status == .pass ? nil : fix))
        }

        // Xen.
        let dom0 = host.isXenDom0
        if dom0 {
            add("xen-dom0", .pass, "running as Xen dom0 (/proc/xen/capabilities says control_d)")
        } else {
            add("xen-dom0", .fail, "not a Xen dom0: \(root.path("proc/xen/capabilities")) does not say control_d",
                fix: "boot the host's Xen entry in GRUB (Debian: apt install xen-system-amd64, then reboot)")
        }
        if let owner = ForeignToolstack.check(root) { checks.append(owner) }
        if let pvh = PVHDom0.check(root) { checks.append(pvh) }
        // What Xen offers, once asked (the migration check below needs it too).
        var xen: XenCapabilities?
        if dom0 {
            do throws(XVFError) {
                let toolstack = try host.openToolstack()
                let capabilities: XenCapabilities
                do { capabilities = try toolstack.capabilities() } catch {
                    throw XVFError(.physinfo, underlying: error)
                }
                xen = capabilities
                if capabilities.passthrough {
                    add("iommu", .pass, "Xen reports PCI passthrough support (virt_caps hvm_directio/pv_directio)")
                } else {
                    add("iommu", .fail, "Xen reports no IOMMU (no hvm_directio in `xl info` virt_caps): devices cannot "
                        + "be given to guests", fix: "enable VT-d (Intel) or AMD-Vi/IOMMU in the firmware setup, and do not "
                        + "boot Xen with iommu=0")
                }
                checks.append(Self.hvm(capabilities, root: root))
                checks.append(XSA476.check(toolstack))
            } catch where error.kind == .unavailable {
                // Not this host's fault: Xen's libraries are missing, or the root is not the running system.
                add("iommu", .warn, "not checked: \(error.message)",
                    fix: "run xvf doctor on the running dom0, with Xen's toolstack libraries installed")
            } catch {
                add("iommu", .fail, "cannot ask Xen: \(error.message)", fix: "start xencommons (systemctl start xencommons)")
            }
        } else {
            add("iommu", .warn, "not checked: only Xen can tell whether it runs an IOMMU",
                fix: "run xvf doctor in the Xen dom0")
        }
        checks.append(Self.pciback(root))
        checks.append(Self.rootDisk(root))

        // The host config and the boot line.
        var config: HostConfig?
        let filename = HostConfig.displayPath(configPath, root: root)
        if let why = HostConfig.untrusted(filename) {
            add("host-config", .fail, why, fix: "chown root:root \(filename) and chmod go-w it and the directory named")
        } else { do {
            config = try HostConfig.load(path: configPath, root: root, inventory: inventory, library: host.library)
            if let config, !config.absent.isEmpty {
                add("host-config", .warn, config.absent.map(\.message).joined(separator: "; "),
                    fix: "correct the name, or load the PF's driver; `xvf boot` applies the other entries")
            } else if let config {
                add("host-config", .pass, "\(filename) is valid: \(config.counts.count) VF count\(config.counts.count == 1 ? "" : "s"), "
                    + "\(config.links.count) VF link setting\(config.links.count == 1 ? "" : "s"), "
                    + "\(config.assignable.count) VF\(config.assignable.count == 1 ? "" : "s") for guests"
                    + (config.leases.isEmpty ? "" : ", \(config.leases.count) lease\(config.leases.count == 1 ? "" : "s")"))
            } else {
                add("host-config", .warn, "no host config at \(filename): VF counts and pciback do not survive a reboot",
                    fix: "copy xlcfg/xvf.cfg to /etc/xen/xvf.cfg, edit it, and enable xvf-boot.service")
            }
        } catch {
            add("host-config", .fail, error.message, fix: "correct the line it names; `xvf boot --dry-run` shows the plan")
        } }
        checks.append(Self.bootLine(root, config: config))

        // NICs whose firmware has SR-IOV off: no PF to check, but the one thing to change is known.
        for device in inventory.devices.values.sorted(by: { $0.address < $1.address }) {
            guard let advice = FirmwareSRIOV.advice(for: device) else { continue }
            add("sriov-capability:\(device.address)", .warn, "\(inventory.label(device)): no SR-IOV capability", fix: advice)
        }

        // Each PF.
        let library = host.library
        let log = KernelLog.messages(root)
        let assignable = Set(config?.assignable.map(\.address) ?? [])
        for pf in inventory.physicalFunctions {
            let label = inventory.label(pf)
            let sriov = pf.sriov!
            let report = DeviceReport(pf, inventory: inventory, library: library)
            let id = pf.address.description

            if library == nil {
                add("sriov-capability:\(id)", .warn, "\(label): config space not read (libpci could not start: "
                    + "\(host.libraryFailure ?? "no reason given"))",
                    fix: "install libpci3 and pci.ids, and run as root")
            } else if let capability = report.sriovCapability {
                add("sriov-capability:\(id)", .pass, "\(label): SR-IOV capability at 0x\(String(capability.offset, radix: 16)), "
                    + "\(capability.totalVFs) VFs")
            } else {
                add("sriov-capability:\(id)", .fail, "\(label): sysfs has sriov_totalvfs but config space shows no SR-IOV "
                    + "capability (or cannot be read)", fix: "run as root; enable SR-IOV for the slot in the firmware setup")
            }

            let wanted = config?.counts.first { $0.pf == pf.address }?.count
            if let wanted, wanted != sriov.numVFs {
                add("vfs-enabled:\(id)", .warn, "\(label) has \(sriov.numVFs) VFs; the host config says \(wanted)",
                    fix: "run `xvf boot`")
            } else if sriov.numVFs > 0 {
                add("vfs-enabled:\(id)", .pass, "\(label): \(sriov.numVFs) of \(sriov.totalVFs) VFs enabled")
            } else {
                add("vfs-enabled:\(id)", .warn, "\(label): no VFs enabled (sriov_numvfs is 0)",
                    fix: "`xvf vfs \(pf.interfaceName ?? id) N` now, and sriov = [ '\(pf.interfaceName ?? id),vfs=N' ] in the host config for every boot")
            }

            if let log {
                if let said = log.first(where: { Self.reportsMMIOShortage($0, pf: pf.address) }) {
                    add("mmio:\(id)", .fail, "\(label): the firmware left no MMIO room for its VFs; the kernel says: \(said)",
                        fix: "enable SR-IOV and \"PCI 64-bit resources / MMIO above 4G\" in the firmware setup, or add "
                        + "pci=realloc to the dom0 command line")
                } else {
                    add("mmio:\(id)", .pass, "\(label): no MMIO shortage in the kernel log")
                }
            } else {
                add("mmio:\(id)", .warn, "\(label): the kernel log cannot be read (\(root.path("dev/kmsg")))",
                    fix: "run as root (dmesg_restrict)")
            }

            checks.append(Self.vfDrivers(pf, label: label, inventory: inventory, assignable: config.map { _ in assignable }))

            let open = report.upstream.filter { $0.acs.isolates == false }
            let unknown = report.upstream.compactMap { bridge -> String? in
                if case .unknown(let why) = bridge.acs { return "\(bridge.address) (\(why))" }
                return nil
            }
            if open.isEmpty && !unknown.isEmpty {
                add("acs:\(id)", .warn, "\(label): ACS above it could not be read on " + unknown.joined(separator: ", "),
                    fix: "run xvf doctor as root, so that the whole config space can be read")
            } else if open.isEmpty {
                add("acs:\(id)", .pass, "\(label): every bridge above it isolates with ACS"
                    + (report.upstream.isEmpty ? " (none)" : " (\(report.upstream.map(\.address.description).joined(separator: ", ")))"))
            } else {
                let which = open.map { "\($0.address) (\($0.acs == .absent ? "no ACS" : "ACS controls off"))" }.joined(separator: ", ")
                add("acs:\(id)", .warn, "\(label): bridge \(which) above it does not isolate its devices: they can reach "
                    + "each other without the IOMMU", fix: "use a slot whose root port has ACS, or give all devices behind "
                    + "that bridge to the same guest")
            }
        }
        let holders = dom0 ? (try? host.openToolstack()).flatMap { try? $0.holders() } : nil
        checks.append(Self.leftovers(inventory, config: config, holders: holders))
        checks += LeaseChecks.checks(config: config, root: root, inventory: inventory)
        if let xen, let check = Self.migration(xen, holders: holders) { checks.append(check) }
        if let check = XendomainsSettings.check(root: root, holders: holders, inventory: inventory) { checks.append(check) }
        self.checks = checks
    }

    /// What an interrupted xvf leaves (a kill, a crash, a power cut in the middle of a command), each with
    /// the command that clears it: the settings xvf holds only for a moment, the temporaries of a file
    /// replacement, and the records of VFs whose link was not put back.
    /// Only what xvf itself sets for a moment counts: `driver_override` on the host config's VFs for guests
    /// and autoprobe off on its PFs (`xvf boot` sets both back); an operator may keep either on purpose
    /// elsewhere.
    static func leftovers(_ inventory: HostInventory, config: HostConfig?, holders: Holders?) -> Check {
        let root = inventory.root
        var found: [String] = []
        var fixes: [String] = []
        let overrides = (config?.assignable.map(\.address) ?? []).filter {
            inventory[$0]?.isOnPciback == true && inventory.driverOverride(of: $0) == PCIDevice.pcibackDriver
        }.sorted()
        if !overrides.isEmpty {
            found.append("driver_override stays pciback on \(overrides.map(\.description).joined(separator: " ")) "
                         + "(a hand-over of `xvf boot` that did not finish): no dom0 driver can take the VF while it stays")
            fixes.append("`xvf boot` clears it, as does " + overrides.map { "`echo > /\(PcibackState.overridePath($0))`" }
                .joined(separator: ", "))
        }
        let configured = Set(config?.counts.map(\.pf) ?? [])
        let autoprobeOff = inventory.physicalFunctions.filter { configured.contains($0.address) && $0.sriov?.driversAutoprobe == false }
        if !autoprobeOff.isEmpty {
            found.append("sriov_drivers_autoprobe is 0 on \(autoprobeOff.map { inventory.label($0) }.joined(separator: ", ")) "
                         + "(`xvf boot` turns it off only while it creates VFs): their new VFs get no driver")
            fixes.append("`xvf boot` turns it on again")
        }
        let temporaries = ["etc/xen", "etc/xen/auto", "etc/default/grub.d", "etc/modprobe.d", VFHandOver.directory]
            .flatMap { directory in
                root.staleTemporaries(in: directory).map { "/\(directory)/\($0)" }
            }
        if !temporaries.isEmpty {
            found.append("temporary files of an interrupted write: \(temporaries.joined(separator: " ")) (the files "
                         + "themselves are whole: old or new)")
            fixes.append("`rm \(temporaries.joined(separator: " "))` (the next write of each file removes it too)")
        }
        if let holders {
            let pending = root.list(VFHandOver.directory).compactMap { try? PCIAddress(parsing: $0) }
                .filter { holders[$0] == nil }.sorted()
            if !pending.isEmpty {
                found.append("the link settings of \(pending.map(\.description).joined(separator: " ")) were not put back "
                             + "after their guest let them go (records in /\(VFHandOver.directory))")
                fixes.append(pending.map { "`xvf release \($0)`" }.joined(separator: ", "))
            }
        }
        guard !found.isEmpty else {
            return Check(id: "leftovers", status: .pass, message: "nothing left by an interrupted xvf", fix: nil)
        }
        return Check(id: "leftovers", status: .warn, message: found.joined(separator: "; "), fix: fixes.joined(separator: "; "))
    }

    /// Whether an HVM guest can get a VF here: Xen must offer HAP or shadow paging, and dom0 must have the
    /// device model that emulates the guest's PCI bus (PV guests need neither).
    static func hvm(_ capabilities: XenCapabilities, root: HostRoot) -> Check {
        let models = ["usr/libexec/xen-qemu-system-i386", "usr/bin/qemu-system-i386"]
            + root.list("usr/lib").filter { $0.hasPrefix("xen-") }.map { "usr/lib/\($0)/bin/qemu-system-i386" }
        let model = models.first { root.exists($0) }
        let paging = [capabilities.hap ? "HAP" : nil, capabilities.shadow ? "shadow" : nil].compactMap { $0 }
        if !capabilities.hvm || paging.isEmpty {
            return Check(id: "hvm", status: .warn, message: "HVM guests cannot start here: Xen offers "
                         + (capabilities.hvm ? "neither HAP nor shadow paging" : "no HVM at all") + " (PV guests can have VFs)",
                         fix: "enable VT-x/EPT or AMD-V/NPT in the firmware (Debian's Xen 4.20 has no shadow paging; "
                            + "nested, give the CPU ept or npt)")
        }
        guard let model else {
            return Check(id: "hvm", status: .warn, message: "HVM guests need a device model, and none is installed "
                         + "(PV guests can have VFs)", fix: "apt install qemu-system-xen")
        }
        return Check(id: "hvm", status: .pass, message: "HVM guests can have VFs: \(paging.joined(separator: " and ")) "
                     + "paging, device model /\(model)", fix: nil)
    }

    /// Whether the guests holding VFs can be live-migrated from here. Xen moves a PV guest's memory in
    /// log-dirty mode, which for PV runs on shadow paging, and a Xen built without it (Debian 13's 4.20)
    /// migrates no PV guest (`xvf migrate` refuses them up front). Said only on such a Xen.
    static func migration(_ capabilities: XenCapabilities, holders: Holders?) -> Check? {
        guard capabilities.pv, !capabilities.shadow else { return nil }
        var seen: Set<UInt32> = []
        let pv = (holders ?? [:]).values.filter { $0.kind == .pv && seen.insert($0.id).inserted }.sorted { $0.id < $1.id }
        guard !pv.isEmpty else {
            return Check(id: "migration", status: .pass, message: "this Xen live-migrates no PV guest: it has no shadow "
                         + "paging, which their log-dirty mode needs" + (holders == nil ? "" : "; no PV guest holds a VF"), fix: nil)
        }
        return Check(id: "migration", status: .warn, message: "this Xen live-migrates no PV guest (it has no shadow "
                     + "paging, which their log-dirty mode needs), and PV guests hold VFs: "
                     + pv.map { "domain \($0.id) (\($0.name))" }.joined(separator: ", "),
                     fix: "move them stopped (`xvf save`, then `xvf restore` on the other host), or run them as HVM guests")
    }

    /// The kernel's words for a PF without room for its VFs: at boot the PCI core cannot place the VF BARs
    /// (resources 7-12, `pci_assign_resource`'s "BAR 7: no space for" / "failed to assign"), and enabling
    /// VFs then fails (`sriov_enable`'s "not enough MMIO resources for SR-IOV").
    static func reportsMMIOShortage(_ message: String, pf: PCIAddress) -> Bool {
        guard let range = message.firstRange(of: "\(pf): ") else { return false }
        let rest = message[range.upperBound...]
        if rest.hasPrefix("not enough MMIO resources for SR-IOV") { return true }
        guard rest.hasPrefix("BAR "), let number = Int(rest.dropFirst(4).prefix { $0.isNumber }), (7...12).contains(number) else {
            return false
        }
        return rest.contains(": no space for") || rest.contains(": failed to assign")
    }

    /// The disk behind `/`: xvf protects the PCI functions it sits on, once it can find them.
    static func rootDisk(_ root: HostRoot) -> Check {
        let found = HostSafety.rootDisk(root)
        if let warning = found.warning {
            return Check(id: "root-disk", status: .warn, message: warning,
                         fix: "find the disk controller (lsblk -s, zpool status) and never hide, assign or --force it")
        }
        guard !found.paths.isEmpty else {
            return Check(id: "root-disk", status: .pass, message: "/ is not on a local disk: nothing to protect", fix: nil)
        }
        let disks = found.paths.map { "\($0.0) on \($0.1.last!)" }.joined(separator: ", ")
        return Check(id: "root-disk", status: .pass,
                     message: "the disk behind / (\(disks)) is protected from hiding, unbinding and assignment", fix: nil)
    }

    /// xen-pciback: a module on Debian that nothing loads by itself.
    static func pciback(_ root: HostRoot) -> Check {
        if PcibackState.isLoaded(root) {
            return Check(id: "pciback", status: .pass, message: "xen-pciback is loaded", fix: nil)
        }
        let release = root.readText("proc/sys/kernel/osrelease") ?? ""
        let modules = root.readText("lib/modules/\(release)/modules.dep") ?? ""
        if !release.isEmpty, modules.split(separator: "\n").contains(where: { $0.contains("/xen-pciback.ko") }) {
            return Check(id: "pciback", status: .warn, message: "xen-pciback is not loaded, but the kernel has it",
                         fix: "modprobe xen-pciback (xvf boot loads it when the host config hands VFs to guests)")
        }
        return Check(id: "pciback", status: .fail,
                     message: "xen-pciback is not loaded and not among the modules of kernel \(release.isEmpty ? "?" : release)",
                     fix: "boot Debian's kernel (CONFIG_XEN_PCIDEV_BACKEND=m) or one with xen-pciback")
    }

    /// VFs on a dom0 VF driver: fine when they stay with dom0, a problem for those meant for guests.
    /// `assignable` is nil without a host config.
    static func vfDrivers(_ pf: PCIDevice, label: String, inventory: HostInventory, assignable: Set<PCIAddress>?) -> Check {
        let id = "vf-drivers:\(pf.address)"
        let inDom0 = inventory.virtualFunctions(of: pf).filter { $0.driver != nil && !$0.isOnPciback }
        let drivers = Set(inDom0.compactMap(\.driver)).sorted().joined(separator: ", ")
        if let assignable {
            let wrong = inDom0.filter { assignable.contains($0.address) }
            guard !wrong.isEmpty else {
                return Check(id: id, status: .pass, message: "\(label): no VF meant for guests is on a dom0 driver", fix: nil)
            }
            let indices = wrong.compactMap(\.vfIndex).map(String.init).joined(separator: ", ")
            return Check(id: id, status: .warn, message: "\(label): VF \(indices), meant for guests (host config), "
                         + "\(wrong.count == 1 ? "is" : "are") on \(drivers) in dom0",
                         fix: "run `xvf boot`: it creates VFs with sriov_drivers_autoprobe=0 and hands them to pciback")
        }
        guard !inDom0.isEmpty else {
            return Check(id: id, status: .pass, message: "\(label): no VF is on a dom0 driver", fix: nil)
        }
        return Check(id: id, status: .warn, message: "\(label): \(inDom0.count) VF\(inDom0.count == 1 ? " is" : "s are") "
                     + "on \(drivers) in dom0" + (pf.sriov?.driversAutoprobe == false ? "" : ", and new VFs go there too (autoprobe on)"),
                     fix: "list the VFs for guests under assignable in the host config and run `xvf boot` "
                     + "(autoprobe off, then pciback), or blacklist \(drivers) if no VF stays in dom0 (`xvf bootline`)")
    }

    /// The hide lists on the running kernel's command line and in xvf's GRUB and modprobe.d files:
    /// each must parse as xen-pciback parses it, and hide nothing the host config keeps in dom0.
    static func bootLine(_ root: HostRoot, config: HostConfig?) -> Check {
        let sources: [(String, String)] = [
            ("proc/cmdline", "xen-pciback.hide="), (BootLine.grubFile, "xen-pciback.hide="),
            (BootLine.modprobeFile, "options xen-pciback hide="),
        ]
        var hidden: [(PCIAddress, String)] = []
        var found = false
        for (file, key) in sources {
            guard let text = root.readText(file) else { continue }
            for value in PcibackHideList.values(in: text, after: key) {
                found = true
                let entries: [PcibackHideList.Entry]
                do { entries = try PcibackHideList.parse(value) } catch {
                    return Check(id: "bootline", status: .fail, message: "/\(file): \(error.message)",
                                 fix: "rewrite it with `xvf bootline DEVICE… --write`, or remove the hide list")
                }
                for entry in entries {
                    if let slot = entry.slot, let function = entry.function {
                        hidden.append((PCIAddress(domain: entry.domain, bus: entry.bus, device: slot, function: function), file))
                    }
                }
            }
        }
        guard found else {
            return Check(id: "bootline", status: .pass, message: "no xen-pciback hide list (xvf boot hands VFs to pciback)", fix: nil)
        }
        if let config {
            let vfsOfConfig = Set(config.counts.map(\.pf))
            let assignable = Set(config.assignable.map(\.address))
            let inventory = try? HostInventory.discover(root)
            let kept = hidden.filter { address, _ in
                guard !assignable.contains(address) else { return false }
                guard let pf = inventory?[address]?.physicalFunction else { return false }
                return vfsOfConfig.contains(pf)
            }
            if let (address, file) = kept.first {
                return Check(id: "bootline", status: .warn, message: "/\(file) hides \(address), which the host config "
                             + "does not list as assignable: pciback takes it at boot anyway",
                             fix: "add it to assignable in \(config.filename), or run `xvf bootline` again without it")
            }
        }
        return Check(id: "bootline", status: .pass, message: "the hide list\(hidden.count == 1 ? "" : "s") parse as "
                     + "xen-pciback parses them\(config == nil ? "" : " and agree with the host config")", fix: nil)
    }

    // MARK: rendering

    public func text() -> String {
        var lines: [String] = []
        for check in checks {
            lines.append("\(check.status.rawValue.uppercased())  \(check.id)  \(check.message)")
            if let fix = check.fix { lines.append("      fix: \(fix)") }
        }
        let count = { (status: Status) in checks.filter { $0.status == status }.count }
        lines.append("\(count(.pass)) passed, \(count(.warn)) warning\(count(.warn) == 1 ? "" : "s"), \(count(.fail)) failed")
        return lines.joined(separator: "\n") + "\n"
    }

    public func json() -> String {
        JSON.object([("checks", .array(checks.map {
            .object([("id", .string($0.id)), ("status", .string($0.status.rawValue)), ("message", .string($0.message)),
                     ("fix", .string($0.fix))])
        }))]).serialized() + "\n"
    }
}
