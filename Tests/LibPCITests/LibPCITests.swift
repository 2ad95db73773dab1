import Foundation
@testable import LibPCI
import SRIOV
import Testing
import TestSupport

/// libpci reads the simulated config space and Debian's pci.ids.
@Suite struct LibPCITests {
    @Test func namesComeFromPciIds() throws {
        let host = TemporaryHost()
        let library = try PCILibrary(root: host.root)
        let names = library.names(vendor: 0x8086, device: 0x1521)
        #expect(names.vendor == "Intel Corporation")
        #expect(names.device == "I350 Gigabit Network Connection")
        #expect(library.names(vendor: 0x8086, device: 0x1520).device == "I350 Ethernet Controller Virtual Function")
        #expect(library.names(vendor: 0xfffe, device: 0x0001).device == nil)
    }

    /// xvf reads pci.ids for the ids asked for; every vendor in Debian's pci.ids, each one's first and last
    /// device and every eighth in between, and ids it lacks, must come out as libpci's own load of the whole
    /// file gives them.
    @Test func theNamesInPciIdsAreTheOnesLibpciGives() throws {
        let host = TemporaryHost()
        let library = try PCILibrary(root: host.root)
        let path = "/usr/share/misc/pci.ids"
        let list = try #require(PCIIDList(path: path))
        var devices: [(vendor: UInt16, ids: [UInt16])] = []
        for line in try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n") {
            if line.hasPrefix("C ") { break }  // the classes that end the file
            let nested = line.hasPrefix("\t")
            guard !line.hasPrefix("\t\t"), let id = UInt16(line.dropFirst(nested ? 1 : 0).prefix(4), radix: 16)
            else { continue }
            if !nested {
                devices.append((id, [0xfffe]))
            } else if !devices.isEmpty {
                devices[devices.count - 1].ids.append(id)
            }
        }
        #expect(devices.count > 2_000, "the test reads Debian's pci.ids")
        for (vendor, ids) in devices + [(0xfffe, [0x0001])] {
            let sample = ids.indices.filter { $0 % 8 == 0 || $0 == ids.count - 1 }.map { ids[$0] }
            for device in sample {
                let libpci = library.libpciNames(vendor: vendor, device: device, fromHWDB: false)
                let read = (list.vendorName(vendor), list.deviceName(vendor: vendor, device: device))
                #expect(read.0 == libpci.vendor && read.1 == libpci.device,
                        "\(String(vendor, radix: 16)):\(String(device, radix: 16))")
            }
        }
    }

    /// The lines pci.ids's syntax allows and its current copy may not have: carriage returns, trailing
    /// blanks, comments inside a vendor, subsystems, a class block, other blocks, a vendor after them.
    @Test func aFileOfEveryKindOfLineReadsAsLibpciReadsIt() throws {
        let host = TemporaryHost()
        let path = host.root.prefix + "/test.ids"
        let text = "# comment\r\n1af4  Red Hat, Inc.\r\n\t1000  Virtio network device \r\n"
            + "\t\t1af4 0001  Virtio network\n# a comment in the block\n\n\t1001  Virtio block device\t\n"
            + "1d0f  Amazon.com, Inc.\n\tec20  Elastic Network Adapter (ENA)\n"
            + "C 02  Network controller\n\t00  Ethernet controller\n\t\t00  none\n"
            + "X 01  a block libpci does not know\n\t1234  not a device\n"
            + "abcd  After The Classes\n\tEF01  Upper-case Device\n"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        let list = try #require(PCIIDList(path: path))
        let library = try PCILibrary(root: host.root, idsPath: path)
        for (vendor, device): (UInt16, UInt16) in [(0x1af4, 0x1000), (0x1af4, 0x1001), (0x1af4, 0x0001),
                                                  (0x1d0f, 0xec20), (0x1d0f, 0x1000), (0x0002, 0x0000),
                                                  (0x1234, 0x1234), (0xabcd, 0xef01), (0x00c0, 0x0000)] {
            let libpci = library.libpciNames(vendor: vendor, device: device, fromHWDB: false)
            #expect(list.vendorName(vendor) == libpci.vendor && list.deviceName(vendor: vendor, device: device)
                        == libpci.device, "\(String(vendor, radix: 16)):\(String(device, radix: 16))")
        }
        #expect(library.names(vendor: 0x1af4, device: 0x1001).device == "Virtio block device")
        #expect(library.names(vendor: 0xabcd, device: 0xef01) == ("After The Classes", "Upper-case Device"))
    }

    /// A pci.ids kept compressed is libpci's to read: names still come. (gzip is one of Debian's
    /// essential packages.)
    @Test func aCompressedIdsFileIsLeftToLibpci() throws {
        let host = TemporaryHost()
        let path = host.root.prefix + "/pci.ids.gz"
        let gzip = Process()
        gzip.executableURL = URL(fileURLWithPath: "/usr/bin/gzip")
        gzip.arguments = ["-c", "/usr/share/misc/pci.ids"]
        FileManager.default.createFile(atPath: path, contents: nil)
        gzip.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        try gzip.run()
        gzip.waitUntilExit()
        try #require(gzip.terminationStatus == 0)
        #expect(PCIIDList(path: path) == nil)
        let names = try PCILibrary(root: host.root, idsPath: path).names(vendor: 0x8086, device: 0x1521)
        #expect(names.vendor == "Intel Corporation" && names.device == "I350 Gigabit Network Connection")
    }

    @Test func readsTheSRIOVCapabilityAndFollowsNumVFs() throws {
        let host = TemporaryHost()
        let library = try PCILibrary(root: host.root)
        let eno49 = try PCIAddress(parsing: "04:00.0")
        let cap = try #require(try library.sriovCapability(of: eno49))
        #expect(cap.totalVFs == 7 && cap.numVFs == 7 && cap.firstVFOffset == 0x80 && cap.vfStride == 4)
        #expect(cap.vfDeviceID == 0x1520 && cap.vfEnabled && cap.ariCapableHierarchy)
        let eno52 = try PCIAddress(parsing: "04:00.3")
        #expect(try library.sriovCapability(of: eno52)?.vfEnabled == false)
        try host.root.writeAttribute("sys/bus/pci/devices/0000:04:00.3/sriov_numvfs", "2")
        let after = try #require(try PCILibrary(root: host.root).sriovCapability(of: eno52))
        #expect(after.numVFs == 2 && after.vfEnabled)
        #expect(try library.sriovCapability(of: PCIAddress(parsing: "03:00.0")) == nil, "the tg3 ports have none")
    }

    @Test func readsACSOnRootPorts() throws {
        let host = TemporaryHost()
        let library = try PCILibrary(root: host.root)
        let acs = try #require(try library.accessControlServices(of: PCIAddress(parsing: "00:03.0")))
        #expect(acs.isolates)
        #expect(acs.enabledControls == ["SrcValid", "ReqRedir", "CmpltRedir", "UpstreamFwd"])
        #expect(try library.accessControlServices(of: PCIAddress(parsing: "00:02.0")) == nil)
    }

    @Test func aMissingDeviceIsAnErrorNotAnExit() throws {
        let host = TemporaryHost()
        let library = try PCILibrary(root: host.root)
        #expect(throws: PCILibraryError.self) { try library.capabilityOffset(.sriov, of: PCIAddress(parsing: "7f:00.0")) }
    }
}
