extension StringProtocol {
    /// Whether this is a kernel module name as modprobe takes it: ASCII letters, digits, `_` and `-`, not
    /// starting with `-` (an option), at most 55 bytes (the kernel's MODULE_NAME_LEN less its NUL).
    /// Driver names read from the host (a sysfs `driver` link, modules.alias) go into modprobe.d and the
    /// GRUB defaults file, which `update-grub` sources as shell: anything else must not reach them.
    var isKernelModuleName: Bool {
        guard let first = utf8.first, first != UInt8(ascii: "-"), utf8.count <= 55 else { return false }
        return utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"): return true
            default: return false
            }
        }
    }

    /// The name with `-` written `_`: module names treat them alike (`xen-pciback` is `xen_pciback`).
    var normalizedModuleName: String { String(map { $0 == "-" ? "_" : $0 }) }
}
