import CXenLight
import Foundation
import Testing
@testable import XenPCI

/// One binary runs against every libxl release xvf takes, so the layouts it was built with must be the ones
/// measured on each of them (bookworm's 4.17 and trixie's 4.20 headers, and 4.18/4.19 generated from Xen's
/// own IDL). A build against headers that disagree fails here, before a binary walks a libxl array with
/// the wrong stride.
@Suite struct XenABITests {
    @Test func theBuildHeadersHaveTheLayoutsOfEveryReleaseXvfLoads() {
        let layout = xvf_xen_build_layout()
        // Arrays from libxl_device_pci_list / _assignable_list and libxl_list_domain are walked with these.
        #expect(layout.device_pci_size == 32)
        #expect(layout.dominfo_size == 120)
        #expect(layout.device_pci_vdevfn == 8)
        #expect(layout.device_pci_rdm_policy == 20)
        #expect(layout.device_pci_name == 24)
        #expect(layout.dominfo_domain_type == 112)
        // libxl_physinfo is 128 bytes in 4.17 and 136 from 4.18 on; the caps xvf reads stay where they were.
        #expect([128, 136].contains(layout.physinfo_size))
        #expect(layout.physinfo_cap_hvm_directio == 118)
        #expect(MemoryLayout<xvf_physinfo>.size >= 136 * 2, "room for libxl_physinfo to grow past 4.20")
    }

    @Test func theReleasesAreNewestFirstAndTheRangeIsNamed() {
        #expect(XenLibraries.supportedReleases == ["4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.supportedRange == "4.17–4.20")
    }

    // Debian keeps several xen-utils installed across an upgrade; the toolstack must be the running
    // hypervisor's release, as Debian's xl wrapper picks it.
    @Test func theRunningHypervisorsReleaseIsTriedFirst() {
        #expect(XenLibraries.loadOrder(running: "4.17") == ["4.17", "4.20", "4.19", "4.18"])
        #expect(XenLibraries.loadOrder(running: "4.20") == ["4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.loadOrder(running: "4.21") == ["4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.loadOrder(running: nil) == ["4.20", "4.19", "4.18", "4.17"])
    }

    @Test func theRunningReleaseIsReadWhereLinuxGivesIt() throws {
        let sysfs = NSTemporaryDirectory() + "xvf-hypervisor-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: sysfs) }
        func write(_ path: String, _ text: String) throws {
            let full = sysfs + "/hypervisor/" + path
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                    withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        #expect(XenLibraries.runningRelease(sysfs: sysfs) == nil, "no hypervisor directory")
        try write("type", "xen\n")
        try write("version/major", "4\n")
        #expect(XenLibraries.runningRelease(sysfs: sysfs) == nil, "no minor")
        try write("version/minor", "17\n")
        try write("version/extra", ".5\n")
        #expect(XenLibraries.runningRelease(sysfs: sysfs) == "4.17")
        try write("type", "kvm\n")
        #expect(XenLibraries.runningRelease(sysfs: sysfs) == nil, "another hypervisor")
    }

    @Test func aMissingOrUntestedLibxlSaysWhatToDo() {
        #expect(XenLibraries.missingMessage(installed: []) == "Xen's toolstack libraries (libxenlight, libxlutil) are "
                + "not installed: install libxenmisc4.20 (Debian 13) or libxenmisc4.17 (Debian 12), which xen-utils "
                + "brings")
        #expect(XenLibraries.missingMessage(installed: ["4.22"]).hasPrefix(
            "Xen's libxenlight 4.22 is installed, but xvf is made for Xen 4.17–4.20"))
    }

    @Test func theLibrariesOfThisMachineLoad() throws {
        let loaded = try XenLibraries.load()
        #expect(XenLibraries.supportedReleases.contains(loaded.release))
    }
}
