#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// pci.ids, answered from where an id's entry sits instead of loaded whole.
///
/// libpci turns all of pci.ids (some 40,000 lines) into a hash table at the first name it is asked for,
/// which is most of what naming a handful of devices costs. A host has a few vendors, so this reads the
/// file once, notes where each vendor's line is, and reads a vendor's device lines only when one of its
/// devices is asked for. Lines mean what libpci's parser makes of them: a line ends at `\n` or `\r`,
/// loses one trailing space or tab, `#` starts a comment, a vendor is four hex digits at the start of a
/// line, its devices four hex digits after one tab (two tabs are subsystems), and `C `, `S ` and any other
/// capital letter and space open blocks that are not vendors.
struct PCIIDList {
    private let bytes: [UInt8]
    /// Where each vendor's own line starts, plus one, by vendor id; 0 for one the file does not list. A
    /// table of all 65,536 ids, since filling a dictionary with pci.ids' 2,300 vendors cost more than
    /// reading the file.
    private let vendorLines: [Int32]

    /// Reads `path`; nil when it cannot be read or is compressed (libpci then reads it).
    init?(path: String) {
        guard let bytes = readFile(atPath: path), bytes.count < Int32.max,
              !(bytes.count >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b) else { return nil }
        self.bytes = bytes
        var lines = [Int32](repeating: 0, count: 1 << 16)
        bytes.withUnsafeBufferPointer { text in
            Self.forEachLine(in: text, from: 0) { line, _ in
                // Nested lines and comments are most of the file: look no further than their first byte.
                let first = text[line.lowerBound]
                guard first != tab, first != hash, let entry = Self.content(text, line),
                      let vendor = Self.hex(text, entry), Self.name(text, entry) != nil,
                      lines[Int(vendor)] == 0 else { return true }
                lines[Int(vendor)] = Int32(line.lowerBound) + 1
                return true
            }
        }
        vendorLines = lines
    }

    func vendorName(_ vendor: UInt16) -> String? {
        vendorLine(vendor).map { line, _ in String(decoding: bytes[line], as: UTF8.self) }
    }

    /// The name on the vendor's own line, and where its devices begin.
    private func vendorLine(_ vendor: UInt16) -> (name: Range<Int>, block: Int)? {
        let start = Int(vendorLines[Int(vendor)]) - 1
        guard start >= 0 else { return nil }
        return bytes.withUnsafeBufferPointer { text in
            var found: (Range<Int>, Int)?
            Self.forEachLine(in: text, from: start) { line, next in
                if let entry = Self.content(text, line), let name = Self.name(text, entry) { found = (name, next) }
                return false
            }
            return found
        }
    }

    func deviceName(vendor: UInt16, device: UInt16) -> String? {
        guard let start = vendorLine(vendor)?.block else { return nil }
        return bytes.withUnsafeBufferPointer { text -> String? in
            var found: Range<Int>?
            Self.forEachLine(in: text, from: start) { line, _ in
                guard text[line.lowerBound] == tab else {
                    // A blank line or a comment goes on; any other top-level line ends the vendor's block.
                    return Self.content(text, line) == nil
                }
                let nested = line.lowerBound + 1..<line.upperBound
                guard let first = nested.first, text[first] != tab,  // two tabs: a subsystem
                      Self.hex(text, nested) == device, let entry = Self.content(text, nested),
                      let name = Self.name(text, entry) else { return true }
                found = name
                return false
            }
            return found.map { String(decoding: text[$0], as: UTF8.self) }
        }
    }

    /// Calls `body` with each line from `start` (without its line break, never empty) and the offset of the
    /// line after it; stops when `body` returns false.
    private static func forEachLine(in text: UnsafeBufferPointer<UInt8>, from start: Int,
                                    _ body: (Range<Int>, Int) -> Bool) {
        guard let base = text.baseAddress else { return }
        var at = start
        while at < text.count {
            var end = text.count
            if let newline = memchr(base + at, 0x0a, text.count - at) {
                end = base.distance(to: newline.assumingMemoryBound(to: UInt8.self))
            }
            if end > at && !body(at..<end, end + 1) { return }
            at = end + 1
        }
    }

    /// The line as libpci reads it: up to a carriage return, less one trailing space or tab; nil when that
    /// leaves a blank line or a comment.
    private static func content(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> Range<Int>? {
        var end = line.lowerBound
        while end < line.upperBound && text[end] != carriageReturn { end += 1 }
        if end > line.lowerBound && isBlank(text[end - 1]) { end -= 1 }
        var first = line.lowerBound
        while first < end && isBlank(text[first]) { first += 1 }
        return first < end && text[first] != hash ? line.lowerBound..<end : nil
    }

    /// The four hex digits that start `line`, when a space or tab follows them.
    private static func hex(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> UInt16? {
        guard line.count > 4, isBlank(text[line.lowerBound + 4]) else { return nil }
        var value: UInt16 = 0
        for byte in text[line.lowerBound..<line.lowerBound + 4] {
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: return nil
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    /// What follows a four-digit id and the spaces and tabs after it; nil when nothing does.
    private static func name(_ text: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> Range<Int>? {
        var start = line.lowerBound + 4
        while start < line.upperBound && isBlank(text[start]) { start += 1 }
        return start < line.upperBound ? start..<line.upperBound : nil
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == 0x20 || byte == tab }
}

private let tab = UInt8(ascii: "\t")
private let hash = UInt8(ascii: "#")
private let carriageReturn = UInt8(ascii: "\r")
