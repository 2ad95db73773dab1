import SRIOV
import XenPCI

/// PCI specs as users write them for a domain: an xl spec (`04:10.0,permissive=1`), a device name xvf
/// resolves on the host in place of the address (`eno49/2,permissive=1`), or a name the host config gives
/// (a lease, `web1-nic`), which stays a name (`name=web1-nic`): libxl finds the VF bound to it when the
/// domain is created or restored, so the config never names a VF that a reboot may hand to another lease.
public enum PCISpecs {
    public static func parse(_ texts: [String], host: Host) throws(XVFError) -> [PCISpec] {
        var specs: [PCISpec] = []
        var configNames: Set<String>?
        for text in texts {
            let comma = text.firstIndex(of: ",") ?? text.endIndex
            let head = String(text[..<comma])
            if Leases.nameProblem(head) == nil, try host.inventory().device(withInterface: head) == nil {
                if configNames == nil { configNames = (try? Self.configNames(host)) ?? [] }
                if configNames?.contains(head) == true {
                    do { specs.append(try PCISpec(parsing: "name=" + head + text[comma...])) } catch { throw XVFError(error) }
                    continue
                }
                throw XVFError(.unknownName(head))
            }
            // An interface or VF name stands for addresses; everything else is an xl spec as it is.
            let name = try? DeviceName(parsing: head)
            let named: Bool
            switch name {
            case .interface?, .virtualFunctions?: named = !head.contains("=")
            default: named = false
            }
            guard named else {
                do { specs.append(try PCISpec(parsing: text)) } catch { throw XVFError(error) }
                continue
            }
            for device in try host.resolve(head) {
                let spec = device.address.description + text[comma...]
                do { specs.append(try PCISpec(parsing: spec)) } catch { throw XVFError(error) }
            }
        }
        return specs
    }

    /// The names the host config gives (leases, named VFs); empty without a host config.
    static func configNames(_ host: Host) throws(XVFError) -> Set<String> {
        let config = try HostConfig.load(path: nil, root: host.root, inventory: try host.inventory(), library: host.library)
        return config?.names ?? []
    }

    /// `pci = [ '…', … ]` for a domain config, in canonical form.
    public static func line(_ specs: [PCISpec]) -> String {
        "pci = [ " + specs.map { "'\($0.canonical)'" }.joined(separator: ", ") + " ]"
    }
}
