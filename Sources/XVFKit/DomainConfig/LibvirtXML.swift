import SRIOV
import XenPCI

/// The same devices for hosts that libvirt's libxl driver runs (virt-manager, `virsh`): `<hostdev>`
/// elements for a domain's `<devices>`, and a `<network>` whose pool is a PF's VFs. Only what libvirt's
/// schema can say is written; a spec option it has no place for is refused, not dropped.
public enum LibvirtXML {
    /// One `<hostdev mode='subsystem' type='pci' managed='yes'>` per spec. `managed` has libvirt make the
    /// device assignable (pciback) before the guest starts and give it back after, as `xvf assign` does;
    /// permissive is libvirt's `writeFiltering='no'`; a guest slot is the guest-side `<address>`.
    public static func hostdevs(_ specs: [PCISpec]) throws(XVFError) -> String {
        var lines: [String] = []
        for spec in specs {
            guard let address = spec.address, !spec.allFunctions else {
                throw XVFError(.notOneDevice(spec.canonical))
            }
            let unsupported = [("msitranslate", spec.msitranslate != nil), ("seize", spec.seize != nil),
                               ("power_mgmt", spec.powerManagement != nil), ("rdm_policy", spec.rdmPolicy != nil),
                               ("name", spec.name != nil)].filter(\.1).map(\.0)
            if let key = unsupported.first {
                throw XVFError(.libvirtLacks(spec.canonical, key: key))
            }
            lines.append("<hostdev mode='subsystem' type='pci' managed='yes'>")
            lines.append("  <driver name='xen'/>")
            lines.append("  <source" + (spec.permissive == true ? " writeFiltering='no'" : "") + ">")
            lines.append("    " + addressElement(address))
            lines.append("  </source>")
            if let slot = spec.vslot {
                lines.append("  <address type='pci' domain='0x0000' bus='0x00' slot='0x\(hex(slot, width: 2))' function='0x0'/>")
            }
            lines.append("</hostdev>")
        }
        return lines.joined(separator: "\n")
    }

    /// A libvirt network whose guests each get a free VF of `pf` (`<interface type='network'>` naming it).
    /// The PF is named by its interface, as libvirt's schema has it.
    public static func pool(_ pf: PCIDevice, label: String) throws(XVFError) -> String {
        guard let interface = pf.interfaceName else {
            throw XVFError(.noInterface(label: label))
        }
        // The name is the host's (Linux allows quotes, `&` and `<` in it): escaped for XML, and one XML
        // cannot carry at all (control characters) is refused.
        guard !interface.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f }) else {
            throw XVFError(.interfaceNameNotXML(label: label, name: interface))
        }
        let name = xmlEscaped(interface)
        return """
            <network>
              <name>\(name)-vfs</name>
              <forward mode='hostdev' managed='yes'>
                <pf dev='\(name)'/>
              </forward>
            </network>
            """
    }

    /// Text for an XML attribute or element: the five characters XML reserves, as entities.
    static func xmlEscaped(_ text: String) -> String {
        var out = ""
        for character in text {
            switch character {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "'": out += "&apos;"
            case "\"": out += "&quot;"
            default: out.append(character)
            }
        }
        return out
    }

    static func addressElement(_ address: PCIAddress) -> String {
        "<address domain='0x\(hex(address.domain, width: 4))' bus='0x\(hex(address.bus, width: 2))' slot='0x\(hex(address.device, width: 2))' "
            + "function='0x\(address.function)'/>"
    }
}
