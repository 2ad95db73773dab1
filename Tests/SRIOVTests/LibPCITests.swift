import LibPCI
import SRIOV
import Testing

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
