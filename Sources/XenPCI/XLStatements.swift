/// Where each setting of an xl config sits in its text: the key, its line, and for a list the line of
/// every string item. libxlutil reads the values but keeps no line numbers for list items and offers no
/// way to list the keys a file sets, so error messages that name `FILE:LINE` and checks for unknown keys
/// need this scan of the same text.
///
/// It follows xl.cfg's lexical rules (libxlu_cfg_l.l): `#` comments to the end of the line, strings in
/// '…' or "…" with backslash escapes, statements ended by a newline or `;`, lists that may span lines
/// and nest. Only text libxlutil has already accepted is scanned, so it need not diagnose syntax.
public struct XLStatements: Sendable {
    public struct Statement: Sendable, Equatable {
        public var key: String
        public var line: Int
        /// `+=`: the items are added to the list set before.
        public var appends: Bool
        /// The string items of a list with their lines; nil when the value is not a list.
        public var items: [Item]?
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
    /// nil when the key is not a list of strings in every statement that sets it.
    public func items(of key: String) -> [Item]? {
        var result: [Item]?
        for statement in statements where statement.key == key {
            guard let items = statement.items else { return nil }
            result = statement.appends ? (result ?? []) + items : items
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
                    skipValue()
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
                var items: [Item]?
                if position < bytes.count && bytes[position] == UInt8(ascii: "[") {
                    items = list()
                } else {
                    skipValue()
                }
                found.append(Statement(key: key, line: keyLine, appends: appends, items: items))
            }
            return found
        }

        /// A list from its `[` to its `]`; nil when an item is not a string (a number, a nested list).
        mutating func list() -> [Item]? {
            advance()
            var items: [Item] = []
            var onlyStrings = true
            while position < bytes.count {
                skipBlanksAndComments(newlines: true)
                guard position < bytes.count else { break }
                let byte = bytes[position]
                if byte == UInt8(ascii: "]") {
                    advance()
                    return onlyStrings ? items : nil
                }
                if byte == UInt8(ascii: ",") {
                    advance()
                } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                    let itemLine = line
                    items.append(Item(value: string(), line: itemLine))
                } else if byte == UInt8(ascii: "[") {
                    _ = list()
                    onlyStrings = false
                } else {
                    onlyStrings = false
                    advance()
                }
            }
            return onlyStrings ? items : nil
        }

        /// A quoted string with xl's backslash escapes resolved the simple way (the escaped byte itself).
        mutating func string() -> String {
            let quote = bytes[position]
            advance()
            var value: [UInt8] = []
            while position < bytes.count {
                let byte = bytes[position]
                if byte == quote {
                    advance()
                    break
                }
                if byte == UInt8(ascii: "\\") && position + 1 < bytes.count {
                    advance()
                    value.append(bytes[position])
                    advance()
                    continue
                }
                value.append(byte)
                advance()
            }
            return String(decoding: value, as: UTF8.self)
        }

        /// Anything that is not a statement's start: a string, a list, a number, up to the statement's end.
        mutating func skipValue() {
            guard position < bytes.count else { return }
            switch bytes[position] {
            case UInt8(ascii: "'"), UInt8(ascii: "\""): _ = string()
            case UInt8(ascii: "["): _ = list()
            default: advance()
            }
        }

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
