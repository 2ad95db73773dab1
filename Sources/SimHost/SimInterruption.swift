#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The simulator's fault injection for the tests of interrupted commands: every simulated kernel write
/// and every simulated toolstack call is one numbered operation, and `XVF_SIM_KILL_AT=N` kills the
/// process (SIGKILL, as a crash or `kill -9` would) just before operation N. `XVF_SIM_OPERATIONS=FILE`
/// appends each operation's number and name to FILE, which is how a test learns how many points an
/// uninterrupted run has, to walk every one. Only the simulator's executable has this; xvf does not.
public enum SimInterruption {
    private static let counter = Mutex(0)
    private static let killAt: Int? = getenv("XVF_SIM_KILL_AT").flatMap { Int(String(cString: $0)) }
    private static let operationLog: String? = getenv("XVF_SIM_OPERATIONS").map { String(cString: $0) }

    /// Called before each simulated operation.
    public static func operation(_ what: String) {
        guard killAt != nil || operationLog != nil else { return }
        let number = counter.withLock { n in
            n += 1
            return n
        }
        if let operationLog {
            let fd = open(operationLog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
            if fd >= 0 {
                let line = Array("\(number) \(what)\n".utf8)
                _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
                close(fd)
            }
        }
        if number == killAt { kill(getpid(), SIGKILL) }
    }

    private static let fileCounter = Mutex(0)
    private static let killInWrite: Int? = getenv("XVF_SIM_KILL_IN_WRITE").flatMap { Int(String(cString: $0)) }

    /// Called before each file a simulated kernel write changes: `XVF_SIM_KILL_IN_WRITE=N` kills the
    /// process just before the Nth such change of the run (the middle of a system call, for the kernel's
    /// journal to undo).
    static func fileChange(_ relative: String) {
        guard let killInWrite else { return }
        let number = fileCounter.withLock { n in
            n += 1
            return n
        }
        if number == killInWrite { kill(getpid(), SIGKILL) }
    }
}
