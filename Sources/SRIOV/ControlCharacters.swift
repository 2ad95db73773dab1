extension String {
    /// The text with control characters shown escaped (`\n`, `\u{1B}`): names and values read from the
    /// host (an interface name, a driver link, a file) reach error lines, tables and the journal, where a
    /// raw newline or escape sequence could forge a line of xvf's own (`xvf: …`) or rewrite the terminal.
    public var escapingControlCharacters: String {
        guard unicodeScalars.contains(where: \.isControl) else { return self }
        return unicodeScalars.map { $0.isControl ? $0.escaped(asASCII: true) : String($0) }.joined()
    }

    /// The same, keeping line breaks: for text of several lines, each escaped on its own.
    public var escapingControlCharactersButNewlines: String {
        guard unicodeScalars.contains(where: \.isControl) else { return self }
        return split(separator: "\n", omittingEmptySubsequences: false).map { String($0).escapingControlCharacters }
            .joined(separator: "\n")
    }
}

extension Unicode.Scalar {
    /// C0 controls, DEL and C1 controls (a C1 CSI starts a terminal escape as ESC [ does).
    var isControl: Bool { value < 0x20 || (0x7f...0x9f).contains(value) }
}
