#if canImport(Glibc)
import Glibc
#endif
import SRIOV
import XenPCI

/// `xvf guests attach --record FILE|-`: guests that arrived on this host (`xvf migrate` runs it on the
/// target through ssh, with the records on standard input) get the devices their records name, chosen
/// here as `xvf restore` chooses them: the same address where it is free and of the same PF, else a free
/// VF of the same PF, with the link the guest had. The records come from another host, whose PFs this one
/// cannot have: the PF is the one of the same model under the same interface name (`GuestDevices.choose`).
/// What cannot be given (or all of it, when the guest does not run here) stays recorded in
/// /var/lib/xvf/guests, so that a later `xvf guests attach` on this host finishes it.
///
/// Its dry run is the source's check before anything moves: it fails (exit 1, one line) when a device
/// has nowhere to go here, whether or not the guest runs here yet.
public enum GuestArrival {
    /// `file` is a path the user named (outside the host root, like any file given on the command line),
    /// or `-` for standard input.
    public static func run(recordFile file: String, on host: Host, dryRun: Bool) throws(XVFError) -> GuestOutcome {
        let text: String
        let source: String
        if file == "-" {
            text = try readStandardInput()
            source = "standard input"
        } else {
            guard let bytes = readFile(atPath: file) else {
                throw XVFError(.recordFileUnreadable(path: file, errno: errno))
            }
            text = String(decoding: bytes, as: UTF8.self)
            source = file
        }
        return try run(records: text, from: source, on: host, dryRun: dryRun)
    }

    static func run(records text: String, from source: String, on host: Host, dryRun: Bool) throws(XVFError) -> GuestOutcome {
        let records: [GuestRecord]
        do { records = try GuestRecord.records(parsing: text) } catch {
            throw XVFError(.recordInputUnparsable(source: source), underlying: error)
        }
        // Nil in a dry run that cannot use libxl.
        return try host.change(dryRun: dryRun, plan: { (toolstack) throws(XVFError) -> [Arrival]? in
            guard let toolstack else { return nil }
            return try plan(records, toolstack: toolstack, host: host, anotherHost: true)
        }, planned: { (planned) throws(XVFError) in
            guard let planned else {
                return GuestOutcome(["would give " + records.map { "domain \($0.domain) its devices" }.joined(separator: ", ")
                                     + "; which devices are free was not checked"])
            }
            var lines: [String] = []
            for item in planned {
                let devices: [PCIDevice]
                switch item.devices {
                case .success(let chosen): devices = chosen
                case .failure(let error): throw error
                }
                let label = item.domain.map { "domain \($0.id) (\($0.name))" } ?? "domain \(item.record.domain) (not running here yet)"
                lines.append("would give \(label) "
                             + zip(item.record.devices, devices).map { "\(GuestSave.describe($0.0)) on \($0.1.address)" }
                                .joined(separator: "; "))
            }
            return GuestOutcome(lines)
        }, apply: { (planned, toolstack) throws(XVFError) in
            var lines: [String] = []
            var failures: [String] = []
            // A real run planned with the toolstack it has.
            for item in planned ?? [] {
                let file = GuestsAroundShutdown.recordPath(item.record.domain)
                guard let domain = item.domain else {
                    failures.append("domain \(item.record.domain) does not run on this host; " + keep(item.record, in: file, host: host)
                                    + " once it runs here")
                    continue
                }
                let devices: [PCIDevice]
                switch item.devices {
                case .success(let chosen): devices = chosen
                case .failure(let error):
                    failures.append("domain \(domain.id) (\(domain.name)) got none of its devices: \(error.message); "
                                    + keep(item.record, in: file, host: host))
                    continue
                }
                let back = GuestDevices.giveBack(item.record, to: domain, devices: devices, toolstack: toolstack, host: host)
                lines += back.lines
                if !back.missing.isEmpty {
                    var rest = item.record
                    rest.devices = back.missing
                    failures += back.failures
                    failures.append("domain \(domain.id) (\(domain.name)): " + keep(rest, in: file, host: host))
                }
            }
            return GuestOutcome(report: ChangeReport(lines), failures: failures)
        })
    }

    /// Writes what a guest still lacks where `xvf guests attach` finds it, and says so.
    private static func keep(_ record: GuestRecord, in file: String, host: Host) -> String {
        do {
            try host.root.replaceFile(file, with: record.text, mode: 0o600)
            return "what it lacks is recorded in \(host.root.path(file)), and `xvf guests attach` gives it"
        } catch {
            return "its record cannot be written here (\(error)): " + record.devices.map { GuestSave.describe($0) }
                .joined(separator: "; ")
        }
    }

    struct Arrival {
        var record: GuestRecord
        var domain: XenDomain?
        var devices: Result<[PCIDevice], XVFError>
    }

    /// Where each guest's devices go, one guest after the other: what one gets is taken for the next.
    static func plan(_ records: [GuestRecord], toolstack: any Toolstack, host: Host,
                     anotherHost: Bool) throws(XVFError) -> [Arrival] {
        var holders = try toolstack.currentHolders()
        let inventory = try host.inventory()
        let leases = host.leases()
        var arrivals: [Arrival] = []
        for record in records {
            let domain: XenDomain?
            do { domain = try toolstack.domain(named: record.domain) } catch {
                throw XVFError(.cannotListDomains, underlying: error)
            }
            let devices = Result { () throws(XVFError) in
                try GuestDevices.choose(record, for: domain, inventory: inventory, holders: holders, leases: leases,
                                        identity: host.hardwareIdentity, safety: host.safety, anotherHost: anotherHost)
            }
            if case .success(let chosen) = devices {
                let holder = domain ?? XenDomain(id: UInt32.max, name: record.domain, kind: record.kind)
                for device in chosen { holders[device.address] = holder }
            }
            arrivals.append(Arrival(record: record, domain: domain, devices: devices))
        }
        return arrivals
    }
}

/// The whole of standard input (records: a few lines each), refused past a mebibyte rather than read for ever.
private func readStandardInput() throws(XVFError) -> String {
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(0, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n < 0 { throw XVFError(.standardInputUnreadable(errno: errno)) }
        if n == 0 { break }
        bytes += chunk[0..<n]
        if bytes.count > 1 << 20 { throw XVFError(.standardInputTooLarge) }
    }
    return String(decoding: bytes, as: UTF8.self)
}
