#if canImport(Glibc)
import Glibc
#endif
import LibPCI
import SRIOV
import XenPCI

/// The host's declarative SR-IOV setup, `etc/xen/xvf.cfg`, in xl syntax (read by libxlutil, as xl reads
/// domain configs):
/// ```
/// sriov = [ 'eno49,vfs=7', '0000:81:00.0,vfs=4' ]                # VF count per PF
/// vf = [ 'eno49/0,mac=52:54:00:00:49:00,vlan=100,trust=on' ]      # VF link settings (ip link … vf N …)
/// assignable = [ 'eno49/0-5', '0000:81:10.4,name=db-nic' ]       # VFs handed to pciback at boot
/// assignable = [ 'eno49,name=web1-nic' ]                          # a lease: any free VF of eno49
/// vf = [ 'web1-nic,mac=52:54:00:aa:00:01,vlan=10' ]               # a lease's link settings
/// ```
/// It is checked whole against the host before anything is done: every error names `FILE:LINE`, the key
/// and the fix, and one error refuses the whole file. A PF that is not on the host is the exception: its
/// entries are set aside (`absent`) so that at boot the other PFs are still set up.
public struct HostConfig {
    public struct VFCount: Equatable {
        public var pf: PCIAddress
        public var count: Int
        public var line: Int
    }

    public struct VFLink: Equatable {
        public var pf: PCIAddress
        /// The PF's interface, which `ip link set dev … vf N` needs.
        public var interface: String
        public var index: Int
        public var settings: VFLinkSettings
        public var line: Int
    }

    public struct AssignableVF: Equatable {
        public var address: PCIAddress
        public var pf: PCIAddress
        public var index: Int
        public var name: String?
        public var line: Int
    }

    /// A lease (`assignable = [ 'eno49,name=web1-nic' ]`): one free VF of the PF, bound to the name at
    /// boot (`Leases`), with the name's link settings (`vf = [ 'web1-nic,…' ]`).
    public struct LeaseEntry: Equatable {
        public var name: String
        public var pf: PCIAddress
        /// The PF's interface, which `ip link set dev … vf N` needs; nil when its driver makes none (then
        /// the lease can have no link settings).
        public var interface: String?
        public var settings: VFLinkSettings
        public var line: Int
    }

    /// An entry naming a PF the host does not have (yet): at boot a PF's interface appears only when its
    /// driver has made it, and one late or missing PF must not stop the others. `xvf boot` reports each
    /// as a failure of its own and applies the rest; `xvf doctor` flags them.
    public struct AbsentEntry: Equatable {
        public var line: Int
        /// One line, `FILE:LINE: key 'item': …`.
        public var message: String
        /// The PF on the host the entry belongs to, when there is one (its pin did not match).
        public var pf: PCIAddress? = nil
    }

    public static let defaultPath = "etc/xen/xvf.cfg"
    public static let keys = ["sriov", "vf", "assignable"]

    public let filename: String
    /// In file order.
    public private(set) var counts: [VFCount]
    /// One per VF, settings of several entries merged, in PF and index order.
    public private(set) var links: [VFLink]
    public private(set) var assignable: [AssignableVF]
    /// In file order.
    public private(set) var leases: [LeaseEntry]
    /// Every name an `assignable` entry gives, a lease's or a VF's, including entries set aside: what a
    /// domain config may name (`pci = [ 'name=…' ]`), and the leases whose bindings stay while their PF is away.
    public private(set) var names: Set<String>
    /// Entries set aside because their PF is not on the host, in file order.
    public private(set) var absent: [AbsentEntry]

    /// The entries of one PF only (`xvf boot --pf`, when that PF's driver came back): the rest of the host
    /// is left as it is, and entries of PFs the host lacks are not this PF's concern; a pin that does not
    /// match this PF still fails the run.
    public func only(_ pf: PCIAddress) -> HostConfig {
        var config = self
        config.counts = counts.filter { $0.pf == pf }
        config.links = links.filter { $0.pf == pf }
        config.assignable = assignable.filter { $0.pf == pf }
        config.leases = leases.filter { $0.pf == pf }
        // What was set aside for this PF (its pin did not match) still has to be said.
        config.absent = absent.filter { $0.pf == pf }
        return config
    }

    /// The count a PF will have after `xvf boot`: the configured one, else what it has now.
    public func plannedCount(of pf: PCIDevice) -> Int { Self.plannedCount(of: pf, counts: counts) }

    /// The count a PF will have after `xvf boot` with these `sriov` entries (the reader asks it of those
    /// read so far).
    static func plannedCount(of pf: PCIDevice, counts: [VFCount]) -> Int {
        counts.first { $0.pf == pf.address }?.count ?? pf.sriov?.numVFs ?? 0
    }

    // MARK: loading

    /// Reads the config at `path` (a file the user named), or `etc/xen/xvf.cfg` under the root.
    /// nil when the default file does not exist; a named file that does not exist is an error.
    /// `library` reads the serial numbers that entries pin (`serial=`); without it such a pin cannot be checked.
    public static func load(path: String?, root: HostRoot, inventory: HostInventory,
                            library: PCILibrary? = nil) throws(XVFError) -> HostConfig? {
        let filename = displayPath(path, root: root)
        if let why = untrusted(filename) { throw XVFError(.configUntrusted(why: why)) }
        let text: String?
        do { text = try HostRoot.editableText(atPath: filename) } catch {
            throw XVFError(.configUnreadable, underlying: error)
        }
        guard let text else {
            if path == nil { return nil }
            throw XVFError(.configMissing(path: filename))
        }
        return try HostConfig(text: text, filename: filename, inventory: inventory, library: library)
    }

    /// Why root must not apply the config at `filename`: it, or a directory above it, can be written by a
    /// user other than root (what sshd's StrictModes refuses too); nil when only root can change it.
    public static func untrusted(_ filename: String) -> String? {
        PathTrust.problemApplying(filename).map {
            "refusing to apply \(filename) as root: \($0); make it and its directories owned and writable by root "
                + "only (chown root:root, chmod go-w)"
        }
    }

    /// The path as messages show it: `--config FILE` as given, the default under the root.
    public static func displayPath(_ path: String?, root: HostRoot) -> String {
        path ?? root.path(defaultPath)
    }

    // MARK: checking

    /// Checks `text` against the host; the first problem throws a bad-input error `FILE:LINE: …`.
    public init(text: String, filename: String, inventory: HostInventory, library: PCILibrary? = nil) throws(XVFError) {
        let config: XLConfig
        do { config = try XLConfig(parsing: text, filename: filename) } catch {
            throw XVFError(error.unavailable ? .xlParserUnavailable : .configSyntax, underlying: error)
        }
        let layout = XLStatements(scanning: text)
        for statement in layout.statements where !Self.keys.contains(statement.key) {
            throw XVFError(.unknownConfigKey(file: filename, line: statement.line, key: statement.key))
        }
        var reader = ItemReader(filename: filename, inventory: inventory) { pf in
            HardwareIdentity.read(pf, root: inventory.root, library: library)
        }
        let sriov = try Self.items("sriov", config, layout, filename)
        for item in sriov { try reader.count(item) }
        // Names before links: a `vf` entry may name a lease.
        for item in try Self.items("assignable", config, layout, filename) { try reader.assignable(item) }
        for item in try Self.items("vf", config, layout, filename) { try reader.link(item) }
        self.filename = filename
        counts = reader.counts
        links = reader.links.values.sorted { ($0.pf, $0.index) < ($1.pf, $1.index) }
        assignable = reader.assignable.sorted { $0.address < $1.address }
        leases = reader.leases
        names = reader.declaredNames
        // In file order, whichever key's items were read first.
        absent = reader.absent.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
    }

    /// A key's list items as libxlutil reads them, each with its line (the key's line when the scan and
    /// libxlutil disagree, which would be a bug in the scan).
    private static func items(_ key: String, _ config: XLConfig, _ layout: XLStatements, _ filename: String)
        throws(XVFError) -> [XLStatements.Item]
    {
        let values: [String]
        do {
            guard let read = try config.stringList(key) else { return [] }
            values = read
        } catch {
            throw XVFError(.configKeyNotList(file: filename, line: layout.line(of: key), key: key), underlying: error)
        }
        if let scanned = layout.items(of: key), scanned.map(\.value) == values { return scanned }
        let line = layout.line(of: key) ?? 0
        return values.map { XLStatements.Item(value: $0, line: line) }
    }
}

/// Reads the items of each key, keeping what earlier items said (counts before VF indices, …).
private struct ItemReader {
    let filename: String
    let inventory: HostInventory
    var counts: [HostConfig.VFCount] = []
    var links: [VFKey: HostConfig.VFLink] = [:]
    /// Which line set each VF setting, and which VF has each MAC, for "set twice" errors.
    var settingLines: [VFKey: [String: Int]] = [:]
    var macOwners: [String: (String, Int)] = [:]
    var assignable: [HostConfig.AssignableVF] = []
    var names: [String: Int] = [:]
    var declaredNames: Set<String> = []
    /// Leases whose PF is not on the host, or failed its pin: their `vf` entries wait with them.
    var leasesSetAside: Set<String> = []
    var leases: [HostConfig.LeaseEntry] = []
    var absent: [HostConfig.AbsentEntry] = []
    /// What each PF's hardware says it is (for pins).
    let identify: (PCIDevice) -> HardwareIdentity
    /// PFs whose pin did not match, with the line of the pin: all their entries are set aside.
    var refused: [PCIAddress: Int] = [:]

    struct VFKey: Hashable {
        var pf: PCIAddress
        var index: Int
    }

    init(filename: String, inventory: HostInventory, identify: @escaping (PCIDevice) -> HardwareIdentity) {
        self.filename = filename
        self.inventory = inventory
        self.identify = identify
    }

    func fail(_ key: String, _ item: XLStatements.Item, _ reason: String) -> XVFError {
        XVFError(.configItem(file: filename, line: item.line, key: key, value: item.value, reason: reason))
    }

    /// `PF,vfs=N`.
    mutating func count(_ item: XLStatements.Item) throws(XVFError) {
        let (head, options) = try split("sriov", item, allowed: ["vfs", "serial", "ids", "mac"])
        if let mac = options["mac"], case .failure(let error) = VFLinkSettings.parseMAC(mac) {
            throw fail("sriov", item, "mac=\(mac) \(error.reason)")
        }
        if setAsideIfAbsent("sriov", item, head) { return }
        let pf = try physicalFunction("sriov", item, head)
        if options["serial"] != nil || options["ids"] != nil || options["mac"] != nil,
           let why = identify(pf).mismatch(ids: options["ids"], serial: options["serial"], mac: options["mac"]) {
            refused[pf.address] = item.line
            absent.append(HostConfig.AbsentEntry(line: item.line, message: fail("sriov", item, "\(inventory.label(pf)) is "
                + "not the device this entry pins: \(why); its entries are skipped (put the card back, or pin what "
                + "`xvf list --json` shows)").message, pf: pf.address))
            return
        }
        let sriov = pf.sriov!
        guard let text = options["vfs"] else {
            throw fail("sriov", item, "says no count; write \(head),vfs=N (0-\(sriov.totalVFs))")
        }
        guard let count = Int(text), count >= 0, text.allSatisfy(\.isASCII) else {
            throw fail("sriov", item, "vfs=\(text) is not a whole number; use 0-\(sriov.totalVFs)")
        }
        guard count <= sriov.totalVFs else {
            throw fail("sriov", item, "vfs=\(count) is above the \(sriov.totalVFs) VFs \(inventory.label(pf)) supports "
                       + "(sriov_totalvfs); use 0-\(sriov.totalVFs)")
        }
        if let earlier = counts.first(where: { $0.pf == pf.address }) {
            throw fail("sriov", item, "\(inventory.label(pf)) already has a count at line \(earlier.line); keep one")
        }
        counts.append(HostConfig.VFCount(pf: pf.address, count: count, line: item.line))
    }

    /// `PF/INDEX[-LAST],key=value…`.
    mutating func link(_ item: XLStatements.Item) throws(XVFError) {
        let (head, options) = try split("vf", item, allowed: VFLinkSettings.keys)
        if declaredNames.contains(head) {
            try leaseLink(item, head, options)
            return
        }
        if setAsideIfAbsent("vf", item, head) { return }
        if setAsideIfRefused("vf", item, head) { return }
        let (pf, indices) = try virtualFunctions("vf", item, head)
        guard let interface = pf.interfaceName else {
            throw fail("vf", item, "\(inventory.label(pf)) has no network interface (its driver makes none), so its VFs' "
                       + "link settings cannot be set; load its network driver")
        }
        guard !options.isEmpty else {
            throw fail("vf", item, "sets nothing; add settings: \(VFLinkSettings.keys.map { $0 + "=…" }.joined(separator: ","))")
        }
        var settings = VFLinkSettings()
        for (key, value) in options {
            do { try settings.set(key, to: value) } catch { throw fail("vf", item, "\(key)=\(value) \(error.reason)") }
            if key == "mac" && indices.count > 1 {
                throw fail("vf", item, "gives one MAC to \(indices.count) VFs; give each VF its own entry")
            }
        }
        if settings.qos != nil && settings.vlan == nil {
            throw fail("vf", item, "sets qos without vlan; ip sets the priority with the VLAN: add vlan=N")
        }
        for index in indices {
            let key = VFKey(pf: pf.address, index: index)
            var link = links[key] ?? HostConfig.VFLink(pf: pf.address, interface: interface, index: index,
                                                       settings: VFLinkSettings(), line: item.line)
            for (name, _) in options {
                if let earlier = settingLines[key]?[name] {
                    throw fail("vf", item, "sets \(name) of \(interface)/\(index) again (first at line \(earlier)); keep one")
                }
                settingLines[key, default: [:]][name] = item.line
            }
            if let mac = settings.mac {
                if let (owner, line) = macOwners[mac] {
                    throw fail("vf", item, "mac=\(mac) is already given to \(owner) at line \(line); MACs must differ")
                }
                macOwners[mac] = ("\(interface)/\(index)", item.line)
                link.settings.mac = mac
            }
            if let vlan = settings.vlan { link.settings.vlan = vlan }
            if let qos = settings.qos { link.settings.qos = qos }
            if let spoofCheck = settings.spoofCheck { link.settings.spoofCheck = spoofCheck }
            if let trust = settings.trust { link.settings.trust = trust }
            if let state = settings.linkState { link.settings.linkState = state }
            links[key] = link
        }
    }

    /// `NAME,key=value…` of a lease: its link settings, checked as a VF's are.
    mutating func leaseLink(_ item: XLStatements.Item, _ name: String, _ options: Options) throws(XVFError) {
        guard let number = leases.firstIndex(where: { $0.name == name }) else {
            // A lease set aside with its PF waits with it; a named VF has its link set by its VF.
            if leasesSetAside.contains(name) { return }
            throw fail("vf", item, "\(name) names one VF, not a lease; set its link by the VF (PF/INDEX, as its assignable "
                       + "entry at line \(names[name]!) names it)")
        }
        guard leases[number].interface != nil else {
            throw fail("vf", item, "the PF of lease \(name) has no network interface (its driver makes none), so its VF's "
                       + "link settings cannot be set; load its network driver")
        }
        guard !options.isEmpty else {
            throw fail("vf", item, "sets nothing; add settings: \(VFLinkSettings.keys.map { $0 + "=…" }.joined(separator: ","))")
        }
        var settings = leases[number].settings
        for (key, value) in options {
            if settings.keyValues.contains(where: { $0.hasPrefix(key + "=") }) {
                throw fail("vf", item, "sets \(key) of lease \(name) again; keep one")
            }
            do { try settings.set(key, to: value) } catch { throw fail("vf", item, "\(key)=\(value) \(error.reason)") }
        }
        if settings.qos != nil && settings.vlan == nil {
            throw fail("vf", item, "sets qos without vlan; ip sets the priority with the VLAN: add vlan=N")
        }
        if let mac = options["mac"], let parsed = settings.mac {
            if let (owner, line) = macOwners[parsed] {
                throw fail("vf", item, "mac=\(mac) is already given to \(owner) at line \(line); MACs must differ")
            }
            macOwners[parsed] = ("lease \(name)", item.line)
        }
        leases[number].settings = settings
    }

    /// `PF,name=NAME`: a lease, one free VF of the PF under that name (bound by `xvf boot`).
    mutating func lease(_ item: XLStatements.Item, _ head: String, _ name: String?) throws(XVFError) {
        if setAsideIfRefused("assignable", item, head) {
            if let name { leasesSetAside.insert(name) }
            return
        }
        let pf = try physicalFunction("assignable", item, head)
        guard let name else {
            throw fail("assignable", item, "names a PF without a lease name; write \(head),name=NAME for one free VF of it, "
                       + "or name VFs (\(pf.interfaceName ?? head)/0-5)")
        }
        if inventory.device(withInterface: name) != nil {
            throw fail("assignable", item, "the lease name \(name) is an interface of this host; choose another name")
        }
        leases.append(HostConfig.LeaseEntry(name: name, pf: pf.address, interface: pf.interfaceName,
                                            settings: VFLinkSettings(), line: item.line))
    }

    /// `VF[,name=NAME]`: a VF name (`eno49/0-5`) or a VF's address, existing or to be created; or a PF with
    /// a name, a lease.
    mutating func assignable(_ item: XLStatements.Item) throws(XVFError) {
        let (head, options) = try split("assignable", item, allowed: ["name"])
        if let name = options["name"] {
            if let why = Leases.nameProblem(name) { throw fail("assignable", item, why) }
            if let earlier = names[name] {
                throw fail("assignable", item, "the name \(name) is already used at line \(earlier); names must differ")
            }
            names[name] = item.line
            declaredNames.insert(name)
        }
        // A PF (its interface, or its address): a lease.
        if !head.contains("/") {
            let pf: Bool
            if head.contains(":") {
                pf = (try? PCIAddress(parsing: head)).flatMap { inventory[$0] }?.isPhysicalFunction == true
            } else {
                if setAsideIfAbsent("assignable", item, head) {
                    if let name = options["name"] { leasesSetAside.insert(name) }
                    return
                }
                pf = true
            }
            if pf {
                try lease(item, head, options["name"])
                return
            }
        }
        // Only PF/INDEX: a VF's own address is often absent before `sriov` creates it, and is checked below.
        if head.contains("/"), setAsideIfAbsent("assignable", item, head) { return }
        if setAsideIfRefused("assignable", item, head) { return }
        var found: [(pf: PCIDevice, index: Int, address: PCIAddress)] = []
        if head.contains("/") {
            let (pf, indices) = try virtualFunctions("assignable", item, head)
            for index in indices {
                guard let address = pf.sriov!.address(ofVF: index, pf: pf.address) else {
                    throw fail("assignable", item, "VF \(index) of \(inventory.label(pf)) has no address (no sriov_offset)")
                }
                found.append((pf, index, address))
            }
        } else {
            let address: PCIAddress
            do { address = try PCIAddress(parsing: head) } catch {
                throw fail("assignable", item, "'\(head)' is neither a VF (eno49/0, eno49/0-5) nor a VF's address (\(error.reason))")
            }
            guard let (pf, index) = inventory.virtualFunction(at: address) else {
                let what = inventory[address].map { $0.isPhysicalFunction ? "a PF" : "not a VF" } ?? "no VF any PF here can have"
                throw fail("assignable", item, "\(address) is \(what); list VFs here (a whole device goes to pciback with `xvf bootline`)")
            }
            try checkIndex("assignable", item, pf, index)
            found.append((pf, index, address))
        }
        let name = options["name"]
        if let name {
            guard found.count == 1 else {
                throw fail("assignable", item, "gives one name to \(found.count) VFs; name each VF in its own entry")
            }
            do { _ = try PCISpec(address: nil, name: name) } catch { throw fail("assignable", item, error.reason) }
        }
        for vf in found {
            if let earlier = assignable.first(where: { $0.address == vf.address }) {
                throw fail("assignable", item, "\(vf.address) is already listed at line \(earlier.line); list it once")
            }
            assignable.append(HostConfig.AssignableVF(address: vf.address, pf: vf.pf.address, index: vf.index,
                                                      name: name, line: item.line))
        }
    }

    // MARK: pieces

    /// The device part and the `key=value` options of an item, each key known and given once.
    func split(_ key: String, _ item: XLStatements.Item, allowed: [String]) throws(XVFError) -> (String, Options) {
        let parts = item.value.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let head = parts[0].trimming()
        guard !head.isEmpty else { throw fail(key, item, "names no device; start with one (eno49, eno49/0, 0000:04:00.0)") }
        var options = Options()
        for part in parts.dropFirst() {
            let pair = part.trimming().split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard pair.count == 2, !pair[0].isEmpty, !pair[1].isEmpty else {
                throw fail(key, item, "'\(part)' is not key=value")
            }
            let name = String(pair[0])
            guard allowed.contains(name) else {
                throw fail(key, item, "unknown setting '\(name)'; \(key) takes \(allowed.joined(separator: ", "))")
            }
            guard options[name] == nil else { throw fail(key, item, "sets \(name) twice") }
            options.pairs.append((name, String(pair[1])))
        }
        return (head, options)
    }

    /// An item's `key=value` options in the order written, so that the first bad one is the one reported.
    struct Options: Sequence {
        var pairs: [(String, String)] = []
        subscript(name: String) -> String? { pairs.first { $0.0 == name }?.1 }
        var isEmpty: Bool { pairs.isEmpty }
        func makeIterator() -> IndexingIterator<[(String, String)]> { pairs.makeIterator() }
    }

    /// Sets the item aside when its device part names a PF (itself, or by its VFs) that is not on the
    /// host at all; every other problem with the name is still an error of the whole file.
    mutating func setAsideIfAbsent(_ key: String, _ item: XLStatements.Item, _ head: String) -> Bool {
        let reference: DeviceName.PFReference
        switch try? DeviceName(parsing: head) {
        case .interface(let interface)?: reference = .interface(interface)
        case .address(let address)?: reference = .address(address)
        case .virtualFunctions(let pf, _)?: reference = pf
        case nil: return false
        }
        switch reference {
        case .interface(let interface):
            // A representor is on the host: naming it is an error of its own (the VF to name instead).
            if inventory.device(withInterface: interface) != nil || inventory.representorOwners[interface] != nil { return false }
        case .address(let address): if inventory[address] != nil { return false }
        }
        absent.append(HostConfig.AbsentEntry(line: item.line, message: fail(key, item, "\(reference) is not on this "
            + "host (a PF's interface appears once its driver has loaded; `xvf list` shows them); skipped").message))
        return true
    }

    /// Sets an entry aside when the PF it belongs to (`PF/I`, or a VF's address) failed its pin.
    mutating func setAsideIfRefused(_ key: String, _ item: XLStatements.Item, _ head: String) -> Bool {
        guard !refused.isEmpty else { return false }
        var pf: PCIAddress?
        switch try? DeviceName(parsing: head) {
        case .virtualFunctions(.interface(let interface), _)?: pf = inventory.device(withInterface: interface)?.address
        case .virtualFunctions(.address(let address), _)?: pf = address
        default: pf = (try? PCIAddress(parsing: head)).flatMap { inventory.virtualFunction(at: $0)?.pf.address }
        }
        guard let pf, let line = refused[pf] else { return false }
        absent.append(HostConfig.AbsentEntry(line: item.line, message: fail(key, item, "skipped: its PF does not match the "
            + "pin at line \(line)").message, pf: pf))
        return true
    }

    /// The SR-IOV PF a `PF` part names (an interface or an address).
    func physicalFunction(_ key: String, _ item: XLStatements.Item, _ text: String) throws(XVFError) -> PCIDevice {
        do { return try inventory.physicalFunction(named: text) } catch { throw fail(key, item, error.description) }
    }

    /// The PF and VF indices of a `PF/INDEX`, `PF/FIRST-LAST` or `PF/*` part, within the planned count.
    func virtualFunctions(_ key: String, _ item: XLStatements.Item, _ text: String) throws(XVFError) -> (PCIDevice, [Int]) {
        let name: DeviceName
        do { name = try DeviceName(parsing: text) } catch { throw fail(key, item, error.description) }
        guard case .virtualFunctions(let reference, let selection) = name else {
            throw fail(key, item, "'\(text)' is not a VF; name one as PF/INDEX (eno49/0) or a range (eno49/0-5)")
        }
        let pf: PCIDevice
        do { pf = try inventory.physicalFunction(reference, whole: text) } catch { throw fail(key, item, error.description) }
        // Bounds before building the list: eno49/0-9223372036854775807 parses, and materialising it would
        // trap or exhaust memory. checkIndex names the first index past the planned count.
        let planned = HostConfig.plannedCount(of: pf, counts: counts)
        let range: ClosedRange<Int>
        switch selection {
        case .index(let index): range = index...index
        case .range(let given): range = given
        case .all:
            guard planned > 0 else { return (pf, []) }
            range = 0...(planned - 1)
        }
        if range.upperBound >= planned { try checkIndex(key, item, pf, max(range.lowerBound, planned)) }
        return (pf, Array(range))
    }

    func checkIndex(_ key: String, _ item: XLStatements.Item, _ pf: PCIDevice, _ index: Int) throws(XVFError) {
        let planned = HostConfig.plannedCount(of: pf, counts: counts)
        guard index >= planned else { return }
        if let count = counts.first(where: { $0.pf == pf.address }) {
            throw fail(key, item, "VF \(index) is beyond the \(count.count) VFs \(inventory.label(pf)) gets (sriov at line "
                       + "\(count.line)); raise vfs= there or use VFs 0-\(max(count.count - 1, 0))")
        }
        // A count the PF cannot take would only move the error to the sriov line: past its total, the
        // fix is a smaller index.
        let total = pf.sriov?.totalVFs ?? 0
        guard index < total else {
            throw fail(key, item, "VF \(index) is beyond the \(total) VFs \(inventory.label(pf)) can have (sriov_totalvfs); "
                       + (total > 0 ? "use VFs 0-\(total - 1)" : "it has no SR-IOV capability"))
        }
        throw fail(key, item, "VF \(index) is beyond the \(planned) VFs \(inventory.label(pf)) has, and no sriov entry sets "
                   + "its count; add one: sriov = [ '\(pf.interfaceName ?? pf.address.description),vfs=\(index + 1)' ]")
    }
}
