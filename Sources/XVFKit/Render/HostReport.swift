import LibPCI
import SRIOV
import XenPCI

/// What `xvf list` shows: the host's PFs, each with its VFs and who holds them.
public struct HostReport {
    public struct PF {
        public var device: PCIDevice
        public var name: String?
        public var vfs: [VF]
        /// What a host config entry can pin (`serial=`, `ids=`); read for the JSON document only.
        public var identity: HardwareIdentity?
    }

    public struct VF {
        public var device: PCIDevice
        public var holder: Holder
        /// The lease bound to the VF (`Leases`), if any.
        public var lease: String?
    }

    public var pfs: [PF]

    /// Builds the report. `library` supplies pci.ids names (nil leaves them out); `holders` turns the
    /// holder of attached VFs into `domain:<id>`; `identities` reads each PF's serial number and ids;
    /// `leases` names the VFs bound to leases.
    public init(_ inventory: HostInventory, library: PCILibrary?, holders: Holders = [:],
                identities: Bool = false, leases: [Lease] = []) {
        pfs = inventory.physicalFunctions.map { pf in
            let names = library?.names(vendor: pf.vendorID, device: pf.deviceID)
            let vfs = inventory.virtualFunctions(of: pf).map { vf in
                VF(device: vf, holder: Self.holder(of: vf, holders: holders), lease: Leases.holding(vf.address, in: leases)?.name)
            }
            let identity = identities ? HardwareIdentity.read(pf, root: inventory.root, library: library) : nil
            return PF(device: pf, name: names?.device, vfs: vfs, identity: identity)
        }
    }

    static func holder(of device: PCIDevice, holders: Holders) -> Holder {
        if let domain = holders[device.address] { return .domain(id: domain.id, name: domain.name) }
        return device.holder
    }

    // MARK: JSON

    /// The stable `xvf list --json` document (the schema is in the README).
    public var json: JSON {
        .object([("pfs", .array(pfs.map(\.json)))])
    }
}

extension HostReport.PF {
    var json: JSON {
        let sriov = device.sriov!
        return .object([
            ("bdf", .string(device.address.description)),
            ("ifname", .string(device.interfaceName)),
            ("driver", .string(device.driver)),
            ("mac", .string(device.mac)),
            ("vendor", .string(hex(device.vendorID, width: 4))),
            ("device", .string(hex(device.deviceID, width: 4))),
            ("name", .string(name)),
            ("numa_node", .int(device.numaNode)),
        ] + sriov.jsonFields + [
            ("ids", .string(identity?.ids)),
            ("serial", .string(identity?.serial)),
            ("permanent_mac", .string(identity?.permanentMAC)),
            ("vfs", .array(vfs.map(\.json))),
        ])
    }
}

extension SRIOVState {
    /// A PF's SR-IOV state as sysfs gives it, in `list --json` and `show --json` alike (README, "JSON").
    var jsonFields: [(String, JSON)] {
        [
            ("totalvfs", .int(totalVFs)),
            ("numvfs", .int(numVFs)),
            ("vf_offset", .int(offset)),
            ("vf_stride", .int(stride)),
            ("vf_device", .string(vfDeviceID.map { hex($0, width: 4) })),
            ("drivers_autoprobe", driversAutoprobe.map(JSON.bool) ?? .null),
        ]
    }
}

extension HostReport.VF {
    var json: JSON {
        var fields: [(String, JSON)] = [
            ("index", .int(device.vfIndex)),
            ("bdf", .string(device.address.description)),
            ("ifname", .string(device.interfaceName)),
            ("driver", .string(device.driver)),
            ("mac", .string(device.mac)),
            ("iommu_group", .int(device.iommuGroup)),
            ("holder", .string(holder.description)),
        ]
        if case .domain(_, let name) = holder { fields.append(("domain_name", .string(name))) }
        fields.append(("lease", .string(lease)))
        return .object(fields)
    }
}
