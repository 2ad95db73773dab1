import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport

@Suite struct DiscoveryTests {
    @Test func readsEveryPFFieldOfTheDemoHost() throws {
        let host = TemporaryHost()
        let inventory = try host.inventory()
        let pfs = inventory.physicalFunctions
        #expect(pfs.map(\.address.description) == ["0000:04:00.0", "0000:04:00.1", "0000:04:00.2", "0000:04:00.3",
                                                   "0000:05:00.0", "0000:05:00.1"])
        let eno49 = try #require(inventory.device(withInterface: "eno49"))
        #expect(eno49.address.description == "0000:04:00.0")
        #expect(eno49.vendorID == 0x8086 && eno49.deviceID == 0x1521)
        #expect(eno49.classCode == 0x020000)
        #expect(eno49.driver == "igb")
        #expect(eno49.mac == "a0:36:9f:12:34:50")
        #expect(eno49.numaNode == 0)
        #expect(eno49.iommuGroup != nil)
        let sriov = try #require(eno49.sriov)
        #expect(sriov.totalVFs == 7 && sriov.numVFs == 7)
        #expect(sriov.offset == 0x80 && sriov.stride == 4)
        #expect(sriov.vfDeviceID == 0x1520)
        #expect(sriov.driversAutoprobe == true)
        #expect(inventory.device(withInterface: "eno50")?.sriov?.driversAutoprobe == false)
        // The BCM5719 ports are NICs without SR-IOV: devices, not PFs.
        let eno1 = try #require(inventory.device(withInterface: "eno1"))
        #expect(eno1.sriov == nil && eno1.driver == "tg3")
    }

    @Test func vfsFollowOffsetAndStrideWithTheirHolders() throws {
        let inventory = try TemporaryHost().inventory()
        let eno49 = try #require(inventory.device(withInterface: "eno49"))
        let vfs = inventory.virtualFunctions(of: eno49)
        #expect(vfs.map(\.address.shortDescription) == ["04:10.0", "04:10.4", "04:11.0", "04:11.4", "04:12.0",
                                                        "04:12.4", "04:13.0"])
        #expect(vfs.map(\.vfIndex) == Array(0..<7))
        #expect(vfs.allSatisfy { $0.physicalFunction == eno49.address })
        #expect(vfs[0].holder == .pciback && vfs[0].interfaces.isEmpty)
        #expect(vfs[2].holder == .dom0(driver: "igbvf"))
        #expect(vfs[2].interfaceName == "eno49v2" && vfs[2].mac != nil)
        #expect(Set(vfs.compactMap(\.iommuGroup)).count == 7, "every VF has an IOMMU group of its own")
        // eno50 was populated with autoprobe off: its VFs are unbound, but the one handed to pciback.
        let eno50 = try #require(inventory.device(withInterface: "eno50"))
        let holders = inventory.virtualFunctions(of: eno50).map(\.holder)
        #expect(holders == [.none, .none, .pciback, .none, .none, .none, .none])
    }

    @Test func readsASecondPCIDomainAPFWithoutDriverAndFutureVFsOnTheNextBus() throws {
        let inventory = try TemporaryHost(TestLayouts.unusual()).inventory()
        let mlx = try #require(inventory.device(withInterface: "enP1p59s0f0"))
        #expect(mlx.address.description == "0001:3b:00.0")
        #expect(inventory.virtualFunctions(of: mlx).map(\.address.description)
                == ["0001:3b:00.2", "0001:3b:00.3", "0001:3b:00.4"])
        #expect(inventory.virtualFunctions(of: mlx).allSatisfy { $0.holder == .dom0(driver: "mlx5_core") })
        #expect(mlx.numaNode == 1)

        let driverless = try #require(inventory[PCIAddress(parsing: "81:00.0")])
        #expect(driverless.driver == nil && driverless.interfaces.isEmpty)
        #expect(driverless.sriov?.numVFs == 0 && driverless.sriov?.totalVFs == 64)

        let ens2f1 = try #require(inventory.device(withInterface: "ens2f1"))
        let sriov = try #require(ens2f1.sriov)
        #expect(sriov.numVFs == 0)
        // 0x8101 + 0x7f + i*4: VF 0 at 81:10.0, VF 31 at 81:2f.4 → still bus 0x81; VF 32 at 82:00.0.
        #expect(sriov.address(ofVF: 0, pf: ens2f1.address)?.description == "0000:81:10.0")
        #expect(sriov.address(ofVF: 31, pf: ens2f1.address)?.description == "0000:81:1f.4")
        #expect(sriov.address(ofVF: 32, pf: ens2f1.address)?.description == "0000:82:00.0")
        #expect(sriov.address(ofVF: 62, pf: ens2f1.address)?.description == "0000:82:0f.0")
        #expect(sriov.address(ofVF: 63, pf: ens2f1.address) == nil, "beyond sriov_totalvfs")
    }

    // Discovery knows a PF's VFs from its count, offset and stride (or, failing those, its `virtfnN` links),
    // and reads a VF's `physfn` link only for a VF no PF claims: a VF missing either link (sysfs that lacks
    // a file) is still its PF's, with what can be read.
    @Test(arguments: [false, true])
    func aVFMissingOneOfItsLinksToItsPFIsStillItsVF(withoutOffset: Bool) throws {
        let host = TemporaryHost()
        let devices = host.path + "/sys/bus/pci/devices/"
        try FileManager.default.removeItem(atPath: devices + "0000:04:11.0/physfn")  // eno49/2
        try FileManager.default.removeItem(atPath: devices + "0000:04:00.0/virtfn3")  // eno49/3 at 04:11.4
        if withoutOffset { try FileManager.default.removeItem(atPath: devices + "0000:04:00.0/sriov_offset") }
        let inventory = try host.inventory()
        let eno49 = try #require(inventory.device(withInterface: "eno49"))

        let vf2 = try #require(inventory[PCIAddress(parsing: "04:11.0")])
        #expect(vf2.physicalFunction == eno49.address && vf2.vfIndex == 2)
        #expect(vf2.vendorID == 0x8086 && vf2.deviceID == 0x1520, "a VF's ids are its PF's vendor and sriov_vf_device")

        let vf3 = try #require(inventory[PCIAddress(parsing: "04:11.4")])
        #expect(vf3.physicalFunction == eno49.address)
        if withoutOffset {
            #expect(vf3.vfIndex == nil, "neither its link nor the offset names its index: unknown, not 0")
            #expect(inventory.virtualFunctions(of: eno49).map(\.vfIndex) == [0, 1, 2, 4, 5, 6])
        } else {
            #expect(vf3.vfIndex == 3, "0x0400 + 0x80 + 3 × 4 is 04:11.4")
            #expect(inventory.virtualFunctions(of: eno49).map(\.vfIndex) == Array(0..<7))
        }
    }

    // A VF removed by hand (`echo 1 > …/remove`) leaves a gap where the offset and stride put it: the other
    // VFs keep the indexes their links give, and the gap is no device.
    @Test func aVFRemovedFromTheBusLeavesAGap() throws {
        let host = TemporaryHost()
        try FileManager.default.removeItem(atPath: host.path + "/sys/bus/pci/devices/0000:04:10.4")  // eno49/1
        let inventory = try host.inventory()
        let eno49 = try #require(inventory.device(withInterface: "eno49"))
        #expect(inventory.virtualFunctions(of: eno49).map(\.address.shortDescription)
                == ["04:10.0", "04:11.0", "04:11.4", "04:12.0", "04:12.4", "04:13.0"])
        #expect(inventory.virtualFunctions(of: eno49).map(\.vfIndex) == [0, 2, 3, 4, 5, 6])
        #expect(eno49.sriov?.numVFs == 7)
    }

    // An interface's owner is read off its sys/class/net link when the link ends in `<function>/net/<name>`;
    // an entry of another shape (a plain directory, as a hand-made tree has) is asked for its `device` link,
    // and an interface on no PCI function (USB, virtual) belongs to none.
    @Test func anInterfaceIsOwnedByTheFunctionItsClassEntryLeadsTo() throws {
        let host = TemporaryHost()
        let net = host.path + "/sys/class/net/"
        let files = FileManager.default
        try files.removeItem(atPath: net + "eno50")
        try files.createDirectory(atPath: net + "eno50", withIntermediateDirectories: false)
        try files.createSymbolicLink(atPath: net + "eno50/device", withDestinationPath: "../../../devices/pci0000:00/0000:00:03.0/0000:04:00.1")
        // Nor does the function list it itself: the class entry's `device` link is all that tells.
        try files.removeItem(atPath: host.path + "/sys/bus/pci/devices/0000:04:00.1/net/eno50")
        try files.createSymbolicLink(atPath: net + "usb0",
                                     withDestinationPath: "../../devices/pci0000:00/0000:00:14.0/usb1/1-1/1-1:1.0/net/usb0")
        try files.createSymbolicLink(atPath: net + "br0", withDestinationPath: "../../devices/virtual/net/br0")
        let inventory = try host.inventory()
        #expect(inventory.device(withInterface: "eno50")?.address.description == "0000:04:00.1")
        #expect(inventory.device(withInterface: "eno49")?.address.description == "0000:04:00.0")
        #expect(inventory.device(withInterface: "usb0") == nil && inventory.device(withInterface: "br0") == nil)
    }

    // devlink's port names (and ice's older `pfNvfrM`): which netdevs are representors, and of which VF.
    @Test func aRepresentorIsKnownByItsPortName() {
        let ports: [(String, Bool, Int?)] = [
            ("pf0vf3", true, 3), ("pf1vf12", true, 12), ("pf0vfr2", true, 2), ("c1pf0vf3", true, nil),
            ("pf0sf88", true, nil), ("pf0", true, nil), ("c2pf1", true, nil),
            ("p0", false, nil), ("p1s0", false, nil), ("pf0vf", false, nil), ("pfvf1", false, nil), ("pf0vf3x", false, nil),
            ("", false, nil),
        ]
        for (port, isRepresentor, index) in ports {
            let representor = Representor(name: "r", port: port)
            #expect((representor != nil) == isRepresentor, "\(port)")
            #expect(representor?.vfIndex == index, "\(port)")
            #expect(representor?.pfNumber == (index == nil ? nil : port == "pf1vf12" ? 1 : 0), "\(port)")
        }
    }

    @Test func resolvesNamesToExistingAndFutureVFs() throws {
        let inventory = try TemporaryHost(TestLayouts.unusual()).inventory()
        let named = try inventory.resolve(DeviceName(parsing: "ens2f1/31-33"), future: true)
        #expect(named.map(\.address.description) == ["0000:81:1f.4", "0000:82:00.0", "0000:82:00.4"])
        #expect(named.allSatisfy { $0.device == nil && $0.vfIndex != nil })
        #expect { try inventory.resolve(DeviceName(parsing: "ens2f1/0")) } throws: { ($0 as? InputError)?.kind == .deviceName }
        #expect { try inventory.resolve(DeviceName(parsing: "ens2f1/63"), future: true) } throws: {
            ($0 as? InputError)?.kind == .deviceName
        }
        let existing = try inventory.resolve(DeviceName(parsing: "enP1p59s0f0/*"))
        #expect(existing.count == 3 && existing.allSatisfy { $0.device != nil })
    }

    @Test func unknownNamesSayWhatToDo() throws {
        let inventory = try TemporaryHost().inventory()
        #expect {
            try inventory.resolve(DeviceName(parsing: "eno1/0"))
        } throws: { error in
            "\(error)".contains("not SR-IOV capable")
        }
        #expect {
            try inventory.resolve(DeviceName(parsing: "eno52/0"))
        } throws: { error in
            "\(error)".contains("has no VFs yet; create them with `xvf vfs eno52 N`")
        }
        #expect {
            try inventory.resolve(DeviceName(parsing: "eth9"))
        } throws: { error in
            "\(error)".contains("is not a network interface")
        }
    }

    @Test func aRootWithoutAPCIBusIsAnError() {
        let empty = HostRoot(NSTemporaryDirectory())
        #expect(throws: DiscoveryError.self) { try HostInventory.discover(empty) }
    }
}
