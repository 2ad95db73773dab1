#if canImport(Glibc)
import Glibc
#endif
import SRIOV

/// Keeps programs from changing the machine xvf runs on when it works on another host tree.
///
/// With `--root DIR`, files and kernel attributes are the tree's, but a program such as modprobe acts on
/// the running kernel whatever the root. So with a root other than `/`, xvf runs a program only when
/// the file `PATH` finds is, links resolved, a declared stand-in: inside a directory named in
/// `XVF_FAKE_BIN` (colon-separated; tests put fakes that record their arguments there). Deciding by
/// where the program really lives, not by the `PATH` directory, is what catches `~/bin/ip ->
/// /usr/sbin/ip`; allowing only declared places rather than refusing known system ones is what catches
/// the ones nobody listed (/snap/bin, /nix/store, /usr/lib/…, a copy of the real program in $HOME).
enum ProgramGuard {
    /// The environment variable that names the directories stand-ins may live in.
    static let fakeBinVariable = "XVF_FAKE_BIN"

    static func check(_ steps: [HostStep], root: HostRoot, searchPath: String? = nil,
                      fakeDirectories: String? = nil) throws(XVFError) {
        guard !root.prefix.isEmpty else { return }
        let allowed = (fakeDirectories ?? getenv(fakeBinVariable).map { String(cString: $0) } ?? "")
            .split(separator: ":").compactMap { canonical(String($0)) }
        for case .run(let argv) in steps {
            guard let found = locate(argv[0], searchPath: searchPath) else {
                throw XVFError(.programMissing(argv[0], package: ["ip": "iproute2", "modprobe": "kmod"][argv[0]]))
            }
            // An unresolvable program is refused like a system one: nothing shows it is a stand-in.
            let real = canonical(found)
            let isStandIn = real.map { program in allowed.contains { isInside(program, $0) } } ?? false
            if !isStandIn {
                throw XVFError(.programWouldChangeHost(path: found, tree: root.displayPath,
                                                       real: real.flatMap { $0 == found ? nil : $0 }))
            }
        }
    }

    /// Whether `path` is `directory` or lies beneath it (both canonical).
    static func isInside(_ path: String, _ directory: String) -> Bool {
        directory == "/" || path == directory || path.hasPrefix(directory + "/")
    }

    static func canonical(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
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
