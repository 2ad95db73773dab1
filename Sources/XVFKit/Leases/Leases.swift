#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// A guest's VF by name: a host config entry `assignable = [ 'eno49,name=web1-nic' ]` asks for one free
/// VF of eno49, and `xvf boot` binds the name to one, makes that VF assignable under the name through
/// libxl (which is how `pci = [ 'name=web1-nic' ]` in a domain config finds it at `xl create` and
/// `xl restore`), and gives it the name's link settings (`vf = [ 'web1-nic,mac=…' ]`).
public struct Lease: Equatable, Sendable {
    public var name: String
    /// The PF whose pool the lease draws from.
    public var pf: PCIAddress
    /// The VF bound to the name; nil when `xvf boot` found no free VF for it.
    public var vf: PCIAddress?
    /// What the VF's link is given while it is the lease's (and given back after a guest let it go).
    public var settings: VFLinkSettings

    public init(name: String, pf: PCIAddress, vf: PCIAddress?, settings: VFLinkSettings) {
        self.name = name
        self.pf = pf
        self.vf = vf
        self.settings = settings
    }
}

/// The lease bindings `xvf boot` keeps, so that a lease gets the same VF at every boot while that VF is
/// still free and still of its PF (a guest's VF, and what the guest's network knows of it, then do not
/// move), and so that every other command can tell which VF a name holds without reading the host config.
///
/// The file, `/var/lib/xvf/leases`, is xvf's own: written by `xvf boot` only, atomically
/// (`HostRoot.replaceFile`), and kept across reboots (in /var/lib, not /run: stickiness is across boots).
/// One line per lease, fields separated by one space, `#` lines are comments:
/// ```
/// NAME PF VF [SETTING=VALUE …]
/// web1-nic 0000:04:00.0 0000:04:10.0 mac=52:54:00:aa:00:01 vlan=10 trust=on
/// db1-nic 0000:04:00.0 -
/// ```
/// PF and VF are full addresses (`DDDD:BB:DD.F`), VF is `-` for a lease no VF could be found for, and
/// the settings are a host config `vf` entry's (`mac`, `vlan`, `qos`, `spoofchk`, `trust`, `state`).
/// Root acts on it, so it is read as the records in /run/xvf are: a regular file only root can write,
/// in directories only root can write, every line well-formed; anything else is not used.
public enum Leases {
    public static let path = "var/lib/xvf/leases"

    /// The leases of the file, in its order; empty when there is none. An untrusted or malformed file
    /// throws one line naming it.
    public static func load(root: HostRoot) throws(XVFError) -> [Lease] {
        let absolute = root.path(path)
        var info = stat()
        if lstat(absolute, &info) == 0, info.st_mode & S_IFMT != S_IFREG {
            throw XVFError(.bindingsNotRegular(path: absolute))
        }
        if let why = PathTrust.problemApplying(absolute) {
            throw XVFError(.bindingsUntrusted(path: absolute, why: why))
        }
        let text: String?
        do { text = try root.editableText(path) } catch {
            throw XVFError(.bindingsUnreadable, underlying: error)
        }
        guard let text else { return [] }
        return try parse(text, filename: absolute)
    }

    /// The lease whose VF is `vf`, if any.
    public static func holding(_ vf: PCIAddress, in leases: [Lease]) -> Lease? {
        leases.first { $0.vf == vf }
    }

    /// The lease called `name`, if any.
    public static func named(_ name: String, in leases: [Lease]) -> Lease? {
        leases.first { $0.name == name }
    }

    /// Reads the file's text; the first bad line throws, naming the file and the line.
    static func parse(_ text: String, filename: String) throws(XVFError) -> [Lease] {
        var leases: [Lease] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
        where !line.isEmpty && !line.hasPrefix("#") {
            func bad(_ why: String) -> XVFError {
                XVFError(.bindingsUnparsable(path: filename, line: number + 1,
                                             text: String(line.prefix(80)).escapingControlCharacters, reason: why))
            }
            let fields = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            guard fields.count >= 3 else { throw bad("expected NAME PF VF [SETTING=VALUE …]") }
            if let why = nameProblem(fields[0]) { throw bad(why) }
            guard let pf = try? PCIAddress(parsing: fields[1]) else { throw bad("'\(fields[1])' is not a PF's address") }
            var vf: PCIAddress?
            if fields[2] != "-" {
                guard let address = try? PCIAddress(parsing: fields[2]) else { throw bad("'\(fields[2])' is not a VF's address or -") }
                vf = address
            }
            var settings = VFLinkSettings()
            for field in fields.dropFirst(3) {
                let pair = field.split(separator: "=", maxSplits: 1).map(String.init)
                guard pair.count == 2 else { throw bad("'\(field)' is not SETTING=VALUE") }
                do { try settings.set(pair[0], to: pair[1]) } catch { throw bad("\(field) \(error.reason)") }
            }
            if leases.contains(where: { $0.name == fields[0] }) { throw bad("the lease \(fields[0]) is there twice") }
            if let vf, let other = holding(vf, in: leases) { throw bad("\(vf) is bound to \(other.name) already") }
            leases.append(Lease(name: fields[0], pf: pf, vf: vf, settings: settings))
        }
        return leases
    }

    /// The file's text for `leases` (what `parse` reads back).
    static func text(_ leases: [Lease]) -> String {
        var lines = ["# xvf's lease bindings, written by `xvf boot` (edit the host config, not this file): "
                     + "NAME PF VF [SETTING=VALUE …]"]
        for lease in leases {
            lines.append(([lease.name, lease.pf.description, lease.vf?.description ?? "-"]
                          + lease.settings.keyValues).joined(separator: " "))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// The most a lease name may have: libxl keeps it in xenstore and `xl` reads it from a spec.
    static let nameLimit = 64

    /// Why `name` cannot be a lease's name; nil when it can. A name goes into xenstore through libxl, into
    /// domain configs and onto command lines, and is looked up where a device name could be: a letter
    /// first (so it never reads as an address or a number), then letters, digits, `-`, `_` and `.`.
    public static func nameProblem(_ name: String) -> String? {
        guard let first = name.unicodeScalars.first else { return "the lease name is empty; name it (web1-nic)" }
        let allowed = name.unicodeScalars.allSatisfy {
            $0.isASCII && (("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0))
        }
        let letter = ("a"..."z").contains(first) || ("A"..."Z").contains(first)
        guard allowed && letter && name.utf8.count <= nameLimit else {
            return "'\(String(name.prefix(80)).escapingControlCharacters)' is not a lease name: use a letter, then letters, "
                + "digits, '-', '_' or '.', at most \(nameLimit) (web1-nic)"
        }
        return nil
    }
}

extension Leases {
    /// The VF a lease's name stands for on the command line (`xvf show web1-nic`, `assign`, `release`):
    /// nil when `text` is no lease of the bindings file (it is then a device name), and an error when it
    /// is a lease without a VF, or the file cannot be used.
    public static func device(_ text: String, host: Host) throws(XVFError) -> PCIDevice? {
        guard nameProblem(text) == nil, try host.inventory().device(withInterface: text) == nil,
              host.root.exists(path) else { return nil }
        guard let lease = named(text, in: try load(root: host.root)) else { return nil }
        guard let vf = lease.vf else {
            throw XVFError(.leaseWithoutVF(text))
        }
        guard let device = try host.inventory()[vf] else {
            throw XVFError(.leaseVFMissing(text, vf: vf))
        }
        return device
    }
}

extension Host {
    /// The bindings file's leases, for reports: a file that cannot be used is said as a warning and
    /// shows no lease.
    public func leases() -> [Lease] {
        do { return try Leases.load(root: root) } catch {
            Warnings.add(error.message)
            return []
        }
    }
}
