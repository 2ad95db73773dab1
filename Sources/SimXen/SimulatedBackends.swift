import SRIOV
import SimHost
import XVFKit
import XenPCI

extension HostBackends {
    /// The simulator's kernel and toolstack, for the simulator's own executable and the tests. Only a tree
    /// that `xvf-sim` wrote is taken, and never the running system's `/`, so a simulated change cannot land
    /// on a real host, nor a real one be read as simulated.
    public static let simulated = HostBackends(
        root: { path throws(XVFError) in
            let plain = HostRoot(path)
            guard SimulatedHost.isSimulated(plain) else {
                throw XVFError(.notSimulated(root: plain.displayPath, marker: SimulatedHost.markerFile))
            }
            // A simulated write a killed process left half-done is undone before xvf reads the tree.
            SimKernelJournal.recover(plain)
            return HostRoot(path, attributeWriter: SimulatedKernel())
        },
        toolstack: { root throws(XVFError) in SimulatedToolstack(root: root) })
}
