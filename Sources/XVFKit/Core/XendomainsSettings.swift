import SRIOV
import XenPCI

/// What xendomains does with running guests when dom0 shuts down, read from its defaults file: with
/// XENDOMAINS_SAVE set (Debian's default) it saves them and restores them at the next boot, and a guest
/// saved while it held a VF is likely to crash right after its restore (in the lab, PV guests with an
/// 82576 VF on Xen 4.17 and 4.20: 5 of 7 crashed with "Fault while accessing guest memory"). With
/// XENDOMAINS_MIGRATE set it migrates them, which Xen refuses for a guest with an assigned device
/// ("Failed to enable logdirty").
struct XendomainsSettings {
    /// The file the settings came from (relative to the root).
    var file: String
    var saveDirectory: String?
    var migrateTarget: String?

    /// Debian's and Ubuntu's file, then Fedora's and openSUSE's.
    static let files = ["etc/default/xendomains", "etc/sysconfig/xendomains"]

    /// The settings of the first file there is; nil when neither exists (no xendomains on this host).
    init?(root: HostRoot) {
        guard let file = Self.files.first(where: { root.exists($0) }),
              let text = try? root.editableText(file) else { return nil }
        self.file = file
        saveDirectory = Self.value(of: "XENDOMAINS_SAVE", in: text)
        migrateTarget = Self.value(of: "XENDOMAINS_MIGRATE", in: text)
    }

    /// The last `KEY=value` of a shell-sourced file, quotes removed; nil when unset or empty, as
    /// xendomains reads an empty value as "off".
    static func value(of key: String, in text: String) -> String? {
        var found: String?
        for line in text.split(separator: "\n") {
            var rest = line.drop { $0 == " " || $0 == "\t" }
            if rest.hasPrefix("export ") { rest = rest.dropFirst("export ".count).drop { $0 == " " } }
            guard rest.hasPrefix(key + "=") else { continue }
            var value = rest.dropFirst(key.count + 1)
            if let quote = value.first, quote == "\"" || quote == "'" {
                value = value.dropFirst().prefix { $0 != quote }
            } else {
                value = value.prefix { $0 != " " && $0 != "\t" && $0 != "#" }
            }
            found = String(value)
        }
        return found.flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The running guests that hold VFs, as `web1 (domain 1): 0000:04:11.0`, sorted by domain.
    static func guestsHoldingVFs(_ holders: Holders, inventory: HostInventory) -> [String] {
        let byDomain = Dictionary(grouping: holders.filter { inventory[$0.key]?.physicalFunction != nil }, by: \.value.id)
        return byDomain.keys.sorted().map { id in
            let entries = byDomain[id]!
            return "\(entries[0].value.name) (domain \(id)): " + entries.map(\.key.description).sorted().joined(separator: ", ")
        }
    }

    static func fix(_ file: String) -> String {
        "enable xvf-guests.service (`systemctl enable --now xvf-guests.service`), which detaches the guests' devices before "
            + "xendomains saves them and gives them back after it restores them; or set XENDOMAINS_SAVE= (empty) in \(file), so "
            + "that xendomains shuts guests down and starts them again"
    }

    /// The unit that takes guests' devices away around xendomains' save and restore.
    static let guestsUnit = "xvf-guests.service"

    /// Whether systemd will start `guestsUnit` at boot: a `*.wants/` link to it in /etc/systemd/system (what
    /// `systemctl enable` and the package's install make).
    static func guestsUnitEnabled(root: HostRoot) -> Bool {
        let directory = "etc/systemd/system"
        return root.list(directory).contains { $0.hasSuffix(".wants") && root.readLink("\(directory)/\($0)/\(guestsUnit)") != nil }
    }

    /// The line `xvf assign` warns with once the guest holds a VF, when xendomains will save it and
    /// xvf-guests.service will not take the VF away first.
    static func assignWarning(root: HostRoot) -> String? {
        guard !guestsUnitEnabled(root: root),
              let settings = XendomainsSettings(root: root), let save = settings.saveDirectory else { return nil }
        return "xendomains saves running guests at shutdown (XENDOMAINS_SAVE=\(save) in /\(settings.file)); a guest "
            + "saved while it holds a VF is likely to crash right after its restore: " + fix("/" + settings.file)
    }
}
