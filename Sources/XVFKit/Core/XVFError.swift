import SRIOV

/// A failure xvf reports in one line: what failed (`code`, whose sentence and exit code are written in
/// XVFErrorCode.swift), the lower-level error behind it where there was one, and what the command had
/// done before it or did about it after.
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

    public let code: Code
    /// The error from below that caused this one (`SysfsError`, `FileError`, `ToolstackError`,
    /// `InputError`, or the `XVFError` of a step this one wraps).
    public let underlying: (any Error)?
    /// What the command had finished before the failure, said first, each clause followed by "; ".
    public private(set) var done: [String] = []
    /// What followed the failure (the steps undone, the state left, the way round), said last, each
    /// clause after "; ".
    public private(set) var afterwards: [Aftermath] = []

    public init(_ code: Code, underlying: (any Error)? = nil) {
        self.code = code
        self.underlying = underlying
    }

    public var kind: Kind { code.kind(underlying) }
    public var exitCode: Int32 { kind.rawValue }

    /// The line xvf prints after "xvf: ".
    public var message: String {
        done.map { $0 + "; " }.joined() + code.sentence(underlying) + afterwards.map { "; " + $0.sentence }.joined()
    }
    public var description: String { message }

    /// A failure whose details the command already printed (each failed step of `xvf boot`, the failed
    /// checks of `xvf doctor`): only the exit code is left to give.
    public static func reported(_ kind: Kind) -> XVFError { XVFError(.reported(kind)) }
    public var isReported: Bool {
        if case .reported = code { return true }
        return false
    }

    /// The same failure with what followed it said after it; nil, or an empty report, adds nothing.
    func followed(by aftermath: Aftermath?) -> XVFError {
        var error = self
        if let aftermath, aftermath != .report("") { error.afterwards.append(aftermath) }
        return error
    }

    /// The same failure after what the command had already done; an empty clause adds nothing.
    func after(_ clause: String) -> XVFError {
        var error = self
        if !clause.isEmpty { error.done.append(clause) }
        return error
    }
}

extension XVFError {
    public init(_ error: InputError) { self.init(.input, underlying: error) }
    public init(_ error: DiscoveryError) { self.init(.noPCIBus, underlying: error) }
}
