import SRIOV
import XenPCI

/// The one way round of every command that changes the host, as a change in the middle of a running
/// dom0 must go: plan on the host as it is and refuse there, before anything is touched (a dry run is
/// that plan, and stops); then, under the host lock, read the host again and plan
/// again (another xvf may have changed it meanwhile), and carry out that second plan. Each `apply` puts
/// back what it did when it fails half-way, and the host root and the toolstack record every step for
/// the command's JSON result.
extension Host {
    /// Plans (`locked` false), takes the host lock, reads the host again, plans again (`locked` true) and
    /// applies that plan. `unchanged` ends the run at either plan when it has nothing to do; the first
    /// plan may leave out what is costly to read, since only the second is carried out.
    func change<Plan, Result>(plan: (_ locked: Bool) throws(XVFError) -> Plan,
                              unchanged: (Plan) -> Result? = { _ in nil },
                              apply: (Plan) throws(XVFError) -> Result) throws(XVFError) -> Result {
        let first = try plan(false)
        if let result = unchanged(first) { return result }
        let lock = try HostLock(root)
        defer { withExtendedLifetime(lock) {} }
        reload()
        let fresh = try plan(true)
        if let result = unchanged(fresh) { return result }
        return try apply(fresh)
    }

    /// The toolstack a command plans with. A real run that `needs` it gets it or the reason it cannot
    /// (not a dom0, Xen's libraries missing); one that does not need it off a dom0 (`xvf vfs` on a plain
    /// Linux host) gets nil there. A dry run plans without it wherever it cannot be opened, and says less.
    func planningToolstack(dryRun: Bool, needs: Bool = true) throws(XVFError) -> (any Toolstack)? {
        guard isXenDom0 || (needs && !dryRun) else { return nil }
        return dryRun ? try? openToolstack() : try openToolstack()
    }
}
