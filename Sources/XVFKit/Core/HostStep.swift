import SRIOV

/// One change to a host, as `--dry-run` prints it and as it is carried out: a kernel attribute written,
/// a program run, a file replaced. Commands build a list of steps first (refusing bad input before
/// anything happens) and then perform them in order.
public enum HostStep: Sendable, Equatable, CustomStringConvertible {
    /// Writes `value` to a kernel attribute (path relative to the host root) in one write(2).
    case writeAttribute(path: String, value: String)
    /// Runs a program with this argument vector.
    case run([String])
    /// Replaces a file (path relative to the host root) atomically with `content`.
    case replaceFile(path: String, content: String)

    /// The step as a user would type it on the host (paths as seen from the host's `/`).
    public var description: String {
        switch self {
        case .writeAttribute(let path, let value):
            // Clearing an attribute writes a newline, which `echo > FILE` does.
            return value.allSatisfy(\.isWhitespace) ? "echo > /\(path)" : "echo \(value) > /\(path)"
        case .run(let argv): return argv.joined(separator: " ")
        case .replaceFile(let path, _): return "write /\(path)"
        }
    }

    /// Carries the step out. A failure comes back as the kernel's, the program's or the file system's answer.
    public func perform(on root: HostRoot) throws(HostStepError) {
        switch self {
        case .writeAttribute(let path, let value):
            do { try root.writeAttribute(path, value) } catch { throw .kernel(error) }
        case .run(let argv):
            let result = ExternalProgram.run(argv, for: root)
            if result.status != 0 {
                let error = HostStepError.program(argv: argv, result: result)
                root.report(.program(argv), failure: error)
                throw error
            }
            root.report(.program(argv), failure: nil)
        case .replaceFile(let path, let content):
            do { try root.replaceFile(path, with: content) } catch { throw .file(error) }
        }
    }
}

/// Why a step failed.
public enum HostStepError: Error, CustomStringConvertible {
    case kernel(SysfsError)
    case program(argv: [String], result: ExternalProgram.Result)
    case file(FileError)

    public var description: String {
        switch self {
        case .kernel(let error): return error.description
        case .program(let argv, let result):
            let said = result.output.split(separator: "\n").last.map { ": " + $0 } ?? ""
            return "`\(argv.joined(separator: " "))` exited with status \(result.status)\(said)"
        case .file(let error): return error.description
        }
    }
}
