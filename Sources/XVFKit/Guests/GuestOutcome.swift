/// What `xvf restore`, `xvf migrate` or `xvf guests` did: its report (each line what was done, or
/// would be), and what it could not do, one sentence each, which the command line reports after it with
/// exit status 1 (the guests run either way).
public struct GuestOutcome: Sendable, Equatable {
    public var report: ChangeReport
    public var failures: [String]

    public init(report: ChangeReport = ChangeReport(), failures: [String] = []) {
        self.report = report
        self.failures = failures
    }

    /// A run that only has something to say.
    init(_ lines: [String]) {
        self.init(report: ChangeReport(lines))
    }

    /// This outcome followed by `next`'s: lines after lines, failures after failures.
    mutating func append(_ next: GuestOutcome) {
        report.lines += next.report.lines
        failures += next.failures
    }
}
