import ArgumentParser
import XVFKit

/// Options every command takes. They may also stand before the command (`xvf --root DIR list`).
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp("The host root: / on a real host, a tree for tests and the demo.",
                                            valueName: "path"))
    var root: String = "/"

    @Flag(name: .shortAndLong, help: "Print libxl's own log of the run on standard error.")
    var verbose = false

    @Option(name: .long, help: ArgumentHelp("How long a change waits for another xvf to finish.",
                                            valueName: "seconds"))
    var wait: Int = Host.defaultLockTimeout
}

extension GlobalOptions {
    /// The host the options name, with the lock's patience and its notice on standard error.
    func host() throws(XVFError) -> Host {
        let host = try Host(rootPath: root, backends: XVFCommandLine.backends)
        host.lockTimeout = max(wait, 0)
        host.onLockWait = { printError("xvf: " + $0) }
        return host
    }

    /// Moves global options written before the subcommand to after it, where the parser looks for them.
    static func hoisted(_ arguments: [String]) -> [String] {
        var leading: [String] = []
        var rest = arguments[...]
        while let first = rest.first {
            if first == "--root", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first == "--wait", rest.count >= 2 {
                leading += rest.prefix(2)
                rest = rest.dropFirst(2)
            } else if first.hasPrefix("--root=") || first.hasPrefix("--wait=") || first == "-v" || first == "--verbose" {
                leading.append(first)
                rest = rest.dropFirst()
            } else {
                break
            }
        }
        guard !leading.isEmpty, let command = rest.first, !command.hasPrefix("-") else { return arguments }
        var result = [command]
        rest = rest.dropFirst()
        // A command with subcommands of its own (`assignable add`) takes the options after those.
        while let next = rest.first, !next.hasPrefix("-"), XVF.isCommandPath(result + [next]) {
            result.append(next)
            rest = rest.dropFirst()
        }
        return result + leading + rest
    }
}

extension XVF {
    /// Whether `names` is a command and its subcommands (`assignable add`), by their configured names.
    static func isCommandPath(_ names: [String]) -> Bool {
        var command: ParsableCommand.Type = XVF.self
        for name in names {
            guard let sub = command.configuration.subcommands.first(where: {
                $0.configuration.commandName == name || $0.configuration.aliases.contains(name)
            }) else { return false }
            command = sub
        }
        return true
    }
}
