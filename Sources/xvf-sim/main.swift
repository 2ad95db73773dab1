import ArgumentParser
import SimHost
import SimXen
import XVFCommands

// The simulator's executable. `xvf-sim DIR` writes a simulated host; `xvf-sim xvf ARGS…` is xvf itself,
// with the simulated kernel and toolstack as its backends (the demo, the CLI tests and the benchmark run
// it this way). The shipped `xvf` holds none of this.
let arguments = Array(CommandLine.arguments.dropFirst())
if arguments.first == "xvf" {
    XVFCommandLine.main(Array(arguments.dropFirst()), backends: .simulated)
}
XVFSim.main(arguments)

/// Writes simulated hosts.
struct XVFSim: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "xvf-sim",
        abstract: "Write a simulated SR-IOV host tree (sysfs, /proc, /etc); `xvf-sim xvf --root DIR …` runs xvf on it.")

    @Argument(help: "The directory to write; it must not exist yet, or be given with --replace.") var path: String
    @Option(help: "dl360 (the seeds' HPE DL360: tg3, I350 igb, 82599 ixgbe), families (ConnectX-5, E810, X710, BCM57414) or large.")
    var layout: String = "dl360"
    @Option(help: "PFs of the large layout.") var pfs: Int = 4
    @Option(help: "VFs per PF of the large layout.") var vfs: Int = 7
    @Flag(help: "Leave out proc/xen: a host that is not a Xen dom0.") var notXen = false
    @Flag(help: "Remove an existing simulated host at the path first.") var replace = false
    @Option(name: .customLong("domain"), help: ArgumentHelp(
        "A running guest: NAME[:pv|hvm][,no-passthrough] (repeatable; ids from 1). Replaces the layout's guests.",
        valueName: "guest")) var domains: [String] = []
    @Flag(help: "A Xen without an IOMMU: quarantining devices for passthrough fails.") var noIommu = false
    @Flag(help: "dom0 runs as a PVH guest (sys/hypervisor/guest_type says PVH).") var pvhDom0 = false
    @Option(help: "The toolstack that owns the domains: xl, xapi (etc/xensource-inventory) or libvirt (run/libvirt/libxl).")
    var toolstack: String = "xl"
    @Option(help: ArgumentHelp("The libxl dpkg's status records (package libxenmisc<release>), or none.", valueName: "version"))
    var libxl: String = "4.17.7+13-g2445b30a44-0+deb12u1"

    func run() throws {
        var chosen: SimLayout
        switch layout {
        case "dl360": chosen = .dl360(xenDom0: !notXen)
        case "families":
            chosen = .families()
            chosen.xenDom0 = !notXen
        case "large":
            guard (1...200).contains(pfs), (0...255).contains(vfs) else {
                throw ValidationError("--pfs takes 1…200 and --vfs 0…255")
            }
            var large = SimLayout.large(pfs: pfs, vfsPerPF: vfs)
            large.xenDom0 = !notXen
            chosen = large
        default:
            throw ValidationError("unknown layout '\(layout)'; use dl360, families or large")
        }
        if !domains.isEmpty {
            chosen.domains = try domains.enumerated().map { index, text in
                guard let domain = SimDomain(argument: text, id: UInt32(index + 1)) else {
                    throw ValidationError("--domain \(text): write NAME, NAME:pv, NAME:hvm, or NAME:pv,no-passthrough")
                }
                return domain
            }
        }
        chosen.xenIOMMU = !noIommu
        chosen.pvhDom0 = pvhDom0
        guard let owner = SimToolstackOwner(rawValue: toolstack) else {
            throw ValidationError("--toolstack \(toolstack): write xl, xapi or libvirt")
        }
        chosen.toolstack = owner
        if libxl == "none" {
            chosen.libxl = nil
        } else {
            guard libxl.first?.isNumber == true, libxl.split(separator: ".").count >= 3 else {
                throw ValidationError("--libxl \(libxl): write a version such as 4.17.3+10-g091466ba55-1.1ubuntu3, or none")
            }
            chosen.libxl = libxl
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
