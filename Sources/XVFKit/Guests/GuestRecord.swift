#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XenPCI

/// What a guest held when xvf took its devices away (before `xl save`, or before xendomains saves it at
/// shutdown), so that it gets the same devices back when it runs again, or for a VF another VF of the
/// same PF with the same link: the guest's driver finds the same MAC and VLAN behind it.
///
/// Kept as text, one line per device, written atomically by root in a directory only root can write:
///
///     # comment
///     domain web1 pv
///     device 0000:04:10.1 spec=0000:04:10.1,permissive=1 pf=0000:04:00.0 index=1 ids=8086:1521:8086:0001
///         interface=eno49 serial=- permanent_mac=a0:36:9f:12:34:50 lease=web1-nic mac=52:54:00:aa:00:01 vlan=10 …
///
/// (one line in the file). `-` is "none"; a device that is no VF has no `pf=` and goes back to its own
/// address only. Every value is free of spaces: addresses, specs, ids, MACs and Linux interface names
/// (which the kernel refuses with whitespace).
struct GuestRecord: Equatable {
    var domain: String
    var kind: XenDomain.Kind
    var devices: [Device]

    struct Device: Equatable {
        /// The device the guest had.
        var address: PCIAddress
        /// The options it was attached with (its `address` is the device it had).
        var spec: PCISpec
        /// For a VF: its PF as it was then, and its index there.
        var pf: PFIdentity?
        var index: Int?
        /// For a VF: its link as the guest had it (what `ip` said); empty when it could not be read.
        var settings: VFLinkSettings
        /// The lease the VF was bound to (host config `assignable = [ 'PF,name=LEASE' ]`): the guest gets
        /// that lease's VF back, whichever VF `xvf boot` bound it to since.
        var lease: String? = nil
    }

    /// A PF as found again after a reboot: the same address with the same hardware, else the hardware
    /// wherever it went (its serial number or permanent MAC).
    struct PFIdentity: Equatable {
        var address: PCIAddress
        var interface: String?
        var ids: String
        var serial: String?
        var permanentMAC: String?
    }

    // MARK: the text

    var text: String {
        var lines = ["# xvf: the devices domain \(domain) held when xvf took them away; xvf gives them back when it runs "
                     + "again (xvf restore, xvf guests attach).", "domain \(domain) \(kind.rawValue)"]
        for device in devices {
            var words = ["device", device.address.description, "spec=" + device.spec.canonical]
            if let pf = device.pf {
                words += ["pf=\(pf.address)", "index=\(device.index.map(String.init) ?? "-")", "ids=" + pf.ids,
                          "interface=" + (pf.interface ?? "-"), "serial=" + (pf.serial ?? "-"),
                          "permanent_mac=" + (pf.permanentMAC ?? "-")]
            }
            if let lease = device.lease { words.append("lease=" + lease) }
            words += device.settings.keyValues
            lines.append(words.joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Reads a record back; the error says which line is wrong and how.
    init(parsing text: String) throws(RecordError) {
        var domain: (String, XenDomain.Kind)?
        var devices: [Device] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty && !line.hasPrefix("#") {
            func bad(_ why: String) -> RecordError { RecordError(line: number + 1, text: String(line.prefix(80)), reason: why) }
            let words = line.split(separator: " ").map(String.init)
            switch words[0] {
            case "domain":
                guard words.count == 3, let kind = XenDomain.Kind(rawValue: words[2]), domain == nil else {
                    throw bad("write `domain NAME pv|hvm|pvh`, once")
                }
                domain = (words[1], kind)
            case "device":
                guard words.count >= 3, let address = try? PCIAddress(parsing: words[1]) else {
                    throw bad("write `device DDDD:BB:DD.F spec=…`")
                }
                devices.append(try Self.device(address, words.dropFirst(2), bad: bad))
            default:
                throw bad("is neither a domain nor a device line")
            }
        }
        guard let domain else { throw RecordError(line: 0, text: "", reason: "names no domain") }
        guard !devices.isEmpty else { throw RecordError(line: 0, text: "", reason: "names no device") }
        self.init(domain: domain.0, kind: domain.1, devices: devices)
    }

    init(domain: String, kind: XenDomain.Kind, devices: [Device]) {
        self.domain = domain
        self.kind = kind
        self.devices = devices
    }

    private static func device(_ address: PCIAddress, _ words: ArraySlice<String>,
                               bad: (String) -> RecordError) throws(RecordError) -> Device {
        var values: [String: String] = [:]
        for word in words {
            guard let equals = word.firstIndex(of: "="), values[String(word[..<equals])] == nil else {
                throw bad("'\(word)' is not one KEY=VALUE")
            }
            values[String(word[..<equals])] = String(word[word.index(after: equals)...])
        }
        func value(_ key: String) -> String? { values[key].flatMap { $0 == "-" ? nil : $0 } }
        guard let specText = values.removeValue(forKey: "spec"), let spec = try? PCISpec(parsing: specText),
              spec.address == address else {
            throw bad("spec= must be the device's own xl spec (\(address)[,options])")
        }
        var pf: PFIdentity?
        var index: Int?
        if let pfText = values.removeValue(forKey: "pf") {
            guard let pfAddress = try? PCIAddress(parsing: pfText), let ids = value("ids") else {
                throw bad("pf= must be an address, with ids=")
            }
            pf = PFIdentity(address: pfAddress, interface: value("interface"), ids: ids, serial: value("serial"),
                            permanentMAC: value("permanent_mac"))
            index = value("index").flatMap { Int($0) }
            for key in ["ids", "interface", "serial", "permanent_mac", "index"] { values[key] = nil }
        }
        let lease = values.removeValue(forKey: "lease")
        if let lease, let why = Leases.nameProblem(lease) { throw bad("lease=\(lease): \(why)") }
        var settings = VFLinkSettings()
        for (key, text) in values.sorted(by: { $0.key < $1.key }) {
            // The zero MAC is a VF's "no MAC set": kept so, never set on a VF.
            if key == "mac" && text == VFHandOver.noMAC { continue }
            do { try settings.set(key, to: text) } catch { throw bad("\(key)=\(text) \(error.reason)") }
        }
        return Device(address: address, spec: spec, pf: pf, index: index, settings: settings, lease: lease)
    }

    /// Why a record cannot be used, by line.
    struct RecordError: Error, Equatable {
        var line: Int
        var text: String
        var reason: String

        var description: String { line == 0 ? reason : "line \(line) ('\(text)'): \(reason)" }
    }
}

extension GuestRecord {
    /// Several records one after the other (`xvf migrate --all` sends every guest's at once), each from
    /// its `domain` line on (comments between them are read with the record before).
    static func records(parsing text: String) throws(RecordError) -> [GuestRecord] {
        var chunks: [[Substring]] = []
        var pending: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("domain ") || line == "domain" {
                if !chunks.isEmpty || !pending.isEmpty { chunks.append(pending) }
                pending = []
            }
            pending.append(line)
        }
        chunks.append(pending)
        if chunks.count > 1 && chunks[0].allSatisfy({ $0.isEmpty || $0.hasPrefix("#") }) {
            // Comments before the first `domain` line go with it.
            chunks[1] = chunks[0] + chunks[1]
            chunks.removeFirst()
        }
        var records: [GuestRecord] = []
        var firstLine = 0
        for chunk in chunks {
            do { records.append(try GuestRecord(parsing: chunk.joined(separator: "\n"))) } catch {
                var shifted = error
                if shifted.line > 0 { shifted.line += firstLine }
                throw shifted
            }
            firstLine += chunk.count
        }
        return records
    }
}

extension GuestRecord {
    /// The record at `relative` under the host root: nil when there is none; an error naming the file
    /// when it cannot be trusted (root gives devices to guests from it: a regular file only root can
    /// write, in directories only root can write) or read.
    static func load(_ relative: String, root: HostRoot) throws(XVFError) -> GuestRecord? {
        let path = root.path(relative)
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw XVFError(.guestRecordNotRegular(path: path))
        }
        if let why = PathTrust.problemApplying(path) { throw XVFError(.recordUntrusted(path: path, why: why)) }
        let text: String?
        do { text = try root.editableText(relative) } catch { throw XVFError(.guestRecordUnreadable, underlying: error) }
        guard let text else { return nil }
        do { return try GuestRecord(parsing: text) } catch {
            throw XVFError(.guestRecordUnparsable(path: path), underlying: error)
        }
    }
}
