import SRIOV

/// What a simulated host holds: PCI functions behind root ports, the drivers dom0 has, and the bits of
/// /proc that xvf's safety checks read (the root filesystem's disk, the default route, Xen).
public struct SimLayout: Sendable {
    public var functions: [SimFunction]
    public var drivers: [SimDriver]
    /// Root ports whose ACS controls are on.
    public var portsWithACS: Set<PCIAddress>
    /// The interface of the default route (`proc/net/route`).
    public var defaultRouteInterface: String?
    /// The PCI function of the disk that holds `/` (a block device `sda` behind it in sysfs).
    public var rootDiskController: PCIAddress?
    /// How `/` sits on that disk, as `proc/mounts` and `proc/self/mountinfo` tell it.
    public var rootFilesystem: SimRootFilesystem = .partition
    /// Whether the host is a Xen dom0 (`proc/xen/capabilities` says `control_d`).
    public var xenDom0: Bool
    /// The guests running on the dom0 (for the simulated toolstack).
    public var domains: [SimDomain] = []
    /// Whether Xen has an IOMMU: without one, quarantining a device for passthrough fails.
    public var xenIOMMU = true
    /// The paging modes Xen offers HVM guests (`cap_hap`, `cap_shadow`): Debian's 4.20 has no shadow.
    public var xenHAP = true
    public var xenShadow = true
    /// Whether the running kernel's `modules.alias` is there (it is on every Debian kernel; tests take it
    /// away to see what xvf does when a driver's reach cannot be known).
    public var moduleAliases = true
    /// Modules the kernel has (in `modules.alias`) but dom0 has not loaded: a PF's driver that is not bound.
    public var unloadedModules: [SimDriver] = []
    /// Whether dom0 runs as a PVH guest (`sys/hypervisor/guest_type` says PVH) rather than PV.
    public var pvhDom0 = false
    /// Which toolstack owns the domains.
    public var toolstack: SimToolstackOwner = .xl
    /// The installed libxl as dpkg's status records it (package `libxenmisc<release>`, this version);
    /// nil leaves dpkg's status without it, as on a distribution with another package database. The
    /// default is the lab's Debian 12 build, which has the fix for XSA-476.
    public var libxl: String? = "4.17.7+13-g2445b30a44-0+deb12u1"

    public init(functions: [SimFunction], drivers: [SimDriver], portsWithACS: Set<PCIAddress> = [],
                defaultRouteInterface: String? = nil, rootDiskController: PCIAddress? = nil, xenDom0: Bool = false) {
        self.functions = functions
        self.drivers = drivers
        self.portsWithACS = portsWithACS
        self.defaultRouteInterface = defaultRouteInterface
        self.rootDiskController = rootDiskController
        self.xenDom0 = xenDom0
    }
}

/// The toolstack that owns a simulated dom0's domains.
public enum SimToolstackOwner: String, Sendable, CaseIterable {
    /// xl and libxl alone (Debian, Ubuntu, Fedora …).
    case xl
    /// xapi (XCP-ng, XenServer): `etc/xensource-inventory`.
    case xapi
    /// libvirt's libxl driver (Qubes OS, virsh): its state directory with each domain's status file.
    case libvirt
}

/// One PCI function of a simulated host.
public struct SimFunction: Sendable {
    public var address: PCIAddress
    /// The root port it sits behind.
    public var port: PCIAddress
    public var vendor: UInt16
    public var device: UInt16
    public var classCode: UInt32
    public var driver: String?
    public var interface: String?
    public var mac: String?
    public var numaNode: Int
    public var sriov: SimSRIOV?
    /// The PCIe Device Serial Number; by default an SR-IOV PF with a MAC has one made from it the way
    /// Intel NICs do (the MAC with ff-ff in the middle).
    public var serial: UInt64?

    public init(address: PCIAddress, port: PCIAddress, vendor: UInt16, device: UInt16,
                classCode: UInt32 = 0x020000, driver: String? = nil, interface: String? = nil, mac: String? = nil,
                numaNode: Int = 0, sriov: SimSRIOV? = nil) {
        self.address = address
        self.port = port
        self.vendor = vendor
        self.device = device
        self.classCode = classCode
        self.driver = driver
        self.interface = interface
        self.mac = mac
        self.numaNode = numaNode
        self.sriov = sriov
        if sriov != nil, let mac {
            let bytes = mac.split(separator: ":").compactMap { UInt64($0, radix: 16) }
            if bytes.count == 6 {
                serial = (bytes[0..<3] + [0xff, 0xff] + bytes[3..<6]).reduce(0) { $0 << 8 | $1 }
            }
        }
    }
}

/// A PF's SR-IOV capability and the VFs it starts with.
public struct SimSRIOV: Sendable {
    public var totalVFs: Int
    public var offset: Int
    public var stride: Int
    public var vfDevice: UInt16
    /// The dom0 driver for its VFs (igbvf, ixgbevf, …).
    public var vfDriver: String
    /// VFs created when the host is built, as if `sriov_numvfs` had been written.
    public var numVFs: Int
    public var autoprobe: Bool
    /// VFs moved to another driver after creation (`"pciback"`), or unbound (`nil`).
    public var rebound: [Int: String?]
    /// The firmware left too little MMIO space: enabling VFs fails with ENOMEM.
    public var mmioShortage: Bool
    /// The PF driver takes at most this many VFs in its current mode (ixgbe with DCB or FCoE on): a larger
    /// `sriov_numvfs` answers EINVAL.
    public var driverLimit: Int?
    /// The PF driver enables at most this many VFs and still answers the write with success (bnxt_en
    /// while the PF's interface is down enables none; the kernel only warns "N VFs requested; only M enabled").
    public var silentLimit: Int?

    public init(totalVFs: Int, offset: Int, stride: Int, vfDevice: UInt16, vfDriver: String, numVFs: Int = 0,
                autoprobe: Bool = true, rebound: [Int: String?] = [:], mmioShortage: Bool = false,
                driverLimit: Int? = nil) {
        self.mmioShortage = mmioShortage
        self.driverLimit = driverLimit
        self.totalVFs = totalVFs
        self.offset = offset
        self.stride = stride
        self.vfDevice = vfDevice
        self.vfDriver = vfDriver
        self.numVFs = numVFs
        self.autoprobe = autoprobe
        self.rebound = rebound
    }
}

/// A driver dom0 has loaded: which devices it binds and whether it makes network interfaces.
public struct SimDriver: Sendable {
    public var name: String
    /// `vendor:device` pairs it claims by itself (its id table).
    public var ids: [String]
    public var makesInterfaces: Bool

    public init(name: String, ids: [String], makesInterfaces: Bool = true) {
        self.name = name
        self.ids = ids
        self.makesInterfaces = makesInterfaces
    }

    /// xen-pciback: it binds what was handed to it (new_slot, driver_override, the hide list), nothing by id.
    public static let pciback = SimDriver(name: "pciback", ids: [], makesInterfaces: false)
}

extension SimLayout {
    /// The HPE DL360 Gen9 of the seeds: a Smart Array controller behind `/`, the onboard BCM5719 (4 × tg3,
    /// eno1 carries the management network and the default route), an I350 (4 × igb, 7 VFs each at
    /// offset 0x80 / stride 4: 04:10.0, 04:10.4, 04:11.0 …) and an 82599ES (2 × ixgbe, 63 VFs possible).
    /// The VFs are in the states a working host mixes: on igbvf, handed to pciback, unbound, not yet created.
    public static func dl360(xenDom0: Bool = true) -> SimLayout {
        let port1 = PCIAddress(bus: 0, device: 1, function: 0)
        let port2 = PCIAddress(bus: 0, device: 2, function: 0)
        let port3 = PCIAddress(bus: 0, device: 3, function: 0)
        let port4 = PCIAddress(bus: 0, device: 3, function: 2)
        var functions: [SimFunction] = [
            SimFunction(address: PCIAddress(bus: 2, device: 0, function: 0), port: port1, vendor: 0x103c,
                        device: 0x3239, classCode: 0x010400, driver: "hpsa"),
        ]
        for port in 0..<4 {
            functions.append(SimFunction(
                address: PCIAddress(bus: 3, device: 0, function: UInt8(port)), port: port2, vendor: 0x14e4,
                device: 0x1657, driver: "tg3", interface: "eno\(port + 1)",
                mac: "ec:b1:d7:8a:3c:\(hex(0x40 + port, width: 2))"))
        }
        let i350States: [(numVFs: Int, autoprobe: Bool, rebound: [Int: String?])] = [
            (7, true, [0: "pciback", 1: "pciback"]),   // eno49: two VFs ready for guests, five on igbvf
            (7, false, [2: "pciback"]),               // eno50: created with autoprobe off, one handed over
            (4, true, [:]),                           // eno51: four VFs on igbvf
            (0, true, [:]),                           // eno52: SR-IOV not enabled yet
        ]
        for (port, state) in i350States.enumerated() {
            functions.append(SimFunction(
                address: PCIAddress(bus: 4, device: 0, function: UInt8(port)), port: port3, vendor: 0x8086,
                device: 0x1521, driver: "igb", interface: "eno\(49 + port)",
                mac: "a0:36:9f:12:34:\(hex(0x50 + port, width: 2))", numaNode: 0,
                sriov: SimSRIOV(totalVFs: 7, offset: 0x80, stride: 4, vfDevice: 0x1520, vfDriver: "igbvf",
                                numVFs: state.numVFs, autoprobe: state.autoprobe, rebound: state.rebound)))
        }
        for port in 0..<2 {
            functions.append(SimFunction(
                address: PCIAddress(bus: 5, device: 0, function: UInt8(port)), port: port4, vendor: 0x8086,
                device: 0x10fb, driver: "ixgbe", interface: "ens1f\(port)",
                mac: "90:e2:ba:aa:bb:\(hex(0x10 + port, width: 2))", numaNode: 0,
                sriov: SimSRIOV(totalVFs: 63, offset: 0x80, stride: 2, vfDevice: 0x10ed, vfDriver: "ixgbevf",
                                numVFs: port == 0 ? 4 : 0)))
        }
        var layout = SimLayout(
            functions: functions,
            drivers: [
                SimDriver(name: "hpsa", ids: ["103c:3239"], makesInterfaces: false),
                SimDriver(name: "tg3", ids: ["14e4:1657"]),
                SimDriver(name: "igb", ids: ["8086:1521"]),
                SimDriver(name: "igbvf", ids: ["8086:1520"]),
                SimDriver(name: "ixgbe", ids: ["8086:10fb"]),
                SimDriver(name: "ixgbevf", ids: ["8086:10ed"]),
                SimDriver(name: "pcieport", ids: [], makesInterfaces: false),
                .pciback,
            ],
            portsWithACS: [port3, port4],
            defaultRouteInterface: "eno1",
            rootDiskController: PCIAddress(bus: 2, device: 0, function: 0),
            xenDom0: xenDom0)
        // Two guests ready for VFs and one PV guest created without passthrough (it refuses hot-attach).
        layout.domains = xenDom0 ? [SimDomain(id: 1, name: "web1"), SimDomain(id: 2, name: "db1", kind: .hvm),
                                    SimDomain(id: 3, name: "legacy", passthrough: false)] : []
        return layout
    }

    /// A large host for benchmarks: `pfs` ConnectX-5 ports (one per bus, from bus 0x10) with `vfsPerPF`
    /// VFs each at offset 1 / stride 1, all bound to mlx5_core with interfaces.
    public static func large(pfs: Int, vfsPerPF: Int) -> SimLayout {
        precondition(pfs <= 200 && vfsPerPF <= 255)
        var functions: [SimFunction] = []
        for i in 0..<pfs {
            let bus = UInt8(0x10 + i)
            let port = PCIAddress(bus: 0, device: UInt8(1 + i / 8), function: UInt8(i % 8))
            functions.append(SimFunction(
                address: PCIAddress(bus: bus, device: 0, function: 0), port: port, vendor: 0x15b3, device: 0x1017,
                driver: "mlx5_core", interface: "ens\(i)f0", mac: "b8:59:9f:00:\(hex(i, width: 2)):00", numaNode: i % 2,
                sriov: SimSRIOV(totalVFs: max(vfsPerPF, 1), offset: 1, stride: 1, vfDevice: 0x1018,
                                vfDriver: "mlx5_core", numVFs: vfsPerPF)))
        }
        return SimLayout(
            functions: functions,
            drivers: [SimDriver(name: "mlx5_core", ids: ["15b3:1017", "15b3:1018"]), .pciback,
                      SimDriver(name: "pcieport", ids: [], makesInterfaces: false)],
            defaultRouteInterface: nil, xenDom0: true)
    }
}

extension SimLayout {
    /// A host with today's SR-IOV NIC families side by side, where the VF driver is not the seeds' kind
    /// (ids, totals, offsets and strides as `lspci -vvv` dumps of real cards show their SR-IOV capability):
    /// - a dual-port ConnectX-5 (mlx5_core drives the PFs *and* their VFs; 8 VFs each at offset 2 on port
    ///   0 and 9 on port 1, stride 1), 2 VFs enabled on port 0;
    /// - an E810-XXV (ice; VFs on iavf, 0x1889; 64 VFs at offset 8, stride 1), 4 VFs on iavf;
    /// - a dual-port X710 (i40e; VFs on iavf too, 0x154c; 64 VFs at offset 16, port 1 after port 0's), 4
    ///   VFs on port 0, two of them on pciback and two kept by dom0 on iavf; port 1 carries the default route;
    /// - a BCM57414 (bnxt_en for PF and VFs, 0x16dc), 2 VFs; no dump of its capability was found, so its
    ///   64 VFs at offset 8 are an assumption, not a measurement.
    /// `mlx5Unbound` leaves the ConnectX-5 without its driver (mlx5_core not loaded, only in
    /// `modules.alias`), as on the host where xvf once blacklisted mlx5_core for its VFs.
    public static func families(mlx5Unbound: Bool = false) -> SimLayout {
        let diskPort = PCIAddress(bus: 0, device: 0x1c, function: 0)
        let mlxPort = PCIAddress(bus: 0, device: 1, function: 0)
        let icePort = PCIAddress(bus: 0, device: 2, function: 0)
        let i40ePort = PCIAddress(bus: 0, device: 3, function: 0)
        let bnxtPort = PCIAddress(bus: 0, device: 3, function: 2)
        var functions = [SimFunction(address: PCIAddress(bus: 1, device: 0, function: 0), port: diskPort,
                                     vendor: 0x8086, device: 0x2822, classCode: 0x010400, driver: "ahci")]
        for port in 0..<2 {
            functions.append(SimFunction(
                address: PCIAddress(bus: 0x3b, device: 0, function: UInt8(port)), port: mlxPort, vendor: 0x15b3,
                device: 0x1017, driver: mlx5Unbound ? nil : "mlx5_core",
                interface: mlx5Unbound ? nil : "ens1f\(port)np\(port)", mac: mlx5Unbound ? nil : "b8:59:9f:3b:00:0\(port)",
                sriov: SimSRIOV(totalVFs: 8, offset: port == 0 ? 2 : 9, stride: 1, vfDevice: 0x1018,
                                vfDriver: "mlx5_core", numVFs: mlx5Unbound || port == 1 ? 0 : 2)))
        }
        functions.append(SimFunction(
            address: PCIAddress(bus: 0x5e, device: 0, function: 0), port: icePort, vendor: 0x8086, device: 0x159b,
            driver: "ice", interface: "ens2f0", mac: "b4:96:91:5e:00:00",
            sriov: SimSRIOV(totalVFs: 64, offset: 8, stride: 1, vfDevice: 0x1889, vfDriver: "iavf", numVFs: 4)))
        for port in 0..<2 {
            functions.append(SimFunction(
                address: PCIAddress(bus: 0xaf, device: 0, function: UInt8(port)), port: i40ePort, vendor: 0x8086,
                device: 0x1572, driver: "i40e", interface: "ens3f\(port)", mac: "3c:fd:fe:af:00:0\(port)",
                sriov: SimSRIOV(totalVFs: 64, offset: port == 0 ? 16 : 79, stride: 1, vfDevice: 0x154c, vfDriver: "iavf",
                                numVFs: port == 0 ? 4 : 0, rebound: port == 0 ? [0: "pciback", 1: "pciback"] : [:])))
        }
        functions.append(SimFunction(
            address: PCIAddress(bus: 0xd8, device: 0, function: 0), port: bnxtPort, vendor: 0x14e4, device: 0x16d7,
            driver: "bnxt_en", interface: "ens4f0np0", mac: "00:0a:f7:d8:00:00",
            sriov: SimSRIOV(totalVFs: 64, offset: 8, stride: 1, vfDevice: 0x16dc, vfDriver: "bnxt_en", numVFs: 2)))
        let mlx5 = SimDriver(name: "mlx5_core", ids: ["15b3:1017", "15b3:1018"])
        var layout = SimLayout(
            functions: functions,
            drivers: [
                SimDriver(name: "ahci", ids: ["8086:2822"], makesInterfaces: false),
                SimDriver(name: "ice", ids: ["8086:159b"]),
                SimDriver(name: "i40e", ids: ["8086:1572"]),
                SimDriver(name: "iavf", ids: ["8086:1889", "8086:154c"]),
                SimDriver(name: "bnxt_en", ids: ["14e4:16d7", "14e4:16dc"]),
                SimDriver(name: "pcieport", ids: [], makesInterfaces: false),
                .pciback,
            ] + (mlx5Unbound ? [] : [mlx5]),
            portsWithACS: [mlxPort, icePort, i40ePort, bnxtPort],
            defaultRouteInterface: "ens3f1",
            rootDiskController: PCIAddress(bus: 1, device: 0, function: 0),
            xenDom0: true)
        if mlx5Unbound { layout.unloadedModules = [mlx5] }
        layout.domains = [SimDomain(id: 1, name: "web1")]
        return layout
    }
}

/// The shapes of `/` that hide its disk from `proc/mounts` in different ways.
public enum SimRootFilesystem: Sendable {
    /// ext4 on /dev/sda1: the device name leads to the disk.
    case partition
    /// ext4 on a partition the kernel mounted itself: `proc/mounts` says /dev/root, which /dev lacks.
    case devRoot
    /// ext4 on LVM (dm-0 over sda2), named /dev/mapper/vg-root with no such link in the tree's /dev.
    case deviceMapper
    /// A ZFS dataset (rpool/ROOT/debian): no block device at all, so the disk cannot be found.
    case zfs
}
