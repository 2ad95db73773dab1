import SRIOV
import XenPCI

extension XendomainsSettings {
    /// The doctor's check; nil when there is no xendomains to ask.
    static func check(root: HostRoot, holders: Holders?, inventory: HostInventory) -> Doctor.Check? {
        guard let settings = XendomainsSettings(root: root) else { return nil }
        let guests = holders.map { guestsHoldingVFs($0, inventory: inventory) }
        let file = "/" + settings.file
        if let save = settings.saveDirectory {
            guard let guests else {
                return Doctor.Check(id: "xendomains", status: .warn, message: "\(file) has xendomains save running guests "
                                    + "(XENDOMAINS_SAVE=\(save)) at shutdown; which guests hold VFs was not checked (libxl "
                                    + "could not be asked)", fix: Self.fix(file))
            }
            guard !guests.isEmpty else {
                return Doctor.Check(id: "xendomains", status: .pass, message: "\(file) has xendomains save running guests at "
                                    + "shutdown; no running guest holds a VF", fix: nil)
            }
            if guestsUnitEnabled(root: root) {
                return Doctor.Check(id: "xendomains", status: .pass, message: "\(file) has xendomains save running guests at "
                                    + "shutdown, and \(guestsUnit) is enabled: it detaches the VFs of "
                                    + guests.joined(separator: "; ") + " before the save and gives them back after the restore",
                                    fix: nil)
            }
            return Doctor.Check(id: "xendomains", status: .fail, message: "\(file) has xendomains save running guests "
                                + "(XENDOMAINS_SAVE=\(save)) at shutdown and restore them at boot, \(guestsUnit) is not enabled, "
                                + "and guests holding VFs are likely to crash right after the restore: " + guests.joined(separator: "; "),
                                fix: Self.fix(file))
        }
        if let target = settings.migrateTarget, let guests, !guests.isEmpty {
            return Doctor.Check(id: "xendomains", status: .warn, message: "\(file) has xendomains migrate running guests to "
                                + "\(target) at shutdown; Xen refuses to migrate a guest holding a VF: "
                                + guests.joined(separator: "; "),
                                fix: migrateFix(target))
        }
        return Doctor.Check(id: "xendomains", status: .pass, message: "\(file): xendomains shuts running guests down at "
                            + "shutdown (XENDOMAINS_SAVE is empty)", fix: nil)
    }

    /// XENDOMAINS_MIGRATE is what xendomains puts after `xl migrate DOMID`: a host name, or xl's options
    /// and one. Before the shutdown, `xvf migrate --all` moves the guests holding VFs the same way.
    static func migrateFix(_ target: String) -> String {
        let words = (try? ShellWords.split(target)) ?? []
        let command = words.count == 1 && !target.hasPrefix("-") ? "`xvf migrate --all \(target)`"
            : "`xvf migrate --all HOST` (with --ssh CMD where XENDOMAINS_MIGRATE gives xl -s CMD)"
        return "run \(command) before the host shuts down: it moves the guests holding VFs, their VFs detached here and "
            + "given back there, and xendomains migrates the rest; or shut those guests down"
    }
}
