#if canImport(Glibc)
import Glibc
#endif
import CXenLight
import SRIOV

/// Xen's toolstack libraries, loaded the first time a command needs them (never at start-up).
///
/// The release is chosen by soname among those xvf takes (`xvf_xen_release`: 4.22 down to 4.17): the
/// running hypervisor's first, then newest first; every function is called through `functions`, whose
/// member types come from the headers xvf was built with. ABI notes, from Xen's own public headers and
/// libxl_types.idl at RELEASE-4.17.0 through RELEASE-4.22.0 (and bookworm's and trixie's libxen-dev):
/// - `libxl_device_pci` and `libxl_dominfo` have the same fields in every one of them, so arrays libxl
///   returns (`libxl_list_domain`, `libxl_device_pci_list`) are walked with the built-in stride;
///   `XenABITests` fails when the headers of a build disagree with those measured sizes.
/// - `libxl_physinfo` grew at its end once, in 4.18.0 (`arch_capabilities`): it is allocated as
///   `xvf_physinfo`, with room for the larger struct, since libxl_physinfo_init clears the loaded
///   library's size.
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

    // The distribution is the process's own, like its libraries: the package to install is the one that
    // gives this process libxenlight, so os-release is read under `/`, whatever `--root` a command has.
    nonisolated(unsafe) private static let loaded: Result<Loaded, XenLibraryError> =
        load(from: nil, running: runningRelease(), installed: installedReleases(), osRelease: OSRelease(HostRoot("/")))

    /// Tries the releases xvf takes in `loadOrder`, by soname (`directory` nil: the dynamic loader's
    /// search, the shipped path) or as files in `directory` (tests hand it libraries named as another
    /// release's). When none is there, the error names what is installed (`installed`, outside the range)
    /// or the package `osRelease`'s distribution has them in.
    static func load(from directory: String?, running: String?, installed: @autoclosure () -> [String],
                     osRelease: @autoclosure () -> OSRelease) -> Result<Loaded, XenLibraryError> {
        var why = [CChar](repeating: 0, count: 512)
        // Raw memory: the struct's members are non-null function pointers, which Swift gives no empty value.
        let functions = UnsafeMutablePointer<xvf_xen>.allocate(capacity: 1)
        defer { functions.deallocate() }
        for release in loadOrder(running: running) {
            if xvf_xen_load(directory, release, functions, &why, why.count) != 0 {
                return .success(Loaded(release: release, functions: functions.move()))
            }
            let reason = String(decoding: why.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if !reason.isEmpty { return .failure(XenLibraryError(message: reason)) }
        }
        return .failure(XenLibraryError(message: missingMessage(installed: installed(), osRelease: osRelease())))
    }

    /// The releases xvf takes, newest first: "4.22" … "4.17".
    public static var supportedReleases: [String] {
        (0..<xvf_xen_release_count()).map { String(cString: xvf_xen_release($0)) }
    }

    /// The releases to try, in order: the running hypervisor's first when xvf takes it, then the others
    /// newest first. The toolstack has to be the hypervisor's own release (libxc's hypercall interface
    /// versions differ from one release to the next: the domctl interface changed again in 4.22), which
    /// is how Debian's xl wrapper picks among installed xen-utils; and asking for an uninstalled soname
    /// costs the loader a search of every library directory (on a 4.17 dom0, some 45 failed system calls
    /// for 4.20, 4.19 and 4.18).
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

    /// The releases xvf takes, oldest to newest: "4.17–4.22".
    public static var supportedRange: String {
        "\(supportedReleases.last ?? "?")–\(supportedReleases.first ?? "?")"
    }

    /// What to say when no supported release loads: the release that is there but outside the range xvf
    /// takes, or the package to install on this distribution.
    static func missingMessage(installed: [String], osRelease: OSRelease) -> String {
        let range = supportedRange
        if let other = installed.first {
            return "Xen's libxenlight \(other) is installed, but xvf is made for Xen \(range) (libxenlight.so."
                + "\(supportedReleases.last ?? "?") to .\(supportedReleases.first ?? "?")); use an xvf built for "
                + "Xen \(other), or the xl commands"
        }
        return "Xen's toolstack libraries (libxenlight, libxlutil) are not installed: " + installHint(osRelease)
    }

    /// The package with libxenlight, libxlutil and libxenctrl on the distribution `/etc/os-release` names,
    /// as each ships them (their package indexes): Debian's and Ubuntu's libxenmisc<release> (Ubuntu 24.04
    /// renamed it for its 64-bit time_t transition), the xen-libs of Fedora, openSUSE and Alpine.
    static func installHint(_ os: OSRelease) -> String {
        let version = os.versionID.map { " " + $0 } ?? ""
        let hint: (package: String, distribution: String)?
        switch (os.id, os.versionID) {
        case ("debian", "12"): hint = ("libxenmisc4.17", "Debian 12")
        case ("debian", "13"): hint = ("libxenmisc4.20", "Debian 13")
        case ("ubuntu", "24.04"): hint = ("libxenmisc4.17t64", "Ubuntu 24.04")
        case ("ubuntu", "26.04"): hint = ("libxenmisc4.20", "Ubuntu 26.04")
        case ("fedora", _): hint = ("xen-libs", "Fedora" + version)
        case ("alpine", _): hint = ("xen-libs", "Alpine" + version)
        default: hint = os.id.hasPrefix("opensuse") || os.isLike("suse") ? ("xen-libs", os.name ?? "openSUSE") : nil
        }
        if let hint {
            return "install \(hint.package) (\(hint.distribution)), which comes with Xen's tools"
        }
        return "install your distribution's package with libxenlight.so.\(supportedReleases.last ?? "?") to "
            + ".\(supportedReleases.first ?? "?") (it comes with Xen's tools, xl)"
    }

    /// Releases of libxenlight found in the usual library directories, for the message only. These are the
    /// process's own libraries, not host state: always the real file system, never `--root`.
    static func installedReleases(in directories: [String] = ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
                                                               "/usr/local/lib"]) -> [String] {
        var found: Set<String> = []
        for directory in directories {
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
