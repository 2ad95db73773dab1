#if canImport(Glibc)
import Glibc
#endif

/// libxl's full version, the point release and the commits after it, which the soname does not carry
/// (libxenlight.so.4.17.0 is the file of every 4.17.N).
///
/// Where it comes from, in order of trust:
/// - the package database that installed the library: dpkg's status on Debian and Ubuntu, the families
///   that still ship point releases without a fix xvf cares about (Ubuntu 24.04's 4.17.3). Their
///   versions are Xen's `git describe` of the stable branch they packaged (`4.17.7+13-g2445b30a44`):
///   the tag and the commits on that branch after it, which is enough to tell whether a fix made on the
///   branch is in.
/// - the library's own path, where a distribution puts the version in it (Nix's store path,
///   `/nix/store/…-xen-4.20.2/lib/libxenlight.so.4.20.0`).
/// Not the hypervisor's version (libxl_get_version_info, sys/hypervisor/version/extra): that is the
/// running Xen's, which lags the installed libxl until the next reboot, and Debian's reads `4.20.5-pre`
/// for a build of 4.20.4 plus 63 commits. Elsewhere (rpm's database, which needs rpm's library) the
/// version is unknown and said so.
public struct LibxlVersion: Equatable, Sendable, CustomStringConvertible {
    public var major: Int
    public var minor: Int
    public var point: Int
    /// Commits on the stable branch after the point release's tag (Debian's `+13`); 0 at the tag.
    public var commitsAfterTag: Int

    public init(major: Int, minor: Int, point: Int, commitsAfterTag: Int = 0) {
        self.major = major
        self.minor = minor
        self.point = point
        self.commitsAfterTag = commitsAfterTag
    }

    /// `4.17.7+13`, or `4.17.7` at a tag.
    public var description: String {
        "\(major).\(minor).\(point)" + (commitsAfterTag > 0 ? "+\(commitsAfterTag)" : "")
    }

    /// The release as the sonames spell it: `4.17`.
    public var release: String { "\(major).\(minor)" }

    /// Reads the upstream part of a version: `4.17.7`, `4.17.7+13-g2445b30a44`, with or without a Debian
    /// revision (`-0+deb12u1`) or an epoch; nil for anything else.
    public init?(_ text: Substring) {
        var text = text
        if let colon = text.firstIndex(of: ":"), text[..<colon].allSatisfy(\.isNumber) { text = text[text.index(after: colon)...] }
        let numbers = text.prefix { $0.isNumber || $0 == "." }.split(separator: ".", omittingEmptySubsequences: false)
        guard numbers.count == 3, let major = Int(numbers[0]), let minor = Int(numbers[1]), let point = Int(numbers[2]) else {
            return nil
        }
        var commits = 0
        let rest = text.drop { $0.isNumber || $0 == "." }
        if rest.hasPrefix("+"), let count = Int(rest.dropFirst().prefix { $0.isNumber }) { commits = count }
        self.init(major: major, minor: minor, point: point, commitsAfterTag: commits)
    }

    /// The version of the installed package with libxenlight `release` in a dpkg status file: Debian's
    /// and Ubuntu's `libxenmisc<release>`, Ubuntu 24.04's `libxenmisc<release>t64`.
    public static func dpkg(release: String, status: String) -> LibxlVersion? {
        let packages = ["libxenmisc" + release, "libxenmisc" + release + "t64"]
        for stanza in status.split(separator: "\n\n") {
            var fields: [Substring: Substring] = [:]
            for line in stanza.split(separator: "\n") where !line.hasPrefix(" ") {
                guard let colon = line.firstIndex(of: ":") else { continue }
                fields[line[..<colon]] = line[line.index(after: colon)...].drop { $0 == " " }
            }
            guard let package = fields["Package"], packages.contains(String(package)),
                  fields["Status"]?.hasSuffix(" installed") == true, let version = fields["Version"],
                  let parsed = LibxlVersion(version), parsed.release == release else { continue }
            return parsed
        }
        return nil
    }

    /// The version in a library's real path, where the path has one: a directory named
    /// `…-xen-4.20.2` (Nix's store) above the file.
    public static func path(_ path: String, release: String) -> LibxlVersion? {
        for component in path.split(separator: "/").reversed() {
            guard let range = component.ranges(of: "-xen-").last else { continue }
            let version = component[range.upperBound...]
            if let parsed = LibxlVersion(version), parsed.release == release,
               version.allSatisfy({ $0.isNumber || $0 == "." }) {
                return parsed
            }
        }
        return nil
    }
}
