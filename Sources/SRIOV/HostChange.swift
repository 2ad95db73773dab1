/// A change made to the host through its root: what a command's record of its steps is built from.
/// Every kernel attribute write and file replacement goes through `HostRoot`, so recording them there
/// means a command cannot change the host without its `--json` result saying so.
public enum HostChange: Sendable, Equatable {
    /// A kernel attribute written (path relative to the root).
    case attribute(path: String, value: String)
    /// A file replaced with this content (path relative to the root).
    case file(path: String, content: String)
    /// A file removed (path relative to the root).
    case removedFile(path: String)
    /// A program run to change the host (`modprobe`, `ip link set`).
    case program([String])
}

/// Watches the changes made through a root; `failure` is the error when the change did not take.
public protocol HostChangeObserver: AnyObject, Sendable {
    func observe(_ change: HostChange, failure: (any Error)?)
}
