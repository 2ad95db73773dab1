import SRIOV

/// Where `xvf migrate` sends guests, and how it reaches the xvf there: through the transport xl itself
/// uses. xl runs `sh -c "exec SSH HOST xl migrate-receive"` (tools/xl/xl_migrate.c), SSH being `-s`'s
/// command or `ssh`; xvf runs `SSH HOST xvf …` with an argument vector, SSH split into words as that shell
/// splits it (`ShellWords`). With an empty `-s`, xl runs HOST itself as the receiving command (`xl
/// migrate-receive`: this host), and xvf gives the guest its devices here, in its own process.
///
/// The programs run as every program xvf runs (`ExternalProgram`): on the real root, `ssh` comes from the
/// system's directories with only PATH and LC_ALL in its environment, as xl's own ssh gets when xvf runs
/// xl, so root's key must work without an agent.
struct MigrationTarget {
    /// HOST as xl gets it.
    var host: String
    /// `-s` as xl gets it; nil leaves xl's default.
    var sshCommand: String?
    /// The words before xvf's own on the target (`ssh -p 2222 HOST`); nil for this host.
    var remote: [String]?

    init(host: String, sshCommand: String?) throws(XVFError) {
        self.host = host
        self.sshCommand = sshCommand
        guard !host.isEmpty else { throw XVFError(.emptyTargetHost) }
        if sshCommand == "" {
            remote = nil
            return
        }
        let words: [String]
        do { words = try ShellWords.split(sshCommand ?? "ssh") } catch {
            throw XVFError(.sshUnsplittable(command: sshCommand ?? "", reason: error.reason), underlying: error)
        }
        guard !words.isEmpty else { throw XVFError(.sshEmpty) }
        // xl puts HOST into its shell command as it is: anything a shell would split or expand makes xl's
        // receiver and xvf's commands reach different places.
        guard (try? ShellWords.split(host)) == [host], !host.hasPrefix("-") else {
            throw XVFError(.badHostName(host))
        }
        remote = words + [host]
    }

    /// How the reports name it.
    var label: String { remote == nil ? "this host" : host }

    /// xl's command line, as the reports and the dry run show it.
    func xlCommand(_ domain: UInt32) -> String {
        RecordedToolstack.migrateDetail(domain: String(domain), host: host, sshCommand: sshCommand)
    }

    /// The command that runs xvf on the target with `arguments`, as the user types it.
    func command(_ arguments: [String]) -> String {
        ((remote ?? []) + ["xvf"] + arguments).map(ShellWords.quote).joined(separator: " ")
    }

    /// Runs xvf on the target (only for a remote one) with `arguments`, `input` on its standard input.
    func runXVF(_ arguments: [String], input: String? = nil, root: HostRoot) -> ExternalProgram.Result {
        ExternalProgram.run((remote ?? []) + ["xvf"] + arguments, input: input, for: root)
    }

    /// The line a failed remote command ends with, without xvf's prefix: its reason, for one-line refusals.
    static func lastLine(_ output: String) -> String {
        let line = output.split(separator: "\n").last { !$0.allSatisfy(\.isWhitespace) }.map(String.init) ?? "it said nothing"
        return line.hasPrefix("xvf: ") ? String(line.dropFirst(5)) : line
    }
}
