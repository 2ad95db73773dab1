import ArgumentParser
import SimHost

/// Writes simulated hosts: the demo, the benchmark and the CLI tests run xvf on them with --root.
@main
struct XVFSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xvf-sim",
        abstract: "Write a simulated SR-IOV host tree (sysfs, /proc, /etc) for xvf --root.")

    @Argument(help: "The directory to write; it must not exist yet, or be given with --replace.") var path: String
    @Option(help: "dl360 (the seeds' HPE DL360: tg3, I350 igb, 82599 ixgbe) or large.") var layout: String = "dl360"
    @Option(help: "PFs of the large layout.") var pfs: Int = 4
    @Option(help: "VFs per PF of the large layout.") var vfs: Int = 7
    @Flag(help: "Leave out proc/xen: a host that is not a Xen dom0.") var notXen = false
    @Flag(help: "Remove an existing simulated host at the path first.") var replace = false

    func run() throws {
        let chosen: SimLayout
        switch layout {
        case "dl360": chosen = .dl360(xenDom0: !notXen)
        case "large":
            guard (1...200).contains(pfs), (0...255).contains(vfs) else {
                throw ValidationError("--pfs takes 1…200 and --vfs 0…255")
            }
            var large = SimLayout.large(pfs: pfs, vfsPerPF: vfs)
            large.xenDom0 = !notXen
            chosen = large
        default:
            throw ValidationError("unknown layout '\(layout)'; use dl360 or large")
        }
        if SimulatedHost.exists(at: path) {
            guard replace else { throw ValidationError("\(path) exists; add --replace to write it anew") }
            guard SimulatedHost.isSimulated(path) else {
                throw ValidationError("\(path) is not a simulated host (no \(SimulatedHost.markerFile)); not removing it")
            }
            SimulatedHost.remove(at: path)
        }
        SimulatedHost.build(chosen, at: path)
    }
}
