import SRIOV

/// Edits of modprobe.d files that keep whatever else the user wrote in them. Each xvf-written file holds
/// one block between marker comments; lines outside the block are the user's and stay as they are.
enum ModprobeConfig {
    /// The file with the block replaced by `lines` (appended when the file has no block yet).
    /// `existing` nil means the file does not exist.
    static func replacingBlock(_ name: String, in existing: String?, with lines: [String], header: [String]) -> String {
        let begin = "# BEGIN \(name) (written by xvf; changes inside this block are replaced)"
        let end = "# END \(name)"
        let block = [begin] + lines + [end]
        guard let existing, !existing.isEmpty else { return (header + block).joined(separator: "\n") + "\n" }
        var kept: [Substring] = []
        var inserted = false
        var inside = false
        for line in existing.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# BEGIN \(name) ") || line == "# BEGIN \(name)" {
                inside = true
                if !inserted { kept += block.map { Substring($0) }; inserted = true }
                continue
            }
            if inside {
                if line == end { inside = false }
                continue
            }
            kept.append(line)
        }
        if !inserted {
            while kept.last == "" { kept.removeLast() }
            kept += block.map { Substring($0) }
            kept.append("")
        }
        var text = kept.joined(separator: "\n")
        if !text.hasSuffix("\n") { text += "\n" }
        return text
    }

    /// Whether `driver` is in the initramfs, so that a boot-time option for it needs `update-initramfs -u`
    /// to take effect: initramfs-tools' MODULES=most (Debian's default) takes every NIC and storage
    /// driver; otherwise only those listed in `etc/initramfs-tools/modules` are in it for certain.
    static func loadsFromInitramfs(_ driver: String, root: HostRoot) -> Bool {
        let listed = (root.readText("etc/initramfs-tools/modules") ?? "").split(separator: "\n").contains {
            $0.split(separator: " ").first.map { $0.replacingUnderscores == driver.replacingUnderscores } ?? false
        }
        if listed { return true }
        guard root.exists("etc/initramfs-tools") || root.exists("usr/sbin/update-initramfs") else { return false }
        var modules = "most"
        for line in (root.readText("etc/initramfs-tools/initramfs.conf") ?? "").split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("MODULES=") { modules = String(trimmed.dropFirst(8)).trimmingQuotes }
        }
        return modules == "most"
    }
}

extension Substring {
    /// Module names treat `-` and `_` alike (`xen-pciback` is `xen_pciback`).
    var replacingUnderscores: String { String(map { $0 == "-" ? "_" : $0 }) }
}

extension String {
    var replacingUnderscores: String { String(map { $0 == "-" ? "_" : $0 }) }

    var trimmingQuotes: String {
        var s = Substring(self)
        while let c = s.first, c == "\"" || c == "'" || c == " " { s.removeFirst() }
        while let c = s.last, c == "\"" || c == "'" || c == " " { s.removeLast() }
        return String(s)
    }
}
