import XenPCI

/// What a command that changes the host came to, as `--json` prints it: one object on standard output
/// whether the command succeeded or was refused, so a caller (Ansible, a script) reads one thing.
/// Its fields are a stable interface (README, "JSON results").
public struct OperationResult {
    public var dryRun: Bool
    public var steps: [RecordedStep]
    public var warnings: [String]
    /// What the command would have printed as text, one line each.
    public var messages: [String]
    public var error: XVFError?

    public init(dryRun: Bool, steps: [RecordedStep], warnings: [String], messages: [String], error: XVFError?) {
        self.dryRun = dryRun
        self.steps = steps
        self.warnings = warnings
        self.messages = messages
        self.error = error
    }

    /// True when something on the host changed (a step done and not undone) or, in a dry run, would.
    public var changed: Bool { steps.contains { $0.status == .done || $0.status == .planned } }

    /// The result as JSON; `withContent` gives each file step its new content, secrets masked
    /// (`XLSecrets`). Left out by default: a domain config can hold passwords, and results end up in logs.
    public func json(withContent: Bool = false) -> JSON {
        .object([
            ("changed", .bool(changed)),
            ("dry_run", .bool(dryRun)),
            ("steps", .array(steps.map { Self.json($0, withContent: withContent) })),
            ("warnings", .array(warnings.map(JSON.string))),
            ("messages", .array(messages.map(JSON.string))),
            ("error", error.map { error in
                .object([("kind", .string(error.kind.name)), ("message", .string(error.message)),
                         ("exit_code", .int(Int(error.exitCode)))])
            } ?? .null),
        ])
    }

    static func json(_ step: RecordedStep, withContent: Bool) -> JSON {
        var fields: [(String, JSON)] = [
            ("what", .string(step.what)), ("target", .string(step.target)), ("status", .string(step.status.rawValue)),
            ("detail", .string(step.detail)),
        ]
        if withContent, let content = step.content { fields.append(("content", .string(XLSecrets.masking(content)))) }
        if let failure = step.failure { fields.append(("failure", .string(failure))) }
        return .object(fields)
    }
}

extension XVFError.Kind {
    /// The kind as `--json` names it.
    public var name: String {
        switch self {
        case .failed: return "failed"
        case .badInput: return "bad_input"
        case .unavailable: return "unavailable"
        case .busy: return "busy"
        }
    }
}
