import CXenLight
import Foundation
import SRIOV
import Testing
import TestSupport
@testable import XenPCI

/// One binary runs against every libxl release xvf takes, so the layouts it was built with must be the ones
/// measured on each of them (bookworm's 4.17 and trixie's 4.20 headers; 4.18, 4.19, 4.21 and 4.22 from
/// Xen's own libxl_types.idl at their RELEASE tags, whose libxl_device_pci and libxl_dominfo equal 4.17's
/// and whose libxl_physinfo is 4.17's plus arch_capabilities). A build against headers that disagree fails here, before a binary walks a libxl array with
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
        // libxl_physinfo: the caps xvf reads stay where they were in every release.
        #expect(Self.physinfoSize.values.contains(layout.physinfo_size))
        #expect(layout.physinfo_cap_hvm_directio == 118)
        #expect(MemoryLayout<xvf_physinfo>.size >= 136 * 2, "room for libxl_physinfo to grow past 4.22")
    }

    /// sizeof(libxl_physinfo) on x86-64 in each release xvf takes: 128 bytes in 4.17, 136 from 4.18.0 on
    /// (arch_capabilities, a uint32 at the end, padded to 8), unchanged through 4.22.0.
    static let physinfoSize = ["4.17": 128, "4.18": 136, "4.19": 136, "4.20": 136, "4.21": 136, "4.22": 136]

    @Test func everyReleaseTakenHasItsMeasuredLayout() {
        #expect(Set(XenLibraries.supportedReleases) == Set(Self.physinfoSize.keys))
        for release in XenLibraries.supportedReleases {
            #expect(MemoryLayout<xvf_physinfo>.size >= Self.physinfoSize[release] ?? .max, "release \(release)")
        }
    }

    @Test func theReleasesAreNewestFirstAndTheRangeIsNamed() {
        #expect(XenLibraries.supportedReleases == ["4.22", "4.21", "4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.supportedRange == "4.17–4.22")
    }

    // Debian keeps several xen-utils installed across an upgrade; the toolstack must be the running
    // hypervisor's release, as Debian's xl wrapper picks it.
    @Test func theRunningHypervisorsReleaseIsTriedFirst() {
        #expect(XenLibraries.loadOrder(running: "4.17") == ["4.17", "4.22", "4.21", "4.20", "4.19", "4.18"])
        #expect(XenLibraries.loadOrder(running: "4.20") == ["4.20", "4.22", "4.21", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.loadOrder(running: "4.21") == ["4.21", "4.22", "4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.loadOrder(running: "4.22") == ["4.22", "4.21", "4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.loadOrder(running: "4.23") == ["4.22", "4.21", "4.20", "4.19", "4.18", "4.17"])
        #expect(XenLibraries.loadOrder(running: nil) == ["4.22", "4.21", "4.20", "4.19", "4.18", "4.17"])
    }

    @Test func theRunningReleaseIsReadWhereLinuxGivesIt() throws {
        let sysfs = temporaryDirectory("hypervisor")
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
        #expect(XenLibraries.missingMessage(installed: [], osRelease: OSRelease(text: "ID=debian\nVERSION_ID=\"13\"\n"))
                == "Xen's toolstack libraries (libxenlight, libxlutil) are not installed: install libxenmisc4.20 "
                + "(Debian 13), which comes with Xen's tools")
        #expect(XenLibraries.missingMessage(installed: ["4.23"], osRelease: OSRelease(text: "")) ==
            "Xen's libxenlight 4.23 is installed, but xvf is made for Xen 4.17–4.22 (libxenlight.so.4.17 to .4.22); "
            + "use an xvf built for Xen 4.23, or the xl commands")
    }

    /// Each distribution's package with libxenlight, read from os-release in a simulated tree.
    @Test(arguments: [
        ("ID=debian\nVERSION_ID=\"12\"\n", "install libxenmisc4.17 (Debian 12)"),
        ("ID=debian\nVERSION_ID=\"13\"\n", "install libxenmisc4.20 (Debian 13)"),
        ("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"24.04\"\n", "install libxenmisc4.17t64 (Ubuntu 24.04)"),
        ("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"26.04\"\n", "install libxenmisc4.20 (Ubuntu 26.04)"),
        ("NAME=\"Fedora Linux\"\nID=fedora\nVERSION_ID=44\n", "install xen-libs (Fedora 44)"),
        ("NAME=\"openSUSE Tumbleweed\"\nID=\"opensuse-tumbleweed\"\nID_LIKE=\"opensuse suse\"\n",
         "install xen-libs (openSUSE Tumbleweed)"),
        ("ID=alpine\nVERSION_ID=3.23.0\n", "install xen-libs (Alpine 3.23.0)"),
        ("ID=debian\n", "install your distribution's package with libxenlight.so.4.17 to .4.22"),
        ("ID=arch\n", "install your distribution's package with libxenlight.so.4.17 to .4.22"),
    ])
    func theInstallHintNamesTheDistributionsPackage(osRelease: String, hint: String) throws {
        let tree = try TemporaryTree()
        try tree.write("usr/lib/os-release", osRelease)
        try tree.link("etc/os-release", to: "../usr/lib/os-release")
        let before = tree.snapshot()
        let message = XenLibraries.missingMessage(installed: [], osRelease: OSRelease(HostRoot(tree.path)))
        #expect(message.hasPrefix("Xen's toolstack libraries (libxenlight, libxlutil) are not installed: " + hint))
        #expect(!message.contains("\n"))
        #expect(tree.snapshot() == before)
    }

    @Test func withoutOSReleaseTheHintIsGeneric() throws {
        let tree = try TemporaryTree()
        #expect(XenLibraries.installHint(OSRelease(HostRoot(tree.path))).hasPrefix("install your distribution's package"))
    }

    // Libraries named as another release's, in a directory of their own: the files are this machine's
    // libxl (the same functions and layouts, which is what makes a release acceptable), the names are what
    // the loader goes by.
    static let realLibraries: (directory: String, release: String)? = {
        for directory in ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"] {
            for release in XenLibraries.supportedReleases
            where FileManager.default.fileExists(atPath: "\(directory)/libxenlight.so.\(release)") {
                return (directory, release)
            }
        }
        return nil
    }()

    static func librariesNamed(_ release: String) throws -> TemporaryTree {
        let tree = try TemporaryTree()
        let (directory, real) = realLibraries!
        for stem in ["libxenlight", "libxlutil", "libxenctrl"] {
            try tree.link("\(stem).so.\(release)", to: "\(directory)/\(stem).so.\(real)")
        }
        return tree
    }

    @Test("libxl 4.21 and 4.22 load, by their sonames", .enabled(if: realLibraries != nil, "no libxenlight here"),
          arguments: ["4.21", "4.22"])
    func theNewReleasesLoad(release: String) throws {
        let tree = try Self.librariesNamed(release)
        let loaded = try XenLibraries.load(from: tree.path, running: nil, installed: [],
                                           osRelease: OSRelease(text: "")).get()
        #expect(loaded.release == release)
    }

    @Test("the running hypervisor's release is loaded before a newer one",
          .enabled(if: realLibraries != nil, "no libxenlight here"))
    func theRunningReleaseWinsOverNewerOnes() throws {
        let tree = try Self.librariesNamed("4.21")
        for stem in ["libxenlight", "libxlutil", "libxenctrl"] {
            try tree.link("\(stem).so.4.22", to: "\(stem).so.4.21")
        }
        #expect(try XenLibraries.load(from: tree.path, running: "4.21", installed: [], osRelease: OSRelease(text: ""))
            .get().release == "4.21")
        #expect(try XenLibraries.load(from: tree.path, running: nil, installed: [], osRelease: OSRelease(text: ""))
            .get().release == "4.22")
    }

    @Test("libxl 4.16 and 4.23 are refused with one line", .enabled(if: realLibraries != nil, "no libxenlight here"),
          arguments: ["4.16", "4.23"])
    func releasesOutsideTheRangeAreRefused(release: String) throws {
        let tree = try Self.librariesNamed(release)
        let before = tree.snapshot()
        let result = XenLibraries.load(from: tree.path, running: release,
                                       installed: XenLibraries.installedReleases(in: [tree.path]),
                                       osRelease: OSRelease(text: "ID=debian\nVERSION_ID=12\n"))
        guard case .failure(let error) = result else {
            Issue.record("libxl \(release) was loaded")
            return
        }
        #expect(error.message == "Xen's libxenlight \(release) is installed, but xvf is made for Xen 4.17–4.22 "
                + "(libxenlight.so.4.17 to .4.22); use an xvf built for Xen \(release), or the xl commands")
        #expect(tree.snapshot() == before)
    }

    @Test func theLibrariesOfThisMachineLoad() throws {
        let loaded = try XenLibraries.load()
        #expect(XenLibraries.supportedReleases.contains(loaded.release))
    }
}

/// A directory of its own under the temporary directory, with what the tests write into it.
struct TemporaryTree {
    let path: String

    init() throws {
        path = temporaryDirectory("abi")
    }

    func write(_ relative: String, _ text: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: false, encoding: .utf8)
    }

    func link(_ relative: String, to target: String) throws {
        let full = path + "/" + relative
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: target)
    }

    /// Every entry under the tree with its link target or contents, to compare before and after.
    func snapshot() -> [String: String] {
        var entries: [String: String] = [:]
        for relative in FileManager.default.subpaths(atPath: path) ?? [] {
            let full = path + "/" + relative
            if let target = try? FileManager.default.destinationOfSymbolicLink(atPath: full) {
                entries[relative] = "-> " + target
            } else {
                entries[relative] = (try? String(contentsOfFile: full, encoding: .utf8)) ?? "<dir>"
            }
        }
        return entries
    }
}
