import SRIOV

/// The part of a configuration file that xvf writes: one block between marker comments. Lines outside
/// the block are the user's and stay as they are, so xvf can rewrite its part again and again.
enum ManagedBlock {
    /// The file with the block replaced by `lines` (appended when the file has no block yet).
    /// `existing` nil means the file does not exist. A block whose end marker is gone is refused: what
    /// follows its start is the user's as much as xvf's, and replacing it would delete the rest of the file.
    static func replacing(_ name: String, in existing: String?, of file: String, with lines: [String],
                          header: [String]) throws(XVFError) -> String {
        let begin = "# BEGIN \(name) (written by xvf; changes inside this block are replaced)"
        let end = "# END \(name)"
        let block = [begin] + lines + [end]
        guard let existing, !existing.isEmpty else { return (header + block).joined(separator: "\n") + "\n" }
        var kept: [Substring] = []
        var inserted = false
        var inside = false
        for line in existing.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("# BEGIN \(name) ") || line == "# BEGIN \(name)" {
                if inside { break }
                inside = true
                if !inserted { kept += block.map { Substring($0) }; inserted = true }
                continue
            }
            if inside {
                if line == end { inside = false }
                continue
            }
            kept.append(line)
        }
        if inside {
            throw XVFError(.unterminatedBlock(file: file, name: name, end: end))
        }
        if !inserted {
            while kept.last == "" { kept.removeLast() }
            kept += block.map { Substring($0) }
            kept.append("")
        }
        var text = kept.joined(separator: "\n")
        if !text.hasSuffix("\n") { text += "\n" }
        return text
    }
}
