/// Where a `pci = [ … ]` (or `pci += [ … ]`) statement and its items sit in an xl config's text.
///
/// Found by scanning with xl.cfg's lexical rules (libxlu_cfg_l.l): `#` comments to the end of the line,
/// strings in '…' or "…" with backslash escapes, statements ended by a newline or `;`, lists that may
/// span lines. Only files libxlutil has already accepted are scanned.
struct PCIStatement {
    struct Item {
        /// The string as xl reads it (escapes resolved).
        var value: String
        /// The literal's bytes, quotes included: `start..<end`.
        var start: Int
        var end: Int
    }

    var appends: Bool
    /// Offsets of the list's `[` and `]`.
    var open: Int
    var close: Int
    var items: [Item]

    // MARK: scanning

    static func scan(_ bytes: [UInt8], filename: String) throws(DomainConfigError) -> [PCIStatement] {
        var statements: [PCIStatement] = []
        var position = 0
        var atStatementStart = true
        func skipBlanks() {
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r") {
                    position += 1
                } else if byte == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
                } else {
                    return
                }
            }
        }
        while true {
            skipBlanks()
            guard position < bytes.count else { break }
            let byte = bytes[position]
            if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: ";") {
                position += 1
                atStatementStart = true
                continue
            }
            if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                _ = try string(bytes, at: &position, filename: filename)
                atStatementStart = false
                continue
            }
            if atStatementStart && isIdentifierStart(byte) {
                let start = position
                while position < bytes.count && isIdentifierByte(bytes[position]) { position += 1 }
                let name = String(decoding: bytes[start..<position], as: UTF8.self)
                atStatementStart = false
                guard name == "pci" else { continue }
                skipBlanks()
                var appends = false
                if position + 1 < bytes.count && bytes[position] == UInt8(ascii: "+") && bytes[position + 1] == UInt8(ascii: "=") {
                    appends = true
                    position += 2
                } else if position < bytes.count && bytes[position] == UInt8(ascii: "=") {
                    position += 1
                } else {
                    continue
                }
                skipBlanks()
                guard position < bytes.count, bytes[position] == UInt8(ascii: "[") else { continue }
                statements.append(try list(bytes, at: &position, appends: appends, filename: filename))
                continue
            }
            atStatementStart = false
            position += 1
        }
        return statements
    }

    /// The list starting at `position` (its `[`), up to and including its `]`.
    private static func list(_ bytes: [UInt8], at position: inout Int, appends: Bool, filename: String)
        throws(DomainConfigError) -> PCIStatement
    {
        let open = position
        position += 1
        var items: [Item] = []
        while position < bytes.count {
            let byte = bytes[position]
            switch byte {
            case UInt8(ascii: "#"):
                while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { position += 1 }
            case UInt8(ascii: "'"), UInt8(ascii: "\""):
                let start = position
                let value = try string(bytes, at: &position, filename: filename)
                items.append(Item(value: value, start: start, end: position))
            case UInt8(ascii: "]"):
                position += 1
                return PCIStatement(appends: appends, open: open, close: position - 1, items: items)
            case UInt8(ascii: "["):
                throw DomainConfigError("\(filename): the pci list holds a nested list; edit this file by hand")
            default:
                position += 1
            }
        }
        throw DomainConfigError("\(filename): the pci list has no closing ']'")
    }

    /// A quoted string starting at `position`, with the escapes xl knows for quotes and backslashes.
    private static func string(_ bytes: [UInt8], at position: inout Int, filename: String) throws(DomainConfigError)
        -> String
    {
        let quote = bytes[position]
        position += 1
        var value: [UInt8] = []
        while position < bytes.count {
            let byte = bytes[position]
            if byte == quote {
                position += 1
                return String(decoding: value, as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") && position + 1 < bytes.count {
                value.append(bytes[position + 1])
                position += 2
                continue
            }
            value.append(byte)
            position += 1
        }
        throw DomainConfigError("\(filename): a string is not closed")
    }

    private static func isIdentifierStart(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
    }

    private static func isIdentifierByte(_ byte: UInt8) -> Bool {
        isIdentifierStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
            || byte == UInt8(ascii: ".")
    }

    // MARK: editing

    /// Edits that append quoted items at the end of this list, in the list's own layout: on the same
    /// line when its end is on one line, otherwise one item a line with the last item's indentation.
    func appending(_ quoted: [String], in bytes: [UInt8]) -> [TextEdit] {
        guard let last = items.last else {
            let inside = bytes[(open + 1)..<close]
            if inside.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }) {
                return [TextEdit(offset: open + 1, length: close - open - 1, text: " " + quoted.joined(separator: ", ") + " ")]
            }
            let lineEnd = bytes[(open + 1)..<close].firstIndex(of: UInt8(ascii: "\n")) ?? close
            return [TextEdit(offset: lineEnd, length: 0, text: quoted.map { "\n    " + $0 }.joined(separator: ","))]
        }
        var after = last.end
        while after < close && (bytes[after] == UInt8(ascii: " ") || bytes[after] == UInt8(ascii: "\t")) { after += 1 }
        let trailingComma = after < close && bytes[after] == UInt8(ascii: ",")
        guard let lineEnd = bytes[last.end..<close].firstIndex(of: UInt8(ascii: "\n")) else {
            return [TextEdit(offset: last.end, length: 0, text: ", " + quoted.joined(separator: ", "))]
        }
        let lineStart = (bytes[..<last.start].lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
        let lead = bytes[lineStart..<last.start]
        let indent = lead.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") })
            ? String(decoding: lead, as: UTF8.self) : "    "
        // One edit from the end of the last item to the end of its line: the comma it needs goes right
        // after it, whatever comment follows stays on its line, and the new items go on new lines.
        let between = String(decoding: bytes[last.end..<lineEnd], as: UTF8.self)
        return [TextEdit(offset: last.end, length: lineEnd - last.end,
                         text: (trailingComma ? "" : ",") + between
                            + quoted.map { "\n" + indent + $0 }.joined(separator: ",") + (trailingComma ? "," : ""))]
    }

    /// Edits that delete the items at `indices` with their commas; an item alone on its line (with its
    /// comment) takes the line with it.
    func removing(_ indices: [Int], in bytes: [UInt8]) -> [TextEdit] {
        func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        // Every item of a one-line list: it becomes `[ ]`.
        if indices.count == items.count && !bytes[open..<close].contains(UInt8(ascii: "\n")) {
            return [TextEdit(offset: open + 1, length: close - open - 1, text: " ")]
        }
        var ranges: [Range<Int>] = []
        for index in indices {
            let item = items[index]
            let lineStart = (bytes[..<item.start].lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
            let lineEnd = bytes[item.end...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            var after = item.end
            while after < lineEnd && isBlank(bytes[after]) { after += 1 }
            let comma = after < lineEnd && bytes[after] == UInt8(ascii: ",")
            var rest = comma ? after + 1 : after
            while rest < lineEnd && isBlank(bytes[rest]) { rest += 1 }
            let aloneOnLine = lineStart > open && bytes[lineStart..<item.start].allSatisfy(isBlank)
                && (rest == lineEnd || bytes[rest] == UInt8(ascii: "#")) && lineEnd < close
            if aloneOnLine {
                ranges.append(lineStart..<(lineEnd + 1))
            } else if comma {
                ranges.append(item.start..<rest)
            } else {
                var before = item.start
                while before > open + 1 && isBlank(bytes[before - 1]) { before -= 1 }
                if before > open + 1 && bytes[before - 1] == UInt8(ascii: ",") {
                    ranges.append((before - 1)..<item.end)
                } else {
                    ranges.append(item.start..<item.end)
                }
            }
        }
        // Neighbouring items share commas: join ranges that touch.
        var merged: [Range<Int>] = []
        for range in ranges.sorted(by: { $0.lowerBound < $1.lowerBound }) {
            if let last = merged.last, range.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, range.upperBound)
            } else {
                merged.append(range)
            }
        }
        return merged.map { TextEdit(offset: $0.lowerBound, length: $0.count, text: "") }
    }
}
