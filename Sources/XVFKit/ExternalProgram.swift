#if canImport(Glibc)
import Glibc
#endif

/// Runs a program found through `PATH` with an argument vector: never through a shell, so no argument
/// is ever re-split or expanded. xvf runs programs only where no library does the job (modprobe).
/// Tests put fake programs that record their arguments first on `PATH`.
public enum ExternalProgram {
    public struct Result: Sendable, Equatable {
        /// The exit status; 127 when the program could not be started, 128+N when signal N ended it.
        public var status: Int32
        /// What it wrote to stdout and stderr, together, in order.
        public var output: String
    }

    /// Runs `argv[0]` with `argv` and waits for it; the output is captured, not passed through.
    public static func run(_ argv: [String]) -> Result {
        precondition(!argv.isEmpty, "a program needs a name")
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            return Result(status: 127, output: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        // Neither end may leak into the child beyond its stdout and stderr (dup2 clears the flag there).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, argv[0], &actions, nil, &cArguments, environ)
        close(pipeEnds[1])
        defer { close(pipeEnds[0]) }
        guard spawned == 0 else {
            return Result(status: 127, output: "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(pipeEnds[0], $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: chunk[0..<n])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS / WTERMSIG are C macros Swift does not import.
        let signal = status & 0x7f
        let exitStatus = signal == 0 ? (status >> 8) & 0xff : 128 + signal
        var text = String(decoding: output, as: UTF8.self)
        while text.hasSuffix("\n") { text.removeLast() }
        return Result(status: exitStatus, output: text)
    }
}
