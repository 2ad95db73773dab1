import SRIOV

/// xen-pciback's `hide` parameter: `(DDDD:BB:SS.F)(…)`, parsed the way the kernel's `pcistub_init`
/// does it (Linux 6.1 `drivers/xen/xen-pciback/pci_stub.c`). It matters because a single malformed entry
/// makes the whole module fail to load ("Error parsing pci_devs_to_hide"), so that no device at all
/// reaches pciback; xvf checks every hide value it writes with this parser first.
public enum PcibackHideList {
    /// One entry; nil fields are the `*` wildcards (`(04:10.*)`, `(04:*.*)`).
    public struct Entry: Equatable, Sendable {
        public var domain: UInt16
        public var bus: UInt8
        public var slot: UInt8?
        public var function: UInt8?
    }

    /// The hide value for these devices: `(0000:04:10.0)(0000:04:10.4)`, in the full form, in address
    /// order. A slot whose eight functions are all listed is written `(0000:04:10.*)`: the kernel
    /// expands the wildcard to exactly those eight, and the dom0 command line has little room.
    public static func format(_ addresses: [PCIAddress]) -> String {
        let sorted = Set(addresses).sorted()
        var functionsPerSlot: [PCIAddress: Int] = [:]
        for address in sorted { functionsPerSlot[slot(of: address), default: 0] += 1 }
        var text = ""
        for address in sorted {
            let slotAddress = slot(of: address)
            if functionsPerSlot[slotAddress] == 8 {
                if address.function == 0 { text += "(" + String(slotAddress.description.dropLast()) + "*)" }
            } else {
                text += "(\(address))"
            }
        }
        return text
    }

    private static func slot(of address: PCIAddress) -> PCIAddress {
        PCIAddress(domain: address.domain, bus: address.bus, device: address.device, function: 0)
    }

    /// Parses a hide value as the kernel does: entries `(DDDD:BB:SS.F)` or `(BB:SS.F)` in hexadecimal,
    /// with `*` for the slot and function or the function alone, optional whitespace around each entry,
    /// and nothing else. Throws a message naming the offending place.
    public static func parse(_ text: String) throws(XVFError) -> [Entry] {
        var entries: [Entry] = []
        var rest = Substring(text)
        func skipSpace() { while let c = rest.first, c == " " || c == "\t" || c == "\n" { rest.removeFirst() } }
        skipSpace()
        while !rest.isEmpty {
            guard rest.first == "(", let close = rest.firstIndex(of: ")") else {
                throw XVFError(.hideListMalformed(text, at: String(rest.prefix(20))))
            }
            let body = String(rest[rest.index(after: rest.startIndex)..<close])
            entries.append(try parseEntry(body, in: text))
            rest = rest[rest.index(after: close)...]
            skipSpace()
        }
        return entries
    }

    static func parseEntry(_ body: String, in text: String) throws(XVFError) -> Entry {
        func bad(_ why: String) -> XVFError {
            XVFError(.hideEntry(body, in: text, why: why))
        }
        let colon = body.split(separator: ":", omittingEmptySubsequences: false)
        guard colon.count == 2 || colon.count == 3 else { throw bad("is not (DDDD:BB:DD.F) or (BB:DD.F)") }
        func number(_ part: Substring, _ name: String, max: Int) throws(XVFError) -> Int {
            guard !part.isEmpty, part.count <= 8, part.allSatisfy(\.isHexDigit), let value = Int(part, radix: 16) else {
                throw bad("has a \(name) '\(part)' that is not hexadecimal")
            }
            guard value <= max else { throw bad("has \(name) 0x\(part) above 0x\(String(max, radix: 16))") }
            return value
        }
        let domain = colon.count == 3 ? try number(colon[0], "domain", max: 0xffff) : 0
        let bus = try number(colon[colon.count - 2], "bus", max: 0xff)
        let dot = colon[colon.count - 1].split(separator: ".", omittingEmptySubsequences: false)
        guard dot.count == 2 else { throw bad("has no '.F' function part") }
        if dot[0] == "*" {
            guard dot[1] == "*" else { throw bad("has a wildcard slot but a fixed function (write *.*)") }
            return Entry(domain: UInt16(domain), bus: UInt8(bus), slot: nil, function: nil)
        }
        let slot = try number(dot[0], "slot", max: 0x1f)
        if dot[1] == "*" { return Entry(domain: UInt16(domain), bus: UInt8(bus), slot: UInt8(slot), function: nil) }
        let function = try number(dot[1], "function", max: 7)
        return Entry(domain: UInt16(domain), bus: UInt8(bus), slot: UInt8(slot), function: UInt8(function))
    }

    /// The `hide=` values in a text (a kernel line, a modprobe.d file): what follows `hide=` up to the
    /// next whitespace or quote.
    static func values(in text: String, after key: String) -> [String] {
        var found: [String] = []
        var rest = Substring(text)
        while let range = rest.firstRange(of: key) {
            var value = rest[range.upperBound...]
            if let end = value.firstIndex(where: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\"" }) {
                value = value[..<end]
            }
            found.append(String(value))
            rest = rest[range.upperBound...]
        }
        return found
    }
}
