import FoundationEssentials
import SRIOV

/// The VF link settings the PF drivers hold now, as `ip -json link show` reports them (its
/// `vfinfo_list`). They live in the NIC, behind netlink, with no file in sysfs; iproute2 is the tool
/// every dom0 has for them, so xvf asks it once for all interfaces rather than once per PF or VF.
public enum IPLinkReport {
    /// Interface → VF index → settings; nil when they cannot be read (no `ip`, a host tree whose `ip`
    /// would describe this machine instead, output xvf does not understand): then every setting is applied.
    static func read(root: HostRoot) -> [String: [Int: VFLinkSettings]]? {
        let argv = ["ip", "-json", "link", "show"]
        guard (try? ProgramGuard.check([.run(argv)], root: root)) != nil else { return nil }
        let result = ExternalProgram.run(argv, for: root)
        guard result.status == 0 else { return nil }
        return parse(result.output)
    }

    /// Reads `ip -json link show` output (iproute2's print_vfinfo: `vf`, `address`, `vlan_list` or
    /// `vlan`/`qos`, `spoofchk`, `trust`, `link_state`). iproute2 before 5.3 named the VF's MAC `mac`.
    public static func parse(_ json: String) -> [String: [Int: VFLinkSettings]]? {
        guard let links = try? JSONDecoder().decode([Link].self, from: Data(json.utf8)) else { return nil }
        var result: [String: [Int: VFLinkSettings]] = [:]
        for link in links {
            guard let name = link.ifname, let vfs = link.vfinfo_list else { continue }
            var byIndex: [Int: VFLinkSettings] = [:]
            for vf in vfs {
                guard let index = vf.vf else { continue }
                let tag = vf.vlan_list?.first
                byIndex[index] = VFLinkSettings(
                    mac: (vf.address ?? vf.mac)?.lowercased(), vlan: tag?.vlan ?? vf.vlan ?? 0, qos: tag?.qos ?? vf.qos ?? 0,
                    spoofCheck: vf.spoofchk, trust: vf.trust,
                    linkState: vf.link_state.flatMap(VFLinkSettings.LinkState.init(rawValue:)))
            }
            result[name] = byIndex
        }
        return result
    }

    private struct Link: Decodable {
        var ifname: String?
        var vfinfo_list: [VF]?
    }

    private struct VF: Decodable {
        var vf: Int?
        var address: String?
        var mac: String?
        var vlan_list: [Tag]?
        var vlan: Int?
        var qos: Int?
        var spoofchk: Bool?
        var trust: Bool?
        var link_state: String?
    }

    private struct Tag: Decodable {
        var vlan: Int?
        var qos: Int?
    }
}
