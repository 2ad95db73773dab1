/// A replacement of `length` bytes at `offset` by `text`.
struct TextEdit {
    var offset: Int
    var length: Int
    var text: String
}

/// In-place edits of a list in an xl config's text, in the list's own layout: only the items and the
/// commas that separate them change; comments, indentation and the rest of the file stay. The places
/// come from `XLStatements`; the edited file is read again by libxlutil before it is used.
extension XLStatements.List {
    /// Edits that append already quoted items at the end of the list: on the same line when the list
    /// ends on its last item's line, otherwise one item a line with the last item's indentation.
    func appending(_ quoted: [String], in bytes: [UInt8]) -> [TextEdit] {
        guard let last = elements.last else {
            let inside = bytes[(open + 1)..<close]
            if inside.allSatisfy(Self.isBlank) {
                return [TextEdit(offset: open + 1, length: close - open - 1, text: " " + quoted.joined(separator: ", ") + " ")]
            }
            // Comments or line breaks inside: new lines after the `[`'s line, which keeps its comment.
            let lineEnd = inside.firstIndex(of: UInt8(ascii: "\n")) ?? close
            return [TextEdit(offset: lineEnd, length: 0, text: quoted.map { "\n    " + $0 }.joined(separator: ","))]
        }
        let end = last.range.upperBound
        guard let lineEnd = bytes[end..<close].firstIndex(of: UInt8(ascii: "\n")) else {
            // `[ 'a' ]` or `[ 'a', ]`: a trailing comma stays trailing.
            return [TextEdit(offset: end, length: 0, text: ", " + quoted.joined(separator: ", "))]
        }
        // A trailing comma on the last item's line moves to the new last item; one on a later line (a
        // comma-first layout) stays where it is, after the new items.
        let commaOnLine = last.comma.map { $0 < lineEnd } ?? false
        let lineStart = Self.lineStart(before: last.range.lowerBound, in: bytes)
        let lead = bytes[lineStart..<last.range.lowerBound]
        let indent = lead.allSatisfy(Self.isBlank) ? String(decoding: lead, as: UTF8.self) : "    "
        // One edit from the end of the last item to the end of its line: the comma it needs goes right
        // after it, whatever comment follows stays on its line, and the new items go on new lines.
        let between = String(decoding: bytes[end..<lineEnd], as: UTF8.self)
        return [TextEdit(offset: end, length: lineEnd - end,
                         text: (commaOnLine ? "" : ",") + between
                            + quoted.map { "\n" + indent + $0 }.joined(separator: ",") + (commaOnLine ? "," : ""))]
    }

    /// Edits that delete the elements at `indices`, each with one comma: its own (the one after it), or
    /// for a last element without one, the comma before it when nothing but blanks is between. An element
    /// alone on its line (with its comma and comment) takes the line with it.
    func removing(_ indices: [Int], in bytes: [UInt8]) -> [TextEdit] {
        // Every element of a one-line list: it becomes `[ ]`.
        if Set(indices).count == elements.count && !bytes[open..<close].contains(UInt8(ascii: "\n")) {
            return [TextEdit(offset: open + 1, length: close - open - 1, text: " ")]
        }
        var ranges: [Range<Int>] = []
        for index in indices {
            let element = elements[index]
            let start = element.range.lowerBound
            let end = element.range.upperBound
            let lineStart = Self.lineStart(before: start, in: bytes)
            let lineEnd = bytes[end...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let commaOnLine = element.comma.flatMap { $0 < lineEnd ? $0 : nil }
            var rest = commaOnLine.map { $0 + 1 } ?? end
            while rest < lineEnd && Self.isBlank(bytes[rest]) { rest += 1 }
            let aloneOnLine = lineStart > open && lineEnd < close && bytes[lineStart..<start].allSatisfy(Self.isBlank)
                && (rest == lineEnd || bytes[rest] == UInt8(ascii: "#"))
                && (element.comma == nil || commaOnLine != nil)
            if aloneOnLine {
                ranges.append(lineStart..<(lineEnd + 1))
            } else if let comma = element.comma {
                var after = comma + 1
                while after < bytes.count && Self.isBlank(bytes[after]) { after += 1 }
                // Nothing left on the line after it: the blanks before it go too.
                var before = start
                if after < bytes.count && bytes[after] == UInt8(ascii: "\n") {
                    while before > open + 1 && Self.isBlank(bytes[before - 1]) { before -= 1 }
                }
                ranges.append(before..<after)
            } else if index > 0, let previous = elements[index - 1].comma,
                      bytes[(previous + 1)..<start].allSatisfy(Self.isBlank) {
                ranges.append(previous..<end)
            } else if index > 0, let previous = elements[index - 1].comma, !indices.contains(index - 1) {
                // The comma before it sits on an earlier line, a comment between: it goes too, so the new
                // last element ends the list as the user would have written it; the comment stays.
                ranges.append(previous..<(previous + 1))
                let first = bytes[lineStart..<start].allSatisfy(Self.isBlank) && lineStart > open
                ranges.append((first ? lineStart : start)..<end)
            } else {
                ranges.append(start..<end)
            }
        }
        // Neighbouring elements share commas: join ranges that touch.
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

    static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    /// Strings hold no line breaks and comments end at one, so the last `\n` before an element is the
    /// start of its line.
    static func lineStart(before offset: Int, in bytes: [UInt8]) -> Int {
        (bytes[..<offset].lastIndex(of: UInt8(ascii: "\n")) ?? -1) + 1
    }
}

extension XLStatements.Statement {
    /// The lines the statement fills, newline included, when nothing else shares them (blanks and a `;`
    /// aside); nil when another statement or a comment is on them.
    func wholeLines(in bytes: [UInt8]) -> Range<Int>? {
        let start = XLStatements.List.lineStart(before: range.lowerBound, in: bytes)
        guard bytes[start..<range.lowerBound].allSatisfy(XLStatements.List.isBlank) else { return nil }
        var end = range.upperBound
        while end < bytes.count && (XLStatements.List.isBlank(bytes[end]) || bytes[end] == UInt8(ascii: ";")) { end += 1 }
        guard end == bytes.count || bytes[end] == UInt8(ascii: "\n") else { return nil }
        return start..<min(end + 1, bytes.count)
    }
}
