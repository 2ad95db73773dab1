import Synchronization

/// Warnings raised while a command runs, for the CLI to print: the library never prints, and a warning
/// (a safety check that could not do its whole job) must not turn into a failure or go unseen.
public enum Warnings {
    private static let pending = Mutex<[String]>([])

    /// Adds a warning once, however often the same check raises it.
    static func add(_ line: String) {
        pending.withLock { if !$0.contains(line) { $0.append(line) } }
    }

    /// The warnings so far, in order; the list is emptied.
    public static func take() -> [String] {
        pending.withLock { lines in
            defer { lines = [] }
            return lines
        }
    }
}
