#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// Keeps programs from changing the machine xvf runs on when it works on another host tree.
///
/// With `--root DIR`, files and kernel attributes are the tree's, but a program such as modprobe acts on
/// the running kernel whatever the root. So with a root other than `/`, xvf runs a program only when
/// `PATH` finds it outside the system's directories: a stand-in that acts on the tree (tests put one
/// that records its arguments first on `PATH`).
enum ProgramGuard {
    static let systemDirectories = ["/sbin", "/bin", "/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"]

    static func check(_ steps: [HostStep], root: HostRoot, searchPath: String? = nil) throws(XVFError) {
        guard !root.prefix.isEmpty else { return }
        for case .run(let argv) in steps {
            guard let found = locate(argv[0], searchPath: searchPath) else {
                throw XVFError(.unavailable, "\(argv[0]) is not on PATH; install it (kmod) or fix PATH")
            }
            let directory = String(found[..<found.lastIndex(of: "/")!])
            var real = directory
            if let resolved = realpath(directory, nil) {
                real = String(cString: resolved)
                free(resolved)
            }
            if systemDirectories.contains(directory) || systemDirectories.contains(real) {
                throw XVFError(.failed, "refusing to run \(found) for the host tree \(root.displayPath): it would "
                               + "change this machine, not the tree; run without --root on the host itself")
            }
        }
    }

    /// The first executable file called `name` on `PATH`, as `posix_spawnp` would find it.
    static func locate(_ name: String, searchPath: String? = nil) -> String? {
        if name.contains("/") { return access(name, X_OK) == 0 ? name : nil }
        let path = searchPath ?? getenv("PATH").map { String(cString: $0) } ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }
}
