import SRIOV
import XenPCI

/// PCI specs as users write them for a domain: an xl spec (`04:10.0,permissive=1`), or a device name xvf
/// resolves on the host in place of the address (`eno49/2,permissive=1`).
public enum PCISpecs {
    public static func parse(_ texts: [String], host: Host) throws(XVFError) -> [PCISpec] {
        var specs: [PCISpec] = []
        for text in texts {
            let comma = text.firstIndex(of: ",") ?? text.endIndex
            let head = String(text[..<comma])
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

    /// `pci = [ '…', … ]` for a domain config, in canonical form.
    public static func line(_ specs: [PCISpec]) -> String {
        "pci = [ " + specs.map { "'\($0.canonical)'" }.joined(separator: ", ") + " ]"
    }
}
