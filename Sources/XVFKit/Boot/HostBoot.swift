import SRIOV
import XenPCI

/// `xvf boot [--config FILE] [--dry-run]`: reads the host config, checks it whole against the host,
/// plans what differs and applies it (see `BootPlan` for the order, `BootRun` for partial failure).
public enum HostBoot {
    /// What a run came to, for the command line to say after the steps: how it ended, the failures (one
    /// sentence each), the notes, and whether everything was done.
    public struct Outcome: Sendable, Equatable {
        /// How a run ended.
        public enum End: Sendable, Equatable {
            /// The host matched the config already: nothing was planned.
            case unchanged
            /// A dry run: its steps say what it would do, and its failures what the config cannot do.
            case planned
            /// The steps were taken: `done` of them went through, and each failure is one of `failures`.
            case applied(done: Int)
        }

        public var end: End
        /// The host config as the user names it.
        public var filename: String
        public var failures: [String] = []
        public var notes: [String] = []
        public var succeeded: Bool { failures.isEmpty }
    }

    /// `pf` limits the run to that PF's entries (an interface or an address, as `xvf boot --pf` takes it).
    public static func run(configPath: String?, pf: String? = nil, dryRun: Bool, on host: Host,
                           log: (String) -> Void) throws(XVFError) -> Outcome
    {
        let only = try pf.map { text throws(XVFError) in try host.physicalFunction(text).address }
        let filename = HostConfig.displayPath(configPath, root: host.root)
        // A bad config, or a program that must not run for this root, is refused by the plan, before
        // anything changes.
        return try host.change(dryRun: dryRun, plan: { () throws(XVFError) in
            try prepare(configPath: configPath, only: only, filename: filename, dryRun: dryRun, on: host)
        }, unchanged: { planned in
            planned.0.isEmpty ? Outcome(end: .unchanged, filename: filename) : nil
        }, planned: { planned in
            let plan = planned.0
            for action in plan.actions {
                for line in action.lines { log(line) }
                action.plan(into: host.journal)
            }
            return Outcome(end: .planned, filename: filename, failures: plan.problems.map(\.message))
        }, apply: { planned in
            var run = planned.1
            run.apply(log: log)
            host.reload()
            return Outcome(end: .applied(done: run.done), filename: filename, failures: run.failures, notes: run.notes)
        })
    }

    /// Reads the host and the config and plans what differs; checks the plan's programs unless `dryRun`.
    static func prepare(configPath: String?, only: PCIAddress?, filename: String, dryRun: Bool, on host: Host) throws(XVFError)
        -> (BootPlan, BootRun)
    {
        let inventory = try host.inventory()
        guard let whole = try HostConfig.load(path: configPath, root: host.root, inventory: inventory,
                                             library: host.library) else {
            throw XVFError(.noHostConfig(path: filename))
        }
        return try prepare(only.map { whole.only($0) } ?? whole, inventory: inventory, dryRun: dryRun, on: host)
    }

    /// Plans a config already read and checked against `inventory`; checks the plan's programs unless `dryRun`.
    static func prepare(_ config: HostConfig, inventory: HostInventory, dryRun: Bool, on host: Host) throws(XVFError)
        -> (BootPlan, BootRun)
    {
        let creating = config.counts.filter { $0.count > 0 && inventory[$0.pf]?.sriov?.numVFs != $0.count }
        if let first = creating.first {
            try PVHDom0.refuseVFs("the VF count\(creating.count == 1 ? "" : "s") of \(config.filename) (\(first.count) VFs on "
                                  + "\(inventory[first.pf].map { inventory.label($0) } ?? first.pf.description)"
                                  + (creating.count > 1 ? ", …" : "") + ")", root: host.root)
        }
        let toolstack = try host.planningToolstack(dryRun: dryRun, needs: false)
        let holders = try toolstack?.currentHolders() ?? [:]
        var assignableNames: [PCIAddress: String?]?
        if let toolstack {
            do {
                assignableNames = Dictionary(try toolstack.assignableList().map { ($0.address, $0.name) },
                                             uniquingKeysWith: { a, _ in a })
            } catch {
                throw ErrorAdvice.libxl(error, device: nil)
            }
        }
        // The NIC's current settings matter only for PFs whose VFs stay: new VFs get every setting.
        let changing = Set(config.counts.filter { inventory[$0.pf]?.sriov?.numVFs != $0.count }.map(\.pf))
        let needState = config.links.contains { !changing.contains($0.pf) }
            || config.leases.contains { !$0.settings.isEmpty && !changing.contains($0.pf) }
        let linkState = needState ? IPLinkReport.read(root: host.root) : nil
        // The bindings of the last boot; a file that cannot be used costs the leases their stickiness only.
        var leases: [Lease] = []
        var leasesText: String?
        do {
            leases = try Leases.load(root: host.root)
            leasesText = try? host.root.editableText(Leases.path)
        } catch {
            Warnings.add(error.message + "; the leases are bound afresh")
            leasesText = ""
        }
        let plan = BootPlan(config: config, inventory: inventory, holders: holders, safety: try host.safety(),
                            assignableNames: assignableNames, linkState: linkState, leases: leases, leasesText: leasesText)
        let run = BootRun(plan: plan, inventory: inventory, toolstack: toolstack, holders: holders)
        if !dryRun && !plan.isEmpty { try run.check() }
        return (plan, run)
    }
}
