extension StringProtocol {
    /// The text without the characters `drop` matches at either end; by default spaces and tabs, which
    /// pad values in config files and sysfs lists.
    public func trimming(_ drop: (Character) -> Bool = { $0 == " " || $0 == "\t" }) -> String {
        var text = self[...]
        while let first = text.first, drop(first) { text.removeFirst() }
        while let last = text.last, drop(last) { text.removeLast() }
        return String(text)
    }
}
