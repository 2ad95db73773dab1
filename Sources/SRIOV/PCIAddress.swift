/// A PCI function address (segment/domain, bus, device, function): what Linux calls a BDF.
///
/// Parsed from `BB:DD.F` or `DDDD:BB:DD.F` (hexadecimal, either case) and always written in the full
/// lower-case `DDDD:BB:DD.F` form, which is what sysfs, libxl and xen-pciback use.
public struct PCIAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var domain: UInt16
    public var bus: UInt8
    public var device: UInt8
    public var function: UInt8

    public init(domain: UInt16 = 0, bus: UInt8, device: UInt8, function: UInt8) {
        precondition(device <= 0x1f && function <= 7, "device or function out of range")
        self.domain = domain
        self.bus = bus
        self.device = device
        self.function = function
    }

    /// Hashed as one word (domain and routing ID, which say the same as the four fields): discovery keys
    /// thousands of functions by address, and hashing the four fields one by one took 250 instructions.
    public func hash(into hasher: inout Hasher) { hasher.combine(UInt32(domain) << 16 | UInt32(routingID)) }

    /// The 16-bit routing ID (bus << 8 | device << 3 | function) that SR-IOV offsets and strides add to.
    public var routingID: UInt16 {
        UInt16(bus) << 8 | UInt16(device) << 3 | UInt16(function)
    }

    public init(domain: UInt16, routingID: UInt16) {
        self.init(domain: domain, bus: UInt8(routingID >> 8), device: UInt8((routingID >> 3) & 0x1f),
                  function: UInt8(routingID & 7))
    }

    /// The address `delta` routing IDs further on, possibly on a following bus; nil past bus 0xff.
    public func advanced(byRoutingID delta: Int) -> PCIAddress? {
        let target = Int(routingID) + delta
        guard (0...0xffff).contains(target) else { return nil }
        return PCIAddress(domain: domain, routingID: UInt16(target))
    }

    public var description: String {
        // Written byte by byte: `xvf list --json` formats one address per VF.
        String(unsafeUninitializedCapacity: 12) { out in
            let digits: StaticString = "0123456789abcdef"
            func put(_ i: Int, _ nibble: Int) { out[i] = digits.utf8Start[nibble & 0xf] }
            let d = Int(domain)
            put(0, d >> 12); put(1, d >> 8); put(2, d >> 4); put(3, d)
            out[4] = UInt8(ascii: ":")
            put(5, Int(bus) >> 4); put(6, Int(bus))
            out[7] = UInt8(ascii: ":")
            put(8, Int(device) >> 4); put(9, Int(device))
            out[10] = UInt8(ascii: ".")
            put(11, Int(function))
            return 12
        }
    }

    /// The `BB:DD.F` form without the domain, as `xl` and `lspci` show it by default.
    public var shortDescription: String {
        hex(bus, width: 2) + ":" + hex(device, width: 2) + "." + hex(function, width: 1)
    }

    public static func < (a: PCIAddress, b: PCIAddress) -> Bool {
        (a.domain, a.routingID) < (b.domain, b.routingID)
    }

    /// Parses `BB:DD.F` or `DDDD:BB:DD.F`; the whole string must be an address.
    public init(parsing text: String) throws(InputError) {
        if let canonical = Self.parseCanonical(text) {
            self = canonical
            return
        }
        guard !text.isEmpty else { throw InputError(.address, text, "is empty; write BB:DD.F or DDDD:BB:DD.F, e.g. 05:10.0") }
        let colonParts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard colonParts.count == 2 || colonParts.count == 3 else {
            throw InputError(.address, text, "is not a PCI address; write BB:DD.F or DDDD:BB:DD.F, e.g. 05:10.0")
        }
        var domain: UInt16 = 0
        if colonParts.count == 3 {
            domain = try Self.field(colonParts[0], of: text, named: "domain", maxDigits: 4, max: 0xffff, as: UInt16.self)
        }
        let bus = try Self.field(colonParts[colonParts.count - 2], of: text, named: "bus", maxDigits: 2, max: 0xff,
                                 as: UInt8.self)
        let slot = colonParts[colonParts.count - 1]
        let dotParts = slot.split(separator: ".", omittingEmptySubsequences: false)
        guard dotParts.count == 2 else {
            if dotParts.count == 1 {
                throw InputError(.address, text, "has no function number; write it as \(text).0 (BB:DD.F)")
            }
            throw InputError(.address, text, "has more than one '.'; write BB:DD.F")
        }
        let device = try Self.field(dotParts[0], of: text, named: "device", maxDigits: 2, max: 0x1f, as: UInt8.self)
        let function = try Self.field(dotParts[1], of: text, named: "function", maxDigits: 1, max: 7, as: UInt8.self)
        self.init(domain: domain, bus: bus, device: device, function: function)
    }

    /// The full `dddd:bb:dd.f` form sysfs uses, read byte by byte: discovery parses one per device.
    private static func parseCanonical(_ text: String) -> PCIAddress? {
        let utf8 = text.utf8
        return utf8.withContiguousStorageIfAvailable { b -> PCIAddress? in
            guard b.count == 12, b[4] == UInt8(ascii: ":"), b[7] == UInt8(ascii: ":"), b[10] == UInt8(ascii: ".")
            else { return nil }
            func digit(_ i: Int) -> Int? {
                switch b[i] {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): return Int(b[i] - UInt8(ascii: "0"))
                case UInt8(ascii: "a")...UInt8(ascii: "f"): return Int(b[i] - UInt8(ascii: "a") + 10)
                case UInt8(ascii: "A")...UInt8(ascii: "F"): return Int(b[i] - UInt8(ascii: "A") + 10)
                default: return nil
                }
            }
            guard let d0 = digit(0), let d1 = digit(1), let d2 = digit(2), let d3 = digit(3),
                  let b0 = digit(5), let b1 = digit(6), let s0 = digit(8), let s1 = digit(9), let f = digit(11),
                  s0 * 16 + s1 <= 0x1f, f <= 7 else { return nil }
            return PCIAddress(domain: UInt16(d0 << 12 | d1 << 8 | d2 << 4 | d3), bus: UInt8(b0 << 4 | b1),
                              device: UInt8(s0 << 4 | s1), function: UInt8(f))
        } ?? nil
    }

    private static func field<T: FixedWidthInteger>(
        _ part: Substring, of text: String, named name: String, maxDigits: Int, max: Int, as: T.Type
    ) throws(InputError) -> T {
        guard !part.isEmpty else { throw InputError(.address, text, "has an empty \(name) field") }
        guard part.allSatisfy(\.isHexDigit) else {
            throw InputError(.address, text, "has a non-hexadecimal \(name) '\(part)'")
        }
        guard part.count <= maxDigits, let value = Int(part, radix: 16) else {
            throw InputError(.address, text, "has a \(name) '\(part)' longer than \(maxDigits) hex digit\(maxDigits == 1 ? "" : "s")")
        }
        guard value <= max else {
            throw InputError(.address, text, "has \(name) 0x\(part.lowercased()) above the limit 0x\(String(max, radix: 16))")
        }
        return T(value)
    }
}

