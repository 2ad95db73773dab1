import SRIOV

/// A device as xl names it for passthrough: the xl-pci-configuration(5) spec string
/// `[DDDD:]BB:DD.F[@VSLOT][,key=value…]` or `key=value[,key=value…]`, with the keys `bdf`, `vslot`,
/// `permissive`, `msitranslate`, `seize`, `power_mgmt`, `rdm_policy` and `name`.
///
/// The parser here is strict on purpose. libxlutil's own (`xlu_pci_parse_spec_string`) crashes on
/// `05:10` (no function), reads `permissive=yes` as 0 through `atoi`, lets a repeated key silently win and
/// ignores trailing junk after a BDF. So every spec is checked here first, refused with a sentence that
/// says what to write, and only the canonical form of a valid spec is handed to libxlutil, which must
/// read it back to the same values (`LibxlutilSpecReader`).
public struct PCISpec: Equatable, Sendable, CustomStringConvertible {
    public enum RDMPolicy: String, Sendable {
        case strict, relaxed
    }

    /// The host device; nil when the spec names an assignable device by `name=` only.
    public var address: PCIAddress?
    /// `BB:DD.*`: every function of the slot (`address.function` is then 0 and means nothing).
    public var allFunctions: Bool
    /// The guest's PCI slot (0-0x1f); nil lets Xen choose.
    public var vslot: UInt8?
    public var permissive: Bool?
    public var msitranslate: Bool?
    public var seize: Bool?
    public var powerManagement: Bool?
    public var rdmPolicy: RDMPolicy?
    /// The name given to an assignable device (`xl pci-assignable-add -n`).
    public var name: String?

    /// The largest guest slot libxlutil accepts (the man page's own `@20` example is refused by it).
    public static let maximumVirtualSlot: UInt8 = 0x1f
    /// libxl refuses longer assignable names (`libxl__device_pci_assignable_add`).
    public static let maximumNameLength = 64

    /// A spec from values. Exactly one of `address` and `name` must be given; `vslot` at most 0x1f;
    /// a name is 1-64 printable ASCII characters without ',', '=' or spaces.
    public init(address: PCIAddress?, allFunctions: Bool = false, vslot: UInt8? = nil, permissive: Bool? = nil,
                msitranslate: Bool? = nil, seize: Bool? = nil, powerManagement: Bool? = nil,
                rdmPolicy: RDMPolicy? = nil, name: String? = nil) throws(InputError) {
        let shown = address?.description ?? name.map { "name=" + $0 } ?? ""
        if address != nil && name != nil {
            throw InputError(.pciSpec, shown, "gives both an address and name=\(name!); name the device one way")
        }
        if address == nil && name == nil {
            throw InputError(.pciSpec, shown, "names no device; start with an address (05:10.0) or give name=NAME")
        }
        if let vslot, vslot > Self.maximumVirtualSlot {
            throw InputError(.pciSpec, shown, "has vslot 0x\(String(vslot, radix: 16)), above the largest guest slot 0x1f")
        }
        if let name { try Self.checkName(name, in: shown) }
        self.address = address.map { allFunctions ? PCIAddress(domain: $0.domain, bus: $0.bus, device: $0.device, function: 0) : $0 }
        self.allFunctions = allFunctions
        self.vslot = vslot
        self.permissive = permissive
        self.msitranslate = msitranslate
        self.seize = seize
        self.powerManagement = powerManagement
        self.rdmPolicy = rdmPolicy
        self.name = name
    }

    /// Parses and checks a spec string, then has libxlutil read its canonical form and confirms it sees the
    /// same device and options.
    public init(parsing text: String) throws(InputError) {
        self = try Self.validate(text)
        try LibxlutilSpecReader.confirm(self, input: text)
    }

    /// The canonical spec: `DDDD:BB:DD.F` in lower case (or `DDDD:BB:DD.*`), `@VS` as two hex digits, then
    /// only the keys that were given, in the order permissive, msitranslate, seize, power_mgmt,
    /// rdm_policy, name, with booleans as 0/1. A name-only spec starts with `vslot=VS` when it has one.
    public var canonical: String {
        var parts: [String] = []
        if let address {
            var head = address.description
            if allFunctions { head = String(head.dropLast()) + "*" }
            if let vslot { head += "@" + hex(vslot, width: 2) }
            parts.append(head)
        } else if let vslot {
            parts.append("vslot=" + hex(vslot, width: 2))
        }
        func flag(_ key: String, _ value: Bool?) {
            if let value { parts.append(key + "=" + (value ? "1" : "0")) }
        }
        flag("permissive", permissive)
        flag("msitranslate", msitranslate)
        flag("seize", seize)
        flag("power_mgmt", powerManagement)
        if let rdmPolicy { parts.append("rdm_policy=" + rdmPolicy.rawValue) }
        if let name { parts.append("name=" + name) }
        return parts.joined(separator: ",")
    }

    public var description: String { canonical }

    /// The device part alone (`0000:05:10.0`, `0000:05:10.*` or `name=web`), as detach and messages use it.
    public var deviceDescription: String {
        guard let address else { return "name=" + (name ?? "") }
        return allFunctions ? String(address.description.dropLast()) + "*" : address.description
    }

    // MARK: validation

    static func validate(_ text: String) throws(InputError) -> PCISpec {
        guard !text.isEmpty else {
            throw InputError(.pciSpec, text, "is empty; write a device such as 05:10.0 or 0000:05:10.0,permissive=1")
        }
        if let bad = text.unicodeScalars.first(where: { !$0.isASCII || $0.value <= 0x20 || $0.value == 0x7f }) {
            let what = bad == " " ? "a space" : bad.isASCII ? "a control character" : "the non-ASCII character '\(bad)'"
            throw InputError(.pciSpec, text, "contains \(what); a spec has no spaces, e.g. 05:10.0,permissive=1")
        }
        let elements = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        if elements.count > 1 && elements.last == "" && !elements.dropLast().contains(where: \.isEmpty) {
            throw InputError(.pciSpec, text, "ends with a comma, which libxlutil would ignore; xvf takes specs only as written "
                               + "without it: '\(text.dropLast())'")
        }
        if elements.contains(where: \.isEmpty) {
            throw InputError(.pciSpec, text, "has an empty item between commas; write key=value items separated by single commas")
        }
        var address: PCIAddress?
        var allFunctions = false
        var vslot: UInt8?
        var options = elements[...]
        if !elements[0].contains("=") {
            let head = elements[0]
            var device = Substring(head)
            if let at = head.firstIndex(of: "@") {
                device = head[..<at]
                vslot = try parseVirtualSlot(String(head[head.index(after: at)...]), in: text)
            }
            (address, allFunctions) = try parseDevice(String(device), in: text)
            options = options.dropFirst()
        }

        var seen: Set<String> = []
        var spec = Fields()
        for element in options {
            guard let equals = element.firstIndex(of: "=") else {
                throw InputError(.pciSpec, text, "has '\(element)' without a value; write \(element)=VALUE (e.g. permissive=1)")
            }
            let key = String(element[..<equals])
            let value = String(element[element.index(after: equals)...])
            guard Self.keys.contains(key) else {
                throw InputError(.pciSpec, text, "has an unknown key '\(key)'; the keys are \(Self.keys.joined(separator: ", "))")
            }
            guard !value.isEmpty else {
                // xl-pci-configuration(5) lets an empty value mean the default; xvf asks for it written out,
                // so that what a config says is what the guest gets.
                throw InputError(.pciSpec, text, "has '\(key)=' without a value, which libxlutil would read as the default; "
                                   + "leave \(key) out for the default, or write its value")
            }
            let duplicate = !seen.insert(key).inserted || (key == "bdf" && address != nil) || (key == "vslot" && vslot != nil)
            if duplicate {
                throw InputError(.pciSpec, text, "gives \(key) twice; libxl would silently keep only one, so give it once")
            }
            switch key {
            case "bdf": (address, allFunctions) = try parseDevice(value, in: text)
            case "vslot": vslot = try parseVirtualSlot(value, in: text)
            case "permissive": spec.permissive = try parseBoolean(key, value, in: text)
            case "msitranslate": spec.msitranslate = try parseBoolean(key, value, in: text)
            case "seize": spec.seize = try parseBoolean(key, value, in: text)
            case "power_mgmt": spec.powerManagement = try parseBoolean(key, value, in: text)
            case "rdm_policy":
                guard let policy = RDMPolicy(rawValue: value) else {
                    throw InputError(.pciSpec, text, "has rdm_policy=\(value); write rdm_policy=strict or rdm_policy=relaxed")
                }
                spec.rdmPolicy = policy
            default:
                try checkName(value, in: text)
                spec.name = value
            }
        }
        if address != nil && spec.name != nil {
            throw InputError(.pciSpec, text, "gives both an address and name=\(spec.name!); name the device one way")
        }
        if address == nil && spec.name == nil {
            throw InputError(.pciSpec, text, "names no device; start with an address (05:10.0) or give bdf= or name=")
        }
        return try PCISpec(address: address, allFunctions: allFunctions, vslot: vslot, permissive: spec.permissive,
                           msitranslate: spec.msitranslate, seize: spec.seize,
                           powerManagement: spec.powerManagement, rdmPolicy: spec.rdmPolicy, name: spec.name)
    }

    static let keys = ["bdf", "vslot", "permissive", "msitranslate", "seize", "power_mgmt", "rdm_policy", "name"]

    private struct Fields {
        var permissive: Bool?
        var msitranslate: Bool?
        var seize: Bool?
        var powerManagement: Bool?
        var rdmPolicy: RDMPolicy?
        var name: String?
    }

    /// `[DDDD:]BB:DD.F` or `[DDDD:]BB:DD.*`.
    static func parseDevice(_ text: String, in whole: String) throws(InputError) -> (PCIAddress, Bool) {
        let allFunctions = text.hasSuffix(".*")
        let numeric = allFunctions ? String(text.dropLast()) + "0" : text
        do {
            return (try PCIAddress(parsing: numeric), allFunctions)
        } catch {
            let reason = allFunctions ? "names device '\(text)', which is not [DDDD:]BB:DD.*"
                : "names device '\(text)', which \(error.reason)"
            throw InputError(.pciSpec, whole, reason)
        }
    }

    /// A guest slot: hexadecimal, one or two digits, optionally after `0x`, at most 0x1f.
    public static func parseVirtualSlot(_ text: String, in whole: String) throws(InputError) -> UInt8 {
        var digits = Substring(text)
        if digits.hasPrefix("0x") || digits.hasPrefix("0X") { digits = digits.dropFirst(2) }
        guard (1...2).contains(digits.count), digits.allSatisfy(\.isHexDigit), let value = UInt8(digits, radix: 16) else {
            throw InputError(.pciSpec, whole, "has vslot '\(text)'; a vslot is a hexadecimal guest slot 0-1f, e.g. @03")
        }
        guard value <= maximumVirtualSlot else {
            throw InputError(.pciSpec, whole, "has vslot 0x\(String(value, radix: 16)), above the largest guest slot 0x1f")
        }
        return value
    }

    /// Booleans as xl users write them. libxlutil reads them with atoi, so `yes` would become 0: the
    /// canonical form always says 0 or 1.
    static func parseBoolean(_ key: String, _ value: String, in whole: String) throws(InputError) -> Bool {
        switch value.lowercased() {
        case "1", "yes", "true", "on": return true
        case "0", "no", "false", "off": return false
        default:
            throw InputError(.pciSpec, whole, "has \(key)=\(value); write \(key)=1 or \(key)=0 (yes/no, true/false, on/off also do)")
        }
    }

    static func checkName(_ name: String, in whole: String) throws(InputError) {
        guard !name.isEmpty, name.utf8.count <= maximumNameLength else {
            throw InputError(.pciSpec, whole, "has a name of \(name.utf8.count) characters; libxl takes 1 to \(maximumNameLength)")
        }
        guard name.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7f && $0 != "," && $0 != "=" }) else {
            throw InputError(.pciSpec, whole, "has name '\(name)'; a name is printable ASCII without spaces, ',' or '='")
        }
    }
}
