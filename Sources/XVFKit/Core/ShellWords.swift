/// The words of a command as a POSIX shell splits it, for the plain commands an `--ssh` option holds
/// (`ssh -p 2222 -i /root/.ssh/id_migrate`). xl gives its `-s` command to `sh -c "exec SSH HOST xl
/// migrate-receive"`; xvf runs its own commands on the target with an argument vector, never through a
/// shell, so it splits the same text the same way: blanks separate words, '…' keeps everything, "…"
/// keeps everything but a backslash before " \ $ ` or a newline, and a backslash outside quotes keeps the
/// next character. What only a shell can do (expansions, redirections, pipes, globs, `~`, comments) is
/// refused rather than guessed at: a wrapper script named in the command does any of that.
enum ShellWords {
    struct Problem: Error {
        var reason: String
    }

    /// The characters that mean something to the shell outside quotes, beyond blanks and quotes.
    private static let special: Set<Character> = ["$", "`", ";", "|", "&", "<", ">", "(", ")", "*", "?", "[", "]", "{", "}",
                                                  "~", "#", "\n"]

    static func split(_ text: String) throws(Problem) -> [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var characters = text.makeIterator()
        while let character = characters.next() {
            switch character {
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case "'":
                inWord = true
                var closed = false
                while let next = characters.next() {
                    if next == "'" { closed = true; break }
                    word.append(next)
                }
                guard closed else { throw Problem(reason: "a ' is not closed") }
            case "\"":
                inWord = true
                var closed = false
                while let next = characters.next() {
                    if next == "\"" { closed = true; break }
                    if next == "$" || next == "`" { throw Problem(reason: "'\(next)' inside \"…\" asks the shell to expand") }
                    if next == "\\" {
                        guard let escaped = characters.next() else { break }
                        if !["\"", "\\", "$", "`", "\n"].contains(escaped) { word.append("\\") }
                        if escaped != "\n" { word.append(escaped) }
                        continue
                    }
                    word.append(next)
                }
                guard closed else { throw Problem(reason: "a \" is not closed") }
            case "\\":
                guard let escaped = characters.next() else { throw Problem(reason: "it ends in a \\") }
                inWord = true
                if escaped != "\n" { word.append(escaped) }
            default:
                if special.contains(character) {
                    throw Problem(reason: "'\(character == "\n" ? "\\n" : String(character))' needs the shell")
                }
                inWord = true
                word.append(character)
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// A word as a shell reads it back unchanged: as it is when plain, else in single quotes.
    static func quote(_ word: String) -> String {
        let plain = !word.isEmpty && word.unicodeScalars.allSatisfy {
            ($0.value >= 0x30 && $0.value <= 0x39) || ($0.value >= 0x41 && $0.value <= 0x5a) || ($0.value >= 0x61 && $0.value <= 0x7a)
                || "@%+=:,./_-".unicodeScalars.contains($0)
        }
        return plain ? word : "'" + word.replacing("'", with: "'\\''") + "'"
    }
}
