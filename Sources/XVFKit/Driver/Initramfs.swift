import SRIOV

/// What the initramfs holds, as far as initramfs-tools' configuration tells.
enum Initramfs {
    /// Whether `driver` may be in the initramfs, so that a boot-time option for it needs
    /// `update-initramfs -u` to take effect. MODULES=most (Debian's default) takes every NIC and storage
    /// driver, and `dep` one the running system needs; and the image in /boot may have been built under
    /// another setting than the one configured now (the lab's dom0 was: MODULES=dep configured, image
    /// built with most, igb inside). Only MODULES=list without the driver listed leaves it out for sure.
    static func mayContain(_ driver: String, root: HostRoot) -> Bool {
        let listed = (root.readText("etc/initramfs-tools/modules") ?? "").split(separator: "\n").contains {
            $0.split(separator: " ").first.map { $0.normalizedModuleName == driver.normalizedModuleName } ?? false
        }
        if listed { return true }
        guard root.exists("etc/initramfs-tools") || root.exists("usr/sbin/update-initramfs") else { return false }
        var modules = "most"
        for line in (root.readText("etc/initramfs-tools/initramfs.conf") ?? "").split(separator: "\n") {
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            if trimmed.hasPrefix("MODULES=") { modules = trimmed.dropFirst(8).trimming { $0 == "\"" || $0 == "'" || $0 == " " } }
        }
        return modules != "list"
    }
}
