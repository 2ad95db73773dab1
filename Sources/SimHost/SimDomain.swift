/// A Xen guest running on a simulated dom0. The simulated toolstack (SimXen) reads these from the
/// host's marker file, so that every `xvf` process run on the tree sees the same domains.
public struct SimDomain: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case pv, hvm
    }

    public var id: UInt32
    public var name: String
    public var kind: Kind
    /// Created with `passthrough = "enabled"` or a `pci = [...]` line: a domain without it refuses
    /// hot-attach, PV and HVM alike (Xen gave it no IOMMU context).
    public var passthrough: Bool

    public init(id: UInt32, name: String, kind: Kind = .pv, passthrough: Bool = true) {
        self.id = id
        self.name = name
        self.kind = kind
        self.passthrough = passthrough
    }

    /// `domain 1 web1 pv passthrough`, as the marker file keeps it.
    public var markerLine: String {
        "domain \(id) \(name) \(kind.rawValue) \(passthrough ? "passthrough" : "-")"
    }

    /// Reads a marker line back; nil for any other line.
    public init?(markerLine line: Substring) {
        let words = line.split(separator: " ").map(String.init)
        guard words.count == 5, words[0] == "domain", let id = UInt32(words[1]),
              let kind = Kind(rawValue: words[3]) else { return nil }
        self.init(id: id, name: words[2], kind: kind, passthrough: words[4] == "passthrough")
    }

    /// Parses `NAME[:pv|hvm][,passthrough|,no-passthrough]` as `xvf-sim --domain` takes it.
    public init?(argument: String, id: UInt32) {
        var parts = argument.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let head = parts.removeFirst().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        guard (1...2).contains(head.count), !head[0].isEmpty, head[0] != "Domain-0",
              head[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }),
              let kind = head.count == 2 ? Kind(rawValue: head[1]) : .pv else { return nil }
        var passthrough = true
        for option in parts {
            switch option {
            case "passthrough": passthrough = true
            case "no-passthrough": passthrough = false
            default: return nil
            }
        }
        self.init(id: id, name: head[0], kind: kind, passthrough: passthrough)
    }
}
