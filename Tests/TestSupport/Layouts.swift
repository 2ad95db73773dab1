import Foundation
import SRIOV
import SimHost

/// Hosts that differ from the demo in the ways real ones do: a second PCI domain, a PF without a driver,
/// VFs that land on the next bus, a PF with no VFs yet.
public enum TestLayouts {
    public static func unusual() -> SimLayout {
        let port0 = PCIAddress(bus: 0, device: 2, function: 0)
        let port1 = PCIAddress(domain: 1, bus: 0, device: 1, function: 0)
        return SimLayout(
            functions: [
                // ConnectX-5 on domain 1, VFs bound to mlx5_core.
                SimFunction(address: PCIAddress(domain: 1, bus: 0x3b, device: 0, function: 0), port: port1,
                            vendor: 0x15b3, device: 0x1017, driver: "mlx5_core", interface: "enP1p59s0f0",
                            mac: "b8:59:9f:aa:00:01", numaNode: 1,
                            sriov: SimSRIOV(totalVFs: 8, offset: 2, stride: 1, vfDevice: 0x1018,
                                            vfDriver: "mlx5_core", numVFs: 3)),
                // An X710 whose driver is not loaded: no interface, no VFs possible yet.
                SimFunction(address: PCIAddress(bus: 0x81, device: 0, function: 0), port: port0, vendor: 0x8086,
                            device: 0x1572, driver: nil,
                            sriov: SimSRIOV(totalVFs: 64, offset: 0x80, stride: 4, vfDevice: 0x154c,
                                            vfDriver: "iavf")),
                // An 82599 port with no VFs, whose VFs 32… land on bus 0x82.
                SimFunction(address: PCIAddress(bus: 0x81, device: 0, function: 1), port: port0, vendor: 0x8086,
                            device: 0x10fb, driver: "ixgbe", interface: "ens2f1", mac: "90:e2:ba:00:00:02",
                            sriov: SimSRIOV(totalVFs: 63, offset: 0x7f, stride: 4, vfDevice: 0x10ed,
                                            vfDriver: "ixgbevf")),
            ],
            drivers: [
                SimDriver(name: "mlx5_core", ids: ["15b3:1017", "15b3:1018"]),
                SimDriver(name: "ixgbe", ids: ["8086:10fb"]),
                SimDriver(name: "ixgbevf", ids: ["8086:10ed"]),
                .pciback,
            ],
            portsWithACS: [port1])
    }
}

/// A simulated host in a fresh temporary directory (inside `testScratch`, removed when the tests end).
public final class TemporaryHost {
    public let path: String
    public let root: HostRoot

    public init(_ layout: SimLayout = .dl360()) {
        path = temporaryDirectory("test") + "/root"
        root = SimulatedHost.build(layout, at: path)
    }

    public func inventory() throws -> HostInventory { try HostInventory.discover(root) }
}
