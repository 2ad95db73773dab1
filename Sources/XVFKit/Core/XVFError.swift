import SRIOV

/// A failure xvf reports in one line, with the exit code that says what kind it is.
public struct XVFError: Error, CustomStringConvertible {
    public enum Kind: Int32, Sendable {
        /// An operation was refused or failed (kernel, libxl, a safety check).
        case failed = 1
        /// The user named something wrong: an address, a device, a spec, a file.
        case badInput = 2
        /// This host cannot do it: no PCI bus under the root, not a Xen dom0.
        case unavailable = 3
        /// Another xvf held the host lock for longer than the command would wait (sysexits' EX_TEMPFAIL:
        /// try again later).
        case busy = 75
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }

    /// A failure whose details the command already printed (each failed step of `xvf boot`, the failed
    /// checks of `xvf doctor`): only the exit code is left to give.
    public static func alreadyReported(_ kind: Kind) -> XVFError { XVFError(kind, "") }
    public var exitCode: Int32 { kind.rawValue }
}

extension XVFError {
    public init(_ error: InputError) { self.init(.badInput, error.description) }
    public init(_ error: DiscoveryError) { self.init(.unavailable, error.description) }
}
