/// What `xvf restore` or `xvf guests` did: its report, and what it could not do, one sentence each,
/// reported after it with exit status 1 (the guests run either way).
public struct GuestOutcome {
    public var report: String
    public var failures: [String]
}
