#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XenPCI

extension XVFError {
    /// What failed, with what its sentence names. Each code's sentence and exit code are written once,
    /// here; the lower-level error a sentence quotes is the error's `underlying`.
    public enum Code: Equatable, Sendable {
        // MARK: The command line and the whole run
        /// Already said, step by step: only the exit code is left.
        case reported(Kind)
        /// Steps of `xvf boot` or `xvf restore` failed, or problems stop `xvf boot --install`; each says
        /// which and why.
        case stepsFailed([String])
        /// A value given to an option is not one (`--vlan x`); `reason` says what is wrong with it.
        case badOption(option: String, value: String, reason: String)
        /// An address, device name or PCI spec the user wrote (the underlying `InputError` says which).
        case input
        /// The root has no `sys/bus/pci` (the underlying `DiscoveryError`).
        case noPCIBus
        /// A change below failed, in the lower layer's own words (the underlying error).
        case changeFailed
        /// A file could not be read; nothing was changed.
        case unreadable

        // MARK: The host lock
        case lockDirectory(path: String, errno: Int32)
        case lockUntrusted(path: String, why: String)
        case lockOpen(path: String, errno: Int32)
        case lockFileUnsafe(path: String)
        case lock(path: String, errno: Int32)
        case lockBusy(path: String, holder: String, seconds: Int)

        // MARK: Names of devices and domains
        case namesSeveral(name: String, count: Int)
        case notCreatedYet(name: String)
        case notCreatedYetAt(name: String, address: PCIAddress)
        case domainNotFound(name: String)
        case domainIsDom0(name: String)
        case cannotListDomains
        case cannotReadHolders

        // MARK: Xen and libxl
        case notDom0(capabilities: String)
        case libxlNeedsRunningHost(root: String)
        /// Xen's libraries cannot be loaded (the underlying error says which and why).
        case xenLibraries
        case libxlCannotStart(ToolstackError)
        case physinfo
        case attached(PCIAddress, to: XenDomain)
        case notAssignable(String)
        case pcibackNotLoaded
        case needsVirtualSlot(String)
        case domainNotRunning(String)
        case noAssignableNamed
        case notAttachedTo(String, domain: String)
        case libxlRefused(ToolstackError)
        case createdWithoutPassthrough(XenDomain, device: PCIAddress?, libxlSaid: String?)
        case noIOMMU(PCIAddress?, nothingChanged: Bool)
        case noQuarantine(PCIAddress)
        case driverOverride(PCIAddress)
        /// A step of a command failed after an earlier one had been done (the underlying `XVFError`),
        /// told after `done`.
        case giveBackAfterDetach(label: String, domain: XenDomain, now: String)

        // MARK: Programs and files xvf uses
        case programMissing(String, package: String?)
        case programWouldChangeHost(path: String, tree: String, real: String?)
        case unterminatedBlock(file: String, name: String, end: String)
        case notSimulated(root: String, marker: String)

        // MARK: Hosts and devices xvf must leave alone
        case xapiHost(inventory: String)
        case pvhDom0VFs(guestType: String, what: String)
        case pvhDom0VF(guestType: String, label: String)
        case pvhDom0PVGuest(guestType: String, domain: XenDomain, label: String)
        case unsafeDevice(action: String, PCIAddress, reason: String)
        case pfOfVFsInUse(action: String, PCIAddress, inUse: [PCIAddress], name: String)

        // MARK: Passthrough
        case nameNeedsOneDevice(count: Int)
        case attachedReleaseFirst(PCIAddress, to: XenDomain)
        case deviceAndPF(pf: String)
        case nothingToAssign
        case severalVFs(String)
        case vfNotCreatedYet(String)
        case specWithoutAddress(String)
        case notAPCIDevice(name: String?, PCIAddress)
        case contradictsSpec(flag: String, spec: String)
        case badRDMPolicy(String)
        case linkSettingsNeedVF(label: String)
        case qosWithoutVLAN
        case noFunctions(String)
        case domainNotResolved(String)
        case linkSetting(label: String)
        case guestLinkSetting(label: String)
        case attachDidNotTake(label: String, domain: String, problems: [String])
        case leaseVFToDom0(label: String, lease: String)
        case attachedToOther(label: String, holder: XenDomain, named: XenDomain)
        case notAttachedToDomain(label: String, XenDomain)
        case notAttachedToAny(label: String, onPciback: Bool)
        case stillListed(label: String, domain: XenDomain)
        case leaseRename(lease: String)
        case linkRestore(label: String)
        case noVFs(pf: String)
        case noFreeVF(pf: String, reasons: [String])

        // MARK: VFs
        /// The kernel refused a VF count; `advice` is ErrorAdvice.sriovCount's reading of its errno.
        case vfCountRefused(advice: String)
        case fewerVFs(label: String, enabled: Int, requested: Int, why: String)
        case notSRIOV(label: String, firmware: String?)
        case badVFCount(String, total: Int, label: String)
        case vfCountAboveTotal(Int, total: Int, label: String)
        case vfCountAttached(label: String, vf: PCIAddress, index: Int?, domain: XenDomain)
        case vfCountUnsafe(label: String, vf: PCIAddress, index: Int?, reason: String)
        case noToolstackForPciback(PCIAddress)
        case recordNotRegular(path: String)
        case recordUntrusted(path: String, why: String)
        case recordUnreadable
        case recordUnparsable(path: String, line: Int, text: String, reason: String)
        case keepSettings(label: String)
        case recordStays(label: String)

        // MARK: Driver reloads
        case notModuleName(String)
        case noMaxVFs(driver: String)
        case badMaxVFs(String)
        case inTreeOneValue(driver: String, max: Int)
        case maxVFsAboveTotal(Int, total: Int, label: String)
        case reloadUnsafe(driver: String, PCIAddress, reason: String)
        case reloadAttached(driver: String, vf: PCIAddress, domain: XenDomain)

        // MARK: The host config
        case configUntrusted(why: String)
        case configUnreadable
        case configMissing(path: String)
        /// libxlutil, which reads xl syntax, cannot be used (the underlying `XLConfigError`).
        case xlParserUnavailable
        case configSyntax
        case unknownConfigKey(file: String, line: Int, key: String)
        case configKeyNotList(file: String, line: Int?, key: String)
        case configItem(file: String, line: Int, key: String, value: String, reason: String)

        // MARK: Leases
        case bindingsNotRegular(path: String)
        case bindingsUntrusted(path: String, why: String)
        case bindingsUnreadable
        case bindingsUnparsable(path: String, line: Int, text: String, reason: String)
        case leaseWithoutVF(String)
        case leaseVFMissing(String, vf: PCIAddress)

        // MARK: Guests: records, save, restore, migration
        case recordFileUnreadable(path: String, errno: Int32)
        case recordInputUnparsable(source: String)
        case standardInputUnreadable(errno: Int32)
        case standardInputTooLarge
        case cannotReadDevices(XenDomain)
        /// A step on one device failed (the underlying `XVFError`).
        case deviceStep(PCIAddress)
        case cannotStandIn(PCIAddress, domain: String, present: Bool, holder: XenDomain?)
        case recordedPFMissing(PCIAddress, pf: String, ids: String, domain: String)
        case migrateWithoutDevices(XenDomain, xlCommand: String)
        case noShadowPaging([XenDomain])
        case targetUnreachable(host: String, command: String, status: Int32, said: String)
        case targetTooOld(host: String, version: String)
        case targetRefuses(host: String, said: String)
        case guestRecordNotRegular(path: String)
        case guestRecordUnreadable
        case guestRecordUnparsable(path: String)
        case noSavedImage(path: String)
        case imageWithoutRecord(image: String, record: String)
        case alreadyRunning(name: String, id: UInt32, record: String)
        case xlRestore(path: String, said: String?)
        case restoredUnlisted(path: String)
        case restoredDied(path: String, domain: String)
        case noFileName(String)
        case relativeWithoutDirectory(String)
        case imageExists(path: String)
        case notADirectory(path: String)
        case imageUnsafe(path: String, why: String)
        case recordExists(path: String, domain: String)
        case saveWithoutDevices(XenDomain, image: String)
        case recordWrite(XenDomain)
        case xlSave(XenDomain, said: String?)
        case imageNotMade
        case imageStaysTemporary(XenDomain, temporary: String, image: String, record: String)
        case emptyTargetHost
        case sshUnsplittable(command: String, reason: String)
        case sshEmpty
        case badHostName(String)

        // MARK: Boot, the boot line, domain configs
        case noHostConfig(path: String)
        case newConfigUnreadable
        case newConfigMissing(path: String)
        case driverNameUnwritable(PCIAddress, driver: String)
        case hideListTooLong(needs: Int, room: Int)
        case hideListMalformed(String, at: String)
        case hideEntry(String, in: String, why: String)
        case domainConfigRefused
        case specWithoutAddressToRemove(String)
        case noWorkingDirectory(errno: Int32)
        case outsideRoot(file: String, root: String)
        case leadsOutsideRoot(file: String, root: String)
        case domainConfigUnreadable(file: String, reason: String?)
        case domainConfigMissing(file: String)
        case notOneDevice(String)
        case libvirtLacks(String, key: String)
        case noInterface(label: String)
        case interfaceNameNotXML(label: String, name: String)
        case unknownName(String)

    }

    /// What followed a failure, said after it.
    public enum Aftermath: Equatable, Sendable {
        /// What an undo did, or could not do, in its own words ("put back: 7 VFs").
        case report(String)
        case nothingChanged
        /// What `xvf assignable remove` had done to the devices before the one that failed.
        case doneBeforeFailure(String)
        case forceDetaches
        case gaveBackDetached(XenDomain)
        case gaveBackInterrupted
        case gaveDevicesBack(domain: String)
        case domainGone(UInt32)
        case notSaved(domain: String)

        var sentence: String {
            switch self {
            case .report(let text): text
            case .nothingChanged: "nothing was changed"
            case .doneBeforeFailure(let done): "done before the failure: " + done
            case .forceDetaches: "--force detaches without the guest's help"
            case .gaveBackDetached(let domain): "gave domain \(domain.id) (\(domain.name)) back what was detached"
            case .gaveBackInterrupted: "gave back what the interrupted save had detached"
            case .gaveDevicesBack(let domain): "gave \(domain) its devices back"
            case .domainGone(let id): "domain \(id) is gone, so its devices stay on pciback; the record is removed"
            case .notSaved(let domain): "\(domain) was not saved"
            }
        }
    }

    /// Xen's words for what a PVH dom0 lacks (SUPPORT.md, CHANGELOG 4.21).
    static let pvhSRIOVUnsupported = "SR-IOV capability usage is not yet supported on PVH dom0"
    /// How to get a dom0 that can: boot it as PV.
    static let bootDom0AsPV = "boot dom0 as PV: add dom0=pv to Xen's command line (GRUB_CMDLINE_XEN_DEFAULT in "
        + "/etc/default/grub), run update-grub and reboot"
    /// The start of every refusal on a PVH dom0, naming the file that says so.
    static func pvhDom0(_ guestType: String) -> String { "dom0 runs as a PVH guest (\(guestType) says PVH)" }
    /// The start of the refusal on an xapi host, naming the file that shows it.
    static func xapiOwns(_ inventory: String) -> String {
        "xapi manages this host's domains and devices (\(inventory) is there)"
    }
}

extension XVFError.Code {
    func kind(_ underlying: (any Error)?) -> XVFError.Kind {
        switch self {
        case .reported(let kind): kind
        case .giveBackAfterDetach, .deviceStep: (underlying as? XVFError)?.kind ?? .failed
        case .badOption, .input, .namesSeveral, .notCreatedYet, .notCreatedYetAt, .domainNotFound, .domainIsDom0,
             .needsVirtualSlot, .domainNotRunning, .noAssignableNamed, .nameNeedsOneDevice, .deviceAndPF, .nothingToAssign,
             .severalVFs, .vfNotCreatedYet, .specWithoutAddress, .notAPCIDevice, .contradictsSpec, .badRDMPolicy,
             .linkSettingsNeedVF, .qosWithoutVLAN, .noFunctions, .leaseVFToDom0, .notSRIOV, .badVFCount,
             .vfCountAboveTotal, .notModuleName, .noMaxVFs, .badMaxVFs, .inTreeOneValue, .maxVFsAboveTotal,
             .configUnreadable, .configMissing, .configSyntax, .unknownConfigKey, .configKeyNotList, .configItem,
             .recordFileUnreadable, .recordInputUnparsable, .standardInputUnreadable, .standardInputTooLarge, .noSavedImage,
             .imageWithoutRecord, .noFileName, .relativeWithoutDirectory, .imageExists, .notADirectory, .recordExists,
             .emptyTargetHost, .sshUnsplittable, .sshEmpty, .badHostName, .noHostConfig, .newConfigUnreadable,
             .newConfigMissing, .hideListTooLong, .hideListMalformed, .hideEntry, .domainConfigRefused,
             .specWithoutAddressToRemove, .outsideRoot, .leadsOutsideRoot, .domainConfigUnreadable, .domainConfigMissing,
             .notOneDevice, .libvirtLacks, .noInterface, .unknownName:
            .badInput
        case .noPCIBus, .notDom0, .libxlNeedsRunningHost, .xenLibraries, .libxlCannotStart, .pcibackNotLoaded,
             .programMissing, .notSimulated, .xapiHost, .pvhDom0VFs, .pvhDom0VF, .pvhDom0PVGuest, .domainNotResolved,
             .xlParserUnavailable, .noShadowPaging:
            .unavailable
        case .lockBusy: .busy
        default: .failed
        }
    }

    // The sentences, each written once. `cause` is the underlying error in its own words.
    func sentence(_ underlying: (any Error)?) -> String {
        let cause = underlying.map { "\($0)" } ?? ""
        func says(_ code: Int32) -> String { String(cString: strerror(code)) }
        switch self {
        case .reported: return ""
        case .stepsFailed(let failures): return failures.joined(separator: "; ")
        case .badOption(let option, let value, let reason): return "--\(option) \(value) \(reason)"
        case .input, .noPCIBus, .changeFailed: return cause
        case .unreadable: return "\(cause); nothing was changed"

        case .lockDirectory(let path, let code): return "cannot make \(path) for xvf's lock: \(says(code))"
        case .lockUntrusted(let path, let why): return "refusing to lock through \(path): \(why); make it writable by root only"
        case .lockOpen(let path, let code): return "cannot open \(path) to lock the host: \(says(code))"
        case .lockFileUnsafe(let path):
            return "refusing to lock through \(path): it is not a regular file only root can write; "
                + "remove it (xvf makes it again)"
        case .lock(let path, let code): return "cannot lock \(path): \(says(code))"
        case .lockBusy(let path, let holder, let seconds):
            return "the xvf lock (\(path)) is still held by \(holder) after \(seconds) s; "
                + "nothing was changed; try again when it is done, or wait longer with --wait SECONDS"

        case .namesSeveral(let name, let count): return "'\(name)' names \(count) devices; name one"
        case .notCreatedYet(let name): return "'\(name)' does not exist yet"
        case .notCreatedYetAt(let name, let address): return "'\(name)': \(address) does not exist yet"
        case .domainNotFound(let name): return "domain '\(name)' is not running; `xl list` shows the domains by name and id"
        case .domainIsDom0(let name): return "domain '\(name)' is Domain-0 itself; name a guest (xl list)"
        case .cannotListDomains: return "cannot list Xen domains: \(cause)"
        case .cannotReadHolders: return "cannot read the domains' devices: \(cause)"

        case .notDom0(let capabilities):
            return "not a Xen dom0: \(capabilities) does not say control_d; "
                + "boot the host under Xen (nothing was changed; --dry-run shows the plan)"
        case .libxlNeedsRunningHost(let root):
            return "libxl works on the running host only: --root \(root) is not /; "
                + "nothing was changed (--dry-run shows the plan)"
        case .xenLibraries: return cause + "; nothing was changed"
        case .libxlCannotStart(let error):
            return "libxl cannot start (\(error.reason ?? error.codeName)): run xvf as root in a "
                + "Xen dom0 with xenstored running"
        case .physinfo: return "libxl_get_physinfo: \(cause)"
        case .attached(let device, let holder):
            return "\(device) is attached to domain \(holder.id) (\(holder.name)); release it "
                + "first with `xvf release \(device)`"
        case .notAssignable(let subject):
            return "\(subject) is not assignable (not on pciback); `xvf assignable add \(subject)` "
                + "makes it so, or let `xvf assign` do it"
        case .pcibackNotLoaded: return "xen-pciback is not loaded: run `modprobe xen-pciback` and try again"
        case .needsVirtualSlot(let subject):
            return "all functions of a slot (\(subject.dropLast())*) need a guest slot: add @VS (e.g. @05) or --vslot"
        case .domainNotRunning(let domain): return "\(domain) is not running; `xl list` shows the domains"
        case .noAssignableNamed: return "no assignable device has that name; `xvf assignable list` shows the names"
        case .notAttachedTo(let subject, let domain): return "\(subject) is not attached to \(domain); `xvf list` shows who holds it"
        case .libxlRefused(let error):
            return "libxl refused (\(error.operation), \(error.codeName))" + (error.reason.map { ": " + $0 } ?? "")
        case .createdWithoutPassthrough(let domain, let device, let libxlSaid):
            return "domain \(domain.id) (\(domain.name)) refuses hot-attach: it was created without PCI passthrough "
                + "(Xen gives a guest its IOMMU context only at creation). Add passthrough = \"enabled\" (or a "
                + "pci = [ '\(device?.description ?? "BDF")' ] line) to its xl config and recreate it (xl shutdown, then xl create)"
                + (libxlSaid.map { "; libxl said: \($0)" } ?? "; nothing was changed")
        case .noIOMMU(let device, let nothingChanged):
            return "Xen could not take \(device?.description ?? "the device") for passthrough: there is no IOMMU, or it "
                + "is off. Enable VT-d/AMD-Vi in the firmware and check `xl dmesg | grep -i iommu`"
                + (nothingChanged ? "; nothing was changed" : "")
        case .noQuarantine(let address):
            return "Xen has no quarantine of \(address), and taking it off pciback failed: \(cause)"
        case .driverOverride(let address):
            return "\(address) needs driver_override=pciback for pciback to take it: \(cause)"
        case .giveBackAfterDetach(let label, let domain, let now):
            return "\(label) was detached from domain \(domain.id) (\(domain.name)) and \(now); "
                + "giving it back to dom0 failed: \(cause)"

        case .programMissing(let program, let package):
            return "\(program) is not on PATH; install it\(package.map { " (Debian: \($0))" } ?? "") or fix PATH"
        case .programWouldChangeHost(let path, let tree, let real):
            return "refusing to run \(path) for the host tree \(tree): it would "
                + "change this machine, not the tree\(real.map { " (\(path) is \($0))" } ?? ""); "
                + "run without --root on the host itself (stand-ins for a tree go in a directory named "
                + "by \(ProgramGuard.fakeBinVariable))"
        case .unterminatedBlock(let file, let name, let end):
            return "/\(file) has the line '# BEGIN \(name)' without its '\(end)'; put the end line "
                + "back where xvf's block ends (or remove the block), then run again; nothing was changed"
        case .notSimulated(let root, let marker):
            return "\(root) is not a simulated host (no \(marker)); "
                + "write one with `xvf-sim DIR`, or run the real xvf on a real host"

        case .xapiHost(let inventory):
            return XVFError.xapiOwns(inventory) + "; xvf changes nothing here: use xapi's own commands, "
                + "`xe network-sriov-create` for VFs and `xe vm-param-set uuid=… other-config:pci=0/0000:BB:DD.F` "
                + "for passthrough (list and show still work)"
        case .pvhDom0VFs(let guestType, let what):
            return "\(XVFError.pvhDom0(guestType)): \(XVFError.pvhSRIOVUnsupported), so \(what) would give guests nothing; "
                + "\(XVFError.bootDom0AsPV); nothing was changed"
        case .pvhDom0VF(let guestType, let label):
            return "\(XVFError.pvhDom0(guestType)): \(XVFError.pvhSRIOVUnsupported), so \(label) cannot go to a guest; "
                + "\(XVFError.bootDom0AsPV); nothing was changed"
        case .pvhDom0PVGuest(let guestType, let domain, let label):
            return "\(XVFError.pvhDom0(guestType)): Xen passes devices through from a PVH dom0 to HVM guests only, "
                + "and domain \(domain.id) (\(domain.name)) is PV; give \(label) to an HVM guest, or "
                + "\(XVFError.bootDom0AsPV); nothing was changed"
        case .unsafeDevice(let action, let address, let reason):
            return "refusing to \(action) \(address): it \(reason); pass --force to do it anyway"
        case .pfOfVFsInUse(let action, let address, let busy, let name):
            return "refusing to \(action) \(address): it is the PF of \(busy.count) VF"
                + "\(busy.count == 1 ? "" : "s") in use (\(busy.map(\.description).joined(separator: ", "))); "
                + "assign a VF instead (`xvf assign \(name) --dom …` picks one) or remove the VFs (`xvf vfs \(name) 0`)"

        case .nameNeedsOneDevice(let count): return "--name gives one device a name; \(count) devices were named"
        case .attachedReleaseFirst(let address, let holder):
            return "\(address) is attached to domain \(holder.id) (\(holder.name)); `xvf release \(address)` first"
        case .deviceAndPF(let pf): return "give either a device or --pf \(pf), not both"
        case .nothingToAssign: return "name what to assign: a device (05:10.0, eno49/3), a spec, or a PF (eno49 or --pf eno49)"
        case .severalVFs(let target): return "'\(target)' names several VFs; assign one (eno49/3) or a PF to pick a free one (eno49)"
        case .vfNotCreatedYet(let target): return "'\(target)' does not exist yet; create the VFs with `xvf vfs`"
        case .specWithoutAddress(let target):
            return "'\(target)' names a device by name only; give its address (xvf assignable list shows it)"
        case .notAPCIDevice(let name, let address):
            return (name.map { "'\($0)': " } ?? "") + "\(address) is not a PCI device on this host; `xvf list` shows the devices"
        case .contradictsSpec(let flag, let spec): return "\(flag) contradicts \(spec) in the spec; give one"
        case .badRDMPolicy(let text): return "--rdm-policy \(text): write strict or relaxed"
        case .linkSettingsNeedVF(let label):
            return "--mac, --vlan, --qos, --spoofchk, --trust and --state set a VF's link through its "
                + "PF's interface; \(label) is not one VF of a PF with an interface"
        case .qosWithoutVLAN: return "--qos without --vlan: ip sets the priority with the VLAN; add --vlan N"
        case .noFunctions(let device): return "\(device) has no functions on this host"
        case .domainNotResolved(let domain): return "\(domain): the domain was not resolved through libxl; nothing was changed"
        case .linkSetting(let label): return "\(label): setting its link failed: \(cause)"
        case .guestLinkSetting(let label): return "\(label): setting its link for the guest failed: \(cause)"
        case .attachDidNotTake(let label, let domain, let problems):
            return "attaching \(label) to \(domain) did not take: \(problems.joined(separator: "; ")); detached it again"
        case .leaseVFToDom0(let label, let lease):
            return "\(label) is the VF of lease \(lease), kept on pciback for its guests; leave out --to-dom0 "
                + "(or take the lease out of the host config and run `xvf boot` first)"
        case .attachedToOther(let label, let holder, let named):
            return "\(label) is attached to domain \(holder.id) (\(holder.name)), not to domain "
                + "\(named.id) (\(named.name)); leave out --dom or name that domain"
        case .notAttachedToDomain(let label, let domain):
            return "\(label) is not attached to domain \(domain.id) (\(domain.name))"
        case .notAttachedToAny(let label, let onPciback):
            return "\(label) is not attached to any domain"
                + (onPciback ? "; it is on pciback (add --to-dom0 to give it back to dom0)" : "; nothing to release")
        case .stillListed(let label, let domain):
            // libxl takes a PV guest's device out of its PCI backend only once the guest's pcifront has
            // connected; before that it gives up and reports success, forced or not.
            guard domain.kind == .pv else { return "domain \(domain.id) still lists \(label) after the detach; try --force" }
            return "domain \(domain.id) (\(domain.name)) still lists \(label) after the detach: a PV guest's PCI backend lets a "
                + "device go only once the guest's pcifront has connected, and it had not (a guest still starting, or "
                + "without xen-pcifront); release it again once the guest has taken the device"
        case .leaseRename(let lease): return "naming it \(lease) again failed: \(cause); `xvf boot` names it"
        case .linkRestore(let label): return "putting \(label)'s link back failed: \(cause); `xvf release \(label)` tries again"
        case .noVFs(let pf): return "\(pf) has no VFs; create them with `xvf vfs \(pf) N`"
        case .noFreeVF(let pf, let reasons):
            return "no free VF on \(pf): \(reasons.joined(separator: ", ")); "
                + "release one (`xvf release`) or create more (`xvf vfs \(pf) N`)"

        case .vfCountRefused(let advice): return advice
        case .fewerVFs(let label, let enabled, let requested, let why):
            return "\(label): the driver enabled \(enabled) of the \(requested) VFs asked for; \(why)"
        case .notSRIOV(let label, let firmware):
            return "\(label) is not SR-IOV capable (no sriov_totalvfs)" + (firmware.map { ": " + $0 } ?? "")
        case .badVFCount(let text, let total, let label):
            return "'\(text)' is not a VF count; write a whole number 0-\(total) for \(label)"
        case .vfCountAboveTotal(let count, let total, let label):
            return "\(count) is above the \(total) VFs \(label) supports (sriov_totalvfs); use 0-\(total)"
        case .vfCountAttached(let label, let vf, let index, let domain):
            return "refusing to change the VF count of \(label): VF \(index.map(String.init) ?? "?") (\(vf)) is attached to "
                + "domain \(domain.name) (\(domain.id)); detach it (xvf release \(vf)) or pass --force"
        case .vfCountUnsafe(let label, let vf, let index, let reason):
            return "refusing to change the VF count of \(label): VF \(index.map(String.init) ?? "?") (\(vf)) \(reason); "
                + "pass --force to do it anyway"
        case .noToolstackForPciback(let vf): return "\(vf) is libxl's to take off pciback, and no toolstack was given"
        case .recordNotRegular(let path): return "the record \(path) is not a regular file and is not used"
        case .recordUntrusted(let path, let why): return "the record \(path) is not used: \(why)"
        case .recordUnreadable: return "the record cannot be read (\(cause)); it is not used"
        case .recordUnparsable(let path, let line, let text, let reason):
            return "the record \(path) does not parse at line \(line): '\(text)' \(reason); it is not used"
        case .keepSettings(let label): return "cannot keep \(label)'s settings before the assign: \(cause); nothing was changed"
        case .recordStays(let label): return "\(label): its settings are back, but its record stays: \(cause)"

        case .notModuleName(let driver):
            return "'\(driver)' is not a kernel module name (letters, digits, _ and -), e.g. igb or ixgbe"
        case .noMaxVFs(let driver):
            return "\(driver) has no max_vfs parameter (igb and ixgbe do); set the VF count of each "
                + "of its PFs with `xvf vfs DEVICE COUNT`"
        case .badMaxVFs(let text): return "'\(text)' is not a max_vfs value; write a VF count (7) or one per port (7,7,0)"
        case .inTreeOneValue(let driver, let max):
            return "the in-tree \(driver) takes one max_vfs value for all its ports; write "
                + "--max-vfs \(max) or set ports one by one with `xvf vfs DEVICE COUNT`"
        case .maxVFsAboveTotal(let value, let total, let label):
            return "max_vfs \(value) is above the \(total) VFs \(label) supports (sriov_totalvfs)"
        case .reloadUnsafe(let driver, let address, let reason):
            return "refusing to reload \(driver): \(address) \(reason), and "
                + "reloading \(driver) takes it down; pass --force to do it anyway"
        case .reloadAttached(let driver, let vf, let domain):
            return "refusing to reload \(driver): VF \(vf) is attached to domain "
                + "\(domain.name) (\(domain.id)), and the reload destroys it; detach it (xvf release "
                + "\(vf)) or pass --force"

        case .configUntrusted(let why): return why
        case .configUnreadable: return "\(cause); name an existing host config with --config FILE"
        case .configMissing(let path):
            return "\(path): cannot be read (\(says(ENOENT))); name an existing host config with --config FILE"
        case .xlParserUnavailable: return cause
        case .configSyntax: return cause + " (the host config is in xl syntax: key = [ 'item', … ])"
        case .unknownConfigKey(let file, let line, let key):
            return "\(file):\(line): unknown key `\(key)'; a host config sets sriov, vf and assignable (see xlcfg/xvf.cfg)"
        case .configKeyNotList(let file, let line, let key):
            return "\(file)\(line.map { ":\($0)" } ?? ""): `\(key)' must be a list of strings: \(key) = [ '…', '…' ]"
        case .configItem(let file, let line, let key, let value, let reason):
            return "\(file):\(line): \(key) '\(value)': \(reason)"

        case .bindingsNotRegular(let path): return "the lease bindings \(path) are not a regular file and are not used"
        case .bindingsUntrusted(let path, let why): return "the lease bindings \(path) are not used: \(why)"
        case .bindingsUnreadable: return "the lease bindings cannot be read (\(cause)); they are not used"
        case .bindingsUnparsable(let path, let line, let text, let reason):
            return "the lease bindings \(path) do not parse at line \(line) ('\(text)'): \(reason); they are not used"
        case .leaseWithoutVF(let name):
            return "lease \(name) has no VF: at the last `xvf boot` its PF had none free (`xvf boot --dry-run` says why)"
        case .leaseVFMissing(let name, let vf):
            return "lease \(name)'s VF \(vf) is not on this host (its PF's VFs are not created yet?); run `xvf boot`"

        case .recordFileUnreadable(let path, let code):
            return "cannot read the record \(path) (\(says(code))); name the file "
                + "`xvf migrate`, `xvf guests detach` or `xvf save` (IMAGE.xvf) wrote, or - for standard input"
        case .recordInputUnparsable(let source):
            return "the record in \(source) does not parse: \(cause); give what `xvf migrate` or `xvf guests detach` wrote"
        case .standardInputUnreadable(let code): return "cannot read the record from standard input: \(says(code))"
        case .standardInputTooLarge: return "standard input holds more than 1 MiB, which is no record of xvf's"
        case .cannotReadDevices(let domain): return "cannot read the devices of domain \(domain.id) (\(domain.name)): \(cause)"
        case .deviceStep(let address): return "\(address): \(cause)"
        case .cannotStandIn(let address, let domain, let present, let holder):
            let why = !present ? "is not on this host" : holder.map { "is attached to domain \($0.id) (\($0.name))" } ?? "is taken"
            return "\(address), which domain \(domain) had, \(why); it is no VF, so no other device can stand in for it"
        case .recordedPFMissing(let address, let pf, let ids, let domain):
            return "the PF of \(address) (\(pf), ids \(ids)), which domain \(domain) had a VF of, is not on this host"
        case .migrateWithoutDevices(let domain, let command):
            return "domain \(domain.id) (\(domain.name)) holds no PCI device: `\(command)` moves it as it is"
        case .noShadowPaging(let domains):
            return domains.map { "domain \($0.id) (\($0.name))" }.joined(separator: ", ")
                + ": this Xen has no shadow paging, which a PV guest's live migration needs "
                + "(`xl migrate` fails: 'Failed to enable logdirty'); nothing was changed; move \(domains.count == 1 ? "it" : "them") "
                + "stopped with `xvf save` and `xvf restore`"
        case .targetUnreachable(let host, let command, let status, let said):
            return "cannot reach xvf on \(host): `\(command)` exited \(status) (\(said)); nothing was changed"
        case .targetTooOld(let host, let version):
            return "xvf on \(host) (\(version)) cannot take guests: "
                + "it has no `xvf guests attach --record`; install this xvf there; nothing was changed"
        case .targetRefuses(let host, let said): return "\(host) cannot take the guest's devices: \(said); nothing was changed"
        case .guestRecordNotRegular(let path): return "the record \(path) is not a regular file; it is not used"
        case .guestRecordUnreadable: return "the record cannot be read: \(cause)"
        case .guestRecordUnparsable(let path): return "the record \(path) does not parse: \(cause); it is not used"
        case .noSavedImage(let path): return "\(path) is no saved image (no such regular file); name the file xvf save wrote"
        case .imageWithoutRecord(let image, let record):
            return "\(image) has no record of its devices (\(record)): `xl restore \(image)` restores it as it is"
        case .alreadyRunning(let name, let id, let record):
            // A restore killed after xl's part leaves the guest running without all its devices; the record
            // is still there, and attaching from it is what the killed run had left to do.
            return "domain \(name) is running already (domain \(id)); a second one of that name cannot be restored. If it "
                + "runs from this image (a restore that stopped half-way), `xvf guests attach --record \(record)` gives it "
                + "the devices its record names"
        case .xlRestore(let path, let said): return "xl restore \(path) failed: \(said ?? "it said nothing"); nothing else was changed"
        case .restoredUnlisted(let path):
            return "xl restored \(path), but the domains cannot be listed (\(cause)); its devices were not "
                + "given back: run `xvf guests attach` once it runs"
        case .restoredDied(let path, let domain):
            return "xl restored \(path), but domain \(domain) is not running (it died at once: "
                + "`xl dmesg` says why); its devices were not given back"
        case .noFileName(let text): return "'\(text)' is no file name; name the image's file"
        case .relativeWithoutDirectory(let text):
            return "'\(text)' is relative and the working directory cannot be read; give an absolute path"
        case .imageExists(let path): return "\(path) exists; xvf save never replaces an image: name a new file"
        case .notADirectory(let path): return "\(path) is not a directory; make it first"
        case .imageUnsafe(let path, let why):
            return "\(path) cannot be written safely as root: \(why); save into a directory "
                + "only root can write (such as /var/lib/xen/save)"
        case .recordExists(let path, let domain):
            return "\(path) exists, a record of domain \(domain)'s devices; xvf save never replaces one: name a new file"
        case .saveWithoutDevices(let domain, let image):
            return "domain \(domain.id) (\(domain.name)) holds no PCI device: `xl save \(domain.id) \(image)` saves it as it is"
        case .recordWrite(let domain):
            return "cannot write the record of domain \(domain.id) (\(domain.name))'s devices: \(cause); nothing was changed"
        case .xlSave(let domain, let said):
            return "xl save of domain \(domain.id) (\(domain.name)) failed: \(said ?? "it said nothing")"
        case .imageNotMade: return "the image cannot be made: \(cause)"
        case .imageStaysTemporary(let domain, let temporary, let image, let record):
            return "domain \(domain.id) (\(domain.name)) is saved, but its image stays at \(temporary) "
                + "(\(cause)): rename it to \(image); its devices are recorded in \(record)"
        case .emptyTargetHost: return "the target host is empty; name the host the guest goes to"
        case .sshUnsplittable(let command, let reason):
            return "--ssh '\(command)' cannot be split into words without a shell (\(reason)); "
                + "give a command and its options, or name a script that does the rest"
        case .sshEmpty: return "--ssh holds no command; give one (ssh), or '' for this host"
        case .badHostName(let host):
            return "'\(host)' is no host name (one word, such as dom0-b or root@dom0-b); ssh's options go in --ssh"

        case .noHostConfig(let path):
            return "\(path) does not exist: write the host config there (xlcfg/xvf.cfg is a "
                + "commented example) or name one with --config FILE"
        case .newConfigUnreadable: return "\(cause); name the new host config as a readable regular file"
        case .newConfigMissing(let path): return "\(path): cannot be read (\(says(ENOENT))); name the new host config as a readable file"
        case .driverNameUnwritable(let address, let driver):
            return "\(address)'s driver is named '\(driver.escapingControlCharacters)', which is no "
                + "kernel module name; xvf writes no such name into boot files; nothing was changed"
        case .hideListTooLong(let needs, let room):
            return "the hide list needs \(needs) characters, but the dom0 command "
                + "line has room for \(room) (2048 in all): hide fewer devices, or hand VFs to pciback "
                + "at boot with `xvf boot`"
        case .hideListMalformed(let text, let rest):
            return "hide list '\(text)' is malformed at '\(rest)': each entry is (DDDD:BB:DD.F); xen-pciback would refuse to load"
        case .hideEntry(let body, let text, let why):
            return "hide entry '(\(body))' in '\(text)' \(why); xen-pciback would refuse to load"
        case .domainConfigRefused: return cause
        case .specWithoutAddressToRemove(let spec): return "'\(spec)' names no device address; name the device by BDF"
        case .noWorkingDirectory(let code): return "cannot tell the current directory: \(says(code))"
        case .outsideRoot(let file, let root): return "\(file) is outside the host root \(root); name it by its path on the host"
        case .leadsOutsideRoot(let file, let root): return "\(file) leads outside the host root \(root); name a file inside it"
        case .domainConfigUnreadable(let file, let reason): return "\(file): \(reason ?? "cannot be read as a file (\(cause))")"
        case .domainConfigMissing(let file): return "\(file) does not exist; create the domain config first (see xlcfg/ for examples)"
        case .notOneDevice(let spec):
            return "'\(spec)' names no single device; libvirt's <hostdev> takes one function by address (0000:04:10.0)"
        case .libvirtLacks(let spec, let key):
            return "'\(spec)': libvirt's <hostdev> has no \(key); leave it out for "
                + "libvirt (it applies libxl's default), or use an xl config (xvf cfg line)"
        case .noInterface(let label):
            return "\(label) has no network interface (no driver bound?); libvirt names the PF of a "
                + "hostdev pool by its interface: bind its driver first"
        case .interfaceNameNotXML(let label, let name):
            return "\(label)'s interface is named '\(name.escapingControlCharacters)', which XML "
                + "cannot hold; rename the interface (ip link set dev NAME name NEW) first"
        case .unknownName(let head):
            return "'\(head)' is neither a network interface here nor a name the host config gives "
                + "(assignable = [ 'PF,name=\(head)' ]); `xvf list` shows the interfaces"
        }
    }
}
