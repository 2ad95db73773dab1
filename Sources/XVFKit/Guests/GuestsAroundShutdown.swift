import SRIOV
import XenPCI

/// `xvf guests detach` and `xvf guests attach`: every running guest's devices taken away and recorded,
/// then given back to the guests that run again. xvf-guests.service runs them around xendomains, which
/// has no hook of its own: started after it, the unit is stopped before it at shutdown (detach, so that
/// xendomains saves guests without devices) and started after it at boot (attach, once xendomains has
/// restored them). The records live in /var/lib/xvf/guests, which survives the reboot, one file per
/// guest, and each goes once its guest has its devices back.
public enum GuestsAroundShutdown {
    static let directory = "var/lib/xvf/guests"

    /// The record file of a guest: its name, with every byte that is not a letter, digit, '.', '_' or
    /// '-' written %XX (a domain name is libxl's, and may hold '/').
    static func recordPath(_ domain: String) -> String {
        var name = ""
        for byte in domain.utf8 {
            let safe = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5a) || (byte >= 0x61 && byte <= 0x7a)
                || byte == 0x2d || byte == 0x5f || (byte == 0x2e && !name.isEmpty)
            name += safe ? String(UnicodeScalar(byte)) : "%" + hex(byte, width: 2).uppercased()
        }
        return directory + "/" + name
    }

    /// Detaches and records the devices of every running guest. With `onlyForXendomains`, only when
    /// xendomains will save the guests at this shutdown (XENDOMAINS_SAVE set): guests it shuts down keep
    /// their devices to the end. Each guest fails on its own line; the others still go.
    public static func detach(onlyForXendomains: Bool, on host: Host, dryRun: Bool) throws(XVFError) -> GuestOutcome {
        if onlyForXendomains {
            guard let settings = XendomainsSettings(root: host.root), settings.saveDirectory != nil else {
                return GuestOutcome(["xendomains does not save guests at shutdown (XENDOMAINS_SAVE is empty or there is no "
                                     + "xendomains): their devices stay with them; nothing to do"])
            }
        }
        /// The running guests that hold devices; not read (`checked` false) in a dry run that cannot use libxl.
        struct Guests {
            var found: [(XenDomain, GuestRecord)] = []
            var checked = true
        }
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            guard let toolstack else { return Guests(checked: false) }
            let domains: [XenDomain]
            do { domains = try toolstack.domains() } catch { throw XVFError(.cannotListDomains, underlying: error) }
            var guests = Guests()
            for domain in domains where domain.id != 0 {
                if let record = try GuestDevices.record(of: domain, toolstack: toolstack, host: host) { guests.found.append((domain, record)) }
            }
            return guests
        }, unchanged: { guests in
            guests.checked && guests.found.isEmpty
                ? GuestOutcome(["no running guest holds a device; nothing to do"]) : nil
        }, planned: { guests in
            guard guests.checked else {
                return GuestOutcome(["would detach and record the devices of every running guest in /\(directory); "
                                     + "which guests hold devices was not checked"])
            }
            let found = guests.found
            var lines = ["would detach the devices of \(found.count) guest\(found.count == 1 ? "" : "s")"]
            for (domain, record) in found {
                for device in record.devices {
                    host.journal.plan("detach", target: device.address.description,
                                      detail: RecordedToolstack.detachDetail(device.address.description, domain: "\(domain.id)", force: false))
                }
                lines.append("  domain \(domain.id) (\(domain.name)): record in /\(recordPath(domain.name)), then detach "
                             + record.devices.map { GuestSave.describe($0) }.joined(separator: "; "))
            }
            return GuestOutcome(lines)
        }, apply: { (guests, toolstack) throws(XVFError) in
            let found = guests.found
            var lines: [String] = []
            var failures: [String] = []
            for (domain, record) in found {
                let file = recordPath(domain.name)
                do { try host.root.replaceFile(file, with: record.text, mode: 0o600) } catch {
                    failures.append("domain \(domain.id) (\(domain.name)) keeps its devices: its record cannot be written: \(error)")
                    continue
                }
                do throws(XVFError) {
                    lines += try GuestDevices.takeAway(record, from: domain, toolstack: toolstack, host: host)
                    lines.append("domain \(domain.id) (\(domain.name)): devices recorded in \(host.root.path(file))")
                } catch {
                    host.root.undoing { try? host.root.removeFile(file) }
                    failures.append("domain \(domain.id) (\(domain.name)): " + error.message)
                }
            }
            return GuestOutcome(report: ChangeReport(lines), failures: failures)
        })
    }

    /// Gives every recorded guest that runs its devices back and removes its record; a record whose guest
    /// does not run is removed with a warning naming what it held (xendomains shut the guest down, or its
    /// restore failed: a guest created again from its config gets what its config says).
    public static func attach(on host: Host, dryRun: Bool) throws(XVFError) -> GuestOutcome {
        let names = host.root.list(directory).filter { !$0.hasPrefix(".") }.sorted()
        guard !names.isEmpty else {
            return GuestOutcome(["no guest's devices are recorded in /\(directory); nothing to do"])
        }
        struct Pending {
            var file: String
            var record: GuestRecord
            var domain: XenDomain?
            var devices: Result<[PCIDevice], XVFError>
        }
        /// The records and where each guest's devices go; nil in a dry run that cannot use libxl.
        func pending(_ toolstack: (any Toolstack)?) throws(XVFError) -> ([Pending], [String])? {
            guard let toolstack else { return nil }
            var found: [Pending] = []
            var unusable: [String] = []
            var holders = try toolstack.currentHolders()
            let inventory = try host.inventory()
            let leases = host.leases()
            for name in names {
                let file = directory + "/" + name
                let record: GuestRecord
                do {
                    guard let loaded = try GuestRecord.load(file, root: host.root) else { continue }
                    record = loaded
                } catch {
                    unusable.append(error.message)
                    continue
                }
                let domain: XenDomain?
                do { domain = try toolstack.domain(named: record.domain) } catch {
                    throw XVFError(.cannotListDomains, underlying: error)
                }
                let devices = Result { () throws(XVFError) in
                    try GuestDevices.choose(record, for: domain, inventory: inventory, holders: holders, leases: leases,
                                            identity: host.hardwareIdentity, safety: host.safety)
                }
                // Two guests never get the same VF: what one gets is taken for the next.
                if let domain, case .success(let chosen) = devices { for device in chosen { holders[device.address] = domain } }
                found.append(Pending(file: file, record: record, domain: domain, devices: devices))
            }
            return (found, unusable)
        }
        return try host.change(dryRun: dryRun, plan: pending, planned: { planned in
            guard let planned else {
                return GuestOutcome(["would give \(names.count) recorded guest\(names.count == 1 ? "" : "s") "
                                     + "their devices back; which run was not checked"])
            }
            let (found, unusable) = planned
            for line in unusable { Warnings.add(line) }
            var lines = ["would give \(found.count) recorded guest\(found.count == 1 ? "" : "s") their devices back"]
            for item in found {
                guard let domain = item.domain else {
                    lines.append("  \(item.record.domain): not running; its record would be removed")
                    continue
                }
                switch item.devices {
                case .success(let devices):
                    lines.append("  domain \(domain.id) (\(domain.name)): "
                                 + zip(item.record.devices, devices).map { "\(GuestSave.describe($0.0)) on \($0.1.address)" }
                                    .joined(separator: "; "))
                case .failure(let error):
                    lines.append("  domain \(domain.id) (\(domain.name)): cannot: \(error.message)")
                }
            }
            return GuestOutcome(lines)
        }, apply: { (planned, toolstack) throws(XVFError) in
            // A real run read the records with the toolstack it has.
            let (found, unusable) = planned ?? ([], [])
            for line in unusable { Warnings.add(line) }
            var lines: [String] = []
            var failures: [String] = []
            for item in found {
                guard let domain = item.domain else {
                    Warnings.add("domain \(item.record.domain) is not running, so its recorded devices are not given back "
                                 + "(" + item.record.devices.map { GuestSave.describe($0) }.joined(separator: "; ")
                                 + "); its record \(host.root.path(item.file)) is removed")
                    try? host.root.removeFile(item.file)
                    continue
                }
                let devices: [PCIDevice]
                switch item.devices {
                case .success(let chosen): devices = chosen
                case .failure(let error):
                    failures.append("domain \(domain.id) (\(domain.name)): \(error.message); its record "
                                    + "\(host.root.path(item.file)) stays for `xvf guests attach`")
                    continue
                }
                let back = GuestDevices.giveBack(item.record, to: domain, devices: devices, toolstack: toolstack, host: host)
                lines += back.lines
                if back.missing.isEmpty {
                    try? host.root.removeFile(item.file)
                } else {
                    // What is still missing stays recorded, so that the next `xvf guests attach` tries it again.
                    var rest = item.record
                    rest.devices = back.missing
                    try? host.root.replaceFile(item.file, with: rest.text, mode: 0o600)
                    failures += back.failures
                }
            }
            return GuestOutcome(report: ChangeReport(lines), failures: failures)
        })
    }
}
