/// A VF's link settings as the PF driver keeps them (`ip link set dev PF vf N …`): the MAC and VLAN the
/// guest gets, and the checks the NIC applies to it. nil means "leave as it is".
public struct VFLinkSettings: Equatable, Sendable {
    public enum LinkState: String, Sendable, CaseIterable {
        case auto, enable, disable
    }

    public var mac: String?
    public var vlan: Int?
    public var qos: Int?
    public var spoofCheck: Bool?
    public var trust: Bool?
    public var linkState: LinkState?

    public init(mac: String? = nil, vlan: Int? = nil, qos: Int? = nil, spoofCheck: Bool? = nil, trust: Bool? = nil,
                linkState: LinkState? = nil) {
        self.mac = mac
        self.vlan = vlan
        self.qos = qos
        self.spoofCheck = spoofCheck
        self.trust = trust
        self.linkState = linkState
    }

    /// The keys a `vf` entry takes, in the order `ip` wants them.
    public static let keys = ["mac", "vlan", "qos", "spoofchk", "trust", "state"]

    public var isEmpty: Bool { self == VFLinkSettings() }

    /// The settings of `self` that `current` does not have already; everything when `current` is unknown.
    public func changes(from current: VFLinkSettings?) -> VFLinkSettings {
        guard let current else { return self }
        var changed = VFLinkSettings()
        if let mac, mac != current.mac { changed.mac = mac }
        // ip sets VLAN and priority together: a changed priority repeats the VLAN.
        if let vlan, vlan != (current.vlan ?? 0) || (qos ?? 0) != (current.qos ?? 0) {
            changed.vlan = vlan
            changed.qos = qos
        }
        if let spoofCheck, spoofCheck != current.spoofCheck { changed.spoofCheck = spoofCheck }
        if let trust, trust != current.trust { changed.trust = trust }
        if let linkState, linkState != current.linkState { changed.linkState = linkState }
        return changed
    }

    /// The settings given, as `KEY=VALUE` words in `keys`' order: how a host config `vf` entry and xvf's
    /// records write them, and how `set(_:to:)` reads them back.
    var keyValues: [String] {
        var words: [String] = []
        if let mac { words.append("mac=" + mac) }
        if let vlan { words.append("vlan=\(vlan)") }
        if let qos { words.append("qos=\(qos)") }
        if let spoofCheck { words.append("spoofchk=" + (spoofCheck ? "on" : "off")) }
        if let trust { words.append("trust=" + (trust ? "on" : "off")) }
        if let linkState { words.append("state=" + linkState.rawValue) }
        return words
    }

    /// `ip`'s arguments after `ip` for these settings (`link set dev eno49 vf 2 mac …`).
    func words(interface: String, index: Int) -> [String] {
        var words = ["link", "set", "dev", interface, "vf", String(index)]
        if let mac { words += ["mac", mac] }
        if let vlan {
            words += ["vlan", String(vlan)]
            if let qos { words += ["qos", String(qos)] }
        }
        if let spoofCheck { words += ["spoofchk", spoofCheck ? "on" : "off"] }
        if let trust { words += ["trust", trust ? "on" : "off"] }
        if let linkState { words += ["state", linkState.rawValue] }
        return words
    }

    // MARK: parsing the values

    /// Sets one setting from its text, as a host config `vf` entry (`vlan=5`) and `xvf assign --vlan 5` give
    /// it. The error says what is wrong with the value, as the words that follow it (`vlan=5000 …`).
    public mutating func set(_ key: String, to value: String) throws(ValueError) {
        switch key {
        case "mac":
            switch Self.parseMAC(value) {
            case .success(let mac): self.mac = mac
            case .failure(let error): throw ValueError(error.reason)
            }
        case "vlan":
            guard let vlan = Int(value), (0...4095).contains(vlan) else { throw ValueError("is not a VLAN id 0-4095 (0 is untagged)") }
            self.vlan = vlan
        case "qos":
            guard let qos = Int(value), (0...7).contains(qos) else { throw ValueError("is not an 802.1p priority 0-7") }
            self.qos = qos
        case "spoofchk", "trust":
            guard value == "on" || value == "off" else { throw ValueError("is neither on nor off") }
            if key == "trust" { trust = value == "on" } else { spoofCheck = value == "on" }
        case "state":
            guard let state = LinkState(rawValue: value) else { throw ValueError("is not auto, enable or disable") }
            linkState = state
        default:
            throw ValueError("is not a VF setting; the settings are \(Self.keys.joined(separator: ", "))")
        }
    }

    /// What is wrong with a setting's value.
    public struct ValueError: Error, Equatable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }

    /// A unicast Ethernet address in the form `ip` prints (`52:54:00:00:49:00`, lower case), or a
    /// sentence saying what is wrong with it.
    public static func parseMAC(_ text: String) -> Result<String, MACError> {
        // ASCII bytes only: Character.isHexDigit also accepts full-width digits, which UInt8(_:radix:) does not.
        let parts = text.utf8.split(separator: UInt8(ascii: ":"), omittingEmptySubsequences: false)
        let octets = parts.compactMap { part -> UInt8? in
            guard part.count == 2, let high = hexValue(part.first!), let low = hexValue(part.last!) else { return nil }
            return high << 4 | low
        }
        guard parts.count == 6, octets.count == 6 else {
            return .failure(MACError("is not a MAC address; write six pairs of hex digits, 52:54:00:12:34:56"))
        }
        if octets[0] & 1 != 0 {
            return .failure(MACError("is a multicast address (the first octet is odd); a VF needs a unicast one such as 52:54:00:12:34:56"))
        }
        if octets.allSatisfy({ $0 == 0 }) {
            return .failure(MACError("is all zeros, which drivers take as \"no MAC\"; give the VF a real one"))
        }
        return .success(text.lowercased())
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    public struct MACError: Error, Equatable {
        public let reason: String
        init(_ reason: String) { self.reason = reason }
    }
}
