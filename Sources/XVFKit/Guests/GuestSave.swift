#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XenPCI

/// `xvf save DOM FILE`: what `xl save` cannot do safely for a guest that holds devices. The guest's
/// devices are recorded beside the image (`FILE.xvf`), detached (the guest lets them go, a VF's link goes
/// back as `xvf release` puts it), and then `xl save` writes the image, as a temporary that gets its name
/// only once it is whole. A failure puts back what was done: the devices go back to the guest and the
/// record and the temporary are removed.
public enum GuestSave {
    public static func run(domain domainText: String, to file: String, on host: Host, dryRun: Bool) throws(XVFError) -> ChangeReport {
        let image = try imagePath(file)
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) in
            try plan(domain: domainText, image: image, host: host, toolstack: toolstack)
        }, planned: { planned in
            planned.dryRun(host: host)
        }, apply: { (planned, toolstack) throws(XVFError) in
            try save(planned, toolstack: toolstack, host: host)
        })
    }

    /// The image's path as the user means it (relative to the working directory when not absolute), as a
    /// path relative to the host root.
    static func imagePath(_ text: String) throws(XVFError) -> String {
        guard !text.isEmpty, !text.hasSuffix("/") else { throw XVFError(.noFileName(text)) }
        if text.hasPrefix("/") { return String(text.drop { $0 == "/" }) }
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        guard getcwd(&buffer, buffer.count) != nil else {
            throw XVFError(.relativeWithoutDirectory(text))
        }
        let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return String((cwd == "/" ? "" : cwd).drop { $0 == "/" }) + (cwd == "/" ? "" : "/") + text
    }

    /// Where the record of an image's devices is kept: beside it, with `.xvf` added.
    static func recordPath(ofImage image: String) -> String { image + ".xvf" }

    struct Plan {
        var domain: XenDomain?
        var domainText: String
        var image: String
        /// Every device the save takes away and records, those an interrupted save took already included.
        var record: GuestRecord?
        /// Whether an interrupted save of this guest left the record this one takes up.
        var resumed = false
        /// The devices the guest still holds, which this run detaches.
        var attached: [GuestRecord.Device] = []

        var recordFile: String { GuestSave.recordPath(ofImage: image) }

        func dryRun(host: Host) -> ChangeReport {
            let domainLabel = domain.map { "domain \($0.id) (\($0.name))" }
                ?? "domain \(domainText) (not checked: \(host.isXenDom0 ? "libxl cannot be used" : "not a Xen dom0"))"
            var lines = ["would save \(domainLabel) to /\(image)"]
            let devices = record?.devices ?? []
            lines.append("  1. record its devices in /\(recordFile)" + (resumed ? " (taking up what an interrupted save recorded)" : "")
                         + ": " + (devices.isEmpty ? "(not read)" : devices.map { GuestSave.describe($0) }.joined(separator: "; ")))
            var number = 1
            for device in domain == nil ? [] : attached {
                number += 1
                host.journal.plan("detach", target: device.address.description,
                                  detail: RecordedToolstack.detachDetail(device.address.description,
                                                                         domain: domain.map { "\($0.id)" } ?? domainText, force: false))
                lines.append("  \(number). detach \(device.address): libxl_device_pci_remove (the guest lets it go; it stays on "
                             + "pciback, its link goes back as `xvf release` puts it)")
            }
            number += 1
            host.journal.plan("save", target: domain.map { "\($0.id)" } ?? domainText,
                              detail: RecordedToolstack.saveDetail(domain: domain.map { "\($0.id)" } ?? domainText, path: "/" + image))
            lines.append("  \(number). save: xl save \(domain.map { "\($0.id)" } ?? domainText) into a temporary beside /\(image), "
                         + "named /\(image) once whole; on failure the devices go back to the guest")
            return ChangeReport(lines)
        }
    }

    /// One recorded device as the reports name it.
    static func describe(_ device: GuestRecord.Device) -> String {
        var text = device.spec.canonical
        if let pf = device.pf {
            text += " (VF \(device.index.map(String.init) ?? "?") of \(pf.interface ?? pf.address.description)"
            let settings = device.settings
            let link = [settings.mac.map { "mac " + $0 }, settings.vlan.flatMap { $0 == 0 ? nil : "vlan \($0)" },
                        settings.trust == true ? "trust on" : nil].compactMap { $0 }
            text += (link.isEmpty ? "" : ", " + link.joined(separator: ", ")) + ")"
        }
        return text
    }

    static func plan(domain domainText: String, image: String, host: Host, toolstack: (any Toolstack)?) throws(XVFError) -> Plan {
        var info = stat()
        if lstat(host.root.path(image), &info) == 0 {
            throw XVFError(.imageExists(path: host.root.path(image)))
        }
        let directory = String(image.split(separator: "/").dropLast().joined(separator: "/"))
        guard directory.isEmpty || host.root.isDirectory(directory) else {
            throw XVFError(.notADirectory(path: host.root.path(directory)))
        }
        if let why = PathTrust.problem(at: host.root.path(image), owner: geteuid()) {
            throw XVFError(.imageUnsafe(path: host.root.path(image), why: why))
        }
        // A record without its image is what an interrupted save of the same guest left: this run takes
        // it up (the devices it recorded, detached or not, plus any the guest holds now), so running the
        // same command again finishes the save. Any other guest's record is never overwritten.
        let recordFile = recordPath(ofImage: image)
        let earlier = try GuestRecord.load(recordFile, root: host.root)
        guard let toolstack else { return Plan(domain: nil, domainText: domainText, image: image, record: earlier, resumed: earlier != nil) }
        let domain = try toolstack.resolveDomain(domainText)
        if let earlier, earlier.domain != domain.name {
            throw XVFError(.recordExists(path: host.root.path(recordFile), domain: earlier.domain))
        }
        let now = try GuestDevices.record(of: domain, toolstack: toolstack, host: host)
        var record = earlier ?? now
        if let earlier, let now {
            record?.devices = earlier.devices + now.devices.filter { held in !earlier.devices.contains { $0.address == held.address } }
        }
        guard let record else {
            throw XVFError(.saveWithoutDevices(domain, image: host.root.path(image)))
        }
        return Plan(domain: domain, domainText: domainText, image: image, record: record, resumed: earlier != nil,
                    attached: now?.devices ?? [])
    }

    static func save(_ plan: Plan, toolstack: any Toolstack, host: Host) throws(XVFError) -> ChangeReport {
        guard let domain = plan.domain, let record = plan.record else { return .none }
        let root = host.root
        let domainLabel = "domain \(domain.id) (\(domain.name))"
        do { try root.replaceFile(plan.recordFile, with: record.text, mode: 0o600) } catch {
            throw XVFError(.recordWrite(domain), underlying: error)
        }
        var report = plan.resumed ? ["taking up the save an interrupted xvf left (\(root.path(plan.recordFile)))"] : []
        var attached = record
        attached.devices = plan.attached
        do {
            if !attached.devices.isEmpty { report += try GuestDevices.takeAway(attached, from: domain, toolstack: toolstack, host: host) }
        } catch {
            // What an interrupted save had detached goes back too: the guest is left as it was before either.
            var detachedBefore = record
            detachedBefore.devices = record.devices.filter { held in !plan.attached.contains { $0.address == held.address } }
            var undone = error
            if !detachedBefore.devices.isEmpty {
                let back = root.undoing {
                    GuestDevices.giveBack(detachedBefore, to: domain, devices: detachedBefore.devices.compactMap { host.inventoryDevice($0.address) },
                                          toolstack: toolstack, host: host)
                }
                undone = error.followed(by: back.failures.isEmpty ? .gaveBackInterrupted
                                        : .report(back.failures.joined(separator: "; ")))
            }
            root.undoing { try? root.removeFile(plan.recordFile) }
            throw undone.followed(by: .notSaved(domain: domain.name))
        }
        let newFile: NewFile
        do {
            newFile = try root.makeNewFile(plan.image)
            do { try toolstack.save(domain.id, to: "/" + newFile.temporary) } catch {
                root.discard(newFile)
                throw XVFError(.xlSave(domain, said: error.reason), underlying: error)
            }
        } catch let error as XVFError {
            throw putBack(error, record: record, domain: domain, plan: plan, toolstack: toolstack, host: host)
        } catch {
            throw putBack(XVFError(.imageNotMade, underlying: error), record: record, domain: domain, plan: plan,
                          toolstack: toolstack, host: host)
        }
        do { try root.publish(newFile) } catch {
            throw XVFError(.imageStaysTemporary(domain, temporary: root.path(newFile.temporary), image: root.path(plan.image),
                                                record: root.path(plan.recordFile)), underlying: error)
        }
        report.append("saved \(domainLabel) to \(root.path(plan.image)); its devices are recorded in \(root.path(plan.recordFile)), "
                      + "and `xvf restore \(root.path(plan.image))` gives them back")
        return ChangeReport(report)
    }

    /// After `xl save` failed: the guest, when it still runs, gets its devices back, and the record goes.
    private static func putBack(_ failure: XVFError, record: GuestRecord, domain: XenDomain, plan: Plan, toolstack: any Toolstack,
                                host: Host) -> XVFError {
        host.root.undoing { try? host.root.removeFile(plan.recordFile) }
        guard let running = try? toolstack.domain(named: domain.name), running.id == domain.id else {
            return failure.followed(by: .domainGone(domain.id))
        }
        let devices = record.devices.compactMap { host.inventoryDevice($0.address) }
        let back = host.root.undoing { GuestDevices.giveBack(record, to: domain, devices: devices, toolstack: toolstack, host: host) }
        return failure.followed(by: back.failures.isEmpty ? .gaveDevicesBack(domain: domain.name)
                                : .report(back.failures.joined(separator: "; ")))
    }
}
