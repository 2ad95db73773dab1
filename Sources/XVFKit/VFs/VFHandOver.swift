#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// A VF's link settings across its guests: `xvf assign --mac …` sets them through the PF before the
/// guest gets the VF, and `xvf release` puts them back, so that the next guest never inherits the last
/// one's MAC, VLAN or trust.
///
/// What the VF had before is kept in `run/xvf/vf/BDF` (written before anything changes, atomically),
/// not in xenstore beside libxl's own `/libxl/pci/…`: the settings live in the NIC until the PF driver
/// resets them, at a reboot or a driver reload, and `/run` (a tmpfs) lives exactly as long; xenstore
/// would need libxenstore besides libxl, and a crash of xvf loses neither. The oldest record wins: a VF
/// assigned again without a release through xvf still goes back to what it had before the first guest.
public struct VFHandOver {
    public let vf: PCIAddress
    /// The PF's interface, which `ip link set dev … vf N` needs, and the VF's index on it.
    public let interface: String
    public let index: Int
    /// `eno49/2`, as messages name the VF.
    public var label: String { "\(interface)/\(index)" }

    public static let directory = "run/xvf/vf"
    var recordPath: String { Self.directory + "/" + vf.description }

    /// The hand-over of a VF of a PF with a network interface; nil for anything else (a PF, a device
    /// that is no VF, a VF whose PF's driver makes no interface), whose links cannot be set through `ip`.
    public init?(_ device: PCIDevice, inventory: HostInventory) {
        guard let pf = device.physicalFunction, let index = device.vfIndex,
              let interface = inventory[pf]?.interfaceName else { return nil }
        vf = device.address
        self.interface = interface
        self.index = index
    }

    /// The settings the PF driver has for the VF now; nil when they cannot be read (no `ip`, or a tree
    /// whose `ip` would describe this machine).
    func current(root: HostRoot) -> VFLinkSettings? {
        IPLinkReport.read(root: root)?[interface]?[index]
    }

    /// The step that applies `settings` (only what differs from `current`); nil when nothing differs.
    func step(_ settings: VFLinkSettings, from current: VFLinkSettings?) -> HostStep? {
        let change = settings.changes(from: current)
        return change.isEmpty ? nil : .run(["ip"] + change.words(interface: interface, index: index))
    }

    // MARK: the record of what the VF had before

    /// What the VF had before its first `xvf assign`: nil when nothing was recorded, and `.failure` (one
    /// line naming the record) when the record cannot be trusted or read: root puts it on a NIC, so it must
    /// be a regular file only root can write, in a directory only root can write, small and well-formed.
    public func recorded(root: HostRoot) -> Result<VFLinkSettings, XVFError>? {
        let path = root.path(recordPath)
        var info = stat()
        // Not through a link: a record is a file xvf wrote itself, never a pointer to another.
        if lstat(path, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            return .failure(XVFError(.recordNotRegular(path: path)))
        }
        if let why = PathTrust.problemApplying(path) {
            return .failure(XVFError(.recordUntrusted(path: path, why: why)))
        }
        let text: String?
        do { text = try root.editableText(recordPath) } catch {
            return .failure(XVFError(.recordUnreadable, underlying: error))
        }
        guard let text else { return nil }
        var settings = VFLinkSettings()
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty && !line.hasPrefix("#") {
            let equals = line.firstIndex(of: "=") ?? line.endIndex
            let key = String(line[..<equals])
            let value = equals < line.endIndex ? String(line[line.index(after: equals)...]) : ""
            // The zero MAC is what a VF has when the PF never set one: putting it back clears the PF's.
            if key == "mac" && value == Self.noMAC {
                settings.mac = value
                continue
            }
            do { try settings.set(key, to: value) } catch {
                return .failure(XVFError(.recordUnparsable(path: path, line: number + 1, text: String(line.prefix(80)),
                                                           reason: error.reason), underlying: error))
            }
        }
        return settings.isEmpty ? nil : .success(settings)
    }

    /// What a VF's link is given when its record cannot be used: no MAC of the last guest's, no VLAN, no
    /// trust, spoof checking on; what the host config sets for the VF goes over it.
    static let safeDefaults = VFLinkSettings(mac: noMAC, vlan: 0, qos: 0, spoofCheck: true, trust: false)

    /// Writes the record of `settings`, unless one is there already (the oldest wins); true when written.
    func record(_ settings: VFLinkSettings, domain: String, root: HostRoot) throws(XVFError) -> Bool {
        guard !root.exists(recordPath) else { return false }
        var lines = ["# \(label) (\(vf)) before `xvf assign` gave it to \(domain); `xvf release` puts it back."]
        lines += settings.keyValues
        do { try root.replaceFile(recordPath, with: lines.joined(separator: "\n") + "\n") } catch {
            throw XVFError(.keepSettings(label: label), underlying: error)
        }
        return true
    }

    func forget(root: HostRoot) throws(XVFError) {
        do { try root.removeFile(recordPath) } catch {
            throw XVFError(.recordStays(label: label), underlying: error)
        }
    }

    static let noMAC = "00:00:00:00:00:00"

    /// What `release` puts back: the record, with what the host config says for the VF over it.
    func target(recorded: VFLinkSettings?, configured: VFLinkSettings?) -> VFLinkSettings? {
        guard var settings = recorded ?? configured else { return nil }
        if let configured {
            if let mac = configured.mac { settings.mac = mac }
            if let vlan = configured.vlan { settings.vlan = vlan; settings.qos = configured.qos ?? 0 }
            if let spoofCheck = configured.spoofCheck { settings.spoofCheck = spoofCheck }
            if let trust = configured.trust { settings.trust = trust }
            if let linkState = configured.linkState { settings.linkState = linkState }
        }
        return settings
    }
}

extension VFHandOver {
    /// The step that puts back, of the settings `changed` set, what `before` had.
    func undoing(_ changed: VFLinkSettings, to before: VFLinkSettings) -> HostStep? {
        var back = VFLinkSettings()
        if changed.mac != nil { back.mac = before.mac }
        if changed.vlan != nil { back.vlan = before.vlan ?? 0; back.qos = before.qos ?? 0 }
        if changed.spoofCheck != nil { back.spoofCheck = before.spoofCheck }
        if changed.trust != nil { back.trust = before.trust }
        if changed.linkState != nil { back.linkState = before.linkState }
        return step(back, from: nil)
    }
}
