#if canImport(Glibc)
import Glibc
#endif
import CXenLight
import SRIOV

/// Xen's toolstack libraries, loaded the first time a command needs them (never at start-up).
///
/// The release is chosen by soname among those xvf takes (`xvf_xen_release`: 4.20 down to 4.17): the
/// running hypervisor's first, then newest first; every function is called through `functions`, whose
/// member types come from the headers xvf was built with. ABI notes, from comparing bookworm's (4.17) and
/// trixie's (4.20) libxen-dev headers:
/// - `libxl_device_pci` and `libxl_dominfo` have the same size and field offsets on both, so arrays
///   libxl returns (`libxl_list_domain`, `libxl_device_pci_list`) are walked with the built-in stride;
///   `XenABITests` fails when the headers of a build disagree with those measured sizes.
/// - `libxl_physinfo` grew at its end in 4.18 (`arch_capabilities`): it is allocated as `xvf_physinfo`,
///   with room for the larger struct, since libxl_physinfo_init clears the loaded library's size.
public enum XenLibraries {
    /// The loaded libraries: the release and its functions.
    public struct Loaded {
        public let release: String
        public let functions: xvf_xen
    }

    /// The libraries, loaded once per process.
    public static func load() throws(XenLibraryError) -> Loaded {
        try loaded.get()
    }

    /// The release of Xen's libraries if they are installed and usable, without failing otherwise.
    public static var release: String? { try? loaded.get().release }

    nonisolated(unsafe) private static let loaded: Result<Loaded, XenLibraryError> = {
        var why = [CChar](repeating: 0, count: 512)
        for release in loadOrder(running: runningRelease()) {
            if let functions = xvf_xen_load(release, &why, why.count) {
                return .success(Loaded(release: release, functions: functions.pointee))
            }
            let reason = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !reason.isEmpty { return .failure(XenLibraryError(message: reason)) }
        }
        return .failure(XenLibraryError(message: missingMessage(installed: installedReleases())))
    }()

    static var supportedReleases: [String] {
        (0..<xvf_xen_release_count()).map { String(cString: xvf_xen_release($0)) }
    }

    /// The releases to try, in order: the running hypervisor's first when xvf takes it, then the others
    /// newest first. The toolstack has to be the hypervisor's own release (libxc's hypercall interface
    /// versions differ from one release to the next), which is how Debian's xl wrapper picks among
    /// installed xen-utils; and asking for an uninstalled soname costs the loader a search of every
    /// library directory (on a 4.17 dom0, some 45 failed system calls for 4.20, 4.19 and 4.18).
    static func loadOrder(running: String?) -> [String] {
        let supported = supportedReleases
        guard let running, supported.contains(running) else { return supported }
        return [running] + supported.filter { $0 != running }
    }

    /// The running hypervisor's release ("4.17") as Linux gives it, where Debian's xen-version reads it:
    /// `hypervisor/type` is xen, `hypervisor/version/major` and `minor` say which. nil elsewhere (no Xen,
    /// a kernel without Xen's sysfs). The process's own hypervisor, read by path like the libraries it
    /// picks, never under `--root`: `sysfs` is there for tests.
    static func runningRelease(sysfs: String = "/sys") -> String? {
        func value(_ name: String) -> String? {
            readFile(atPath: sysfs + "/hypervisor/" + name)
                .flatMap { String(decoding: $0, as: UTF8.self).split(separator: "\n").first.map(String.init) }
        }
        guard value("type") == "xen", let major = value("version/major").flatMap({ Int($0) }),
              let minor = value("version/minor").flatMap({ Int($0) }) else { return nil }
        return "\(major).\(minor)"
    }

    /// The releases xvf takes, oldest to newest: "4.17–4.20".
    public static var supportedRange: String {
        "\(supportedReleases.last ?? "?")–\(supportedReleases.first ?? "?")"
    }

    /// What to say when no supported release loads: the package to install, or the release that is there
    /// but outside the range xvf has been tested with.
    static func missingMessage(installed: [String]) -> String {
        let range = supportedRange
        if let other = installed.first {
            return "Xen's libxenlight \(other) is installed, but xvf is made for Xen \(range) (libxenlight.so."
                + "\(supportedReleases.last ?? "?") to .\(supportedReleases.first ?? "?")); use an xvf built for "
                + "Xen \(other), or the xl commands"
        }
        return "Xen's toolstack libraries (libxenlight, libxlutil) are not installed: install libxenmisc4.20 "
            + "(Debian 13) or libxenmisc4.17 (Debian 12), which xen-utils brings"
    }

    /// Releases of libxenlight found in the usual library directories, for the message only. These are the
    /// process's own libraries, not host state: always the real file system, never `--root`.
    static func installedReleases() -> [String] {
        var found: Set<String> = []
        for directory in ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib"] {
            guard let dir = opendir(directory) else { continue }
            defer { closedir(dir) }
            while let entry = readdir(dir) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
                let prefix = "libxenlight.so."
                guard name.hasPrefix(prefix) else { continue }
                let parts = name.dropFirst(prefix.count).split(separator: ".")
                if parts.count >= 2 { found.insert(parts[0] + "." + parts[1]) }
            }
        }
        return found.sorted()
    }
}

/// Xen's libraries cannot be used: none installed, a release outside the tested range, or one that lacks
/// a function. The message names what to install.
public struct XenLibraryError: Error, Equatable, CustomStringConvertible {
    public let message: String
    public var description: String { message }
}
