#if canImport(Glibc)
import Glibc
#endif

import SRIOV

/// Runs a program with an argument vector: never through a shell, so no argument is ever re-split or
/// expanded. xvf runs programs only where no library does the job (modprobe, ip, udevadm).
///
/// On the real root (`/`) the program comes from the system's own directories and gets an environment
/// of two variables: a root tool must not run whatever `ip` the caller's `PATH` finds first, nor hand
/// it the caller's variables (`LD_PRELOAD` is dropped by a set-id loader, not by a root shell's child).
/// For a host tree other than `/`, `ProgramGuard` lets only stand-ins run: programs that tests put on
/// `PATH` from a directory named in `XVF_FAKE_BIN`, never the machine's own; those are found through
/// `PATH` and keep the environment the tests gave them.
public enum ExternalProgram {
    /// Where programs for the real root are taken from, and the `PATH` they get.
    public static let systemPath = "/usr/sbin:/usr/bin:/sbin:/bin"
    /// The whole environment of a program run for the real root.
    public static let systemEnvironment = ["PATH=" + systemPath, "LC_ALL=C"]

    public struct Result: Sendable, Equatable {
        /// The exit status; 127 when the program could not be started, 128+N when signal N ended it.
        public var status: Int32
        /// What it wrote to stdout and stderr, together, in order.
        public var output: String
    }

    /// Runs `argv[0]` with `argv` and waits for it; the output is captured, not passed through.
    /// `input` becomes the program's standard input (`ip -batch -`); without it, stdin is /dev/null.
    public static func run(_ argv: [String], input: String? = nil, for root: HostRoot) -> Result {
        precondition(!argv.isEmpty, "a program needs a name")
        let system = root.prefix.isEmpty
        var program = argv[0]
        if system {
            guard let found = ProgramGuard.locate(argv[0], searchPath: systemPath) else {
                return Result(status: 127, output: "cannot run \(argv[0]): not found in \(systemPath)")
            }
            program = found
        }
        var pipeEnds: [Int32] = [0, 0]
        guard pipe(&pipeEnds) == 0 else {
            return Result(status: 127, output: "cannot create a pipe: \(String(cString: strerror(errno)))")
        }
        // Neither end may leak into the child beyond its stdout and stderr (dup2 clears the flag there).
        for end in pipeEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        var inputEnds: [Int32] = [-1, -1]
        if input != nil {
            guard pipe(&inputEnds) == 0 else {
                close(pipeEnds[0])
                close(pipeEnds[1])
                return Result(status: 127, output: "cannot create a pipe: \(String(cString: strerror(errno)))")
            }
            for end in inputEnds { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 1)
        posix_spawn_file_actions_adddup2(&actions, pipeEnds[1], 2)
        if input != nil {
            posix_spawn_file_actions_adddup2(&actions, inputEnds[0], 0)
        } else {
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }

        var cArguments: [UnsafeMutablePointer<CChar>?] = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid = pid_t()
        let spawned: Int32
        if system {
            var environment: [UnsafeMutablePointer<CChar>?] = systemEnvironment.map { strdup($0) } + [nil]
            defer { for pointer in environment { free(pointer) } }
            spawned = posix_spawn(&pid, program, &actions, nil, &cArguments, &environment)
        } else {
            spawned = posix_spawnp(&pid, program, &actions, nil, &cArguments, environ)
        }
        close(pipeEnds[1])
        if input != nil { close(inputEnds[0]) }
        defer { close(pipeEnds[0]) }
        guard spawned == 0 else {
            if input != nil { close(inputEnds[1]) }
            return Result(status: 127, output: "cannot run \(argv[0]): \(String(cString: strerror(spawned)))")
        }
        let output: [UInt8]
        if let input {
            output = exchange(input: Array(input.utf8), to: inputEnds[1], output: pipeEnds[0])
        } else {
            output = readAll(pipeEnds[0])
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

    private static func readAll(_ fd: Int32) -> [UInt8] {
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            output.append(contentsOf: chunk[0..<n])
        }
        return output
    }

    /// Feeds `input` to the child while collecting its output: writing all input first could block
    /// for ever once the child, its output pipe full, stops reading (a long batch with many errors).
    private static func exchange(input: [UInt8], to inputFD: Int32, output outputFD: Int32) -> [UInt8] {
        _ = fcntl(inputFD, F_SETFL, fcntl(inputFD, F_GETFL) | O_NONBLOCK)
        // A child that exits without reading all its input must not kill xvf with SIGPIPE. It stays
        // ignored: putting the old disposition back races with any other thread of the process that writes
        // to a pipe meanwhile (the test process does, and died of it once), and xvf's own writes already
        // stop quietly on EPIPE.
        _ = signal(SIGPIPE, SIG_IGN)
        var output: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        var written = 0
        var inputOpen = true
        if input.isEmpty {
            close(inputFD)
            inputOpen = false
        }
        while true {
            var fds = [pollfd(fd: outputFD, events: Int16(POLLIN), revents: 0)]
            if inputOpen { fds.append(pollfd(fd: inputFD, events: Int16(POLLOUT), revents: 0)) }
            if poll(&fds, nfds_t(fds.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            if inputOpen && fds[1].revents != 0 {
                let n = input[written...].withUnsafeBytes { write(inputFD, $0.baseAddress, $0.count) }
                if n > 0 { written += n }
                if (n < 0 && errno != EAGAIN && errno != EINTR) || written == input.count {
                    close(inputFD)
                    inputOpen = false
                }
            }
            if fds[0].revents != 0 {
                let n = chunk.withUnsafeMutableBytes { read(outputFD, $0.baseAddress, $0.count) }
                if n < 0 && (errno == EINTR || errno == EAGAIN) { continue }
                if n <= 0 { break }
                output.append(contentsOf: chunk[0..<n])
            }
        }
        if inputOpen { close(inputFD) }
        return output
    }
}
