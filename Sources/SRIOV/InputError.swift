/// Input a user wrote that xvf refuses: a PCI address, a device name or a PCI spec, with a clause that
/// says what is wrong and what to write instead ("has no function number; write it as 05:10.0").
public struct InputError: Error, Equatable, CustomStringConvertible {
    /// What the input was read as.
    public enum Kind: Sendable, Equatable {
        case address
        case deviceName
        /// The message names it as one: `PCI spec '…' …`.
        case pciSpec
    }

    public let kind: Kind
    public let input: String
    public let reason: String

    public init(_ kind: Kind, _ input: String, _ reason: String) {
        self.kind = kind
        self.input = input
        self.reason = reason
    }

    /// One line: control characters (in the input, and in the parts of it the reason quotes) are shown
    /// escaped (`\n`).
    public var description: String {
        ((kind == .pciSpec ? "PCI spec " : "") + "'\(input)' \(reason)").escapingControlCharacters
    }
}
