import SRIOV
import XenPCI

/// `xvf migrate DOM HOST` and `xvf migrate --all HOST`: live migration of guests that hold devices, which
/// xl alone cannot do (Xen refuses log-dirty mode for a domain with an assigned device: "Failed to enable
/// logdirty", at once). Each guest's devices are recorded (in /var/lib/xvf/guests, so an interrupted run is
/// finished by `xvf guests attach`) and detached as `xvf release` does; xl migrates the guest; on the
/// target xvf gives it the same devices, or VFs of the same PF identity with the same link, as `xvf
/// restore` does. A guest whose VF is bonded with a netfront keeps its network through the move.
///
/// Everything that can refuse is checked before anything changes: the guest holds devices, the target's
/// xvf answers, and the target has a device for each (its `xvf guests attach --record - --dry-run`).
/// xl's point of no return is where it tells the receiver to start the guest: before it, a failure leaves
/// the guest running here, and xvf gives it its devices back here; after it, the guest runs on the target
/// (or, when xl's last handshake broke, nowhere for sure), and xvf names what is missing and the command
/// that finishes it. Which of the two happened is read from the domains after xl returns.
public enum GuestMigration {
    public static func run(domain domainText: String?, to hostName: String, sshCommand: String?, on host: Host,
                           dryRun: Bool) throws(XVFError) -> GuestOutcome {
        let target = try MigrationTarget(host: hostName, sshCommand: sshCommand)
        // The plan is made under the lock; the moves take it again one guest at a time (below).
        let next = try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            guard let toolstack else {
                return Plan(guests: [], checked: [], local: [],
                            unchecked: domainText.map { "domain \($0)" } ?? "every guest that holds devices")
            }
            return try plan(domainText, target: target, toolstack: toolstack, host: host)
        }, planned: { planned in
            Next.said(GuestOutcome(report: planned.dryRun(target: target, host: host)))
        }, apply: { (planned, toolstack) throws(XVFError) in
            Next.move(planned, toolstack)
        })
        let (planned, toolstack): (Plan, any Toolstack)
        switch next {
        case .said(let outcome): return outcome
        case .move(let plan, let opened): (planned, toolstack) = (plan, opened)
        }
        guard !planned.guests.isEmpty else { return GuestOutcome([Plan.noGuests]) }
        var outcome = GuestOutcome(planned.checked)
        for (domain, record) in planned.guests {
            // This host's part under its lock; the target's xvf takes its own lock after this one is
            // released, so that a target that is this very host (ssh localhost) does not wait for it.
            let moved = try host.change(plan: { () throws(XVFError) in () }, apply: { () throws(XVFError) in
                migrate(domain, record, target: target, toolstack: toolstack, host: host)
            })
            outcome.append(moved.outcome)
            guard moved.arrivesThere else { continue }
            outcome.append(arrive(domain, record, target: target, host: host))
        }
        return outcome
    }

    /// What the planning gives the rest of the run: a dry run's report, or the plan to carry out.
    enum Next {
        case said(GuestOutcome)
        case move(Plan, any Toolstack)
    }

    struct Plan {
        var guests: [(XenDomain, GuestRecord)]
        /// What the target's xvf said when asked, one line each (empty for this host).
        var checked: [String]
        /// For this host: where each guest's devices would go.
        var local: [GuestArrival.Arrival]
        /// What a dry run that could not use libxl would migrate, unchecked; nil when the guests were read.
        var unchecked: String? = nil

        /// What a run with no guest to move says, real or dry.
        static let noGuests = "no running guest holds a device; nothing to do (`xl migrate` moves the others)"

        func dryRun(target: MigrationTarget, host: Host) -> ChangeReport {
            if let unchecked {
                return ChangeReport(["would migrate \(unchecked) to \(target.label) (\(target.xlCommand(0)) for each, its "
                                     + "devices detached before and given back there after); which guests hold devices and "
                                     + "what \(target.label) has free were not checked"])
            }
            guard !guests.isEmpty else { return ChangeReport([Self.noGuests]) }
            var lines = ["would migrate " + guests.map { "domain \($0.0.id) (\($0.0.name))" }.joined(separator: ", ")
                         + " to \(target.label)"]
            lines += checked.map { "  " + $0 }
            var number = 0
            for (index, (domain, record)) in guests.enumerated() {
                number += 1
                lines.append("  \(number). record the devices of domain \(domain.id) (\(domain.name)) in "
                             + "/\(GuestsAroundShutdown.recordPath(domain.name)): "
                             + record.devices.map { GuestSave.describe($0) }.joined(separator: "; "))
                for device in record.devices {
                    number += 1
                    host.journal.plan("detach", target: device.address.description,
                                      detail: RecordedToolstack.detachDetail(device.address.description, domain: "\(domain.id)",
                                                                             force: false))
                    lines.append("  \(number). detach \(device.address): libxl_device_pci_remove (the guest lets it go; it "
                                 + "stays on pciback, its link goes back as `xvf release` puts it)")
                }
                number += 1
                host.journal.plan("migrate", target: "\(domain.id)", detail: target.xlCommand(domain.id))
                lines.append("  \(number). migrate: \(target.xlCommand(domain.id)); a failure before the guest leaves gives it "
                             + "its devices back here")
                number += 1
                if target.remote == nil, index < local.count, case .success(let devices) = local[index].devices {
                    lines.append("  \(number). give back " + zip(record.devices, devices)
                                    .map { "\(GuestSave.describe($0.0)) on \($0.1.address)" }.joined(separator: "; ")
                                 + " once it runs here under its new id, as `xvf assign` does (link, pciback, attach, verify)")
                } else {
                    lines.append("  \(number). on \(target.host): \(target.command(["guests", "attach", "--record", "-"])) "
                                 + "with the record on its input, which gives them as `xvf assign` does")
                }
            }
            return ChangeReport(lines)
        }
    }

    /// Xen moves a live guest's memory in log-dirty mode, which for a PV guest is shadow paging's: a Xen
    /// built without it (Debian 13's 4.20) fails every PV migration at once, with or without a device
    /// ("Failed to enable logdirty: 95"). Refused before the guests' devices leave them for nothing. A Xen
    /// that cannot say keeps the attempt (xl's failure then gives the devices back).
    static func refuseWithoutLogDirty(_ domains: [XenDomain], toolstack: any Toolstack) throws(XVFError) {
        let pv = domains.filter { $0.kind == .pv }
        guard !pv.isEmpty, let capabilities = try? toolstack.capabilities(), !capabilities.shadow else { return }
        throw XVFError(.noShadowPaging(pv))
    }

    /// The guests and the target's answer; throws, before anything changes, what refuses the migration.
    static func plan(_ domainText: String?, target: MigrationTarget, toolstack: any Toolstack,
                     host: Host) throws(XVFError) -> Plan {
        var guests: [(XenDomain, GuestRecord)] = []
        if let domainText {
            let domain = try toolstack.resolveDomain(domainText)
            guard let record = try GuestDevices.record(of: domain, toolstack: toolstack, host: host) else {
                throw XVFError(.migrateWithoutDevices(domain, xlCommand: target.xlCommand(domain.id)))
            }
            guests = [(domain, record)]
        } else {
            let domains: [XenDomain]
            do { domains = try toolstack.domains() } catch { throw XVFError(.cannotListDomains, underlying: error) }
            for domain in domains where domain.id != 0 {
                if let record = try GuestDevices.record(of: domain, toolstack: toolstack, host: host) { guests.append((domain, record)) }
            }
        }
        guard !guests.isEmpty else { return Plan(guests: [], checked: [], local: []) }
        try refuseWithoutLogDirty(guests.map(\.0), toolstack: toolstack)
        let records = guests.map(\.1)
        guard target.remote != nil else {
            // The guests' own devices count as free: they are detached before the move.
            let arrivals = try GuestArrival.plan(records, toolstack: toolstack, host: host, anotherHost: false)
            for arrival in arrivals {
                if case .failure(let error) = arrival.devices { throw error.followed(by: .nothingChanged) }
            }
            return Plan(guests: guests, checked: [], local: arrivals)
        }
        let version = target.runXVF(["--version"], root: host.root)
        guard version.status == 0 else {
            throw XVFError(.targetUnreachable(host: target.host, command: target.command(["--version"]), status: version.status,
                                              said: MigrationTarget.lastLine(version.output)))
        }
        let check = target.runXVF(["guests", "attach", "--record", "-", "--dry-run"], input: records.map(\.text).joined(),
                                  root: host.root)
        // 64 is argument-parser's usage error: an xvf there from before `xvf migrate`.
        if check.status == 64 {
            throw XVFError(.targetTooOld(host: target.host, version: MigrationTarget.lastLine(version.output)))
        }
        guard check.status == 0 else {
            throw XVFError(.targetRefuses(host: target.host, said: MigrationTarget.lastLine(check.output)))
        }
        let checked = ["checked on \(target.host) (\(MigrationTarget.lastLine(version.output))):"]
            + check.output.split(separator: "\n").map { "  " + $0 }
        return Plan(guests: guests, checked: checked, local: [])
    }

    /// Moves one guest; a failure is one sentence that says where the guest runs and what finishes it.
    /// `arrivesThere`: the guest left for another host, whose xvf gives it its devices (`arrive`).
    static func migrate(_ domain: XenDomain, _ record: GuestRecord, target: MigrationTarget, toolstack: any Toolstack,
                        host: Host) -> (outcome: GuestOutcome, arrivesThere: Bool) {
        let root = host.root
        let label = "domain \(domain.id) (\(domain.name))"
        let file = GuestsAroundShutdown.recordPath(domain.name)
        do { try root.replaceFile(file, with: record.text, mode: 0o600) } catch {
            return (GuestOutcome(failures: ["\(label) was not migrated and keeps its devices: its record cannot be "
                                                        + "written: \(error)"]), false)
        }
        var lines: [String]
        do {
            lines = try GuestDevices.takeAway(record, from: domain, toolstack: toolstack, host: host)
        } catch {
            root.undoing { try? root.removeFile(file) }
            return (GuestOutcome(failures: ["\(label) was not migrated: " + error.message]), false)
        }
        do { try toolstack.migrate(domain.id, to: target.host, sshCommand: target.sshCommand) } catch {
            let reason = error.log.first { $0.contains("error:") } ?? error.log.last ?? "it said nothing"
            let now = (try? toolstack.domains())?.first { $0.id == domain.id }
            if now?.name == domain.name {
                let devices = record.devices.compactMap { host.inventoryDevice($0.address) }
                let back = root.undoing { GuestDevices.giveBack(record, to: domain, devices: devices, toolstack: toolstack, host: host) }
                lines += back.lines
                var failure = "`\(target.xlCommand(domain.id))` failed before the guest left (\(reason)): \(label) runs here; "
                if back.missing.isEmpty {
                    root.undoing { try? root.removeFile(file) }
                    failure += "it has its devices back"
                } else {
                    var rest = record
                    rest.devices = back.missing
                    try? root.replaceFile(file, with: rest.text, mode: 0o600)
                    failure += back.failures.joined(separator: "; ") + "; what it lacks is recorded in \(root.path(file)), and "
                        + "`xvf guests attach` gives it"
                }
                return (GuestOutcome(report: ChangeReport(lines), failures: [failure]), false)
            }
            if let now {
                return (GuestOutcome(report: ChangeReport(lines), failures: [
                    "`\(target.xlCommand(domain.id))` failed after its point of no return (\(reason)): \(label) is paused here as "
                    + "\(now.name) and may run on \(target.label); check both hosts and keep one (xl: two running copies "
                    + "lose data). Its devices are recorded in \(root.path(file)): here `xvf guests attach` gives them once it "
                    + "runs as \(domain.name) again (xl rename, xl unpause); on \(target.label) "
                    + "`\(target.command(["guests", "attach", "--record", "-"])) < \(root.path(file))` gives them"]), false)
            }
            lines.append("xl migrate said it failed (\(reason)), but \(label) is gone from here: it runs on \(target.label)")
        }
        lines.append("migrated \(label) to \(target.label): \(target.xlCommand(domain.id))")
        guard target.remote != nil else {
            return (arrived(domain, record, file: file, lines: lines, toolstack: toolstack, host: host), false)
        }
        return (GuestOutcome(report: ChangeReport(lines), failures: []), true)
    }

    /// The target's xvf gives the guest that left its devices (`xvf guests attach --record -` there).
    static func arrive(_ domain: XenDomain, _ record: GuestRecord, target: MigrationTarget, host: Host) -> GuestOutcome {
        let root = host.root
        let file = GuestsAroundShutdown.recordPath(domain.name)
        var lines: [String] = []
        let attach = ["guests", "attach", "--record", "-"]
        // The record goes from here first: a target that is this very host keeps what it could not give
        // in the same file.
        try? root.removeFile(file)
        let result = target.runXVF(attach, input: record.text, root: root)
        host.journal.record(RecordedStep(what: "remote", target: target.host, status: result.status == 0 ? .done : .failed,
                                         detail: target.command(attach),
                                         failure: result.status == 0 ? nil : MigrationTarget.lastLine(result.output)))
        lines += result.output.split(separator: "\n").map { "\(target.host): \($0)" }
        if result.status == 0 { return GuestOutcome(report: ChangeReport(lines), failures: []) }
        if result.status == XVFError.Kind.failed.rawValue {
            // xvf there ran, gave what it could and recorded the rest there.
            return GuestOutcome(report: ChangeReport(lines), failures: [
                "\(domain.name) runs on \(target.host) without what its lines above name; "
                + "`\(target.command(["guests", "attach"]))` gives it once that is fixed"])
        }
        try? root.replaceFile(file, with: record.text, mode: 0o600)
        return GuestOutcome(report: ChangeReport(lines), failures: [
            "\(domain.name) runs on \(target.host) without its devices: `\(target.command(attach))` exited \(result.status) "
            + "(\(MigrationTarget.lastLine(result.output))); they are recorded here in \(root.path(file)), and "
            + "`\(target.command(attach)) < \(root.path(file))` gives them"])
    }

    /// A guest migrated to this host gets its devices here, under its new id.
    private static func arrived(_ old: XenDomain, _ record: GuestRecord, file: String, lines: [String], toolstack: any Toolstack,
                                host: Host) -> GuestOutcome {
        let root = host.root
        var lines = lines
        guard let arrival = try? GuestArrival.plan([record], toolstack: toolstack, host: host, anotherHost: false).first,
              let domain = arrival.domain else {
            return GuestOutcome(report: ChangeReport(lines), failures: [
                "\(old.name) does not run on this host after xl migrate (with --ssh '', xvf gives devices back only here): its "
                + "devices are recorded in \(root.path(file)); on the host it went to, `xvf guests attach --record - "
                + "< \(root.path(file))` gives them"])
        }
        let devices: [PCIDevice]
        switch arrival.devices {
        case .success(let chosen): devices = chosen
        case .failure(let error):
            return GuestOutcome(report: ChangeReport(lines), failures: [
                "domain \(domain.id) (\(domain.name)) runs here but got none of its devices: \(error.message); they are "
                + "recorded in \(root.path(file)), and `xvf guests attach` gives them"])
        }
        let back = GuestDevices.giveBack(record, to: domain, devices: devices, toolstack: toolstack, host: host)
        lines += back.lines
        guard !back.missing.isEmpty else {
            try? root.removeFile(file)
            return GuestOutcome(report: ChangeReport(lines), failures: [])
        }
        var rest = record
        rest.devices = back.missing
        try? root.replaceFile(file, with: rest.text, mode: 0o600)
        return GuestOutcome(report: ChangeReport(lines), failures: back.failures + [
            "domain \(domain.id) (\(domain.name)): what it lacks is recorded in \(root.path(file)), and `xvf guests attach` gives it"])
    }
}
