#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import XVFKit

struct XVF: ParsableCommand {
    // Every command names itself (commandName): deriving the name from the type costs a reflection
    // lookup per command at every start-up.
    static let configuration = CommandConfiguration(
        commandName: "xvf",
        abstract: "SR-IOV virtual functions and PCI passthrough on Xen hosts.",
        discussion: """
            Devices are named by address (05:10.0 or 0000:05:10.0), by PF interface (eno49), or by VF \
            (eno49/3 is VF 3 of eno49; eno49/0-6 and eno49/* where a list is taken). Every command reads \
            the host under --root (default /).

            Exit codes: 0 success; 1 an operation failed or was refused; 2 bad input (an address, a \
            device name, a spec, a file); 3 not possible on this host (no sys/bus/pci, not a Xen dom0); \
            64 a command-line usage error; 75 another xvf held the host lock longer than --wait.
            """,
        version: XVFVersion.text,
        subcommands: [ListCommand.self, ShowCommand.self, VFCountCommand.self, DriverCommand.self, BootLineCommand.self, DomainConfigCommand.self,
                      AssignableCommand.self, AssignCommand.self, ReleaseCommand.self, SaveCommand.self, RestoreCommand.self, MigrateCommand.self,
                      GuestsCommand.self, BootCommand.self, DoctorCommand.self])
}

/// The entry point of both executables: the shipped `xvf` passes the real backends, the simulator's
/// executable its simulated ones.
public enum XVFCommandLine {
    /// Set once, before the arguments are parsed; the commands read it when they make their `Host`.
    nonisolated(unsafe) static var backends = HostBackends.real

    /// Parses `arguments` (without the program name), runs the command and exits with xvf's exit code.
    public static func main(_ arguments: [String], backends: HostBackends) -> Never {
        self.backends = backends
        // `xvf --version` alone is answered before argument-parser builds its tree of every command, which
        // is two thirds of the instructions the answer costs (callgrind: 5.6M of 8.6M); the text is the same.
        if arguments == ["--version"] {
            output(XVFVersion.text + "\n")
            exit(0)
        }
        XVF.main(GlobalOptions.hoisted(arguments))
        // ArgumentParser's main returns after a command that succeeded.
        exit(0)
    }
}
