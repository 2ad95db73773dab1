#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// Which kernel module udev would load for a PCI device: the first `alias pci:…` pattern in the running
/// kernel's `modules.alias` that matches the device's modalias. This names the VF driver of VFs that do
/// not exist yet (so no driver has bound them to show it).
public struct ModuleAliases {
    let patterns: [(pattern: String, module: String)]

    public init(root: HostRoot) {
        var patterns: [(String, String)] = []
        if let release = root.readText("proc/sys/kernel/osrelease"),
           let text = root.readText("lib/modules/\(release)/modules.alias") {
            for line in text.split(separator: "\n") where line.hasPrefix("alias pci:") {
                let words = line.split(separator: " ")
                // A module name that modprobe could not take is no driver xvf will name (or write anywhere).
                if words.count == 3, words[2].isKernelModuleName { patterns.append((String(words[1]), String(words[2]))) }
            }
        }
        self.patterns = patterns
    }

    /// Whether the running kernel's alias table was read: without it no unbound device's driver is known.
    var isKnown: Bool { !patterns.isEmpty }

    /// The module for a device with these ids (`subsystem` and `classCode` as the PF has them).
    public func module(vendor: UInt16, device: UInt16, subsystemVendor: UInt16, subsystemDevice: UInt16,
                classCode: UInt32) -> String? {
        func id(_ value: UInt16) -> String { hex(value, width: 8, uppercase: true) }
        func byte(_ value: UInt32) -> String { hex(value & 0xff, width: 2, uppercase: true) }
        let modalias = "pci:v" + id(vendor) + "d" + id(device) + "sv" + id(subsystemVendor) + "sd"
            + id(subsystemDevice) + "bc" + byte(classCode >> 16) + "sc" + byte(classCode >> 8) + "i" + byte(classCode)
        return patterns.first { fnmatch($0.pattern, modalias, 0) == 0 }?.module
    }
}
