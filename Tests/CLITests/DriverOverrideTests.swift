import Foundation
import SRIOV
import Testing

/// A VF's `driver_override` is its own (the demo's eno49/2 is 0000:04:11.0): discovery reads it for VFs
/// as for PFs, and `xvf show` says it.
@Suite struct DriverOverrideTests {
    @Test func showSaysAVFsOverride() throws {
        let root = simulatedHost()
        let before = try xvf(["--root", root, "show", "eno49/2"])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(!before.stdout.contains("driver_override"))
        try HostRoot(root).replaceFile("sys/bus/pci/devices/0000:04:11.0/driver_override", with: "pciback\n")
        let text = try xvf(["--root", root, "show", "eno49/2"])
        #expect(text.stdout.split(separator: "\n").contains { $0.hasPrefix("  driver_override") && $0.hasSuffix(" pciback") },
                "\(text.stdout)")
        let json = try xvf(["--root", root, "show", "eno49/2", "--json"])
        #expect(json.stdout.contains(#""driver_override":"pciback""#), "\(json.stdout)")
    }
}
