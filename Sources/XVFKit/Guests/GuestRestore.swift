#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XenPCI

/// `xvf restore FILE`: `xl restore` of an image `xvf save` wrote, then the guest gets its devices back from
/// the record beside it: the same ones where they are free, else for a VF a free VF of the same PF, with
/// the link it had. Where each goes is chosen before anything changes, so a missing VF refuses the restore
/// instead of starting a guest without it. Once the guest runs, a device that cannot be given back is
/// named with the command that gives it, and the others still go.
public enum GuestRestore {
    public static func run(from file: String, on host: Host, dryRun: Bool) throws(XVFError) -> GuestOutcome {
        let image = try GuestSave.imagePath(file)
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            try plan(image: image, host: host, toolstack: toolstack)
        }, planned: { planned in
            GuestOutcome(report: planned.dryRun(host: host))
        }, apply: { (planned, toolstack) throws(XVFError) in
            try restore(planned, toolstack: toolstack, host: host)
        })
    }

    struct Plan {
        var image: String
        var record: GuestRecord
        /// Where each recorded device goes; empty when the toolstack could not be asked (a dry run).
        var devices: [PCIDevice]

        func dryRun(host: Host) -> ChangeReport {
            var lines = ["would restore domain \(record.domain) from /\(image)"]
            host.journal.plan("restore", target: "/" + image, detail: RecordedToolstack.restoreDetail("/" + image))
            lines.append("  1. restore: xl restore /\(image)")
            var number = 1
            for (index, entry) in record.devices.enumerated() {
                number += 1
                let target = index < devices.count ? devices[index].address.description
                    : "(not chosen: which domains hold which devices was not checked)"
                if index < devices.count {
                    var spec = entry.spec
                    spec.address = devices[index].address
                    host.journal.plan("attach", target: target, detail: RecordedToolstack.attachDetail(spec, domain: record.domain))
                }
                lines.append("  \(number). give back \(GuestSave.describe(entry)) on \(target), as `xvf assign` does "
                             + "(link, pciback, attach, verify)")
            }
            return ChangeReport(lines)
        }
    }

    static func plan(image: String, host: Host, toolstack: (any Toolstack)?) throws(XVFError) -> Plan {
        let root = host.root
        var info = stat()
        guard stat(root.path(image), &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw XVFError(.noSavedImage(path: root.path(image)))
        }
        let recordFile = GuestSave.recordPath(ofImage: image)
        guard let record = try GuestRecord.load(recordFile, root: root) else {
            throw XVFError(.imageWithoutRecord(image: root.path(image), record: root.path(recordFile)))
        }
        guard let toolstack else { return Plan(image: image, record: record, devices: []) }
        let running: XenDomain?
        do { running = try toolstack.domain(named: record.domain) } catch {
            throw XVFError(.cannotListDomains, underlying: error)
        }
        if let running {
            throw XVFError(.alreadyRunning(name: record.domain, id: running.id, record: root.path(recordFile)))
        }
        let devices = try GuestDevices.choose(record, for: nil, inventory: try host.inventory(),
                                              holders: try toolstack.currentHolders(), leases: host.leases(),
                                              identity: host.hardwareIdentity, safety: host.safety)
        return Plan(image: image, record: record, devices: devices)
    }

    static func restore(_ plan: Plan, toolstack: any Toolstack, host: Host) throws(XVFError) -> GuestOutcome {
        let path = host.root.path(plan.image)
        do { try toolstack.restore(from: "/" + plan.image) } catch {
            throw XVFError(.xlRestore(path: path, said: error.reason), underlying: error)
        }
        let domain: XenDomain?
        do { domain = try toolstack.domain(named: plan.record.domain) } catch {
            throw XVFError(.restoredUnlisted(path: path), underlying: error)
        }
        guard let domain else {
            throw XVFError(.restoredDied(path: path, domain: plan.record.domain))
        }
        let back = GuestDevices.giveBack(plan.record, to: domain, devices: plan.devices, toolstack: toolstack, host: host)
        return GuestOutcome(report: ChangeReport(["restored domain \(domain.id) (\(domain.name)) from \(path)"] + back.lines),
                            failures: back.failures)
    }
}
