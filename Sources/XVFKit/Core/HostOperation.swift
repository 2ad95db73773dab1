import SRIOV
import XenPCI

/// The one way round of every command that changes the host, as a change in the middle of a running
/// dom0 must go: take the host lock, read the host as it is under it (another xvf may have changed it
/// while this one started), plan there and refuse there, before anything is touched; then carry out
/// that plan. A dry run is the same way stopped after the plan: it plans without the lock, records the
/// plan's steps in the journal as planned, and returns what it would do. Each `apply` puts back what it
/// did when it fails half-way, and the host root and the toolstack record every step for the command's
/// JSON result.
extension Host {
    /// Plans the change and, unless `dryRun`, carries it out (`change(plan:unchanged:apply:)`). A dry run
    /// plans once, without the lock (it changes nothing another xvf could race), and returns `planned`,
    /// which records the plan's steps in the journal and says what the run would do.
    func change<Plan, Result>(dryRun: Bool,
                              plan: () throws(XVFError) -> Plan,
                              unchanged: (Plan) -> Result? = { _ in nil },
                              planned: (Plan) throws(XVFError) -> Result,
                              apply: (Plan) throws(XVFError) -> Result) throws(XVFError) -> Result {
        guard dryRun else { return try change(plan: plan, unchanged: unchanged, apply: apply) }
        let made = try plan()
        if let result = unchanged(made) { return result }
        return try planned(made)
    }

    /// Takes the host lock, reads the host again and plans; `unchanged` ends the run there when the plan
    /// has nothing to do, otherwise `apply` carries it out. There is one plan, under the lock: a refused
    /// command may wait for another xvf to finish first, but a real run reads the host and asks Xen about
    /// its domains once (on a dom0 each of those readings is a round of xenstore requests).
    func change<Plan, Result>(plan: () throws(XVFError) -> Plan,
                              unchanged: (Plan) -> Result? = { _ in nil },
                              apply: (Plan) throws(XVFError) -> Result) throws(XVFError) -> Result {
        let lock = try HostLock(root, timeout: lockTimeout, waiting: onLockWait)
        defer { withExtendedLifetime(lock) {} }
        reload()
        let made = try plan()
        if let result = unchanged(made) { return result }
        return try apply(made)
    }

    /// `change` for a command that works through the toolstack: the plan gets the toolstack it plans with
    /// (`planningToolstack`: nil in a dry run where it cannot be opened), and `apply` the one a real run
    /// has opened.
    func change<Plan, Result>(dryRun: Bool,
                              plan: ((any Toolstack)?) throws(XVFError) -> Plan,
                              unchanged: (Plan) -> Result? = { _ in nil },
                              planned: (Plan) throws(XVFError) -> Result,
                              apply: (Plan, any Toolstack) throws(XVFError) -> Result) throws(XVFError) -> Result {
        let toolstack = try planningToolstack(dryRun: dryRun)
        return try change(dryRun: dryRun, plan: { () throws(XVFError) in try plan(toolstack) }, unchanged: unchanged,
                          planned: planned, apply: { (plan) throws(XVFError) in
            // A real run has one: `planningToolstack` opened it or said why it cannot.
            if let toolstack { return try apply(plan, toolstack) }
            return try apply(plan, try openToolstack())
        })
    }

    /// The toolstack a command plans with. A real run that `needs` it gets it or the reason it cannot
    /// (not a dom0, Xen's libraries missing); one that does not need it off a dom0 (`xvf vfs` on a plain
    /// Linux host) gets nil there. A dry run plans without it wherever it cannot be opened; on a dom0 it
    /// then warns that the plan did not ask Xen which domains hold which devices, and why.
    func planningToolstack(dryRun: Bool, needs: Bool = true) throws(XVFError) -> (any Toolstack)? {
        guard isXenDom0 || (needs && !dryRun) else { return nil }
        guard dryRun else { return try openToolstack() }
        do {
            return try openToolstack()
        } catch {
            Warnings.add("not checked: which domains hold which devices, and which libxl has made assignable, as "
                         + "libxl cannot be used: " + Self.refusalReason(error))
            return nil
        }
    }

    /// The reason in a refusal to open the toolstack, without its last words on the run ("; nothing was
    /// changed …"), which speak of a real run.
    private static func refusalReason(_ error: XVFError) -> String {
        error.message.firstRange(of: "; nothing was changed").map { String(error.message[..<$0.lowerBound]) } ?? error.message
    }
}
