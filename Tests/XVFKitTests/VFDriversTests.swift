import Foundation
import SRIOV
import SimHost
import Testing
import TestSupport
@testable import XVFKit

/// The driver a PF's VFs get at boot decides what `xvf bootline` keeps off them; a wrong one blacklists a
/// driver dom0 needs, or leaves the one that takes the VFs first.
@Suite struct VFDriversTests {
    /// A kernel without `sriov_vf_device`: a PF with no VFs yet gets the driver of its own kind's VFs (the
    /// same PF device id), not of another family's from the same vendor.
    @Test func withoutTheVFDeviceIdAPFsKindIsItsOwnDeviceId() throws {
        let path = temporaryDirectory("vfdrivers")
        let root = SimulatedHost.build(.dl360(), at: path)
        for pf in ["0000:04:00.0", "0000:04:00.1", "0000:04:00.2", "0000:04:00.3", "0000:05:00.0", "0000:05:00.1"] {
            try FileManager.default.removeItem(atPath: path + "/sys/bus/pci/devices/\(pf)/sriov_vf_device")
        }
        let inventory = try HostInventory.discover(root)
        let drivers = VFDrivers(inventory)
        // ens1f1 (82599, no VFs) is ens1f0's kind, whose VFs are on ixgbevf; the I350s' are on igbvf.
        #expect(drivers.vfDriver(of: try PCIAddress(parsing: "05:00.1")) == "ixgbevf")
        // eno52 (I350, SR-IOV not enabled) is eno49's kind.
        #expect(drivers.vfDriver(of: try PCIAddress(parsing: "04:00.3")) == "igbvf")
    }
}
