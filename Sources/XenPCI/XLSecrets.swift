/// The values xl.cfg(5) documents as passwords (`vncpasswd`, `spicepasswd`, also inside a `vfb` entry),
/// masked wherever xvf shows a domain config's text: a JSON result or a diff ends up in logs (Ansible's
/// among them) that more people read than the config.
public enum XLSecrets {
    public static let keys = ["vncpasswd", "spicepasswd"]
    public static let mask = "********"

    /// `text` with the value after every `KEY =` masked: a quoted value up to its closing quote, a bare
    /// one (in a `vfb` spec) up to the next `,`, quote, `]` or blank.
    public static func masking(_ text: String) -> String {
        guard keys.contains(where: text.contains) else { return text }
        var out = ""
        var rest = Substring(text)
        while let (keyEnd, valueStart) = nextValue(in: rest) {
            out += rest[..<keyEnd]
            out += rest[keyEnd..<valueStart]
            var cursor = valueStart
            if let quote = rest[cursor...].first, quote == "\"" || quote == "'" {
                out.append(quote)
                cursor = rest.index(after: cursor)
                let close = rest[cursor...].firstIndex(of: quote) ?? rest[cursor...].firstIndex(of: "\n") ?? rest.endIndex
                out += mask
                cursor = close
            } else {
                let end = rest[cursor...].firstIndex { ",\"']\n\t ".contains($0) } ?? rest.endIndex
                if end > cursor { out += mask }
                cursor = end
            }
            rest = rest[cursor...]
        }
        return out + rest
    }

    /// Where the next secret's key ends and its value begins (after `=` and blanks); nil when no more.
    private static func nextValue(in text: Substring) -> (Substring.Index, Substring.Index)? {
        var best: (Substring.Index, Substring.Index)?
        for key in keys {
            var search = text[...]
            while let range = search.firstRange(of: key) {
                search = text[range.upperBound...]
                // A whole word: not the tail of a longer name.
                if range.lowerBound > text.startIndex {
                    let before = text[text.index(before: range.lowerBound)]
                    if before.isLetter || before.isNumber || before == "_" { continue }
                }
                var cursor = range.upperBound
                while cursor < text.endIndex, text[cursor] == " " || text[cursor] == "\t" { cursor = text.index(after: cursor) }
                guard cursor < text.endIndex, text[cursor] == "=" else { continue }
                cursor = text.index(after: cursor)
                while cursor < text.endIndex, text[cursor] == " " || text[cursor] == "\t" { cursor = text.index(after: cursor) }
                if best == nil || range.lowerBound < best!.0 { best = (range.upperBound, cursor) }
                break
            }
        }
        return best
    }
}
