/// What a changing command tells the user once it is over: what it did, or that there was nothing to do.
/// The library hands it up and the command line renders it: as text, each line printed; under `--json`,
/// each line one of the result's `messages`. The steps themselves are not in it: the command tells them
/// as they are taken, and the journal records them for `--json`; warnings go through `Warnings`.
public struct ChangeReport: Sendable, Equatable {
    /// The lines, in order, without their newlines.
    public var lines: [String]

    public init(_ lines: [String] = []) {
        self.lines = lines
    }

    /// Nothing to add: a dry run's planned steps say what it would do.
    public static let none = ChangeReport()
}
