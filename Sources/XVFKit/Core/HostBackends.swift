import SRIOV
import XenPCI

/// What a `Host` changes the machine through: the writer of kernel attributes and the toolstack.
///
/// They are handed in from outside, so nothing in a host tree decides which code runs: the shipped `xvf`
/// passes `.real` (sysfs writes and libxl); the simulator's own executable passes its simulated kernel and
/// toolstack, which no product ships (compare swift-system's mocking driver, present in debug builds only).
public struct HostBackends: Sendable {
    /// The root at a path, with the writer that carries out kernel attribute writes under it.
    public var root: @Sendable (String) throws(XVFError) -> HostRoot
    /// Opens the toolstack of a root already known to be a Xen dom0; called once per run.
    public var toolstack: @Sendable (HostRoot) throws(XVFError) -> any Toolstack

    public init(root: @escaping @Sendable (String) throws(XVFError) -> HostRoot,
                toolstack: @escaping @Sendable (HostRoot) throws(XVFError) -> any Toolstack) {
        self.root = root
        self.toolstack = toolstack
    }

    /// The running machine: writes go to the kernel, Xen is reached through libxl. libxl works on the
    /// running system only (its sysfs and xenstore paths are fixed), so any other root has no toolstack.
    public static let real = HostBackends(
        root: { path throws(XVFError) in HostRoot(path, attributeWriter: KernelAttributeWriter()) },
        toolstack: { root throws(XVFError) in try openLibxl(root) })

    private static func openLibxl(_ root: HostRoot) throws(XVFError) -> any Toolstack {
        guard root.isRunningSystem else {
            throw XVFError(.libxlNeedsRunningHost(root: root.displayPath))
        }
        let libraries: XenLibraries.Loaded
        do { libraries = try XenLibraries.load() } catch {
            throw XVFError(.xenLibraries, underlying: error)
        }
        do {
            return try LibxlToolstack(libraries) { argv in
                let result = ExternalProgram.run(argv, for: root)
                return (result.status, result.output)
            }
        } catch {
            throw XVFError(.libxlCannotStart(error), underlying: error)
        }
    }
}
