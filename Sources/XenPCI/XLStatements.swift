/// Where each setting of an xl config sits in its text: the key, its line and byte range, and for a list
/// its brackets, every element's range and line, and the commas between them. libxlutil reads the values
/// but keeps no positions for list items and offers no way to list the keys a file sets, so error
/// messages that name `FILE:LINE`, checks for unknown keys and edits that keep a file's layout (`xvf cfg
/// add/remove`) need this scan of the same text. It is the one scanner of xl syntax in xvf.
///
/// It follows xl.cfg's lexical rules (libxlu_cfg_l.l): `#` comments to the end of the line, strings in
/// '…' or "…" on one line with backslash escapes, numbers, statements ended by a newline or `;`, lists
/// that may span lines and nest. Both callers hand it only text `xlu_cfg_readdata` has accepted, so it
/// does not diagnose syntax; on other text it still returns (an unclosed string ends at its line's end,
/// an unclosed list has no `List`), never traps, and callers that act on values compare them with
/// libxlutil's reading first.
///
/// Offsets are into the text's UTF-8 bytes (`Array(text.utf8)`).
public struct XLStatements: Sendable {
    public struct Statement: Sendable, Equatable {
        public var key: String
        public var line: Int
        /// `+=`: the items are added to the list set before.
        public var appends: Bool
        /// From the key's first byte to the value's last.
        public var range: Range<Int>
        /// The value when it is a list; nil for a single string or number.
        public var list: List?

        /// The items of a list with their lines; nil when the value is not a list or the list nests one.
        public var items: [Item]? { list?.items }
    }

    /// A `[ … ]` value.
    public struct List: Sendable, Equatable {
        /// Offsets of the `[` and of its `]`.
        public var open: Int
        public var close: Int
        public var elements: [Element]

        /// The elements as libxlutil hands them out (strings, and numbers as their text); nil when one is
        /// a nested list, which libxlutil does not hand out as a string.
        public var items: [Item]? {
            var items: [Item] = []
            for element in elements {
                guard let value = element.value else { return nil }
                items.append(Item(value: value, line: element.line))
            }
            return items
        }
    }

    /// One element of a list.
    public struct Element: Sendable, Equatable {
        /// The literal: a string with its quotes, a number, or a nested list from `[` to `]`.
        public var range: Range<Int>
        public var line: Int
        /// A string as xl reads it (named escapes such as `\'` and `\n` resolved), a number as written;
        /// nil for a nested list. libxlutil decodes numeric escapes (`\x41`, `\101`) in its own
        /// idiosyncratic way, which this does not copy: such a string keeps its escape as written here, and
        /// callers see it differ from libxlutil's value.
        public var value: String?
        /// The offset of the comma after it, which may be on a later line; nil for a last element
        /// without a trailing comma.
        public var comma: Int?
    }

    public struct Item: Sendable, Equatable {
        public var value: String
        public var line: Int
        public init(value: String, line: Int) {
            self.value = value
            self.line = line
        }
    }

    public let statements: [Statement]

    public init(scanning text: String) {
        var scanner = Scanner(Array(text.utf8))
        statements = scanner.statements()
    }

    /// The keys in the order the file first sets them.
    public var keys: [String] {
        var seen: Set<String> = []
        return statements.map(\.key).filter { seen.insert($0).inserted }
    }

    /// The line of the statement that decides a key's value (libxlutil: the last `=` wins).
    public func line(of key: String) -> Int? {
        statements.last { $0.key == key }?.line
    }

    /// A list's items as libxlutil ends up with them (the last `=`, then every later `+=`), with lines;
    /// nil when the key is not set or its value is not a list of strings and numbers.
    public func items(of key: String) -> [Item]? {
        var result: [Item]?
        var seen = false
        for statement in statements where statement.key == key {
            if statement.appends && seen {
                result = result.flatMap { before in statement.items.map { before + $0 } }
            } else {
                // An `=` replaces whatever came before, a list or not; so does a first `+=`.
                result = statement.items
            }
            seen = true
        }
        return result
    }

    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        var line = 1

        init(_ bytes: [UInt8]) { self.bytes = bytes }

        mutating func statements() -> [Statement] {
            var found: [Statement] = []
            var atStatementStart = true
            while position < bytes.count {
                skipBlanksAndComments()
                guard position < bytes.count else { break }
                let byte = bytes[position]
                if byte == UInt8(ascii: "\n") || byte == UInt8(ascii: ";") {
                    advance()
                    atStatementStart = true
                    continue
                }
                guard atStatementStart, Self.isIdentifierStart(byte) else {
                    _ = value()
                    atStatementStart = false
                    continue
                }
                let keyLine = line
                let start = position
                while position < bytes.count && Self.isIdentifierByte(bytes[position]) { advance() }
                let key = String(decoding: bytes[start..<position], as: UTF8.self)
                atStatementStart = false
                skipBlanksAndComments()
                var appends = false
                if peek("+=") {
                    appends = true
                    advance(2)
                } else if peek("=") {
                    advance()
                } else {
                    continue
                }
                skipBlanksAndComments()
                let list = value()
                found.append(Statement(key: key, line: keyLine, appends: appends, range: start..<position, list: list))
            }
            return found
        }

        /// A value (a list, a string, a number), or one stray byte; the list when it is one.
        mutating func value() -> List? {
            guard position < bytes.count else { return nil }
            switch bytes[position] {
            case UInt8(ascii: "["): return list()
            case UInt8(ascii: "'"), UInt8(ascii: "\""): _ = string()
            case UInt8(ascii: "\n"), UInt8(ascii: ";"): break  // no value (`a =`): the statement's end stays
            default: if atom() == nil { advance() }
            }
            return nil
        }

        /// A list from its `[` to its `]`; nil when the text ends first.
        mutating func list() -> List? {
            let open = position
            advance()
            var elements: [Element] = []
            while position < bytes.count {
                skipBlanksAndComments(newlines: true)
                guard position < bytes.count else { break }
                let start = position
                let startLine = line
                switch bytes[position] {
                case UInt8(ascii: "]"):
                    advance()
                    return List(open: open, close: start, elements: elements)
                case UInt8(ascii: ","):
                    if let last = elements.indices.last, elements[last].comma == nil { elements[last].comma = start }
                    advance()
                case UInt8(ascii: "["):
                    _ = list()
                    elements.append(Element(range: start..<position, line: startLine, value: nil))
                case UInt8(ascii: "'"), UInt8(ascii: "\""):
                    let value = string()
                    elements.append(Element(range: start..<position, line: startLine, value: value))
                default:
                    if let number = atom() {
                        elements.append(Element(range: start..<position, line: startLine, value: number))
                    } else {
                        advance()
                    }
                }
            }
            return nil
        }

        /// A quoted string, with xl's named escapes resolved. It ends at its closing quote, or (in text
        /// libxlutil rejects) at the end of its line.
        mutating func string() -> String {
            let quote = bytes[position]
            advance()
            var value: [UInt8] = []
            while position < bytes.count && bytes[position] != UInt8(ascii: "\n") {
                let byte = bytes[position]
                advance()
                if byte == quote { break }
                guard byte == UInt8(ascii: "\\"), position < bytes.count, bytes[position] != UInt8(ascii: "\n") else {
                    value.append(byte)
                    continue
                }
                let escaped = bytes[position]
                advance()
                if let resolved = Self.namedEscapes[escaped] {
                    value.append(resolved)
                } else {
                    value += [byte, escaped]
                }
            }
            return String(decoding: value, as: UTF8.self)
        }

        /// libxlu_cfg.c's escapes that stand for one byte; `\\`, `\'` and `\"` for the byte itself.
        static let namedEscapes: [UInt8: UInt8] = [
            UInt8(ascii: "\\"): UInt8(ascii: "\\"), UInt8(ascii: "'"): UInt8(ascii: "'"),
            UInt8(ascii: "\""): UInt8(ascii: "\""), UInt8(ascii: "a"): 0x07, UInt8(ascii: "b"): 0x08,
            UInt8(ascii: "f"): 0x0C, UInt8(ascii: "n"): 0x0A, UInt8(ascii: "r"): 0x0D, UInt8(ascii: "t"): 0x09,
            UInt8(ascii: "v"): 0x0B,
        ]

        /// A bare word (a number: `[0-9][0-9a-fx]*`, or stray text libxlutil would reject) up to the next
        /// delimiter; nil when there is none at `position`.
        mutating func atom() -> String? {
            let start = position
            while position < bytes.count && !Self.delimiters.contains(bytes[position]) { advance() }
            return position > start ? String(decoding: bytes[start..<position], as: UTF8.self) : nil
        }

        static let delimiters: Set<UInt8> = Set(" \t\r\n,;[]#'\"=".utf8)

        mutating func skipBlanksAndComments(newlines: Bool = false) {
            while position < bytes.count {
                let byte = bytes[position]
                if byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\r")
                    || (newlines && byte == UInt8(ascii: "\n")) {
                    advance()
                } else if byte == UInt8(ascii: "#") {
                    while position < bytes.count && bytes[position] != UInt8(ascii: "\n") { advance() }
                } else {
                    return
                }
            }
        }

        func peek(_ text: String) -> Bool {
            let wanted = Array(text.utf8)
            return position + wanted.count <= bytes.count && Array(bytes[position..<(position + wanted.count)]) == wanted
        }

        mutating func advance(_ count: Int = 1) {
            for _ in 0..<count where position < bytes.count {
                if bytes[position] == UInt8(ascii: "\n") { line += 1 }
                position += 1
            }
        }

        static func isIdentifierStart(_ byte: UInt8) -> Bool {
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte)
        }

        static func isIdentifierByte(_ byte: UInt8) -> Bool {
            isIdentifierStart(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
    }
}
