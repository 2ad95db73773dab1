import Synchronization
import SRIOV
import XenPCI

/// One step of a command as its `--json` result reports it: what kind of change, on which device or
/// file, and how it ended.
public struct RecordedStep: Sendable, Equatable {
    public enum Status: String, Sendable {
        /// Carried out.
        case done
        /// A dry run's plan: it would be carried out.
        case planned
        /// Tried, and the kernel, libxl, a program or the file system refused it.
        case failed
        /// Carried out, then put back after a later step failed.
        case undone
    }

    /// The kind of change: `sysfs_write`, `file_write`, `file_remove`, `program`, `vf_settings` (`ip link
    /// set … vf N …`), `assignable_add`, `assignable_remove`, `attach`, `detach`; an undo step that failed
    /// is the kind of what it undid after `undo ` (`undo sysfs_write`).
    public var what: String
    /// The device (`0000:04:10.0`) or file (`/etc/xen/web1.cfg`) it acts on.
    public var target: String
    public var status: Status
    /// The step as a user would type it (`echo 4 > /sys/…/sriov_numvfs`, `libxl_device_pci_add …`).
    public var detail: String
    /// A file's new content (for `file_write`): what a caller shows as the diff.
    public var content: String?
    /// Why it failed.
    public var failure: String?
}

/// What a command changed on the host, step by step, for `--json`. The host root and the toolstack tell
/// it of every change they carry out, so the record cannot leave a change out; the commands add only
/// their dry-run plans and mark which of their changes undo earlier ones.
public final class StepJournal: HostChangeObserver, Sendable {
    private struct State {
        var steps: [RecordedStep] = []
        var undoing = 0
    }
    private let state = Mutex(State())

    public init() {}

    public var steps: [RecordedStep] { state.withLock { $0.steps } }

    public func observe(_ change: HostChange, failure: (any Error)?) {
        record(Self.step(for: change, status: failure == nil ? .done : .failed, failure: failure.map { "\($0)" }))
    }

    /// A step of a dry run's plan.
    public func plan(_ step: HostStep) {
        record(Self.step(for: step.change, status: .planned, failure: nil))
    }

    /// A toolstack step of a dry run's plan.
    public func plan(_ what: String, target: String, detail: String) {
        record(RecordedStep(what: what, target: target, status: .planned, detail: detail))
    }

    /// Runs `body`, whose changes put back what earlier steps did: each marks the latest step done on the
    /// same target as undone instead of being listed; an undo step that fails is listed as failed.
    public func undoing<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        state.withLock { $0.undoing += 1 }
        defer { state.withLock { $0.undoing -= 1 } }
        return try body()
    }

    func record(_ step: RecordedStep) {
        state.withLock { state in
            guard state.undoing > 0 else {
                state.steps.append(step)
                return
            }
            if step.status == .done {
                if let index = state.steps.lastIndex(where: { $0.target == step.target && $0.status == .done }) {
                    state.steps[index].status = .undone
                }
            } else {
                var failed = step
                failed.what = "undo " + step.what
                state.steps.append(failed)
            }
        }
    }

    /// The record of a change: the device an attribute write acts on is its target (the device's own
    /// directory, or the address written to a driver's bind, unbind or new_slot), else the path.
    static func step(for change: HostChange, status: RecordedStep.Status, failure: String?) -> RecordedStep {
        switch change {
        case .attribute(let path, let value):
            let parts = path.split(separator: "/")
            var target = "/" + path
            if parts.count >= 5, parts.starts(with: ["sys", "bus", "pci", "devices"]) {
                target = String(parts[4])
            } else if (try? PCIAddress(parsing: value.trimming(\.isWhitespace))) != nil {
                target = value.trimming(\.isWhitespace)
            }
            return RecordedStep(what: "sysfs_write", target: target, status: status,
                                detail: HostStep.writeAttribute(path: path, value: value).description, failure: failure)
        case .file(let path, let content):
            return RecordedStep(what: "file_write", target: "/" + path, status: status, detail: "write /" + path,
                                content: content, failure: failure)
        case .removedFile(let path):
            return RecordedStep(what: "file_remove", target: "/" + path, status: status, detail: "rm /" + path,
                                failure: failure)
        case .program(let argv) where argv.count >= 7 && argv[0] == "ip" && argv[1...3] == ["link", "set", "dev"]
            && argv[5] == "vf":
            return RecordedStep(what: "vf_settings", target: argv[4] + "/" + argv[6], status: status,
                                detail: argv.joined(separator: " "), failure: failure)
        case .program(let argv):
            // modprobe's target is the module; any other program is named by itself.
            let module = argv.first == "modprobe" ? argv.dropFirst().first { !$0.hasPrefix("-") } : nil
            return RecordedStep(what: "program", target: module ?? argv.first ?? "", status: status,
                                detail: argv.joined(separator: " "), failure: failure)
        }
    }
}

extension HostStep {
    /// The change this step makes, as the root reports it when the step is carried out.
    var change: HostChange {
        switch self {
        case .writeAttribute(let path, let value): return .attribute(path: path, value: value)
        case .run(let argv): return .program(argv)
        case .replaceFile(let path, let content): return .file(path: path, content: content)
        }
    }
}

extension HostRoot {
    /// Runs `body`, whose changes put back what the command changed before (see `StepJournal.undoing`).
    func undoing<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        guard let journal = observer as? StepJournal else { return try body() }
        return try journal.undoing(body)
    }

    /// The command's journal, for its dry-run plan; nil when nobody records (a root made by hand).
    var journal: StepJournal? { observer as? StepJournal }
}
