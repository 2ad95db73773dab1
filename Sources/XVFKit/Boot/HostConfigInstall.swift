#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// `xvf boot --install NEW`: makes NEW the host config (`etc/xen/xvf.cfg` under the root) once it passes
/// the check `xvf boot --dry-run --config NEW` makes, without applying it. The file is written by
/// `HostRoot.replaceFile` under the host lock, as every other file xvf edits, so a tool that installs a
/// host config (the Ansible collection) neither races a running `xvf boot` nor drops what the old file
/// carried (its owner, mode, a link to where it really lives).
public enum HostConfigInstall {
    /// `file` is read once, here, as the user named it (not under the root): what was checked is what
    /// gets written, and nothing that can block is read while the lock is held.
    public static func run(_ file: String, dryRun: Bool, on host: Host) throws(XVFError) -> ChangeReport {
        // Regular files only, every byte kept (`HostText`): what was checked is what gets written.
        let read: String?
        do { read = try HostRoot.editableText(atPath: file) } catch {
            throw XVFError(.newConfigUnreadable, underlying: error)
        }
        guard let text = read else {
            throw XVFError(.newConfigMissing(path: file))
        }
        let target = HostConfig.defaultPath
        let shown = HostConfig.displayPath(nil, root: host.root)

        /// Checks the new config against the host as it is now; the steps `xvf boot` would then take.
        func plan() throws(XVFError) -> (changes: Bool, steps: Int) {
            let inventory = try host.inventory()
            let config = try HostConfig(text: text, filename: file, inventory: inventory, library: host.library)
            let (boot, _) = try HostBoot.prepare(config, inventory: inventory, dryRun: true, on: host)
            // What would make `xvf boot --dry-run --config NEW` fail refuses the file here.
            if !boot.problems.isEmpty {
                throw XVFError(.stepsFailed(boot.problems.map(\.message)))
            }
            return (try host.root.existingText(target) != text, boot.actions.count)
        }
        func applying(_ steps: Int) -> String {
            steps == 0 ? "the host already matches it" : "`xvf boot` applies it (\(steps) step\(steps == 1 ? "" : "s"))"
        }
        let unchanged = ChangeReport(["\(shown) already holds \(file); nothing to change"])

        return try host.change(dryRun: dryRun, plan: plan, unchanged: { $0.changes ? nil : unchanged },
                               planned: { planned in
            host.journal.plan(.replaceFile(path: target, content: text))
            return ChangeReport(["would install \(file) as \(shown); then \(applying(planned.steps))"])
        }, apply: { (planned) throws(XVFError) in
            do { try host.root.replaceFile(target, with: text) } catch { throw XVFError(.changeFailed, underlying: error) }
            return ChangeReport(["installed \(file) as \(shown); \(applying(planned.steps))"])
        })
    }
}
